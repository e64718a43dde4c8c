"""Calendar event rules (SPEC.md §3 "Calendar and schedule"), the same for pages,
fragments, drag and drop and the API. Every write goes through here; nothing commits
(one commit per request).

Who may do what (the matrix, app/core/permissions.py, narrowed by visibility.py):
- create, edit, delete events: calendar.create_event (admin ✓; PM, trainee,
  superintendent their projects). An event without a project (the company's) is an
  admin's.
- change an event's time (move, resize, and a form that changes start or end):
  calendar.move_event (admin ✓; PM, trainee their projects) — drag and drop is admin and
  PMs only (SPEC.md §3); a superintendent edits the rest of an event but not its time.
- a project the actor may not add events to, or a closed one: a field error on
  project_id (nothing written).

Input (every problem at once, as field errors):
- title required, ≤ 200 characters; description and notes ≤ 10,000;
- start_datetime / end_datetime: aware datetimes or ISO 8601 text WITH an offset
  ("2026-12-04T07:00:00-07:00", "…Z"); a time without a zone is refused (we will not
  guess whose 7:00 it is); any real offset (−12:00 … +14:00) is accepted and stored as
  UTC; offsets beyond ±14:00 are refused;
- all_day: start and end are company-local days (a date "2026-12-04", or a datetime
  whose local day counts); the end is the last day, inclusive — except a datetime end
  at local midnight, which is read as exclusive (what the API answers: an all-day event
  is stored as [local midnight of its first day, local midnight after its last day), so
  a GET → PUT round trip keeps it). Local midnights that do not exist (a DST gap at
  midnight in some zones) are normalised forward by the zone's rules (zoneinfo fold=0),
  never refused;
- the end is not before the start; an event lasts at most MAX_EVENT_DAYS (366) days
  (a "10-year event" is refused: use a series);
- dates between 2000 and 2100;
- event_type, status, visibility among the model's; rrule through recurrence.parse_rrule;
- assigned_to_ids: the tasks' rule (tasks.services._assignees: any active employee,
  otherwise members of the project's team, never a client); an event without a project
  takes active staff.

Series (recurrence.py): editing, moving or cancelling ONE occurrence writes an exception
row (series_id, recurrence_start = the occurrence's original start) copied from the
series; cancelling it sets that row's status to cancelled. Deleting an exception row
cancels that occurrence (the row stays, so the series does not bring it back). Editing
the series' start shifts its exceptions' recurrence_start by the same amount; exceptions
that no longer match an occurrence are dropped.

Versions: `version` (or none: last write wins, like the API) via core.versioning; an
occurrence's version is its series' until it has an exception row, then the row's.

Live: calendar-event-created/updated/deleted for who may see the event (admins by role;
the project's team, its client users and the assignees, each filtered by
visibility.can_see), calendar-event-withdrawn (id only) for those who saw it before a
change and no longer may. Newly assigned people get an "event_assigned" notification.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from app.auth.models import User
from app.calendar import recurrence
from app.calendar.models import (
    ADMIN_ONLY,
    CANCELLED,
    EVENT_TYPES,
    PROJECT_TEAM,
    SCHEDULED,
    STATUSES,
    VISIBILITIES,
    CalendarEvent,
    EventAssignee,
)
from app.calendar.visibility import can_see, get_event
from app.core.errors import ConflictError, ObjectNotFound, ValidationError
from app.core.events import entitled, publish
from app.core.numbers import id_list, to_int
from app.core.permissions import PermissionDenied, can, require
from app.core.roles import ADMIN, CLIENT
from app.core.text import LONG_TEXT, check_lengths, declare_limits, normalise
from app.core.timezones import company_zone
from app.core.transaction import attempt
from app.core.versioning import bump, checks_version, expect_version
from app.extensions import db
from app.notifications.services import notify
from app.projects.models import CLOSED as PROJECT_CLOSED
from app.projects.models import Project, ProjectMembership

LIMITS = declare_limits("event", {"title": 200, "description": LONG_TEXT, "notes": LONG_TEXT})
MAX_EVENT_DAYS = 366
MAX_ASSIGNEES = 50
MAX_BULK = 200
MAX_OFFSET = timedelta(hours=14)
EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)
EDITABLE = (
    "title",
    "description",
    "notes",
    "start_datetime",
    "end_datetime",
    "all_day",
    "event_type",
    "status",
    "visibility",
    "project_id",
    "rrule",
)
BULK_ACTIONS = ("move", "reassign", "status", "delete")


# --- input -------------------------------------------------------------------------


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def parse_when(value, field: str, errors: dict, all_day: bool = False) -> datetime | date | None:
    """An instant from an aware datetime or ISO 8601 text with an offset (UTC out); for
    all-day input also a plain date (returned as a date). None when empty or bad (the
    message recorded under `field`)."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        if not all_day:
            errors[field] = "Give a date and time with a time zone, e.g. 2026-12-04T07:00:00-07:00."
            return None
        parsed = value
    elif isinstance(value, str):
        text = value.strip()
        if len(text) > 40:
            errors[field] = "That is not a date and time."
            return None
        if all_day and len(text) == 10:
            try:
                parsed = date.fromisoformat(text)
            except ValueError:
                errors[field] = "Enter a date as YYYY-MM-DD."
                return None
        else:
            try:
                parsed = datetime.fromisoformat(text.replace("z", "Z"))
            except ValueError:
                errors[field] = "Give a date and time in ISO 8601 with a time zone, e.g. 2026-12-04T07:00:00-07:00."
                return None
    else:
        errors[field] = "Give a date and time in ISO 8601 with a time zone, e.g. 2026-12-04T07:00:00-07:00."
        return None
    if isinstance(parsed, datetime):
        offset = parsed.utcoffset()
        if offset is None:
            errors[field] = (
                "This time has no time zone. Add one, e.g. 2026-12-04T07:00:00-07:00 or 2026-12-04T14:00:00Z."
            )
            return None
        if abs(offset) > MAX_OFFSET:
            errors[field] = "That time zone offset does not exist (offsets run from -12:00 to +14:00)."
            return None
        day = parsed.date()
    else:
        day = parsed
    if not EARLIEST <= day <= LATEST:
        errors[field] = f"Enter a date between {EARLIEST.year} and {LATEST.year}."
        return None
    return parsed.astimezone(UTC) if isinstance(parsed, datetime) else parsed


