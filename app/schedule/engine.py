"""The conflict engine: keeps `schedule_conflicts` and the items' `risk_level` current,
in the same flush as the change (SQLAlchemy's after_flush, like tasks/conflicts.py).

Kinds (severity):
- double_booking (high): one person on two overlapping items in any project — event ×
  event by their times, tasks as all-day blocks over [start_date, due_date] in
  company-local days; closed/cancelled items book nobody;
- over_capacity (medium): a person's booked hours on one company-local day exceed their
  `daily_capacity_hours`. A task counts its estimated hours spread evenly over its
  working days (Monday–Friday but company holidays; all its days if it has none), or a
  full 8 h day on each working day when it has no estimate; a timed event counts its
  duration that day, an all-day event 8 h a day;
- dependency (critical): an open task starting on or before the due date of an open
  task it depends on, or in progress while that one is not finished;
- dates (high): ends before it starts, work after the project's end date, open work on
  a closed project;
- holiday (low): a client-visible milestone or deadline on a weekend or company holiday.

What a change touches is recomputed, not the world: for each person whose bookings it
changed, the days of the change (old and new place) give a window; every item of theirs
in that window is "touched" and its pairs and day loads are worked out again against
everything of theirs over the touched items' whole span (so the other side of an overlap,
before and after, is rewritten too). Item kinds are recomputed for the changed items,
the dependants of a changed task and the items of a changed project. Rows are diffed
(only what changed is written); a new row is a new conflict, told to its person (or the
item's assignees) once per transaction in one notification (see `_send_pending`).
Two transactions recomputing one person take turns (PostgreSQL advisory lock per person).
"""

from __future__ import annotations

import logging
import weakref
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

from sqlalchemy import (
    ARRAY,
    Boolean,
    Date,
    DateTime,
    Integer,
    String,
    and_,
    bindparam,
    cast,
    delete,
    event,
    func,
    insert,
    inspect,
    literal,
    null,
    or_,
    select,
    true,
    union_all,
    update,
)
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from app.auth.models import User
from app.calendar.models import CLIENT_VISIBLE, CalendarEvent, EventAssignee
from app.calendar.models import CLOSED_STATUSES as EVENT_CLOSED
from app.core.timezones import company_zone
from app.projects.models import CLOSED as PROJECT_CLOSED
from app.projects.models import Project
from app.schedule.models import (
    ITEM_KINDS,
    PERSON_KINDS,
    SEVERITY_OF,
    SEVERITY_RANK,
    CompanyHoliday,
    ScheduleConflict,
)
from app.tasks.models import COMPLETED, IN_PROGRESS, OPEN_STATUSES, Task, TaskAssignment, TaskDependency

log = logging.getLogger(__name__)

DEFAULT_TASK_HOURS = 8.0  # a task without an estimate: a full day on each working day
ALL_DAY_EVENT_HOURS = 8.0
DEFAULT_CAPACITY = 8.0
MILESTONE_TYPES = ("milestone", "deadline")
SERIES_HORIZON = timedelta(days=366)  # a changed series is re-checked over its first year
MAX_OCCURRENCES = 1000
PADDING = timedelta(days=14)  # extra days read around a change's window
FORWARD_PADDING = timedelta(days=31)  # …and after it
ITEM_CHUNK = 5000  # ids per statement (PostgreSQL takes at most 65,535 parameters)
_LOCK_SPACE = 8_000_202  # pg_advisory_xact_lock(space, user id): one person's conflict rows
FAR_PAST, FAR_FUTURE = date(1900, 1, 1), date(9000, 1, 1)
_TASK_BOOKING = ("status", "start_date", "due_date", "estimated_hours", "project_id")
_TASK_ITEM = ("status", "start_date", "due_date", "project_id")
_EVENT_BOOKING = ("status", "start_at", "end_at", "all_day", "rrule", "project_id")
_EVENT_ITEM = ("status", "start_at", "end_at", "all_day", "project_id", "event_type", "visibility", "rrule")

Key = tuple[str, int]


# --- days and bookings ------------------------------------------------------------------


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def midnight(day: date, zone) -> datetime:
    """The start of company-local `day`, in UTC."""
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)


def local_days(start: datetime, end: datetime, zone) -> tuple[date, date]:
    """The first and last company-local day an event from `start` to `end` covers (an end
    at midnight ends the day before)."""
    start, end = _aware(start), _aware(end)
    first = start.astimezone(zone).date()
    last = (end - timedelta(microseconds=1)).astimezone(zone).date() if end > start else first
    return first, max(first, last)


def _days(first: date, last: date):
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def working_days(first: date, last: date, holidays) -> list[date]:
    days = list(_days(first, last))
    working = [d for d in days if d.weekday() < 5 and d not in holidays]
    return working or days


@dataclass
class Booking:
    key: Key
    project_id: int | None
    start: datetime  # aware, UTC
    end: datetime  # exclusive; at least a minute after start, so a point in time still books
    first: date
    last: date
    hours: dict  # company-local day -> hours booked that day


def task_booking(task_id, project_id, start_date, due_date, estimate, zone, holidays) -> Booking:
    working = working_days(start_date, due_date, holidays)
    per_day = float(estimate) / len(working) if estimate is not None else DEFAULT_TASK_HOURS
    return Booking(
        ("task", task_id),
        project_id,
        midnight(start_date, zone),
        midnight(due_date + timedelta(days=1), zone),
        start_date,
        due_date,
        dict.fromkeys(working, per_day),
    )


def event_booking(event_id, project_id, start, end, all_day, zone) -> Booking:
    start, end = _aware(start), _aware(end)
    first, last = local_days(start, end, zone)
    hours = {}
    for day in _days(first, last):
        if all_day:
            hours[day] = ALL_DAY_EVENT_HOURS
        else:
            lo, hi = max(start, midnight(day, zone)), min(end, midnight(day + timedelta(days=1), zone))
            hours[day] = max(0.0, (hi - lo).total_seconds() / 3600)
    if all_day:
        start, end = midnight(first, zone), midnight(last + timedelta(days=1), zone)
    return Booking(("event", event_id), project_id, start, max(end, start + timedelta(minutes=1)), first, last, hours)


