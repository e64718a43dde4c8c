"""The projects' card on the home page: counts by status and the latest changes."""

from __future__ import annotations

from app.core.labels import PROJECT_STATUSES
from app.projects import counts


def home_summary(user) -> dict:
    """`counters`: (status, label, how many) in the statuses' order; `recent`: the latest
    changed open projects (id, name, status, client.name)."""
    card = counts.home_projects(user)  # a cached aggregate (projects/counts.py)
    return {
        "counters": [(status, label, card.counts.get(status, 0)) for status, label in PROJECT_STATUSES],
        "recent": card.recent,
    }
