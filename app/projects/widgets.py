"""The projects' card on the home page: counts by status and the latest changes."""

from __future__ import annotations

from app.core.labels import PROJECT_STATUSES
from app.projects import counts, queries


def home_summary(user) -> dict:
    """`counters`: (status, label, how many) in the statuses' order; `recent`: projects."""
    by_status = counts.status_counts(user)  # a cached aggregate (projects/counts.py)
    return {
        "counters": [(status, label, by_status.get(status, 0)) for status, label in PROJECT_STATUSES],
        "recent": queries.recently_updated(user, limit=5),
    }