def series_occurrences(start: datetime, end: datetime, rule: str, window_start: datetime, window_end: datetime, zone):
    """(start, end) of each occurrence of the RRULE series overlapping the window, in the
    company's zone (a weekly 9 AM meeting stays at 9 AM across daylight saving)."""
    from dateutil.rrule import rrulestr

    start, end = _aware(start), _aware(end)
    duration = end - start
    text = rule[6:] if rule.upper().startswith("RRULE:") else rule
    found = []
    try:
        rule_set = rrulestr(text, dtstart=start.astimezone(zone))
        for occurrence in rule_set.xafter(window_start - duration - timedelta(seconds=1), inc=True):
            if occurrence >= window_end or len(found) >= MAX_OCCURRENCES:
                break
            found.append(occurrence)
    except (ValueError, TypeError):
        found = [start] if start < window_end and end > window_start else []
    out = []
    for occurrence in found:
        occurrence = occurrence.astimezone(UTC)
        if occurrence + duration > window_start or (duration.total_seconds() == 0 and occurrence >= window_start):
            out.append((occurrence, occurrence + duration))
    return out


def holidays_of(connection) -> dict[date, str]:
    return dict(connection.execute(select(CompanyHoliday.day, CompanyHoliday.name)).all())


@lru_cache(maxsize=4)
def _bookings_statement(dialect: str):
    """load_bookings' statement (parameters users, lo, hi, window_start, window_end), built
    once per dialect: the people's tasks and events in one read — the tasks meeting the
    days, the plain events meeting the window and every series started by its end. By
    position: 0 task (0) or event (1), 1 user, 2 id, 3 project, 4–6 a task's start, due
    and estimate, 7–10 an event's start, end, all-day and rule."""
    from app.core.statements import one_of

    no_date, no_time = cast(null(), Date()), cast(null(), DateTime(timezone=True))
    people = func.unnest(bindparam("users", type_=ARRAY(Integer()))).table_valued("id").render_derived(name="person")

    def of_people(stmt, assignment, name):
        # PostgreSQL: each person of the array joined LATERAL to their bookings, which
        # are then planned as one person's (their assignments by the user index, the
        # items by primary key: ~1 ms a person); as `user_id = ANY(:users)` the generic
        # plan walked every past event by its start (~18 ms). Elsewhere an expanding IN.
        if dialect != "postgresql":
            return stmt.where(one_of(assignment.user_id, "users", dialect))
        # (OFFSET 0 keeps the subquery from being flattened into one join of everyone)
        booked = stmt.where(assignment.user_id == people.c.id).offset(0).lateral(name)
        return select(*booked.c).select_from(people).join(booked, true())

    tasks = of_people(
        select(
            literal(0).label("kind"),
            TaskAssignment.user_id,
            Task.id,
            Task.project_id,
            Task.start_date,
            Task.due_date,
            Task.estimated_hours,
            no_time.label("start_at"),
            no_time.label("end_at"),
            cast(null(), Boolean()).label("all_day"),
            cast(null(), String()).label("rrule"),
        )
        .join(Task, Task.id == TaskAssignment.task_id)
        .where(
            Task.status.in_(OPEN_STATUSES),
            Task.start_date.is_not(None),
            Task.due_date.is_not(None),
            Task.start_date <= bindparam("hi", type_=Date()),
            Task.due_date >= bindparam("lo", type_=Date()),
        ),
        TaskAssignment,
        "booked_tasks",
    )
    events = of_people(
        select(
            literal(1).label("kind"),
            EventAssignee.user_id,
            CalendarEvent.id,
            CalendarEvent.project_id,
            no_date.label("start_date"),
            no_date.label("due_date"),
            cast(null(), Task.estimated_hours.type).label("estimated_hours"),
            CalendarEvent.start_at,
            CalendarEvent.end_at,
            CalendarEvent.all_day,
            CalendarEvent.rrule,
        )
        .join(CalendarEvent, CalendarEvent.id == EventAssignee.event_id)
        .where(
            CalendarEvent.status.not_in(EVENT_CLOSED),
            CalendarEvent.start_at < bindparam("window_end", type_=DateTime(timezone=True)),
            or_(
                CalendarEvent.rrule.is_not(None),
                CalendarEvent.end_at >= bindparam("window_start", type_=DateTime(timezone=True)),
            ),
        ),
        EventAssignee,
        "booked_events",
    )
    return union_all(tasks, events)


def load_bookings(connection, users, lo: date, hi: date, zone, holidays) -> dict[int, list[Booking]]:
    """Every booking of each of `users` overlapping company-local days lo..hi, by person
    (one statement, whatever the number of people)."""
    window_start, window_end = midnight(lo, zone), midnight(hi + timedelta(days=1), zone)
    params = {"users": sorted(users), "lo": lo, "hi": hi, "window_start": window_start, "window_end": window_end}
    found: dict[int, list[Booking]] = {user_id: [] for user_id in users}
    series = []
    for row in connection.execute(_bookings_statement(connection.dialect.name), params):
        if row[0] == 0:
            found[row[1]].append(task_booking(row[2], row[3], row[4], row[5], row[6], zone, holidays))
        elif row[10]:
            series.append(row)
        else:
            found[row[1]].append(event_booking(row[2], row[3], row[7], row[8], row[9], zone))
    if series:
        moved = defaultdict(set)  # occurrences replaced by an exception row
        for series_id, original in connection.execute(
            select(CalendarEvent.series_id, CalendarEvent.recurrence_start).where(
                CalendarEvent.series_id.in_(sorted({row[2] for row in series}))
            )
        ):
            moved[series_id].add(_aware(original))
        for row in series:
            event_id, start, end, all_day = row[2], row[7], row[8], row[9]
            for occ_start, occ_end in series_occurrences(start, end, row[10], window_start, window_end, zone):
                if occ_start not in moved[event_id]:
                    found[row[1]].append(event_booking(event_id, row[3], occ_start, occ_end, all_day, zone))
    return found


# --- a transaction's reads, kept while nothing they depend on is written -----------------

_READS = "kibray.schedule.reads"  # session.info: (its transaction, {"bookings": …, "holidays": …})


def _reads(session) -> dict | None:
    """This transaction's remembered reads: {"bookings": {user id: (lo, hi, [Booking])},
    "holidays": {day: name}}. Tied to the session's outermost transaction, so a new
    transaction (another request, another test) never sees the last one's; forgotten
    too by every flush that changes a booking (_after_flush) and by a rollback. None
    when there is no session or no transaction (then nothing is remembered)."""
    if session is None:
        return None
    root = session.get_transaction()
    if root is None:
        return None
    found = session.info.get(_READS)
    if found is None or found[0]() is not root:
        found = session.info[_READS] = (weakref.ref(root), {})
    return found[1]