def local_midnight(day: date) -> datetime:
    """The start of a company-local day, in UTC (a DST gap at midnight: the zone's fold=0)."""
    return datetime.combine(day, time()).replace(tzinfo=company_zone()).astimezone(UTC)


def _local_day(value: datetime) -> date:
    return _aware(value).astimezone(company_zone()).date()


def _all_day_bounds(start, end) -> tuple[datetime, datetime]:
    first = start if not isinstance(start, datetime) else _local_day(start)
    if end is None:
        last = first
    elif not isinstance(end, datetime):
        last = end
    else:
        local = _aware(end).astimezone(company_zone())
        last = local.date()
        if local.time() == time() and last > first:
            last -= timedelta(days=1)  # an exclusive midnight end (what we answer)
    return local_midnight(first), local_midnight(last + timedelta(days=1))


def _bool(value, field: str, errors: dict) -> bool | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("1", "true", "on", "yes", "0", "false", "off", "no", ""):
        return value.strip().lower() in ("1", "true", "on", "yes")
    errors[field] = "Must be true or false."
    return None


_ids = id_list  # the ids of a form or JSON list (app/core/numbers.py)


def _assignees(project: Project | None, ids: list[int], errors: dict) -> list[User]:
    """The tasks' rule (SPEC.md §5): any active employee, otherwise the project's team;
    for a company event (no project), active staff."""
    if not ids:
        return []
    if project is not None:
        from app.tasks.services import _assignees as task_rule

        return task_rule(project, ids, errors)
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))}
    unknown = [str(i) for i in ids if i not in users]
    if unknown:
        errors["assigned_to_ids"] = f"No such user: {', '.join(unknown)}."
        return []
    refused = [u.name for u in users.values() if not u.is_active or u.role == CLIENT]
    if refused:
        errors["assigned_to_ids"] = "Assign active staff. Not possible: " + "; ".join(refused) + "."
        return []
    return [users[i] for i in ids]


class _NewEvent:
    """An event not yet made, for asking can(actor, "calendar.create_event", …) of a project."""

    __scope__ = CalendarEvent.__scope__

    def __init__(self, project: Project | None):
        self.project_id = project.id if project is not None else None
        self.project = project
        self.is_client_visible = False
        self.assignee_ids: set[int] = set()


def may_add_to(actor, project: Project | None) -> bool:
    """May `actor` put events on `project` (None: the company's calendar)?"""
    return can(actor, "calendar.create_event", _NewEvent(project))


