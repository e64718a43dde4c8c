"""Subscription feeds: issuing, regenerating and revoking a person's secret URLs, and
the feed itself — their schedule (or one project's) exactly as they may see it in
Kibray, as RFC 5545 text (ics.py).

What a feed holds, for the person it belongs to:
- the calendar events they may see (calendar.visibility.visible_events: the role layers
  of pages and API), from WINDOW_BACK days ago to WINDOW_AHEAD days ahead; a series as
  one VEVENT with its RRULE, an edited occurrence as an override (RECURRENCE-ID), a
  cancelled occurrence as an EXDATE of the series; a cancelled event with
  STATUS:CANCELLED so the apps take it off;
- the dated tasks they may see (tasks.services.visible_tasks), as all-day items from
  start to due date (a client sees none: the matrix gives clients no tasks);
- for staff, the crew and the internal notes in the description; for a client, neither.
A project's feed is the same, of that project only.

UIDs are stable (`event-<id>@<host>`, `task-<id>@<host>`); SEQUENCE is the item's
version (it grows with every change); LAST-MODIFIED its updated_at.

Conditional GET: the ETag is worked out without reading the items — from the feed, its
owner's role, the hour, the company zone and the generations of the tables a feed reads
(core.cached_reads: raised after every committed write to them). Calendar servers poll
every few minutes; an unchanged feed answers 304 after one indexed lookup.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import aliased, lazyload

from app.auth.models import User
from app.calendar.models import CANCELLED as EVENT_CANCELLED
from app.calendar.models import TYPE_LABELS, CalendarEvent, EventAssignee
from app.calendar.visibility import visible_events
from app.calendar_sync import ics
from app.calendar_sync.models import CalendarFeed
from app.core.cached_reads import generations_of
from app.core.errors import ObjectNotFound
from app.core.permissions import Viewer, can, require
from app.core.roles import CLIENT
from app.core.timezones import company_zone
from app.extensions import db
from app.projects.models import Project
from app.tasks.models import Task, TaskAssignment

WINDOW_BACK = 60  # days of the past a feed keeps
WINDOW_AHEAD = 366  # days ahead: a year
FORMAT = "1"  # raise when the feed's text changes shape: every ETag changes with it
# What a feed's items read: a committed write to any of them changes every feed's ETag.
# (Not users or clients: a login writes users, and a feed's owner's role and state are
# checked on every request and the role is part of the tag; a renamed crew member shows
# within the hour, the tag's backstop.)
TABLES = (
    "calendar_events",
    "calendar_event_assignees",
    "tasks",
    "task_assignees",
    "projects",
    "project_memberships",
)


def uid_domain(fallback: str = "localhost") -> str:
    """The right-hand side of every UID Kibray writes (feeds and CalDAV): the app's public
    host (PUBLIC_URL), the same whatever name a calendar server reached it under (else
    its events would come twice); `fallback` when PUBLIC_URL names none."""
    from urllib.parse import urlsplit

    from flask import current_app

    return urlsplit(current_app.config.get("PUBLIC_URL") or "").hostname or fallback


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- the person's feeds ---------------------------------------------------------------


def _require_feed(user, project: Project | None) -> None:
    require(user, "calendar.view")
    if project is not None and not can(user, "project.view", project):
        raise ObjectNotFound("That project does not exist or you cannot see it.")


def _find(user, project: Project | None) -> CalendarFeed | None:
    return db.session.scalar(
        select(CalendarFeed).where(
            CalendarFeed.user_id == user.id,
            CalendarFeed.project_id == project.id if project is not None else CalendarFeed.project_id.is_(None),
        )
    )


def _issue(feed: CalendarFeed) -> None:
    token = secrets.token_urlsafe(32)
    feed.token, feed.token_hash = token, hash_token(token)


def feed_for(user, project: Project | None = None) -> CalendarFeed:
    """The person's feed (of `project`, or their whole schedule), made on first ask —
    two first asks at once (two devices) make one: the second insert is ignored by the
    unique index and both read the one row."""
    _require_feed(user, project)
    feed = _find(user, project)
    if feed is None:
        token = secrets.token_urlsafe(32)
        db.session.execute(
            _insert_once(db.session.get_bind().dialect.name),
            {
                "user_id": user.id,
                "project_id": project.id if project is not None else None,
                "token": token,
                "token_hash": hash_token(token),
            },
        )
        feed = _find(user, project)
    return feed


def _insert_once(dialect: str):
    """INSERT … ON CONFLICT DO NOTHING (PostgreSQL, SQLite): a duplicate of a person's
    feed, by either partial unique index, is skipped instead of failing the request."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(CalendarFeed).on_conflict_do_nothing()