def holidays_in(session, connection) -> dict[date, str]:
    """holidays_of, read once per transaction (see _reads)."""
    reads = _reads(session)
    if reads is None:
        return holidays_of(connection)
    if "holidays" not in reads:
        reads["holidays"] = holidays_of(connection)
    return reads["holidays"]


def bookings_for(session, connection, wanted: dict, zone, holidays) -> dict[int, list[Booking]]:
    """load_bookings of each person over their days {user id: (lo, hi)}, remembered for
    the rest of the transaction (see _reads): a move's recomputation, the reasons its
    answer gives (their free days) and the notification it sends read the same people's
    bookings over overlapping days. A window next to or overlapping the one remembered
    reads only the days it lacks; the people needing the same days are read together."""
    reads = _reads(session)
    cache = {} if reads is None else reads.setdefault("bookings", {})
    one_day = timedelta(days=1)
    missing: dict[tuple[date, date], list[int]] = defaultdict(list)
    for user_id, (lo, hi) in wanted.items():
        found = cache.get(user_id)
        if found is None or hi < found[0] - one_day or lo > found[1] + one_day:
            cache.pop(user_id, None)
            missing[(lo, hi)].append(user_id)
            continue
        have_lo, have_hi, _ = found
        if lo < have_lo:
            missing[(lo, have_lo - one_day)].append(user_id)
        if hi > have_hi:
            missing[(have_hi + one_day, hi)].append(user_id)
    for (lo, hi), users in missing.items():
        read = load_bookings(connection, users, lo, hi, zone, holidays)
        for user_id in users:
            found = cache.get(user_id)
            if found is None:
                cache[user_id] = (lo, hi, read[user_id])
                continue
            merged = {(b.key, b.start): b for b in found[2]}
            merged.update(((b.key, b.start), b) for b in read[user_id])
            cache[user_id] = (min(lo, found[0]), max(hi, found[1]), list(merged.values()))
    return {
        user_id: [b for b in cache[user_id][2] if b.first <= hi and b.last >= lo]
        for user_id, (lo, hi) in wanted.items()
    }


def bookings_in(session, connection, user_id: int, lo: date, hi: date, zone, holidays) -> list[Booking]:
    """One person's bookings_for."""
    return bookings_for(session, connection, {user_id: (lo, hi)}, zone, holidays)[user_id]


def forget_reads(session) -> None:
    session.info.pop(_READS, None)


# --- what a change touches ----------------------------------------------------------------


_PENDING = "kibray.schedule.pending"
_NOTIFY = "kibray.schedule.notify"


@dataclass
class Pending:
    people: dict  # user id -> [lo, hi] window of days
    changed: dict  # user id -> set of item keys whose booking of them changed
    tasks: set  # task ids whose own conflicts (dependency, dates) to recompute
    events: set  # event ids whose own conflicts (dates, holiday) to recompute
    task_windows: dict  # task id -> [lo, hi]: its people are found at flush time
    event_windows: dict  # event id -> [lo, hi]
    projects: set  # projects whose end date or status changed
    holidays: set  # days a holiday was added, renamed or removed
    full: set  # people whose every booking is re-checked (capacity changed)
    assigned: dict  # item key -> people put on or taken off it in this flush


def _pending(session) -> Pending:
    found = session.info.get(_PENDING)
    if found is None:
        found = session.info[_PENDING] = Pending({}, defaultdict(set), set(), set(), {}, {}, set(), set(), set(), {})
    return found


def _widen(windows: dict, key, lo: date | None, hi: date | None) -> None:
    if lo is None or hi is None:
        return
    lo, hi = min(lo, hi), max(lo, hi)
    if key in windows:
        old = windows[key]
        windows[key] = [min(old[0], lo), max(old[1], hi)]
    else:
        windows[key] = [lo, hi]


def _history(obj, key):
    """(old value, new value) of attribute `key` in this flush."""
    hist = inspect(obj).attrs[key].history
    new = hist.added[0] if hist.added else (hist.unchanged[0] if hist.unchanged else None)
    old = hist.deleted[0] if hist.deleted else new
    return old, new


def _changed(obj, keys) -> bool:
    attrs = inspect(obj).attrs
    return any(attrs[key].history.has_changes() for key in keys)


def _task_span(start, due):
    if start is None and due is None:
        return None, None
    return start or due, due or start


def _event_span(start, end, rule=None):
    if start is None or end is None:
        return None, None
    first, last = local_days(start, end, company_zone())
    if rule:
        last = max(last, first + SERIES_HORIZON)
    return first - timedelta(days=1), last + timedelta(days=1)


def _task_written(task, inserted: bool) -> None:
    session = inspect(task).session
    if session is None:
        return
    pending = _pending(session)
    if inserted or _changed(task, _TASK_ITEM):
        pending.tasks.add(task.id)
    if not inserted and not _changed(task, _TASK_BOOKING):
        return
    (old_start, new_start), (old_due, new_due) = _history(task, "start_date"), _history(task, "due_date")
    _widen(pending.task_windows, task.id, *_task_span(old_start, old_due))
    _widen(pending.task_windows, task.id, *_task_span(new_start, new_due))
    if task.id not in pending.task_windows:  # no dates at all: nobody's days change
        pending.task_windows[task.id] = None


@event.listens_for(Task, "after_insert")
def _task_inserted(_mapper, _connection, task) -> None:
    _task_written(task, True)


@event.listens_for(Task, "after_update")
def _task_updated(_mapper, _connection, task) -> None:
    _task_written(task, False)


@event.listens_for(Task, "after_delete")
def _task_deleted(_mapper, _connection, task) -> None:
    session = inspect(task).session
    if session is None:
        return
    pending = _pending(session)
    lo, hi = _task_span(task.start_date, task.due_date)
    for user_id in pending.assigned.pop(("task", task.id), set()) | {a.user_id for a in task.assignments or ()}:
        _widen(pending.people, user_id, lo, hi)
        pending.changed[user_id].add(("task", task.id))
    pending.tasks.discard(task.id)
    pending.task_windows.pop(task.id, None)


@event.listens_for(TaskAssignment, "after_insert")
@event.listens_for(TaskAssignment, "after_delete")
def _task_assignment(_mapper, _connection, assignment) -> None:
    session = inspect(assignment).session
    if session is not None:
        pending = _pending(session)
        pending.assigned.setdefault(("task", assignment.task_id), set()).add(assignment.user_id)


@event.listens_for(TaskDependency, "after_insert")
@event.listens_for(TaskDependency, "after_delete")
def _dependency(_mapper, _connection, link) -> None:
    session = inspect(link).session
    if session is not None:
        _pending(session).tasks.add(link.task_id)