def _project(actor, raw, errors: dict, current: Project | None = None) -> Project | None:
    """The project named by `raw` (an id; empty: no project) — one the actor may add
    events to and that is open; a field error otherwise (its existence not told)."""
    if raw in (None, ""):
        project = None
    else:
        project_id = None if isinstance(raw, bool) else to_int(raw)
        project = db.session.get(Project, project_id) if project_id is not None else None
        if project is None or not can(actor, "project.view", project):
            errors["project_id"] = "That project does not exist or you cannot see it."
            return current
    if project is current and current is not None:
        if project.status == PROJECT_CLOSED:
            errors["project_id"] = "This project is closed; its calendar is read-only."
        return project
    if not may_add_to(actor, project):
        errors["project_id"] = (
            "Only an admin puts events on the company calendar; choose a project."
            if project is None
            else "You do not manage this project's calendar; choose one of your projects."
        )
        return current
    if project is not None and project.status == PROJECT_CLOSED:
        errors["project_id"] = "This project is closed; its calendar is read-only."
    return project


def clean(actor, data: dict, event: CalendarEvent | None = None) -> tuple[dict, dict]:
    """Validated values (model attributes) from API-shaped `data`, over `event`'s
    current values for an edit (only the keys sent change). Every problem at once."""
    errors: dict[str, str] = {}
    if not isinstance(data, dict):
        raise ValidationError({"": "Send an object."})
    sent = {k: v for k, v in data.items() if k in EDITABLE}
    values: dict = {}
    if event is None or "title" in sent:
        values["title"] = normalise(sent.get("title"))
        if not values["title"]:
            errors["title"] = "Give the event a title."
    for key in ("description", "notes"):
        if event is None or key in sent:
            raw = sent.get(key)
            if raw is not None and not isinstance(raw, str):
                errors[key] = "Send text."
                raw = ""
            values[key] = str(raw or "").strip()
    check_lengths(values, LIMITS, errors)
    all_day = _bool(sent.get("all_day"), "all_day", errors) if "all_day" in sent else None
    values["all_day"] = all_day if all_day is not None else (event.all_day if event is not None else False)
    if event is None or "event_type" in sent:
        kind = sent.get("event_type") or "meeting"
        if kind not in EVENT_TYPES:
            errors["event_type"] = f"Choose one of: {', '.join(EVENT_TYPES)}."
        values["event_type"] = kind
    if event is None or "status" in sent:
        status = sent.get("status") or SCHEDULED
        if status not in STATUSES:
            errors["status"] = f"Choose one of: {', '.join(STATUSES)}."
        values["status"] = status
    if event is None or "visibility" in sent:
        visibility = sent.get("visibility") or PROJECT_TEAM
        if visibility not in VISIBILITIES:
            errors["visibility"] = f"Choose one of: {', '.join(VISIBILITIES)}."
        elif visibility == ADMIN_ONLY and actor.role != ADMIN:
            errors["visibility"] = "Only an admin can make an event visible to admins only."
        values["visibility"] = visibility
    if event is None or "project_id" in sent:
        current = event.project if event is not None else None
        values["project"] = _project(actor, sent.get("project_id"), errors, current)
    # times
    times_sent = event is None or any(k in sent for k in ("start_datetime", "end_datetime", "all_day"))
    if times_sent:
        if event is not None:
            start_raw = sent.get("start_datetime", _aware(event.start_at))
            end_raw = sent.get("end_datetime", _aware(event.end_at))
        else:
            start_raw, end_raw = sent.get("start_datetime"), sent.get("end_datetime")
        start = parse_when(start_raw, "start_datetime", errors, values["all_day"])
        end = parse_when(end_raw, "end_datetime", errors, values["all_day"])
        if start is None and "start_datetime" not in errors:
            errors["start_datetime"] = "Give the start."
        if start is not None:
            if values["all_day"]:
                start_at, end_at = _all_day_bounds(start, end)
            else:
                if end is None and "end_datetime" not in errors:
                    errors["end_datetime"] = "Give the end."
                start_at, end_at = start, end
            if start_at is not None and end_at is not None:
                _check_span(start_at, end_at, errors)
                values["start_at"], values["end_at"] = start_at, end_at
    # recurrence
    if event is None or "rrule" in sent or ("start_at" in values and event.rrule):
        raw = sent.get("rrule", event.rrule if event is not None else None)
        if raw in (None, ""):
            values["rrule"] = None
        elif event is not None and event.series_id is not None:
            errors["rrule"] = "One occurrence of a series cannot repeat on its own; edit the series."
        elif "start_at" in values or event is not None:
            start_at = values.get("start_at", event.start_at if event is not None else None)
            if start_at is not None:
                try:
                    values["rrule"] = recurrence.parse_rrule(raw, start_at)
                except ValidationError as exc:
                    errors.update(exc.fields)
    return values, errors