def existing_feed(user, project: Project | None = None) -> CalendarFeed | None:
    """The person's feed if they have one (the settings page shows it; it makes none)."""
    _require_feed(user, project)
    return _find(user, project)


def regenerate(user, project: Project | None = None) -> CalendarFeed:
    """A new secret URL; the old one answers 404 from now on."""
    feed = feed_for(user, project)
    _issue(feed)
    db.session.flush()
    return feed


def revoke(user, project: Project | None = None) -> bool:
    """Stop the feed (its URL answers 404); whether there was one."""
    feed = existing_feed(user, project)
    if feed is None:
        return False
    db.session.delete(feed)
    db.session.flush()
    return True


def feeds_of(user) -> list[tuple[CalendarFeed, Project | None]]:
    """The person's feeds with their projects, "my schedule" first."""
    rows = db.session.execute(
        select(CalendarFeed, Project)
        .outerjoin(Project, Project.id == CalendarFeed.project_id)
        .where(CalendarFeed.user_id == user.id)
        .order_by(CalendarFeed.project_id.is_not(None), Project.name)
    ).all()
    return [(feed, project) for feed, project in rows]


# --- the feed a calendar server fetches ---------------------------------------------------


@dataclass(frozen=True)
class Subscription:
    """A token resolved: whose feed, of what, still allowed."""

    feed_id: int
    token_hash: str
    viewer: Viewer
    project_id: int | None
    project_name: str | None


def resolve(token: str) -> Subscription | None:
    """The subscription of `token`, or None (unknown, revoked, its owner deactivated or
    no longer allowed: all answer 404, never 403 — a URL tells nothing of why)."""
    if not token or len(token) > 100:
        return None
    row = db.session.execute(
        select(
            CalendarFeed.id,
            CalendarFeed.token_hash,
            CalendarFeed.project_id,
            User.id,
            User.role,
            User.client_id,
            User.is_active_flag,
        )
        .join(User, User.id == CalendarFeed.user_id)
        .where(CalendarFeed.token_hash == hash_token(token))
    ).first()
    if row is None:
        return None
    viewer = Viewer(row[3], row[4], row[5], row[6])
    if not can(viewer, "calendar.view"):
        return None
    name = None
    if row[2] is not None:
        project = db.session.get(Project, row[2], options=(lazyload(Project.memberships),))  # (no team needed)
        if project is None or not can(viewer, "project.view", project):
            return None
        name = project.name
    return Subscription(row[0], row[1], viewer, row[2], name)


def etag(subscription: Subscription, now: datetime) -> str:
    """The feed's entity tag, without reading its items (see the module's notes). Weak
    (W/): two bodies under one tag differ in their DTSTAMP. The hour is part of it, a
    backstop for a change the generations missed (a write made outside the app)."""
    zone = company_zone()
    parts = (
        FORMAT,
        str(subscription.feed_id),
        subscription.token_hash[:16],
        subscription.viewer.role,
        zone.key,
        now.astimezone(zone).strftime("%Y-%m-%dT%H"),
        generations_of(TABLES).decode(),
    )
    return 'W/"' + hashlib.sha1("\0".join(parts).encode(), usedforsecurity=False).hexdigest() + '"'


def render(subscription: Subscription, host: str, base_url: str, now: datetime | None = None) -> str:
    """The feed's text."""
    now = now or datetime.now(UTC)
    name = f"Kibray · {subscription.project_name}" if subscription.project_name else "Kibray · My schedule"
    return build(subscription.viewer, subscription.project_id, name, host, base_url, now).text()


