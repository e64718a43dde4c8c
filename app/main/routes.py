"""The start page after sign-in: what this person should look at first."""

from __future__ import annotations

from flask import redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import func, select

from app.core.permissions import can
from app.extensions import db
from app.main import bp
from app.notifications import services as notifications
from app.projects.models import CLOSED, Project
from app.projects.services import visible_projects


@bp.get("/")
def home():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    counts = {}
    recent = []
    if can(current_user, "project.view"):
        sub = visible_projects(current_user).with_only_columns(Project.status, Project.id).subquery()
        counts = dict(db.session.execute(select(sub.c.status, func.count()).group_by(sub.c.status)).all())
        recent = db.session.scalars(
            visible_projects(current_user).where(Project.status != CLOSED).order_by(Project.updated_at.desc()).limit(5)
        ).all()
    return render_template(
        "main/home.html", counts=counts, recent=recent, notes=notifications.recent(current_user, limit=5)
    )