def _check_span(start_at: datetime, end_at: datetime, errors: dict) -> None:
    if end_at < start_at:
        errors["end_datetime"] = "The end cannot be before the start."
    elif end_at - start_at > timedelta(days=MAX_EVENT_DAYS):
        errors["end_datetime"] = (
            f"An event lasts at most {MAX_EVENT_DAYS} days; for something that comes back, make it a repeating series."
        )


# --- live events -------------------------------------------------------------------


def audience(event: CalendarEvent) -> list[int]:
    """Who hears of `event` (admins go by role): its project's team and client users and
    its assignees, each only if they may see it now (visibility.can_see)."""
    people: set[int] = set(event.assignee_ids)
    if event.project_id is not None:
        people |= set(
            db.session.scalars(
                select(ProjectMembership.user_id).where(ProjectMembership.project_id == event.project_id)
            )
        )
        project = event.project or db.session.get(Project, event.project_id)
        if project is not None and project.client_id is not None and event.is_client_visible:
            people |= set(
                db.session.scalars(select(User.id).where(User.client_id == project.client_id, User.role == CLIENT))
            )
    return list(entitled(people, lambda user: user.role != ADMIN and can_see(user, event)))


def _payload(event: CalendarEvent) -> dict:
    return {"id": event.id, "project_id": event.project_id, "series_id": event.series_id}


def _publish(
    name: str, event: CalendarEvent, before: Iterable[int] | None = None, people: list[int] | None = None
) -> None:
    """`people`: the audience when the caller knows it has not changed (else computed)."""
    people = audience(event) if people is None else people
    publish(name, _payload(event), users=people, roles=[ADMIN])
    gone = sorted(set(before or ()) - set(people))
    if gone:
        publish("calendar-event-withdrawn", {"id": event.id, "series_id": event.series_id}, users=gone, roles=[])


# --- writing -----------------------------------------------------------------------


def _ensure_open(event: CalendarEvent) -> None:
    if event.project is not None and event.project.status == PROJECT_CLOSED:
        raise ConflictError("This project is closed; its calendar is read-only.")


def _require_edit(actor, event: CalendarEvent) -> None:
    if not can_see(actor, event):
        raise ObjectNotFound("That event does not exist or you cannot see it.")
    require(actor, "calendar.create_event", event)


def _require_delete(actor, event: CalendarEvent) -> None:
    """Deleting an event or cancelling one occurrence is the matrix's "move events /
    delete events" row (calendar.move_event: admin and the project's PMs), not editing."""
    if not can_see(actor, event):
        raise ObjectNotFound("That event does not exist or you cannot see it.")
    if not can(actor, "calendar.move_event", event):
        raise PermissionDenied("Only admins and the project's PMs delete or cancel events.")


def may_delete(actor, event: CalendarEvent) -> bool:
    return can_see(actor, event) and can(actor, "calendar.move_event", event)


def _require_move(actor, event: CalendarEvent) -> None:
    if not can_see(actor, event):
        raise ObjectNotFound("That event does not exist or you cannot see it.")
    if not can(actor, "calendar.move_event", event):
        raise PermissionDenied("Only admins and the project's PMs change an event's time.")


def _notify_assigned(actor, event: CalendarEvent, users: Iterable[User]) -> None:
    where = f" ({event.project.name})" if event.project is not None else ""
    for user in users:
        if not can_see(user, event):  # an admins-only event names nothing to its other people
            continue
        notify(
            user,
            "event_assigned",
            f"You were put on {event.title}{where}"[:200],
            "calendar.index",
            {},
            project_id=event.project_id,
            actor=actor,
        )


def _set_assignees(actor, event: CalendarEvent, users: list[User]) -> None:
    wanted = {u.id for u in users}
    current = set(event.assignee_ids)
    if wanted == current:
        return
    if event.id is not None:
        bump(event)
    for assignment in list(event.assignments):
        if assignment.user_id not in wanted:
            event.assignments.remove(assignment)
    added = [u for u in users if u.id not in current]
    for user in added:
        event.assignments.append(EventAssignee(user_id=user.id))
    db.session.flush()
    _notify_assigned(actor, event, added)


def create_event(actor, data: dict) -> CalendarEvent:
    """A new event (or series, with `rrule`) from API-shaped `data`."""
    require(actor, "calendar.create_event")
    values, errors = clean(actor, data)
    people = _ids(data.get("assigned_to_ids"), "assigned_to_ids", errors, MAX_ASSIGNEES) or []
    users = _assignees(values.get("project"), people, errors) if "project_id" not in errors else []
    if errors:
        raise ValidationError(errors)
    event = CalendarEvent(created_by_id=actor.id, **values)
    event.assignments = [EventAssignee(user_id=u.id) for u in users]
    db.session.add(event)
    db.session.flush()
    _notify_assigned(actor, event, users)
    db.session.refresh(event, ["is_client_visible"])
    _publish("calendar-event-created", event)
    return event