def build(viewer, project_id, name: str, host: str, base_url: str, now: datetime) -> ics.Writer:
    """What `viewer` may see (of `project_id`, or everything), written: the feed's text
    (`.text()`) or, for CalDAV, one object a UID (`.objects()`)."""
    zone = company_zone()
    today = now.astimezone(zone).date()
    lo = datetime.combine(today - timedelta(days=WINDOW_BACK), datetime.min.time(), tzinfo=zone)
    hi = datetime.combine(today + timedelta(days=WINDOW_AHEAD), datetime.min.time(), tzinfo=zone)
    writer = ics.Writer(name, zone, now, description="Kept by Kibray ERP; changes there appear here.")
    _write_events(writer, viewer, project_id, lo, hi, host, base_url, viewer.role != CLIENT)
    if can(viewer, "task.view"):
        _write_tasks(writer, viewer, project_id, lo.date(), hi.date(), host, base_url)
    return writer


def _location(address, city) -> str:
    if address and city:
        return f"{address}, {city}"
    return address or city or ""


def _series_before(hi):
    series = aliased(CalendarEvent, name="series")
    return select(series.id).where(series.rrule.is_not(None), series.start_at < hi)


def _event_rows(viewer, project_id, lo, hi):
    columns = (
        CalendarEvent.id,
        CalendarEvent.title,
        CalendarEvent.description,
        CalendarEvent.notes,
        CalendarEvent.start_at,
        CalendarEvent.end_at,
        CalendarEvent.all_day,
        CalendarEvent.event_type,
        CalendarEvent.status,
        CalendarEvent.rrule,
        CalendarEvent.series_id,
        CalendarEvent.recurrence_start,
        CalendarEvent.version,
        CalendarEvent.updated_at,
        Project.name,
        Project.address,
        Project.city,
    )
    stmt = visible_events(viewer, stmt=select(*columns).outerjoin(Project, Project.id == CalendarEvent.project_id))
    stmt = stmt.where(
        or_(
            and_(CalendarEvent.rrule.is_(None), CalendarEvent.start_at < hi, CalendarEvent.end_at >= lo),
            and_(CalendarEvent.rrule.is_not(None), CalendarEvent.start_at < hi),
            # every exception row of a series the feed has, whatever its date: the series
            # goes out whole (its RRULE), so must its moved and cancelled occurrences
            and_(CalendarEvent.series_id.is_not(None), CalendarEvent.series_id.in_(_series_before(hi))),
        )
    )
    if project_id is not None:
        stmt = stmt.where(CalendarEvent.project_id == project_id)
    return db.session.execute(stmt.order_by(CalendarEvent.start_at, CalendarEvent.id)).all()


def _write_events(writer: ics.Writer, viewer, project_id, lo, hi, host, base_url, staff) -> None:
    """The events, by position: 0 id, 1 title, 2 description, 3 notes, 4 start, 5 end,
    6 all-day, 7 type, 8 status, 9 rule, 10 series, 11 original start, 12 version, 13
    updated, 14–16 the project's name, address and city."""
    rows = _event_rows(viewer, project_id, lo, hi)
    crew = _crew(EventAssignee, EventAssignee.event_id, [r[0] for r in rows]) if staff else {}
    zone = writer.zone
    series_all_day = {r[0]: r[6] for r in rows if r[9]}  # the series in this feed
    exdates: dict[int, str] = {}  # a series' cancelled occurrences, as EXDATE lines
    for r in rows:
        if r[10] in series_all_day and r[8] == EVENT_CANCELLED:
            exdates[r[10]] = exdates.get(r[10], "") + writer.when("EXDATE", r[11], series_all_day[r[10]])
    for ident, title, description, notes, start, end, all_day, kind, status, rule, series_id, original, *rest in rows:
        version, updated, project_name, address, city = rest
        if series_id is not None and series_id not in series_all_day:
            series_id = None  # its series is not in this feed: the occurrence stands alone
        if series_id is not None and status == EVENT_CANCELLED:
            continue  # an EXDATE of its series
        lines = [f"Project: {project_name}"] if project_name else []
        if staff and ident in crew:
            lines.append("Crew: " + crew[ident])
        text = "\n".join(lines)
        if description:
            text = f"{text}\n\n{description}" if text else description
        if staff and notes:
            text = f"{text}\n\nNotes: {notes}" if text else f"Notes: {notes}"
        if all_day:
            start = start.astimezone(zone).date()
            end = max(
                start + timedelta(days=1), (end - timedelta(microseconds=1)).astimezone(zone).date() + timedelta(days=1)
            )
        writer.event(
            f"event-{series_id or ident}@{host}",
            version,
            updated,
            start,
            end,
            all_day,
            title,
            description=text,
            location=_location(address, city),
            category=TYPE_LABELS.get(kind, kind),
            url=f"{base_url}/calendar/events/{ident}",
            cancelled=status == EVENT_CANCELLED,
            rrule=_rule(rule, all_day, zone) if rule else None,
            recurrence_id=original if series_id is not None else None,
            series_all_day=series_all_day.get(series_id) if series_id is not None else None,
            extra=exdates.get(ident, ""),
        )


