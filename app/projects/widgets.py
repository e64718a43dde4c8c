"""The projects' card on the home page: counts by status and the latest changes."""

from __future__ import annotations

from app.projects import queries


def home_summary(user) -> dict:
    return {"counts": queries.status_counts(user), "recent": queries.recently_updated(user, limit=5)}