@checks_version("event")
def update_event(actor, event: CalendarEvent, data: dict, version=None, occurrence_start=None) -> CalendarEvent:
    """Change the fields sent in `data` (a PATCH; a PUT sends them all). With
    `occurrence_start`, only that occurrence of the series `event` (an exception row)."""
    if occurrence_start is not None:
        return edit_occurrence(actor, event, occurrence_start, data, version=version)
    expect_version(event, version)
    return _update(actor, event, data)


def _update(actor, event: CalendarEvent, data: dict) -> CalendarEvent:
    """update_event's work, inside the caller's savepoint (update_event's, or move_event's:
    one savepoint a move, not two nested)."""
    _require_edit(actor, event)
    _ensure_open(event)
    if not isinstance(data, dict):
        raise ValidationError({"": "Send an object."})
    values, errors = clean(actor, data, event)
    times_change = ("start_at" in values and _aware(values["start_at"]) != _aware(event.start_at)) or (
        "end_at" in values and _aware(values["end_at"]) != _aware(event.end_at)
    )
    if times_change and not can(actor, "calendar.move_event", event):
        errors.setdefault("start_datetime", "Only admins and the project's PMs change an event's time.")
    if "rrule" in values and values["rrule"] != event.rrule and not can(actor, "calendar.move_event", event):
        # a new rule moves (or drops) occurrences: a change of times
        errors.setdefault("rrule", "Only admins and the project's PMs change when a series repeats.")
    people = _ids(data.get("assigned_to_ids"), "assigned_to_ids", errors, MAX_ASSIGNEES)
    project = values.get("project", event.project)
    users = None
    if people is not None and "project_id" not in errors:
        users = _assignees(project, people, errors)
    elif people is None and "project" in values and project is not event.project and project is not None:
        users = _assignees(project, sorted(event.assignee_ids), errors)  # they must fit the new project
    if errors:
        raise ValidationError(errors)
    before = audience(event)
    old_start, old_rule = _aware(event.start_at), event.rrule
    for key, value in values.items():
        if key == "project":
            if value is not event.project:
                event.project = value
                event.project_id = value.id if value is not None else None
        elif getattr(event, key) != value:
            setattr(event, key, value)
    if users is not None:
        _set_assignees(actor, event, users)
    db.session.flush()
    if event.rrule and (event.rrule != old_rule or _aware(event.start_at) != old_start):
        _realign_exceptions(event, old_start, event.rrule == old_rule)
    if event.rrule:
        _exceptions_follow(actor, event, values, users)
    # who may see it depends on its project, visibility and people only: a move keeps them
    seen_by_others = users is not None or any(key in values for key in ("project", "visibility"))
    if seen_by_others:
        db.session.refresh(event, ["is_client_visible"])  # the generated column, after its visibility
    _publish("calendar-event-updated", event, before=before, people=None if seen_by_others else before)
    return event


def _exceptions_follow(actor, series: CalendarEvent, values: dict, users) -> None:
    """Who sees a series decides who sees its edited occurrences: a change of the series'
    visibility, project or people is made on its exception rows too (an occurrence hidden
    from the client stays reachable otherwise, and one made visible alone would outlive a
    series taken off the client's calendar)."""
    rows = db.session.scalars(select(CalendarEvent).where(CalendarEvent.series_id == series.id)).all()
    for row in rows:
        before = audience(row)
        changed = False
        if "visibility" in values and row.visibility != series.visibility:
            row.visibility, changed = series.visibility, True
        if "project" in values and row.project_id != series.project_id:
            row.project, row.project_id, changed = series.project, series.project_id, True
        if users is not None and row.assignee_ids != series.assignee_ids:
            row.assignments = [EventAssignee(user_id=u.id) for u in users]
            changed = True
        if changed:
            db.session.flush()
            db.session.refresh(row, ["is_client_visible"])
            _publish("calendar-event-updated", row, before=before)