def _event_written(ev, inserted: bool) -> None:
    session = inspect(ev).session
    if session is None:
        return
    pending = _pending(session)
    if inserted or _changed(ev, _EVENT_ITEM):
        pending.events.add(ev.id)
    if not inserted and not _changed(ev, _EVENT_BOOKING):
        return
    (old_start, new_start), (old_end, new_end) = _history(ev, "start_at"), _history(ev, "end_at")
    rule = ev.rrule or _history(ev, "rrule")[0]
    _widen(pending.event_windows, ev.id, *_event_span(old_start, old_end, rule))
    _widen(pending.event_windows, ev.id, *_event_span(new_start, new_end, rule))
    if ev.series_id is not None:  # an exception row frees or books its series' occurrence
        _widen(pending.event_windows, ev.series_id, *_event_span(old_start, old_end))
        _widen(pending.event_windows, ev.series_id, *_event_span(new_start, new_end))


@event.listens_for(CalendarEvent, "after_insert")
def _event_inserted(_mapper, _connection, ev) -> None:
    _event_written(ev, True)


@event.listens_for(CalendarEvent, "after_update")
def _event_updated(_mapper, _connection, ev) -> None:
    _event_written(ev, False)


@event.listens_for(CalendarEvent, "after_delete")
def _event_deleted(_mapper, _connection, ev) -> None:
    session = inspect(ev).session
    if session is None:
        return
    pending = _pending(session)
    lo, hi = _event_span(ev.start_at, ev.end_at, ev.rrule)
    for user_id in pending.assigned.pop(("event", ev.id), set()) | {a.user_id for a in ev.assignments or ()}:
        _widen(pending.people, user_id, lo, hi)
        pending.changed[user_id].add(("event", ev.id))
    pending.events.discard(ev.id)
    pending.event_windows.pop(ev.id, None)


@event.listens_for(EventAssignee, "after_insert")
@event.listens_for(EventAssignee, "after_delete")
def _event_assignment(_mapper, _connection, assignment) -> None:
    session = inspect(assignment).session
    if session is not None:
        pending = _pending(session)
        pending.assigned.setdefault(("event", assignment.event_id), set()).add(assignment.user_id)


@event.listens_for(Project, "after_update")
def _project_written(_mapper, _connection, project) -> None:
    if _changed(project, ("end_date", "status")):
        session = inspect(project).session
        if session is not None:
            _pending(session).projects.add(project.id)


@event.listens_for(Project, "before_delete")
def _project_deleted(_mapper, connection, project) -> None:
    """A deleted project's tasks and events go by the database's cascade (no ORM event of
    their own), and their conflict rows with them; the people on them are rechecked over
    those items' days, where their other work may no longer be double-booked or over
    their hours. Read before the DELETE, while the items are there."""
    session = inspect(project).session
    if session is None:
        return
    pending = _pending(session)
    for user_id, first, last in connection.execute(
        select(TaskAssignment.user_id, func.min(Task.start_date), func.max(Task.due_date))
        .join(Task, Task.id == TaskAssignment.task_id)
        .where(Task.project_id == project.id, Task.start_date.is_not(None), Task.due_date.is_not(None))
        .group_by(TaskAssignment.user_id)
    ):
        _widen(pending.people, user_id, first, last)
    for user_id, start, end, rule in connection.execute(
        select(EventAssignee.user_id, CalendarEvent.start_at, CalendarEvent.end_at, CalendarEvent.rrule)
        .join(CalendarEvent, CalendarEvent.id == EventAssignee.event_id)
        .where(CalendarEvent.project_id == project.id)
    ):
        _widen(pending.people, user_id, *_event_span(start, end, rule))


@event.listens_for(User, "after_update")
def _user_written(_mapper, _connection, user) -> None:
    if _changed(user, ("daily_capacity_hours",)):
        session = inspect(user).session
        if session is not None:
            _pending(session).full.add(user.id)


@event.listens_for(CompanyHoliday, "after_insert")
@event.listens_for(CompanyHoliday, "after_update")
@event.listens_for(CompanyHoliday, "after_delete")
def _holiday_written(_mapper, _connection, holiday) -> None:
    session = inspect(holiday).session
    if session is not None:
        pending = _pending(session)
        pending.holidays.update(d for d in _history(holiday, "day") if d is not None)


@event.listens_for(Session, "after_flush")
def _after_flush(session, _context) -> None:
    pending = session.info.pop(_PENDING, None)
    if pending is None:
        return
    if not any(
        (pending.people, pending.tasks, pending.events, pending.task_windows, pending.event_windows)
        + (pending.projects, pending.holidays, pending.full, pending.assigned)
    ):
        return
    forget_reads(session)  # bookings or holidays changed: what was read before is stale
    new = apply(session.connection(), pending, session)
    if new:
        queue = session.info.setdefault(_NOTIFY, [])
        nested = session.get_nested_transaction()
        queue.extend((id(nested) if nested is not None else None, user_id, keys) for user_id, keys in new.items())


# --- recomputing ------------------------------------------------------------------------


