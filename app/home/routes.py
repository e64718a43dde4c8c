"""The start page after sign-in: the widgets the features registered for this person."""

from __future__ import annotations

from flask import redirect, render_template, url_for
from flask_login import current_user

from app.core.features import widgets_for
from app.home import bp


@bp.get("/")
def index():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return render_template("home/index.html", widgets=widgets_for(current_user))
