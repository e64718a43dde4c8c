"""The start page after sign-in: what this person should look at first."""

from __future__ import annotations

from flask import redirect, render_template, url_for
from flask_login import current_user

from app.core.permissions import can
from app.main import bp
from app.notifications import services as notifications
from app.projects import queries as projects


@bp.get("/")
def home():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    counts = {}
    recent = []
    if can(current_user, "project.view"):
        counts = projects.status_counts(current_user)
        recent = projects.recently_updated(current_user, limit=5)
    return render_template(
        "main/home.html", counts=counts, recent=recent, notes=notifications.recent(current_user, limit=5)
    )
