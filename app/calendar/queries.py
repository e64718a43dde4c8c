"""The calendar's reads: what a viewer sees of a period (month, week, day, crew) — events
(series expanded, exceptions applied) and dated tasks, as plain CalendarItems.

Cost (a PM with 20,000 events and 50,000 tasks across 500 projects): one statement for
the events, one for the tasks, one for the people of the items drawn. A view that
shows a few items per day (the month grid) asks for `per_day`: on PostgreSQL the
statements rank each day's rows and return only the first few of each day plus the
count of the rest (window functions), so a busy month moves ~30 rows a day at most, not
thousands; SQLite (embedded mode) reads the rows and cuts them in Python.

Visibility is the one rule of app/calendar/visibility.py (events) and
tasks.services.visible_tasks (tasks); a client never gets assignees (nor notes, which
these items do not carry at all).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

from sqlalchemy import (
    Date,
    DateTime,
    Integer,
    String,
    and_,
    bindparam,
    case,
    cast,
    false,
    func,
    literal,
    or_,
    select,
    true,
    union_all,
)

from app.calendar.models import CANCELLED, EVENT_TYPES, STATUSES, CalendarEvent, EventAssignee
from app.calendar.visibility import visible_events
from app.core.errors import ValidationError
from app.core.permissions import NONE, Viewer, _unproxied, can_each, scope_of
from app.core.roles import ADMIN, CLIENT, PM_ROLES
from app.core.search import contains
from app.core.statements import inline, one_of
from app.core.timezones import company_zone
from app.projects.models import Project, ProjectMembership

TASK = "task"  # the `type` filter's value for tasks (events' types are EVENT_TYPES)


@dataclass(frozen=True)
class Filters:
    """The calendar's filters (query string `project`, `pm`, `employee`, `status`,
    `type`, `q`). Ids are ints or None; `status` and `type` are validated codes or ""."""

    project_id: int | None = None
    pm: int | None = None  # a PM's user id: the projects they manage
    employee: int | None = None  # an assignee's user id
    status: str = ""
    type: str = ""  # an event type, "task", or "" (all)
    q: str = ""
    people: tuple[int, ...] = ()  # internal (the crew view): items of these people only

    @property
    def active(self) -> bool:
        return any((self.project_id, self.pm, self.employee, self.status, self.type, self.q))


@dataclass
class CalendarItem:
    kind: str  # "event" | "task"
    id: int
    title: str
    start: datetime | date  # events: aware UTC datetimes; tasks: dates
    end: datetime | date  # events: exclusive end; tasks: the due date (inclusive)
    all_day: bool
    project_id: int | None
    project_name: str
    status: str
    event_type: str | None  # None for tasks
    risk_level: str
    version: int
    assignee_ids: tuple[int, ...] = ()
    occurrence_start: datetime | None = None  # a series' occurrence: its original start
    movable: bool = False
    series_id: int | None = None  # the series of an occurrence or of an exception row
    assignee_names: tuple[str, ...] = ()
    visibility: str = ""

    @property
    def key(self) -> tuple[str, int]:
        return (self.kind, self.id)

    @property
    def is_series(self) -> bool:
        return self.series_id is not None

    def days(self, zone=None) -> tuple[date, date]:
        """The company-local days the item covers (first, last), inclusive."""
        if self.kind == TASK:
            return self.start, self.end
        zone = zone or company_zone()  # events always have both
        first = _aware(self.start).astimezone(zone)
        last = _aware(self.end).astimezone(zone)
        last_day = last.date()
        if last > first and last.time() == time(0):
            last_day -= timedelta(days=1)  # an exclusive midnight end is the day before
        return first.date(), max(first.date(), last_day)

    def local_start(self, zone=None) -> datetime | None:
        return None if self.kind == TASK else _aware(self.start).astimezone(zone or company_zone())

    def local_end(self, zone=None) -> datetime | None:
        return None if self.kind == TASK else _aware(self.end).astimezone(zone or company_zone())

    def sort_key(self):
        first = self.start if self.kind == TASK else _aware(self.start)
        stamp = datetime.combine(first, time(0), UTC) if self.kind == TASK else first
        return (not self.all_day, stamp, self.kind, self.id)


class Period(list):
    """period()'s answer: a list of CalendarItems, and `hidden` — per company-local day,
    how many more items start that day than were read (`per_day`)."""

    hidden: dict

    def __init__(self, items=(), hidden=None):
        super().__init__(items)
        self.hidden = hidden or {}


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)  # SQLite: naive UTC


def day_bounds(start: date, end: date, zone=None) -> tuple[datetime, datetime]:
    """[start's local midnight, the local midnight after `end`) in UTC."""
    zone = zone or company_zone()
    lo = datetime.combine(start, time(0), zone).astimezone(UTC)
    hi = datetime.combine(end + timedelta(days=1), time(0), zone).astimezone(UTC)
    return lo, hi


def _dialect() -> str:
    from app.extensions import db

    return db.engine.dialect.name


def _managed_projects(pm_id: int):
    members = select(ProjectMembership.project_id).where(ProjectMembership.user_id == pm_id)
    from app.auth.models import User

    is_pm = select(User.id).where(User.id == pm_id, User.role.in_(inline(PM_ROLES))).exists()
    return and_(Project.id.in_(members), is_pm)


def _event_match(filters: Filters):
    """The filters as one condition on calendar_events (true() when none applies)."""
    conditions = []
    if filters.project_id is not None:
        conditions.append(CalendarEvent.project_id == filters.project_id)
    if filters.pm is not None:
        conditions.append(CalendarEvent.project_id.in_(select(Project.id).where(_managed_projects(filters.pm))))
    if filters.employee is not None:
        conditions.append(CalendarEvent.owned_by(filters.employee))
    if filters.people:
        conditions.append(
            select(EventAssignee.id)
            .where(EventAssignee.event_id == CalendarEvent.id, EventAssignee.user_id.in_(inline(filters.people)))
            .exists()
        )
    if filters.status:
        conditions.append(CalendarEvent.status == filters.status if filters.status in STATUSES else false())
    if filters.type:
        conditions.append(CalendarEvent.event_type == filters.type if filters.type in EVENT_TYPES else false())
    if filters.q:
        conditions.append(contains((CalendarEvent.title, CalendarEvent.description), filters.q))
    return and_(*conditions) if conditions else true()


def _task_match(filters: Filters):
    from app.tasks.models import STATUSES as TASK_STATUSES
    from app.tasks.models import Task, TaskAssignment

    conditions = []
    if filters.type and filters.type != TASK:
        return false()
    if filters.project_id is not None:
        conditions.append(Task.project_id == filters.project_id)
    if filters.pm is not None:
        conditions.append(Task.project_id.in_(select(Project.id).where(_managed_projects(filters.pm))))
    for person_ids in ((filters.employee,) if filters.employee is not None else (), filters.people):
        if person_ids:
            conditions.append(
                select(TaskAssignment.id)
                .where(TaskAssignment.task_id == Task.id, TaskAssignment.user_id.in_(inline(person_ids)))
                .exists()
            )
    if filters.status:
        conditions.append(Task.status == filters.status if filters.status in TASK_STATUSES else false())
    if filters.q:
        conditions.append(contains((Task.title, Task.description), filters.q))
    return and_(*conditions) if conditions else true()


def _local_day(column, zone):
    """PostgreSQL: the company-local day of a timestamptz (`zone`: a zone name's parameter)."""
    return cast(func.timezone(zone, column), Date)


# The period's bounds are parameters of statements built once per viewer, filters and
# shape and then remembered (as projects.queries.project_list does): building the
# events' select with its window functions cost ~4 ms a view, more than running it.
_LO = bindparam("lo", type_=DateTime(timezone=True))
_HI = bindparam("hi", type_=DateTime(timezone=True))
_LO_DAY_BEFORE = bindparam("lo_day_before", type_=DateTime(timezone=True))
_ZONE = bindparam("zone", type_=String())
_PER_DAY = bindparam("per_day", type_=Integer())
_FIRST_DAY = bindparam("first_day", type_=Date())
_LAST_DAY = bindparam("last_day", type_=Date())


def _span_meets():
    """PostgreSQL: `[start_at, end_at] && [lo, hi)` — start_at < hi and end_at >= lo,
    written as the GiST index ix_calendar_events_span is (plain events: no rrule, no
    series)."""
    from sqlalchemy import literal_column

    span = literal_column("tstzrange(calendar_events.start_at, calendar_events.end_at, '[]')")
    return span.op("&&")(func.tstzrange(_LO, _HI, literal("[)")))


@lru_cache(maxsize=256)
def _event_statements(viewer: Viewer, filters: Filters, capped: bool, dialect: str) -> tuple:
    """The events' statements of a period (parameters: lo, hi, lo_day_before, and with
    `capped` zone and per_day): uncapped, one statement of every row; capped (PostgreSQL
    only), the plain events ranked per local start day and kept up to per_day, then the
    series and exception rows (few) whole."""
    # type "task" is the tasks, and the events whose type is "task" (_event_match)
    if dialect == "postgresql":  # the same condition, as ix_calendar_events_span can serve it
        plain = and_(CalendarEvent.rrule.is_(None), _span_meets())
    else:
        plain = and_(CalendarEvent.rrule.is_(None), CalendarEvent.start_at < _HI, CalendarEvent.end_at >= _LO)
    series = and_(CalendarEvent.rrule.is_not(None), CalendarEvent.start_at < _HI)
    exception_of_window = and_(
        CalendarEvent.series_id.is_not(None),
        CalendarEvent.recurrence_start >= _LO_DAY_BEFORE,
        CalendarEvent.recurrence_start < _HI,
    )
    match = _event_match(filters)
    columns = (
        CalendarEvent.id,
        CalendarEvent.title,
        CalendarEvent.start_at,
        CalendarEvent.end_at,
        CalendarEvent.all_day,
        CalendarEvent.project_id,
        Project.name.label("project_name"),
        CalendarEvent.status,
        CalendarEvent.event_type,
        CalendarEvent.risk_level,
        CalendarEvent.version,
        CalendarEvent.rrule,
        CalendarEvent.series_id,
        CalendarEvent.recurrence_start,
        CalendarEvent.visibility,
    )
    stmt = select(*columns).select_from(CalendarEvent).outerjoin(Project, Project.id == CalendarEvent.project_id)
    stmt = visible_events(viewer, stmt=stmt)
    if not capped:
        stmt = stmt.add_columns(case((match, True), else_=False).label("matches"))
        return (stmt.where(or_(and_(plain, match), and_(series, match), exception_of_window)),)
    day = _local_day(func.greatest(CalendarEvent.start_at, _LO), _ZONE)
    ranked = (
        stmt.add_columns(
            literal(True).label("matches"),
            func.row_number()
            .over(partition_by=day, order_by=(CalendarEvent.all_day.desc(), CalendarEvent.start_at, CalendarEvent.id))
            .label("rank"),
            func.count().over(partition_by=day).label("of_day"),
            day.label("day"),
        )
        .where(CalendarEvent.series_id.is_(None), plain, match)
        .subquery()
    )
    capped_rows = select(ranked).where(ranked.c.rank <= _PER_DAY)
    rest = stmt.add_columns(case((match, True), else_=False).label("matches")).where(
        or_(and_(series, match), exception_of_window, and_(CalendarEvent.series_id.is_not(None), plain, match))
    )
    return capped_rows, rest


def _events(user, lo: datetime, hi: datetime, filters: Filters, per_day: int | None, zone_name: str):
    """Rows of the events of [lo, hi): plain events (capped per start day), the series
    that may have occurrences in it, the exception rows of its occurrences."""
    from app.core.transaction import read_connection
    from app.extensions import db

    connection = read_connection(db.session)
    dialect = connection.dialect.name
    capped = per_day is not None and dialect == "postgresql"
    statements = _event_statements(Viewer.of(user), filters, capped, dialect)
    params = {"lo": lo, "hi": hi, "lo_day_before": lo - timedelta(days=1)}
    if not capped:
        return list(connection.execute(statements[0], params)), {}
    rows = list(connection.execute(statements[0], {**params, "zone": zone_name, "per_day": per_day}))
    hidden: dict[date, int] = {}
    for row in rows:  # columns 17 and 18: of_day, day (by position: see _expand)
        if row[17] > per_day:
            hidden[row[18]] = row[17] - per_day
    rows.extend(connection.execute(statements[1], params))
    return rows, hidden


@lru_cache(maxsize=256)
def _task_statement(viewer: Viewer, filters: Filters, capped: bool, dialect: str):
    """The dated tasks of a period (parameters: first_day, last_day; with `capped`,
    PostgreSQL only, per_day: each start day's first per_day rows, with its count).
    `dialect`: part of the key — the scope and the search are written per dialect."""
    from app.tasks.models import Task
    from app.tasks.services import visible_tasks

    first = func.coalesce(Task.start_date, Task.due_date)
    last = func.coalesce(Task.due_date, Task.start_date)  # ix_tasks_project_last
    columns = [
        Task.id,
        Task.title,
        Task.start_date,
        Task.due_date,
        Task.project_id,
        Project.name.label("project_name"),
        Task.status,
        Task.version,
        Task.risk_level,
    ]
    stmt = select(*columns).select_from(Task).join(Project, Project.id == Task.project_id)
    stmt = visible_tasks(viewer, stmt=stmt).where(
        first.is_not(None), first <= _LAST_DAY, last >= _FIRST_DAY, _task_match(filters)
    )
    if not capped:
        return stmt.order_by(first, Task.id)
    day = func.greatest(first, _FIRST_DAY)
    ranked = stmt.add_columns(
        func.row_number().over(partition_by=day, order_by=(first, Task.id)).label("rank"),
        func.count().over(partition_by=day).label("of_day"),
        day.label("day"),
    ).subquery()
    return select(ranked).where(ranked.c.rank <= _PER_DAY)


def _tasks(user, start: date, end: date, filters: Filters, per_day: int | None):
    from app.core.transaction import read_connection
    from app.extensions import db

    if filters.type and filters.type != TASK:
        return [], {}
    if scope_of(user, "task.view") == NONE:
        return [], {}
    connection = read_connection(db.session)
    capped = per_day is not None and connection.dialect.name == "postgresql"
    stmt = _task_statement(Viewer.of(user), filters, capped, connection.dialect.name)
    params = {"first_day": start, "last_day": end}
    if not capped:
        return list(connection.execute(stmt, params)), {}
    rows = list(connection.execute(stmt, {**params, "per_day": per_day}))
    hidden: dict[date, int] = {}
    for row in rows:  # columns 10 and 11: of_day, day (by position: see _expand)
        if row[10] > per_day:
            hidden[row[11]] = row[10] - per_day
    return rows, hidden


def _exceptions_of(series_ids: list[int]) -> dict[int, set[datetime]]:
    """The occurrences of these series that have an exception row, whether or not the
    reader may see that row: an occurrence edited out of someone's sight (made internal,
    admins-only) must not be drawn again from its series."""
    from app.core.transaction import read_connection
    from app.extensions import db

    found: dict[int, set[datetime]] = defaultdict(set)
    if series_ids:
        rows = read_connection(db.session).execute(
            select(CalendarEvent.series_id, CalendarEvent.recurrence_start).where(
                CalendarEvent.series_id.in_(series_ids)
            )
        )
        for series_id, start in rows:
            found[series_id].add(_aware(start))
    return found


def _expand(rows, lo: datetime, hi: datetime, taken: dict | None = None) -> list[CalendarItem]:
    """Events as items: series expanded, exception rows replacing their occurrence (the
    ones in `rows` and those of `taken`), cancelled occurrences hidden."""
    from app.calendar.recurrence import occurrences

    replaced: dict[int, set[datetime]] = defaultdict(set, {k: set(v) for k, v in (taken or {}).items()})
    # rows unpacked by position (the first 16 columns of both of _event_statements'
    # shapes): a Row's attribute costs a lookup by name, ~2 ms over a month's rows
    lines = [row[:16] for row in rows]
    for line in lines:
        if line[12] is not None and line[13] is not None:
            replaced[line[12]].add(_aware(line[13]))
    items = []
    for row, line in zip(rows, lines, strict=True):
        (ident, title, start_at, end_at, all_day, project_id, project_name, status, event_type, risk_level,
         version, rrule, series_id, _recurrence_start, visibility, matches) = line  # fmt: skip
        if not matches:
            continue
        if rrule:
            common = {
                "kind": "event",
                "title": title,
                "all_day": all_day,
                "project_id": project_id,
                "project_name": project_name or "",
                "status": status,
                "event_type": event_type,
                "risk_level": risk_level or "none",
                "version": version,
                "visibility": visibility,
            }
            try:
                found = occurrences(row, lo, hi)
            except (ValueError, ValidationError):  # a rule stored before today's checks: its first occurrence
                found = [(_aware(start_at), _aware(end_at))]
            for start, end in found:
                if start in replaced.get(ident, ()):
                    continue
                items.append(
                    CalendarItem(id=ident, start=start, end=end, occurrence_start=start, series_id=ident, **common)
                )
            continue
        start, end = _aware(start_at), _aware(end_at)
        if not (start < hi and (end > lo or (end == start and start >= lo))):
            continue  # an exception row read for its occurrence only
        if series_id is not None and status == CANCELLED:
            continue  # a cancelled occurrence
        items.append(
            CalendarItem(
                "event",
                ident,
                title,
                start,
                end,
                all_day,
                project_id,
                project_name or "",
                status,
                event_type,
                risk_level or "none",
                version,
                series_id=series_id,
                visibility=visibility,
            )
        )
    return items


def _people_statement(dialect: str):
    from app.auth.models import User
    from app.tasks.models import TaskAssignment

    events = (
        select(literal("event").label("kind"), EventAssignee.event_id, User.id, User.full_name, User.username)
        .join(User, User.id == EventAssignee.user_id)
        .where(one_of(EventAssignee.event_id, "event_ids", dialect))
    )
    tasks = (
        select(literal("task").label("kind"), TaskAssignment.task_id, User.id, User.full_name, User.username)
        .join(User, User.id == TaskAssignment.user_id)
        .where(one_of(TaskAssignment.task_id, "task_ids", dialect))
    )
    return union_all(events, tasks)


_PEOPLE: dict = {}


def _attach_people(items: list[CalendarItem]) -> None:
    from app.core.transaction import read_connection
    from app.extensions import db

    event_ids = sorted({i.id for i in items if i.kind == "event"})
    task_ids = sorted({i.id for i in items if i.kind == TASK})
    if not event_ids and not task_ids:
        return
    connection = read_connection(db.session)
    dialect = connection.dialect.name
    if dialect not in _PEOPLE:
        _PEOPLE[dialect] = _people_statement(dialect)
    people: dict[tuple[str, int], list[tuple[int, str]]] = defaultdict(list)
    rows = connection.execute(_PEOPLE[dialect], {"event_ids": event_ids or [0], "task_ids": task_ids or [0]})
    for kind, item_id, user_id, full_name, username in rows:
        people[(kind, item_id)].append((user_id, full_name or username))
    for item in items:
        found = sorted(people.get(item.key, ()), key=lambda p: (p[1].lower(), p[0]))
        item.assignee_ids = tuple(p[0] for p in found)
        item.assignee_names = tuple(p[1] for p in found)


def period(
    user, start: date, end: date, filters: Filters | None = None, per_day: int | None = None, people: bool = True
) -> Period:
    """What `user` sees of the company-local days start..end (inclusive): events (series
    expanded, exception rows applied, cancelled occurrences hidden) and tasks with dates,
    as CalendarItems in drawing order. `per_day`: read at most that many items starting
    on each day (per kind) and count the rest in the answer's `hidden`. `people`: fill
    each item's assignees (the crew view's rows need them; the grids do not draw them —
    an opened block reads its own)."""
    from app.core.permissions import require

    require(user, "calendar.view")
    user = _unproxied(user)
    filters = filters or Filters()
    zone = company_zone()
    lo, hi = day_bounds(start, end, zone)
    event_rows, hidden_events = _events(user, lo, hi, filters, per_day, zone.key)
    items = _expand(event_rows, lo, hi, _exceptions_of([r[0] for r in event_rows if r[11]]))
    if per_day is not None and _dialect() != "postgresql":
        items, hidden_events = _cut(items, per_day, start, zone)
    task_rows, hidden_tasks = _tasks(user, start, end, filters, per_day)
    tasks = []
    for line in task_rows:  # by position (_task_statement's first 9 columns), as _expand
        ident, title, start_date, due_date, project_id, project_name, status, version, risk_level = line[:9]
        first = start_date or due_date
        last = due_date or start_date
        tasks.append(
            CalendarItem(
                TASK,
                ident,
                title,
                first,
                max(first, last),
                True,
                project_id,
                project_name,
                status,
                None,
                risk_level or "none",
                version,
            )
        )
    if per_day is not None and _dialect() != "postgresql":
        tasks, hidden_tasks = _cut(tasks, per_day, start, zone)
    items.extend(tasks)
    hidden = dict(hidden_events)
    for day, count in hidden_tasks.items():
        hidden[day] = hidden.get(day, 0) + count
    if people and user.role != CLIENT:
        _attach_people(items)
    if user.role == CLIENT:  # the level comes from the crew's bookings, which are not theirs to read
        for item in items:
            item.risk_level = "none"
    else:
        _own_levels(user, items)
    _mark_movable(user, items)
    items.sort(key=CalendarItem.sort_key)
    return Period(items, hidden)


def _own_levels(user, items: list[CalendarItem]) -> None:
    """An employee's badges: the levels of the conflicts they may read (their own and the
    items'), not a co-worker's on a shared item (schedule.conflicts.own_levels)."""
    risky = [i for i in items if i.risk_level not in ("none", "", None)]
    if not risky:
        return
    try:
        from app.schedule.conflicts import own_levels
    except ImportError:  # pragma: no cover - the schedule feature is not installed
        return
    levels = own_levels(user, [i.key for i in risky])
    if levels is None:
        return
    for item in risky:
        item.risk_level = levels.get(item.key, "none")


def _cut(items: list[CalendarItem], per_day: int, start: date, zone) -> tuple[list[CalendarItem], dict]:
    """The per-day cap done in Python (SQLite): the first `per_day` of each start day."""
    by_day: dict[date, list[CalendarItem]] = defaultdict(list)
    for item in sorted(items, key=CalendarItem.sort_key):
        by_day[max(item.days(zone)[0], start)].append(item)
    kept, hidden = [], {}
    for day, found in by_day.items():
        # series occurrences are few and always kept, as PostgreSQL's statement keeps them
        plain = [i for i in found if i.series_id is None]
        kept.extend(i for i in found if i.series_id is not None)
        kept.extend(plain[:per_day])
        if len(plain) > per_day:
            hidden[day] = len(plain) - per_day
    return kept, hidden


def _mark_movable(user, items: list[CalendarItem]) -> None:
    """Drag and drop: admin and the PMs of the item's project (calendar.move_event;
    app.calendar.services.may_move decides each move again on the server)."""
    if scope_of(user, "calendar.move_event") == NONE:
        return
    may = can_each(user, "calendar.move_event", CalendarEvent)
    role = user.role  # read once: through current_user's proxy each read costs two lookups
    moves_tasks, admin = role == ADMIN or role in PM_ROLES, role == ADMIN
    for item in items:
        if item.kind == TASK and not moves_tasks:
            continue
        if item.kind == "event" and item.project_id is None and not admin:
            continue
        item.movable = may(item)


# --- the filters' choices ------------------------------------------------------------


def project_choices(user) -> list[tuple[int, str]]:
    """The projects the filter offers: those the user may see (at most 500, by name),
    cached until a table the statement reads is written (core.cached_reads)."""
    from app.core.cached_reads import rows_of
    from app.extensions import db
    from app.projects.queries import visible_projects

    stmt = visible_projects(user, (Project.id, Project.name)).order_by(Project.name, Project.id).limit(500)
    return [(row[0], row[1]) for row in rows_of(stmt, db.session)]  # cached until projects are written


def crew_people(user, filters: Filters, limit: int = 60) -> list[tuple[int, str, str]]:
    """The crew view's rows: (id, name, role label) — an employee only themself; staff
    the people they may assign (tasks.queries), narrowed by the employee filter."""
    from app.auth.models import User
    from app.core.roles import EMPLOYEE, ROLE_LABELS
    from app.extensions import db
    from app.tasks.queries import _assignable

    if user.role == EMPLOYEE:
        return [(user.id, user.name, ROLE_LABELS[EMPLOYEE])]
    stmt = _assignable(user)
    if filters.employee is not None:
        stmt = stmt.where(User.id == filters.employee)
    if filters.project_id is not None:
        from app.core.permissions import scope_query

        seen = scope_query(select(Project.id).where(Project.id == filters.project_id), user, "project.view", Project)
        if db.session.scalar(seen) is None:
            return []  # a project they cannot see: no one (not its crew, not whether it exists)
        team = select(ProjectMembership.user_id).where(ProjectMembership.project_id == filters.project_id)
        from app.tasks.models import Task, TaskAssignment

        crew = (
            select(TaskAssignment.user_id)
            .join(Task, Task.id == TaskAssignment.task_id)
            .where(Task.project_id == filters.project_id)
        )
        on_events = (
            select(EventAssignee.user_id)
            .join(CalendarEvent, CalendarEvent.id == EventAssignee.event_id)
            .where(CalendarEvent.project_id == filters.project_id)
        )
        stmt = stmt.where(or_(User.id.in_(team), User.id.in_(crew), User.id.in_(on_events)))
    from app.core.cached_reads import rows_of

    # cached until users, memberships, tasks' or events' assignees are written
    rows = rows_of(stmt.limit(limit), db.session)
    return [(row[0], row[1] or row[2], ROLE_LABELS.get(row[3], "")) for row in rows]


def risk_reasons(user, items: list[CalendarItem]) -> dict:
    """The conflicts behind the risk badges, for the PMs and admins (the schedule's
    conflict service when it is there; {} otherwise)."""
    if user.role != ADMIN and user.role not in PM_ROLES:
        return {}
    keys = sorted({i.key for i in items if i.risk_level not in ("none", "", None)})
    if not keys:
        return {}
    try:
        from app.schedule.conflicts import for_items
    except ImportError:
        return {}
    try:
        return for_items(user, keys) or {}
    except Exception:  # pragma: no cover - a badge's reasons never break the calendar
        import logging

        logging.getLogger(__name__).exception("conflict reasons unavailable")
        return {}


def item_of(user, event: CalendarEvent, occurrence_start: datetime | None = None) -> CalendarItem:
    """The CalendarItem of one event already loaded (a block redrawn after its edit); an
    occurrence of a series when `occurrence_start` is given."""
    start, end = _aware(event.start_at), _aware(event.end_at)
    if occurrence_start is not None and event.rrule:
        occurrence_start = _aware(occurrence_start)
        start, end = occurrence_start, occurrence_start + (end - start)
    else:
        occurrence_start = None
    people = (
        []
        if user.role == CLIENT
        else sorted(((a.user_id, a.user.name) for a in event.assignments), key=lambda p: (p[1].lower(), p[0]))
    )
    item = CalendarItem(
        kind="event",
        id=event.id,
        title=event.title,
        start=start,
        end=end,
        all_day=event.all_day,
        project_id=event.project_id,
        project_name=event.project.name if event.project is not None else "",
        status=event.status,
        event_type=event.event_type,
        risk_level="none" if user.role == CLIENT else (event.risk_level or "none"),
        version=event.version,
        assignee_ids=tuple(p[0] for p in people),
        assignee_names=tuple(p[1] for p in people),
        occurrence_start=occurrence_start,
        series_id=event.id if event.rrule else event.series_id,
        visibility=event.visibility,
    )
    if user.role != CLIENT:
        _own_levels(user, [item])
    _mark_movable(user, [item])
    return item


def task_item(user, task) -> CalendarItem:
    """The CalendarItem of one task already loaded."""
    first = task.start_date or task.due_date
    last = task.due_date or task.start_date
    if first is None:  # a task without dates (reached by its id): shown on no day
        first = last = None
    item = CalendarItem(
        kind=TASK,
        id=task.id,
        title=task.title,
        start=first,
        end=max(first, last) if first is not None else None,
        all_day=True,
        project_id=task.project_id,
        project_name=task.project.name,
        status=task.status,
        event_type=None,
        risk_level=getattr(task, "risk_level", None) or "none",
        version=task.version,
        assignee_ids=() if user.role == CLIENT else tuple(a.user_id for a in task.assignments),
        assignee_names=() if user.role == CLIENT else tuple(a.user.name for a in task.assignments),
    )
    if user.role != CLIENT:
        _own_levels(user, [item])
    _mark_movable(user, [item])
    return item


def series_of(user, event: CalendarEvent) -> CalendarEvent | None:
    """The series an exception row belongs to, if the user may see it."""
    from app.calendar.visibility import can_see
    from app.extensions import db

    if event.series_id is None:
        return None
    series = db.session.get(CalendarEvent, event.series_id)
    return series if series is not None and can_see(user, series) else None


def event_project_choices(user) -> list[tuple[int, str]]:
    """The projects the user may create events in (not closed), by name."""
    from app.core.permissions import scope_query
    from app.extensions import db
    from app.projects.models import CLOSED

    stmt = scope_query(select(Project.id, Project.name), user, "calendar.create_event", Project)
    stmt = stmt.where(Project.status != CLOSED).order_by(Project.name, Project.id).limit(1000)
    return [(row.id, row.name) for row in db.session.execute(stmt)]