def _realign_exceptions(series: CalendarEvent, old_start: datetime, same_rule: bool) -> None:
    """The series moved (or its rule changed): its exceptions follow by the same amount
    of local wall-clock time (a weekly 7:00 meeting moved a week stays at 7:00 across a
    DST change); those that no longer name an occurrence are dropped."""
    zone = company_zone()

    def local(value: datetime) -> datetime:
        return _aware(value).astimezone(zone).replace(tzinfo=None)

    delta = local(series.start_at) - local(old_start)
    rows = db.session.scalars(
        select(CalendarEvent)
        .where(CalendarEvent.series_id == series.id)
        .order_by(CalendarEvent.recurrence_start.desc() if delta > timedelta(0) else CalendarEvent.recurrence_start)
    ).all()
    for row in rows:  # in the direction of the shift, so no two rows ever share an occurrence
        if same_rule and delta:
            row.recurrence_start = (local(row.recurrence_start) + delta).replace(tzinfo=zone).astimezone(UTC)
        if not recurrence.is_occurrence(series, row.recurrence_start):
            db.session.delete(row)
        db.session.flush()


def _occurrence_start(series: CalendarEvent, raw) -> datetime:
    errors: dict = {}
    when = parse_when(raw, "occurrence_start", errors)
    if errors or when is None:
        raise ValidationError(errors or {"occurrence_start": "Give the occurrence's original start."})
    if not series.rrule:
        raise ValidationError({"occurrence_start": "This event does not repeat."})
    if not recurrence.is_occurrence(series, when):
        raise ValidationError({"occurrence_start": "The series has no occurrence starting then."})
    return when


def exception_for(series: CalendarEvent, when: datetime) -> CalendarEvent | None:
    return db.session.scalars(
        select(CalendarEvent).where(CalendarEvent.series_id == series.id, CalendarEvent.recurrence_start == when)
    ).first()


def _detach(actor, series: CalendarEvent, when: datetime) -> CalendarEvent:
    """The exception row of `series`' occurrence at `when`, made from the series if new."""
    row = exception_for(series, when)
    if row is not None:
        return row
    duration = _aware(series.end_at) - _aware(series.start_at)
    if series.all_day:
        days = (_local_day(series.end_at) - _local_day(series.start_at)).days
        end = local_midnight(_local_day(when) + timedelta(days=days))
    else:
        end = when + duration
    row = CalendarEvent(
        title=series.title,
        description=series.description,
        notes=series.notes,
        start_at=when,
        end_at=end,
        all_day=series.all_day,
        project_id=series.project_id,
        event_type=series.event_type,
        status=series.status,
        visibility=series.visibility,
        series_id=series.id,
        recurrence_start=when,
        risk_level=series.risk_level,
        created_by_id=actor.id,
    )
    row.assignments = [EventAssignee(user_id=i) for i in sorted(series.assignee_ids)]
    db.session.add(row)
    db.session.flush()
    db.session.refresh(row, ["is_client_visible"])
    return row


def _occurrence_target(actor, series: CalendarEvent, occurrence_start, version) -> tuple[CalendarEvent, bool]:
    """(the exception row to write, whether it is new) — the version checked against the
    row if it exists, else against the series."""
    when = _occurrence_start(series, occurrence_start)
    row = exception_for(series, when)
    if row is not None:
        expect_version(row, version)
        return row, False
    expect_version(series, version)
    return _detach(actor, series, when), True


@checks_version("series")
def edit_occurrence(actor, series: CalendarEvent, occurrence_start, data: dict, version=None) -> CalendarEvent:
    """Change one occurrence of a series: its exception row (made on first edit)."""
    _require_edit(actor, series)
    _ensure_open(series)
    if isinstance(data, dict) and ("rrule" in data or "project_id" in data):
        raise ValidationError(
            {k: "Change this on the series, not one occurrence." for k in ("rrule", "project_id") if k in data}
        )
    row, new = _occurrence_target(actor, series, occurrence_start, version)
    updated = _update(actor, row, data)
    if new:
        _publish("calendar-event-created", updated)
    return updated


@checks_version("event")
def move_event(actor, event: CalendarEvent, start_at, end_at, version=None, occurrence_start=None) -> CalendarEvent:
    """New start and end (drag, resize, the API's move). With `occurrence_start`: only
    that occurrence of the series."""
    _require_move(actor, event)
    _ensure_open(event)
    if occurrence_start is not None:
        row, new = _occurrence_target(actor, event, occurrence_start, version)
        moved = move_event(actor, row, start_at, end_at)
        if new:
            _publish("calendar-event-created", moved)
        return moved
    expect_version(event, version)
    return _update(actor, event, {"start_datetime": start_at, "end_datetime": end_at})


@checks_version("event")
def cancel_occurrence(actor, event: CalendarEvent, occurrence_start, version=None) -> CalendarEvent:
    """Cancel one occurrence of the series `event`: its exception row, status cancelled."""
    _require_delete(actor, event)
    _ensure_open(event)
    row, new = _occurrence_target(actor, event, occurrence_start, version)
    if row.status != CANCELLED:
        row.status = CANCELLED
        db.session.flush()
    _publish("calendar-event-created" if new else "calendar-event-updated", row)
    return row