def _people_of(connection, pending: Pending) -> None:
    """Add to `pending.people` the people of each changed item, with its window."""
    zone = company_zone()
    tasks_on = [k[1] for k in pending.assigned if k[0] == "task"]
    if tasks_on:  # someone put on or taken off a task: their days over its span
        for task_id, start, due in connection.execute(
            select(Task.id, Task.start_date, Task.due_date).where(Task.id.in_(tasks_on))
        ):
            for user_id in pending.assigned[("task", task_id)]:
                _widen(pending.people, user_id, *_task_span(start, due))
                pending.changed[user_id].add(("task", task_id))
            pending.tasks.add(task_id)
    events_on = [k[1] for k in pending.assigned if k[0] == "event"]
    if events_on:
        for event_id, start, end, rule in connection.execute(
            select(CalendarEvent.id, CalendarEvent.start_at, CalendarEvent.end_at, CalendarEvent.rrule).where(
                CalendarEvent.id.in_(events_on)
            )
        ):
            for user_id in pending.assigned[("event", event_id)]:
                _widen(pending.people, user_id, *_event_span(start, end, rule))
                pending.changed[user_id].add(("event", event_id))
            pending.events.add(event_id)
    windows = {k: v for k, v in pending.task_windows.items() if v is not None}
    if windows:
        for task_id, user_id in connection.execute(
            select(TaskAssignment.task_id, TaskAssignment.user_id).where(TaskAssignment.task_id.in_(list(windows)))
        ):
            _widen(pending.people, user_id, *windows[task_id])
            pending.changed[user_id].add(("task", task_id))
    if pending.event_windows:
        for event_id, user_id in connection.execute(
            select(EventAssignee.event_id, EventAssignee.user_id).where(
                EventAssignee.event_id.in_(list(pending.event_windows))
            )
        ):
            _widen(pending.people, user_id, *pending.event_windows[event_id])
            pending.changed[user_id].add(("event", event_id))
    if windows:  # a task's dependants: its dates or status may hold them up
        pending.tasks.update(
            connection.execute(
                select(TaskDependency.task_id).where(TaskDependency.depends_on_id.in_(list(windows)))
            ).scalars()
        )
    if pending.projects:
        pending.tasks.update(
            connection.execute(select(Task.id).where(Task.project_id.in_(list(pending.projects)))).scalars()
        )
        pending.events.update(
            connection.execute(
                select(CalendarEvent.id).where(CalendarEvent.project_id.in_(list(pending.projects)))
            ).scalars()
        )
    for day in pending.holidays:
        lo, hi = midnight(day, zone), midnight(day + timedelta(days=1), zone)
        for (user_id,) in connection.execute(
            select(TaskAssignment.user_id)
            .join(Task, Task.id == TaskAssignment.task_id)
            .where(Task.start_date <= day, Task.due_date >= day, Task.status.in_(OPEN_STATUSES))
            .union(
                select(EventAssignee.user_id)
                .join(CalendarEvent, CalendarEvent.id == EventAssignee.event_id)
                .where(CalendarEvent.start_at < hi, CalendarEvent.end_at >= lo)
            )
        ):
            _widen(pending.people, user_id, day, day)
        pending.events.update(
            connection.execute(
                select(CalendarEvent.id).where(
                    CalendarEvent.start_at < hi + timedelta(days=1),
                    CalendarEvent.start_at >= lo - timedelta(days=1),
                    CalendarEvent.event_type.in_(MILESTONE_TYPES),
                )
            ).scalars()
        )
    for user_id in pending.full:
        pending.people[user_id] = [FAR_PAST, FAR_FUTURE]


PEOPLE_CHUNK = 50  # people recomputed together (one read of their bookings, one of their rows)


def apply(connection, pending: Pending, session=None, tell_people: bool = True) -> dict[int, set]:
    """Recompute what `pending` touches; answer the NEW conflicts by person to tell:
    {user id: {(item key, kind, other key or None, day)}}. Whatever the number of people
    and items, a fixed number of statements: the people locked (with their capacities),
    their bookings, their stored rows, the items and theirs, one delete and one insert of
    the difference, the risk levels."""
    _people_of(connection, pending)
    zone = company_zone()
    holidays = holidays_in(session, connection)
    people = sorted(pending.people)
    capacities = _lock_people(connection, people)
    old: list = []
    new: list[dict] = []
    risky: set[Key] = set()
    for chunk in _chunks(people, PEOPLE_CHUNK):
        found_old, found_new, touched = _refresh_people(
            connection,
            {user_id: pending.people[user_id] for user_id in chunk},
            pending.changed,
            zone,
            holidays,
            capacities,
            session,
        )
        old += found_old
        new += found_new
        risky |= touched
    task_ids, event_ids = sorted(pending.tasks), sorted(pending.events)
    for chunk in range(0, max(len(task_ids), len(event_ids)), ITEM_CHUNK):
        keys, found_old, found_new = _refresh_items(
            connection, task_ids[chunk : chunk + ITEM_CHUNK], event_ids[chunk : chunk + ITEM_CHUNK], zone, holidays
        )
        old += found_old
        new += found_new
        risky |= keys
    fresh = _write(connection, old, new)
    _update_risk(connection, risky, session)
    if not tell_people:
        return {}
    tell: dict[int, set] = defaultdict(set)
    about_items = []
    for row in fresh:
        if row["user_id"] is not None:  # a person's kind: told to that person
            tell[row["user_id"]].add(_tell_key(row))
        else:
            about_items.append(_tell_key(row))
    if about_items:  # an item's kind: told to its assignees
        for person, rows in _recipients(connection, about_items).items():
            tell[person] |= rows
    return {user_id: rows for user_id, rows in tell.items() if rows}


@lru_cache(maxsize=4)
def _lock_statement(dialect: str):
    """The people's capacities; on PostgreSQL each person's advisory lock taken in the
    same statement, in id order (volatile output is evaluated after the sort), so two
    transactions never wait for each other in a ring."""
    from app.core.statements import one_of

    columns = [User.id, User.daily_capacity_hours]
    if dialect == "postgresql":
        columns.append(func.pg_advisory_xact_lock(literal(_LOCK_SPACE), User.id))
    return select(*columns).where(one_of(User.id, "users", dialect)).order_by(User.id)


def _lock_people(connection, people) -> dict[int, float]:
    """Take the people's turn (see _lock_statement); answer their daily capacities."""
    if not people:
        return {}
    return {
        row[0]: float(row[1]) if row[1] is not None else DEFAULT_CAPACITY
        for row in connection.execute(_lock_statement(connection.dialect.name), {"users": list(people)})
    }


def _row_key(row) -> tuple:
    return (row["item_kind"], row["item_id"], row["kind"], row["other_kind"], row["other_id"], row["user_id"])


def _row(item: Key, kind: str, project_id, day, *, other: Key | None = None, user_id=None, detail="") -> dict:
    return {
        "item_kind": item[0],
        "item_id": item[1],
        "kind": kind,
        "severity": SEVERITY_OF[kind],
        "severity_rank": SEVERITY_RANK[SEVERITY_OF[kind]],
        "other_kind": other[0] if other else None,
        "other_id": other[1] if other else None,
        "user_id": user_id,
        "project_id": project_id,
        "day": day,
        "detail": detail,
        "task_id": item[1] if item[0] == "task" else None,
        "event_id": item[1] if item[0] == "event" else None,
        "other_task_id": other[1] if other and other[0] == "task" else None,
        "other_event_id": other[1] if other and other[0] == "event" else None,
    }


_COLUMNS = ScheduleConflict.__table__.c
_READ = (
    _COLUMNS.id,
    _COLUMNS.item_kind,
    _COLUMNS.item_id,
    _COLUMNS.kind,
    _COLUMNS.other_kind,
    _COLUMNS.other_id,
    _COLUMNS.user_id,
    _COLUMNS.day,
    _COLUMNS.detail,
    _COLUMNS.project_id,
)


