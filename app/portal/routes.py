"""The portal's live card: the home widget's content, fetched again on photo and message
events (templates/portal/_home_widget.html)."""

from __future__ import annotations

from flask import render_template
from flask_login import current_user, login_required

from app.core.permissions import permission_required
from app.portal import bp, queries


@bp.get("/portal/home")
@login_required
@permission_required("project.view")
def home():
    return render_template("portal/_home.html", ctx=queries.portal_home(current_user))
