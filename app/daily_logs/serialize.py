"""The API shape of a daily log (SPEC.md §5 "Daily log"): staff's and the client's."""

from __future__ import annotations

import datetime as dt

from app.daily_logs.models import DailyLog


def log_json(log: DailyLog, client_view: bool, today: dt.date) -> dict:
    answer = {
        "id": log.id,
        "project": {"id": log.project_id, "name": log.project.name},
        "date": log.date.isoformat(),
        "crew": [] if client_view else [{"id": u.id, "name": u.name} for u in log.crew],
        "work_done": log.work_done,
        "weather": {
            "conditions": log.weather_conditions,
            "temperature_f": log.temperature_f,
            "humidity": log.humidity,
            "paint_warning": log.paint_warning,
        },
        "problems": log.problems,
        "materials_delivered": log.materials_delivered,
        "visitors": log.visitors,
        "is_client_visible": log.is_client_visible,
        "locked": log.is_locked(today),
        "version": log.version,
    }
    if not client_view:
        author = log.created_by
        answer |= {
            "internal_notes": log.internal_notes,
            "created_by": {"id": author.id, "name": author.name} if author else None,
        }
    return answer