_UNTIL = re.compile(r"UNTIL=(\d{8}T\d{6}Z?)", re.IGNORECASE)


def _rule(rule: str, all_day: bool, zone) -> str:
    """The stored RRULE as the feed writes it: without an "RRULE:" prefix; an all-day
    series' UNTIL as a DATE (RFC 5545: UNTIL takes DTSTART's value type)."""
    rule = rule[6:] if rule.upper().startswith("RRULE:") else rule
    if not all_day:
        return rule

    def as_day(found) -> str:
        stamp = found.group(1).upper()
        moment = datetime.strptime(stamp.rstrip("Z"), "%Y%m%dT%H%M%S")
        moment = moment.replace(tzinfo=UTC).astimezone(zone) if stamp.endswith("Z") else moment
        return f"UNTIL={moment.year:04d}{moment.month:02d}{moment.day:02d}"

    return _UNTIL.sub(as_day, rule)


def _write_tasks(writer: ics.Writer, viewer, project_id, lo: date, hi: date, host, base_url) -> None:
    from app.tasks.models import CANCELLED as TASK_CANCELLED
    from app.tasks.services import visible_tasks

    columns = (
        Task.id,
        Task.title,
        Task.description,
        Task.start_date,
        Task.due_date,
        Task.status,
        Task.version,
        Task.updated_at,
        Project.name,
        Project.address,
        Project.city,
    )
    stmt = visible_tasks(viewer, stmt=select(*columns).join(Project, Project.id == Task.project_id)).where(
        or_(Task.start_date.is_not(None), Task.due_date.is_not(None)),
        or_(Task.due_date >= lo, and_(Task.due_date.is_(None), Task.start_date >= lo)),
        or_(Task.start_date < hi, and_(Task.start_date.is_(None), Task.due_date < hi)),
    )
    if project_id is not None:
        stmt = stmt.where(Task.project_id == project_id)
    rows = db.session.execute(stmt.order_by(Task.id)).all()
    crew = _crew(TaskAssignment, TaskAssignment.task_id, [r[0] for r in rows]) if viewer.role != CLIENT else {}
    places: dict[tuple, str] = {}
    one_day = timedelta(days=1)
    for ident, title, description, start, due, status, version, updated, project_name, address, city in rows:
        start, due = start or due, due or start
        if due < start:
            start, due = due, start
        text = f"Project: {project_name}"
        if ident in crew:
            text += "\nCrew: " + crew[ident]
        if description:
            text += f"\n\n{description}"
        place = places.get((address, city))
        if place is None:
            place = places[(address, city)] = _location(address, city)
        writer.event(
            f"task-{ident}@{host}",
            version,
            updated,
            start,
            due + one_day,
            True,
            title,
            description=text,
            location=place,
            category="Task",
            url=f"{base_url}/tasks/{ident}",
            cancelled=status == TASK_CANCELLED,
        )


def _crew(model, key, ids) -> dict[int, str]:
    """The names of the people on each of `ids`, as one "A, B" text each, by name (one
    statement, the text made by the database)."""
    from sqlalchemy import func, literal

    from app.core.statements import one_of

    if not ids:
        return {}
    name = func.coalesce(User.full_name, User.username)
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import aggregate_order_by

        names = func.string_agg(name, aggregate_order_by(literal(", "), name))
    else:
        names = func.group_concat(name, ", ")
    stmt = select(key, names).join(User, User.id == model.user_id).where(one_of(key, "ids", dialect)).group_by(key)
    return dict(db.session.execute(stmt, {"ids": list(ids)}).all())