def _write(connection, old_rows, new_rows: list[dict]) -> list[dict]:
    """Make the stored rows `old_rows` (read with _READ) into `new_rows`, writing only the
    difference: the rows gone deleted, a row whose day, detail or project changed updated
    in place (an UPDATE that leaves the foreign keys alone skips their checks and row
    locks, where a delete and an insert paid four of them a row), the new ones inserted
    — one statement each. Answers the rows that are new conflicts (their key was not
    there)."""
    old = {}
    for row in old_rows:  # by position (_READ): id 0, day 7, detail 8, project_id 9
        old[(row[1], row[2], row[3], row[4], row[5], row[6])] = (row[0], row[7], row[8], row[9])
    new = {}
    for row in new_rows:
        new.setdefault(_row_key(row), row)
    gone, changed = [], []
    for key, (ident, day, detail, project_id) in old.items():
        wanted = new.get(key)
        if wanted is None:
            gone.append(ident)
        elif (wanted["day"], wanted["detail"], wanted["project_id"]) != (day, detail, project_id):
            changed.append(
                {
                    "row_id": ident,
                    "new_day": wanted["day"],
                    "new_detail": wanted["detail"],
                    "new_project": wanted["project_id"],
                }
            )
    if gone:
        connection.execute(delete(ScheduleConflict).where(ScheduleConflict.id.in_(gone)))
    if changed:
        connection.execute(_changed_rows_statement(), changed)
    fresh = [row for key, row in new.items() if key not in old]
    if fresh:
        connection.execute(insert(ScheduleConflict), fresh)
    return fresh


@lru_cache(maxsize=1)
def _changed_rows_statement():
    return (
        update(ScheduleConflict)
        .where(ScheduleConflict.id == bindparam("row_id"))
        .values(day=bindparam("new_day"), detail=bindparam("new_detail"), project_id=bindparam("new_project"))
    )


def _padded(lo: date, hi: date) -> tuple[date, date]:
    # one read over the window with a margin serves most changes; a touched item running
    # past the margin makes a second read over the touched items' whole span. Forward, as
    # far as the reasons' free-day search looks (conflicts.FREE_DAY_SEARCH): the answer
    # and the notification of this change then read no bookings of their own.
    pad_lo = max(FAR_PAST, lo - PADDING) if lo > FAR_PAST + PADDING else lo
    pad_hi = hi + FORWARD_PADDING if hi < FAR_FUTURE - FORWARD_PADDING else hi
    return pad_lo, pad_hi


@dataclass
class _Plan:
    """One person's recomputation: their window, the items touched and the days read."""

    lo: date
    hi: date
    changed: set  # keys of the changed items they are (or were) on
    touched: set
    span_lo: date
    span_hi: date
    bookings: list | None


def _refresh_people(connection, windows: dict, changed: dict, zone, holidays, capacities, session=None):
    """The person kinds of each of `windows` {user id: [lo, hi]}: answer (the stored rows
    they replace, the rows as they should be, the items whose risk may have changed)."""
    padded = {user_id: _padded(*window) for user_id, window in windows.items()}
    first = bookings_for(session, connection, padded, zone, holidays)
    plans: dict[int, _Plan] = {}
    wider = {}
    for user_id, (lo, hi) in windows.items():
        inside = [b for b in first[user_id] if b.first <= hi and b.last >= lo]
        span_lo = min([lo, *(b.first for b in inside)])
        span_hi = max([hi, *(b.last for b in inside)])
        mine = changed.get(user_id, set())
        plan = _Plan(lo, hi, mine, {b.key for b in inside} | set(mine), span_lo, span_hi, None)
        pad_lo, pad_hi = padded[user_id]
        if span_lo >= pad_lo and span_hi <= pad_hi:
            plan.bookings = [b for b in first[user_id] if b.first <= span_hi and b.last >= span_lo]
        else:
            wider[user_id] = (span_lo, span_hi)
        plans[user_id] = plan
    if wider:
        for user_id, bookings in bookings_for(session, connection, wider, zone, holidays).items():
            plans[user_id].bookings = bookings
    rows: list[dict] = []
    for user_id, plan in plans.items():
        rows += _person_rows(user_id, plan.bookings, plan.touched, zone, capacities.get(user_id, DEFAULT_CAPACITY))
    # The stored rows this recomputation replaces: a touched item's rows, and the other
    # side's rows of its double bookings, on the days recomputed — a row's day lies within
    # its item's days when it was made, and a touched item's days then (its old place, if
    # it moved) and now are within span_lo..span_hi (ix_schedule_conflicts_user_day) — and
    # every row of a changed item or naming one, whatever its day. A series' rows on its
    # other occurrences' days stay as they are. Read for everyone at once over the widest
    # days, then kept per person. By position (_READ): item_kind 1, item_id 2, kind 3,
    # other_kind 4, other_id 5, user_id 6, day 7.
    changed_ids = {user_id: {key[1] for key in plan.changed} for user_id, plan in plans.items()}
    every_changed = sorted(set().union(*changed_ids.values())) or [0]
    old = []
    for row in connection.execute(
        _old_rows_statement(connection.dialect.name),
        {
            "users": sorted(plans),
            "first_day": min(plan.span_lo for plan in plans.values()),
            "last_day": max(plan.span_hi for plan in plans.values()),
            "items": every_changed,
            "others": every_changed,
        },
    ):
        plan, ids = plans[row[6]], changed_ids[row[6]]
        if not ((row[7] is not None and plan.span_lo <= row[7] <= plan.span_hi) or row[2] in ids or row[5] in ids):
            continue
        if (row[1], row[2]) in plan.touched or (row[3] == "double_booking" and (row[4], row[5]) in plan.touched):
            old.append(row)
    affected = set().union(*(plan.touched for plan in plans.values()))
    affected |= {(row[1], row[2]) for row in old} | {(row["item_kind"], row["item_id"]) for row in rows}
    return old, rows, affected


