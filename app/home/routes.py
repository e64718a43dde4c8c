"""The start page after sign-in: the widgets the features registered for this person."""

from __future__ import annotations

from flask import redirect, render_template, url_for
from flask_login import current_user

from app.core.features import widgets_for
from app.core.labels import role_label
from app.core.permissions import signed_in_user
from app.home import bp


@bp.get("/")
def index():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    user = signed_in_user()  # one proxy lookup, not one per use
    return render_template(
        "home/index.html",
        first_name=user.name.split(" ")[0],
        role=role_label(user.role, user),
        company=user.client.name if user.client else None,
        widgets=widgets_for(user),
    )