@checks_version("event")
def delete_event(actor, event: CalendarEvent, version=None, occurrence_start=None) -> None:
    """Delete an event (a series with its exceptions). With `occurrence_start`, or for an
    exception row: cancel that one occurrence instead (the series would bring it back)."""
    if occurrence_start is not None:
        cancel_occurrence(actor, event, occurrence_start, version=version)
        return
    _require_delete(actor, event)
    _ensure_open(event)
    expect_version(event, version)
    if event.series_id is not None:
        if event.status != CANCELLED:
            event.status = CANCELLED
            db.session.flush()
        _publish("calendar-event-updated", event)
        return
    people = audience(event)
    payload = _payload(event)
    db.session.delete(event)
    db.session.flush()
    publish("calendar-event-deleted", payload, users=people, roles=[ADMIN])


# --- tasks on the calendar ------------------------------------------------------------


def may_move(actor, obj) -> bool:
    """May `actor` drag `obj` (an event or a task)? Events: calendar.move_event on it
    (and seeing it). Tasks: admin and the project's PMs/trainees (calendar.move_event on
    the task's project) who may also edit the task. Closed projects: nobody."""
    from app.tasks.models import Task

    project = getattr(obj, "project", None)
    if project is not None and project.status == PROJECT_CLOSED:
        return False
    if isinstance(obj, Task):
        from app.tasks.services import may_edit

        return can(actor, "calendar.move_event", _NewEvent(obj.project)) and may_edit(actor, obj)
    return can_see(actor, obj) and can(actor, "calendar.move_event", obj)


def dependants_to_shift(task, delta_days: int) -> list:
    """The tasks that would shift with `task` by `delta_days`: everything that depends on
    it, transitively (breadth first, each once), that is still open and has a date."""
    from app.tasks.models import CLOSED_STATUSES, Task, TaskDependency

    if not delta_days:
        return []
    found: list = []
    seen = {task.id}
    frontier = [task.id]
    while frontier:
        rows = db.session.scalars(
            select(Task)
            .join(TaskDependency, TaskDependency.task_id == Task.id)
            .where(TaskDependency.depends_on_id.in_(frontier))
            .order_by(Task.id)
        ).all()
        frontier = []
        for dependant in rows:
            if dependant.id in seen:
                continue
            seen.add(dependant.id)
            frontier.append(dependant.id)
            if dependant.status not in CLOSED_STATUSES and (dependant.start_date or dependant.due_date):
                found.append(dependant)
    return found


def _shift(day: date | None, days: int) -> date | None:
    return day + timedelta(days=days) if day is not None else None


def move_task(actor, task, start_date, due_date, version=None, shift_dependants: bool = False) -> list:
    """Move a task to new dates (through tasks.services.update_task: its rules, version,
    live events). With `shift_dependants`, everything that depends on it, transitively,
    moves by the same number of days (each with its own new version). Returns the tasks
    moved, the task first."""
    from app.core.dates import parse_date
    from app.tasks.services import update_task

    if not may_move(actor, task):
        if not can(actor, "task.view", task):
            raise ObjectNotFound("That task does not exist or you cannot see it.")
        raise PermissionDenied("Only admins and the project's PMs move tasks on the calendar.")
    errors: dict = {}
    start = parse_date(start_date, "start_date", errors, earliest=EARLIEST, latest=LATEST)
    due = parse_date(due_date, "due_date", errors, earliest=EARLIEST, latest=LATEST)
    if start is None and due is None and not errors:
        errors["start_date"] = "Give the new dates."
    if errors:
        raise ValidationError(errors)
    if task.start_date is not None and start is not None:
        delta = (start - task.start_date).days
    elif task.due_date is not None and due is not None:
        delta = (due - task.due_date).days
    else:
        delta = 0
    followers = dependants_to_shift(task, delta) if shift_dependants else []
    with attempt():  # all or nothing
        moved = [update_task(actor, task, {"start_date": start, "due_date": due}, partial=True, version=version)]
        for dependant in followers:
            moved.append(
                update_task(
                    actor,
                    dependant,
                    {"start_date": _shift(dependant.start_date, delta), "due_date": _shift(dependant.due_date, delta)},
                    partial=True,
                )
            )
    return moved


# --- bulk ----------------------------------------------------------------------------