def _person_rows(user_id, bookings, touched, zone, capacity) -> list[dict]:
    """A person's double bookings and over-capacity days among `bookings`, for the items
    of `touched` (and the other side of their overlaps)."""
    rows: list[dict] = []
    # double bookings: a sweep over the bookings in start order
    bookings.sort(key=lambda b: (b.start, b.key))
    pairs: dict[tuple[Key, Key], tuple] = {}
    for i, one in enumerate(bookings):
        for two in bookings[i + 1 :]:
            if two.start >= one.end:
                break
            if one.key == two.key or (one.key not in touched and two.key not in touched):
                continue
            day = max(one.start, two.start).astimezone(zone).date()
            for a, b in ((one, two), (two, one)):
                found = pairs.get((a.key, b.key))
                if found is None or day < found[0]:
                    pairs[(a.key, b.key)] = (day, a.project_id)
    for (a, b), (day, project_id) in pairs.items():
        rows.append(_row(a, "double_booking", project_id, day, other=b, user_id=user_id))
    # over capacity: each touched item on a day whose load is above the person's hours
    load: dict[date, float] = defaultdict(float)
    for booking in bookings:
        for day, hours in booking.hours.items():
            load[day] += hours
    over = {day for day, hours in load.items() if hours > capacity + 1e-9}
    if over:
        first_over: dict[Key, tuple] = {}
        for booking in bookings:
            if booking.key not in touched:
                continue
            days = [d for d, h in booking.hours.items() if h > 0 and d in over]
            if days:
                day = min(days)
                found = first_over.get(booking.key)
                if found is None or day < found[0]:
                    first_over[booking.key] = (day, booking.project_id)
        for key, (day, project_id) in first_over.items():
            detail = f"{_num(load[day])}/{_num(capacity)}"
            rows.append(_row(key, "over_capacity", project_id, day, user_id=user_id, detail=detail))
    return rows


@lru_cache(maxsize=4)
def _old_rows_statement(dialect: str):
    from app.core.statements import one_of

    return select(*_READ).where(
        one_of(ScheduleConflict.user_id, "users", dialect),
        ScheduleConflict.kind.in_(PERSON_KINDS),
        or_(
            and_(ScheduleConflict.day >= bindparam("first_day"), ScheduleConflict.day <= bindparam("last_day")),
            # item_id / other_id, through the foreign keys' indexes (either kind: the
            # caller keeps the rows of its changed items)
            one_of(ScheduleConflict.task_id, "items", dialect),
            one_of(ScheduleConflict.event_id, "items", dialect),
            one_of(ScheduleConflict.other_task_id, "others", dialect),
            one_of(ScheduleConflict.other_event_id, "others", dialect),
        ),
    )


