"""The projects' card on the home page: counts by status and the latest changes."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.projects.models import CLOSED, Project
from app.projects.services import visible_projects


def home_summary(user) -> dict:
    sub = visible_projects(user).with_only_columns(Project.status, Project.id).subquery()
    counts = dict(db.session.execute(select(sub.c.status, func.count()).group_by(sub.c.status)).all())
    recent = db.session.scalars(
        visible_projects(user).where(Project.status != CLOSED).order_by(Project.updated_at.desc()).limit(5)
    ).all()
    return {"counts": counts, "recent": recent}