def _bulk_params(action: str, params: dict) -> dict:
    if action not in BULK_ACTIONS:
        raise ValidationError({"action": f"Choose one of: {', '.join(BULK_ACTIONS)}."})
    if action == "move":
        days = params.get("days")
        days = None if isinstance(days, bool) else to_int(days)
        if days is None or not -3660 <= days <= 3660 or days == 0:
            raise ValidationError({"days": "Give a whole number of days (not 0), e.g. 2 or -1."})
        return {"days": days}
    if action == "reassign":
        errors: dict = {}
        ids = _ids(params.get("user_ids"), "user_ids", errors, MAX_ASSIGNEES)
        if errors or ids is None:
            raise ValidationError(errors or {"user_ids": "Give the people (a list of ids, may be empty)."})
        return {"user_ids": ids}
    if action == "status":
        status = params.get("status")
        if not isinstance(status, str) or not status:
            raise ValidationError({"status": "Give the status."})
        return {"status": status}
    return {}


def _bulk_event(actor, event_id: int, action: str, p: dict, version=None) -> None:
    event = get_event(actor, event_id)
    expect_version(event, version)  # the selection was made on this version: a later edit wins
    if action == "move":
        delta = timedelta(days=p["days"])
        if event.all_day:
            first = _local_day(event.start_at) + delta
            days = (_local_day(event.end_at) - _local_day(event.start_at)).days
            start, end = local_midnight(first), local_midnight(first + timedelta(days=days))
        else:
            start, end = _aware(event.start_at) + delta, _aware(event.end_at) + delta
        move_event(actor, event, start, end)
    elif action == "reassign":
        update_event(actor, event, {"assigned_to_ids": p["user_ids"]})
    elif action == "status":
        update_event(actor, event, {"status": p["status"]})
    else:
        delete_event(actor, event)


def _bulk_task(actor, task_id: int, action: str, p: dict, version=None) -> None:
    from app.tasks import services as tasks

    task = tasks.get_task(actor, task_id)
    expect_version(task, version)
    if action == "move":
        if task.start_date is None and task.due_date is None:
            raise ValidationError({"days": "This task has no dates to move."})
        move_task(actor, task, _shift(task.start_date, p["days"]), _shift(task.due_date, p["days"]))
    elif action == "reassign":
        if not may_move(actor, task):
            raise PermissionDenied("Only admins and the project's PMs change tasks from the calendar.")
        tasks.update_task(actor, task, {}, assignee_ids=p["user_ids"], partial=True)
    elif action == "status":
        if not may_move(actor, task):
            raise PermissionDenied("Only admins and the project's PMs change tasks from the calendar.")
        tasks.set_status(actor, task, tasks.Move(p["status"]))
    else:
        if not may_move(actor, task):
            raise PermissionDenied("Only admins and the project's PMs change tasks from the calendar.")
        tasks.delete_task(actor, task)


def _reason(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        if exc.fields:
            return " ".join(str(v) for v in exc.fields.values())
        return exc.message
    if isinstance(exc, PermissionDenied):
        return "You may not change this."
    return getattr(exc, "message", None) or str(exc) or "Refused."


def bulk(actor, items, action: str, **params) -> dict:
    """`action` on each of `items` (("event", id) or ("task", id), or with the version the
    selection was made on: ("event", id, version) — an item changed since is refused as
    stale, not overwritten), each on its own in a savepoint: a refused item (not found,
    not allowed, invalid, stale, closed) is listed in "refused" with its reason and does
    not stop the others. Returns {"done": [{kind, id}], "refused": [{kind, id, reason}]}."""
    p = _bulk_params(action, params)
    if not isinstance(items, (list, tuple)) or not items:
        raise ValidationError({"items": "Choose at least one item."})
    if len(items) > MAX_BULK:
        raise ValidationError({"items": f"At most {MAX_BULK} items at once."})
    done: list[dict] = []
    refused: list[dict] = []
    seen: set = set()
    for entry in items:
        try:
            kind, raw_id, *rest = entry
        except (TypeError, ValueError):
            refused.append({"kind": None, "id": None, "reason": "Not an item."})
            continue
        version = rest[0] if len(rest) == 1 else None
        item_id = None if isinstance(raw_id, bool) else to_int(raw_id)
        if kind not in ("event", "task") or item_id is None:
            refused.append({"kind": kind if isinstance(kind, str) else None, "id": None, "reason": "Not an item."})
            continue
        if (kind, item_id) in seen:
            continue
        seen.add((kind, item_id))
        try:
            with attempt():
                (_bulk_event if kind == "event" else _bulk_task)(actor, item_id, action, p, version)
        except (ValidationError, PermissionDenied, ObjectNotFound, ConflictError) as exc:
            refused.append({"kind": kind, "id": item_id, "reason": _reason(exc)})
        else:
            done.append({"kind": kind, "id": item_id})
    return {"done": done, "refused": refused}
