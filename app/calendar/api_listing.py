"""The reads of /api/calendar/events/'s list (app/calendar/api.py): the filters of SPEC
§5 on the events `user` may see; with start_date and end_date, series expanded into
their occurrences in the range (an occurrence edited or cancelled comes as its
exception row instead)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import or_, select

from app.calendar import recurrence, services
from app.calendar.models import CalendarEvent
from app.calendar.visibility import visible_events
from app.core.errors import ValidationError
from app.core.roles import CLIENT
from app.core.search import contains
from app.extensions import db


@dataclass
class Listing:
    statement: object = None  # without both dates: a select to paginate in SQL
    items: list | None = None  # with both: (event id, occurrence or None) in start order (page())


def _filtered(user, query):
    stmt = visible_events(user)
    if query.project_id is not None:
        stmt = stmt.where(CalendarEvent.project_id == query.project_id)
    if query.event_type:
        stmt = stmt.where(CalendarEvent.event_type == query.event_type)
    if query.status:
        stmt = stmt.where(CalendarEvent.status == query.status)
    if query.assigned_to is not None and user.role != CLIENT:  # a client never reads who is booked
        stmt = stmt.where(CalendarEvent.owned_by(query.assigned_to))
    if query.search and query.search.strip():
        stmt = stmt.where(contains((CalendarEvent.title, CalendarEvent.description), query.search.strip()))
    return stmt


def events(user, query, max_range_days: int) -> Listing:
    if query.start_date and query.end_date and query.end_date < query.start_date:
        raise ValidationError({"end_date": "The end date cannot be before the start date."})
    lo = services.local_midnight(query.start_date) if query.start_date else None
    hi = services.local_midnight(query.end_date + timedelta(days=1)) if query.end_date else None
    stmt = _filtered(user, query)
    if lo is None or hi is None:
        if lo is not None:
            stmt = stmt.where(or_(CalendarEvent.end_at >= lo, CalendarEvent.rrule.is_not(None)))
        if hi is not None:
            stmt = stmt.where(CalendarEvent.start_at < hi)
        stmt = stmt.order_by(CalendarEvent.start_at, CalendarEvent.id)
        return Listing(statement=stmt)
    if (query.end_date - query.start_date).days > max_range_days:
        raise ValidationError({"end_date": f"Ask for at most {max_range_days} days at once."})
    stmt = stmt.where(
        CalendarEvent.start_at < hi,
        or_(CalendarEvent.end_at >= lo, CalendarEvent.rrule.is_not(None)),
    )
    # The range's events as light rows (a PM's month is a thousand events; the page shows
    # 25): ordered and expanded here, and only a page of them loaded as objects (page()).
    light = stmt.with_only_columns(
        CalendarEvent.id, CalendarEvent.start_at, CalendarEvent.end_at, CalendarEvent.all_day, CalendarEvent.rrule
    )
    rows = db.session.execute(light).all()
    series_ids = [row.id for row in rows if row.rrule]
    taken: set = set()
    if series_ids:  # occurrences replaced by an exception row (edited or cancelled)
        taken = {
            (sid, services._aware(when))
            for sid, when in db.session.execute(
                select(CalendarEvent.series_id, CalendarEvent.recurrence_start).where(
                    CalendarEvent.series_id.in_(series_ids)
                )
            )
        }
    items: list[tuple[int, tuple | None]] = []
    starts: dict[int, object] = {}
    for row in rows:
        if row.rrule:
            for occurrence in recurrence.occurrences(row, lo, hi):
                if (row.id, occurrence[0]) not in taken:
                    items.append((row.id, occurrence))
        else:
            items.append((row.id, None))
        starts[row.id] = services._aware(row.start_at)
    items.sort(key=lambda item: (item[1][0] if item[1] else starts[item[0]], item[0]))
    return Listing(items=items)


def page(chunk: list[tuple[int, tuple | None]]) -> list[tuple[CalendarEvent, tuple | None]]:
    """A page of Listing.items as (event, occurrence or None), the events loaded."""
    ids = sorted({event_id for event_id, _ in chunk})
    loaded = db.session.scalars(select(CalendarEvent).where(CalendarEvent.id.in_(ids))).unique()
    found = {event.id: event for event in loaded}
    return [(found[event_id], occurrence) for event_id, occurrence in chunk if event_id in found]
