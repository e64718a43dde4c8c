"""The API shape of a calendar event (SPEC.md §5 "Calendar event"), one place for the
list (and its expanded occurrences) and the detail. A client gets `assigned_to` empty
and no `notes`, `visibility` or `rrule` keys at all."""

from __future__ import annotations

from datetime import UTC, datetime

from app.calendar.models import CalendarEvent
from app.core.roles import CLIENT


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)  # SQLite hands back naive UTC
    return value.astimezone(UTC).isoformat()


def conflicts_for(user, events) -> dict[int, list[dict]]:
    """The stored conflicts of `events` as `user` may read them: the schedule's engine
    (app.schedule.conflicts.for_items) once it is installed; none before."""
    try:
        from app.schedule.conflicts import for_items
    except ImportError:
        return {}
    keys = sorted({("event", e.id) for e in events})
    if not keys:
        return {}
    found = for_items(user, keys)
    return {
        key[1]: [
            {
                "type": str(getattr(r, "kind", "")),
                "severity": str(getattr(r, "severity", "")),
                "message": str(getattr(r, "message", "")),
                "recommendation": getattr(r, "recommendation", None),
            }
            for r in reasons
        ]
        for key, reasons in found.items()
    }


def _level(event: CalendarEvent, user, conflicts: list[dict] | None) -> str:
    """The risk level `user` is shown (app.schedule.conflicts.visible_level: an employee's
    comes from the conflicts they may read); the stored one before that module exists."""
    stored = event.risk_level or "none"
    try:
        from app.schedule.conflicts import visible_level
    except ImportError:
        return stored
    if conflicts is None:
        return stored
    return visible_level(user, stored, [c.get("severity") for c in conflicts if c.get("severity")])


def event_json(event: CalendarEvent, user, conflicts: list[dict] | None = None, occurrence=None) -> dict:
    """`occurrence`: (start, end) of one occurrence of the series `event` (the expanded
    list) — the item then carries its own times and occurrence_start."""
    client = user.role == CLIENT
    start, end = occurrence if occurrence is not None else (event.start_at, event.end_at)
    occurrence_start = _iso(start) if occurrence is not None else _iso(event.recurrence_start)
    data = {
        "id": event.id,
        "title": event.title,
        "description": event.description or "",
        "start_datetime": _iso(start),
        "end_datetime": _iso(end),
        "all_day": bool(event.all_day),
        "event_type": event.event_type,
        "status": event.status,
        "project": {"id": event.project.id, "name": event.project.name} if event.project is not None else None,
        "assigned_to": [] if client else [{"id": a.user_id, "name": a.user.name} for a in event.assignments],
        "is_visible_to_client": bool(event.is_client_visible),
        # a client sees no conflicts: the level comes from the crew's bookings
        "ai_risk_level": "none" if client else _level(event, user, conflicts),
        "ai_conflicts": list(conflicts or []),
        "series_id": event.series_id,
        "occurrence_start": occurrence_start,
        "version": event.version,
    }
    if not client:
        data["visibility"] = event.visibility
        data["rrule"] = event.rrule
        data["notes"] = event.notes or ""
    return data