def _num(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _tell_key(row: dict) -> tuple:
    other = (row["other_kind"], row["other_id"]) if row["other_kind"] else None
    return ((row["item_kind"], row["item_id"]), row["kind"], other, row["day"])


def _refresh_items(connection, task_ids, event_ids, zone, holidays):
    """The item kinds (dependency, dates, holiday) of these tasks and events: answer (the
    items, their stored rows of these kinds, the rows as they should be)."""
    rows: list[dict] = []
    keys: set[Key] = set()
    task_ids, event_ids = sorted(task_ids), sorted(event_ids)
    if task_ids:
        keys |= {("task", t) for t in task_ids}
        tasks = connection.execute(
            select(
                Task.id, Task.project_id, Task.status, Task.start_date, Task.due_date, Project.end_date, Project.status
            )
            .join(Project, Project.id == Task.project_id)
            .where(Task.id.in_(task_ids))
        ).all()
        needs = defaultdict(list)
        depends_on = Task.__table__.alias("depends_on")
        for task_id, dep_id, dep_status, dep_due in connection.execute(
            select(TaskDependency.task_id, depends_on.c.id, depends_on.c.status, depends_on.c.due_date)
            .join(depends_on, depends_on.c.id == TaskDependency.depends_on_id)
            .where(TaskDependency.task_id.in_(task_ids))
        ):
            needs[task_id].append((dep_id, dep_status, dep_due))
        for task_id, project_id, status, start, due, end_date, project_status in tasks:
            if status not in OPEN_STATUSES:
                continue
            key = ("task", task_id)
            for dep_id, dep_status, dep_due in needs.get(task_id, ()):
                if dep_status in (COMPLETED, "cancelled"):
                    continue
                if start is not None and dep_due is not None and start <= dep_due:
                    rows.append(
                        _row(key, "dependency", project_id, start, other=("task", dep_id), detail=dep_due.isoformat())
                    )
                elif status == IN_PROGRESS:
                    rows.append(
                        _row(key, "dependency", project_id, start or due, other=("task", dep_id), detail="started")
                    )
            detail, day = _dates_problem(start or due, due or start, end_date, project_status)
            if detail:
                rows.append(_row(key, "dates", project_id, day, detail=detail))
    if event_ids:
        keys |= {("event", e) for e in event_ids}
        events = connection.execute(
            select(
                CalendarEvent.id,
                CalendarEvent.project_id,
                CalendarEvent.status,
                CalendarEvent.start_at,
                CalendarEvent.end_at,
                CalendarEvent.event_type,
                CalendarEvent.visibility,
                Project.end_date,
                Project.status,
            )
            .outerjoin(Project, Project.id == CalendarEvent.project_id)
            .where(CalendarEvent.id.in_(event_ids))
        ).all()
        for event_id, project_id, status, start, end, event_type, visibility, end_date, project_status in events:
            if status in EVENT_CLOSED:
                continue
            key = ("event", event_id)
            first, last = local_days(start, end, zone)
            if _aware(end) < _aware(start):
                last = first - timedelta(days=1)
            detail, day = _dates_problem(first, last, end_date, project_status)
            if detail:
                rows.append(_row(key, "dates", project_id, day, detail=detail))
            if visibility == CLIENT_VISIBLE and event_type in MILESTONE_TYPES:
                if first in holidays:
                    rows.append(_row(key, "holiday", project_id, first, detail=f"holiday:{holidays[first]}"[:200]))
                elif first.weekday() >= 5:
                    rows.append(_row(key, "holiday", project_id, first, detail="weekend"))
    old = []
    for kind, ids in (("task", task_ids), ("event", event_ids)):
        for chunk in _chunks(ids):
            old += connection.execute(
                select(*_READ).where(ScheduleConflict.of_items(kind, chunk), ScheduleConflict.kind.in_(ITEM_KINDS))
            ).all()
    return keys, old, rows


def _chunks(ids, size=5000):
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


def _dates_problem(first: date | None, last: date | None, end_date, project_status):
    """(detail, day) of an item's illogical dates, or ("", None)."""
    if project_status == PROJECT_CLOSED:
        return "closed", first
    if first is not None and last is not None and last < first:
        return "order", first
    if end_date is not None and last is not None and last > end_date:
        return f"after_end:{end_date.isoformat()}", max(first or last, end_date + timedelta(days=1))
    return "", None


def _recipients(connection, fresh) -> dict[int, set]:
    """Item kinds tell the item's assignees."""
    by_item = defaultdict(list)
    for row in fresh:
        by_item[row[0]].append(row)
    out: dict[int, set] = defaultdict(set)
    task_ids = [k[1] for k in by_item if k[0] == "task"]
    event_ids = [k[1] for k in by_item if k[0] == "event"]
    if task_ids:
        for task_id, user_id in connection.execute(
            select(TaskAssignment.task_id, TaskAssignment.user_id).where(TaskAssignment.task_id.in_(task_ids))
        ):
            out[user_id].update(by_item[("task", task_id)])
    if event_ids:
        for event_id, user_id in connection.execute(
            select(EventAssignee.event_id, EventAssignee.user_id).where(EventAssignee.event_id.in_(event_ids))
        ):
            out[user_id].update(by_item[("event", event_id)])
    return out


def risk_of(severities) -> str:
    """The highest severity among `severities`, or "none"."""
    best = "none"
    for severity in severities:
        if SEVERITY_RANK[severity] > SEVERITY_RANK[best]:
            best = severity
    return best


@lru_cache(maxsize=2)
def _risk_statement(kind: str):
    """PostgreSQL: set the risk level of the items `ids` of `kind` to the highest severity
    among their stored rows, writing only those that differ; answers (id, new level)."""
    model, item = (Task, ScheduleConflict.task_id) if kind == "task" else (CalendarEvent, ScheduleConflict.event_id)
    ids = func.unnest(bindparam("ids", type_=ARRAY(Integer()))).table_valued("id").render_derived(name="item")
    worst = (
        select(ScheduleConflict.severity)
        .where(item == ids.c.id)
        .order_by(ScheduleConflict.severity_rank.desc())
        .limit(1)
        .scalar_subquery()
    )
    wanted = select(ids.c.id, func.coalesce(worst, "none").label("level")).subquery("wanted")
    return (
        update(model)
        .where(model.id == wanted.c.id, model.risk_level.is_distinct_from(wanted.c.level))
        .values(risk_level=wanted.c.level)
        .returning(model.id, model.risk_level)
    )


def _update_risk(connection, keys: set[Key], session=None) -> None:
    """Set the risk level of each of `keys` from its stored rows (and on the loaded
    objects of `session`)."""
    for kind, model in (("task", Task), ("event", CalendarEvent)):
        ids = sorted(k[1] for k in keys if k[0] == kind)
        if not ids:
            continue
        if connection.dialect.name == "postgresql":
            levels = dict(connection.execute(_risk_statement(kind), {"ids": ids}).all())
        else:
            levels = _risk_by_reading(connection, kind, model, ids)
        if session is None or not levels:
            continue
        mapper = inspect(model)
        for item_id, level in levels.items():  # loaded objects read the new level without a refresh
            obj = session.identity_map.get(mapper.identity_key_from_primary_key((item_id,)))
            if obj is not None and "risk_level" not in inspect(obj).unloaded:
                set_committed_value(obj, "risk_level", level)


def _risk_by_reading(connection, kind, model, ids) -> dict[int, str]:
    """_risk_statement elsewhere (SQLite): read the severities and levels, write the
    changed ones; answers {id: new level} of those."""
    changed = {}
    for chunk in _chunks(ids):
        found = defaultdict(list)
        for item_id, severity in connection.execute(
            select(ScheduleConflict.item_id, ScheduleConflict.severity).where(ScheduleConflict.of_items(kind, chunk))
        ):
            found[item_id].append(severity)
        current = dict(connection.execute(select(model.id, model.risk_level).where(model.id.in_(chunk))).all())
        by_level = defaultdict(list)
        for item_id, level in current.items():
            wanted = risk_of(found.get(item_id, ()))
            if wanted != level:
                by_level[wanted].append(item_id)
                changed[item_id] = wanted
        for level, level_ids in by_level.items():
            connection.execute(update(model).where(model.id.in_(level_ids)).values(risk_level=level))
    return changed


# --- rebuilding -----------------------------------------------------------------------------


def rebuild(connection=None) -> int:
    """Every conflict from scratch (after a bulk insert that bypassed the ORM: the seed);
    how many rows it made. Nobody is notified."""
    from app.extensions import db

    connection = connection if connection is not None else db.session.connection()
    connection.execute(delete(ScheduleConflict))
    people = set(connection.execute(select(TaskAssignment.user_id).distinct()).scalars())
    people |= set(connection.execute(select(EventAssignee.user_id).distinct()).scalars())
    pending = Pending(
        {user_id: [FAR_PAST, FAR_FUTURE] for user_id in people},
        defaultdict(set),
        set(connection.execute(select(Task.id)).scalars()),
        set(connection.execute(select(CalendarEvent.id)).scalars()),
        {},
        {},
        set(),
        set(),
        set(),
        {},
    )
    forget_reads(db.session())  # from scratch: nothing read before counts
    apply(connection, pending, db.session(), tell_people=False)
    return connection.execute(select(func.count()).select_from(ScheduleConflict)).scalar_one()


# --- telling people -----------------------------------------------------------------------


@event.listens_for(Session, "before_commit")
def _send_pending(session) -> None:
    """One notification per person per transaction for the conflicts it created for
    them (queued by the flushes; sent here, where the session may flush again)."""
    queue = session.info.pop(_NOTIFY, None)
    if not queue:
        return
    by_person: dict[int, set] = defaultdict(set)
    for _savepoint, user_id, rows in queue:
        by_person[user_id] |= rows
    from app.core.jobs import enqueue
    from app.schedule.notify import _actor
    from workers.notifications import schedule_conflicts

    actor = _actor()
    # worded and sent by a job once the change is committed (a dropped transaction tells
    # nobody): the move's request does not wait for it (~10 ms a person)
    enqueue(
        schedule_conflicts,
        {user_id: sorted(rows, key=repr) for user_id, rows in by_person.items()},
        actor.id if actor is not None else None,
        queue="notifications",
    )


@event.listens_for(Session, "after_soft_rollback")
def _drop_pending(session, previous_transaction) -> None:
    forget_reads(session)  # a rolled back flush may have filled them
    queue = session.info.get(_NOTIFY)
    if not queue:
        return
    if previous_transaction.parent is None:
        session.info.pop(_NOTIFY, None)
    elif previous_transaction.nested:
        session.info[_NOTIFY] = [entry for entry in queue if entry[0] != id(previous_transaction)]
