"""Time clock rules (issue 9 "Time clock and timesheets"), the same for pages, the API
and the nightly job. Every write checks who may do it and what is valid; nothing is
half-written (a refusal raises before the first change).

- Who punches where: an admin on any project; PMs, trainees, designers and
  superintendents on projects they are members of; employees on projects where a task
  is assigned to them. A closed project refuses. One open punch per person.
- Times: the server's clock unless one is sent; a time more than 2 minutes ahead of the
  server (a phone's clock skew) is refused.
- Weeks run Monday to Sunday in the company's time zone; a punch belongs to the day and
  week of its clock-in.
- Superintendents and PMs of a project (and admins) approve a person's week on it, correct
  punches (with a reason, audited) and add missed ones; an approved week is locked until
  it is un-approved (with a reason). Nobody but an admin approves or corrects their own.
- Approved hours of punches with a task are added to the task's actual hours (and taken
  back when the approval is withdrawn), with the approval named in the task's audit.
"""

from __future__ import annotations

import datetime
import functools
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

from sqlalchemy import Date, String, and_, bindparam, cast, false, func, or_, select, true
from sqlalchemy.orm import defaultload, lazyload, selectinload

from app.auth.models import User
from app.core.audit import note_reason
from app.core.errors import ConflictError, ObjectNotFound, ValidationError
from app.core.events import entitled, publish
from app.core.models import utcnow
from app.core.permissions import (
    ALL,
    ASSIGNED,
    NONE,
    PermissionDenied,
    can,
    member_project_ids,
    require,
    scope_of,
)
from app.core.roles import ADMIN, CLIENT, EMPLOYEE, PM_ROLES, SUPERINTENDENT
from app.core.timezones import company_zone, to_company_time
from app.core.versioning import checks_version, expect_version
from app.extensions import db
from app.projects.models import CLOSED as PROJECT_CLOSED
from app.projects.models import Project, ProjectMembership
from app.tasks.models import Task, TaskAssignment, is_open
from app.timeclock.models import CENT, Punch, PunchBreak, TimesheetApproval
from app.timeclock.queries import day_bounds, local_day, today, week_bounds, week_start

AUTO_CLOSE_AFTER = datetime.timedelta(hours=14)
CLOCK_SKEW = datetime.timedelta(minutes=2)
REASON_MAX, NOTE_MAX = 500, 2000
LONGEST_PUNCH = datetime.timedelta(hours=24)  # a correction or a missed punch: at most a day
NOTIFY_KIND = "punch_auto_closed"

__all__ = ["today", "week_start", "local_day"]


# --- reading input ---------------------------------------------------------------------


def clock_time(value: datetime.datetime) -> str:
    """7:02 AM, company time."""
    local = to_company_time(value)
    return f"{local.hour % 12 or 12}:{local:%M} {local:%p}"


def _decimal(value, name: str, low: int, high: int, places: int, errors: dict, label: str) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, (bool, float)):
        value = repr(value) if isinstance(value, float) else None
    try:
        number = Decimal(str(value).strip()) if value is not None else None
    except (InvalidOperation, ValueError):
        number = None
    if number is None or not number.is_finite():
        errors[name] = f"Send the {label} as a number."
        return None
    if not low <= number <= high:
        errors[name] = f"The {label} must be between {low} and {high}."
        return None
    return number.quantize(Decimal(1).scaleb(-places))


def parse_location(latitude, longitude, accuracy, errors: dict):
    """(latitude, longitude, accuracy in metres) from a form or JSON; both coordinates or
    neither; a bad value is a field error."""
    lat = _decimal(latitude, "latitude", -90, 90, 6, errors, "latitude")
    lng = _decimal(longitude, "longitude", -180, 180, 6, errors, "longitude")
    acc = _decimal(accuracy, "accuracy", 0, 1_000_000, 0, errors, "accuracy")
    if (lat is None) != (lng is None) and "latitude" not in errors and "longitude" not in errors:
        errors["latitude" if lat is None else "longitude"] = "Send both latitude and longitude, or neither."
    if lat is None or lng is None:
        return None, None, None
    return lat, lng, int(acc) if acc is not None else None


def parse_time(value, name: str, errors: dict, now: datetime.datetime) -> datetime.datetime | None:
    """A time sent by a client: an aware datetime, ISO 8601 text with an offset, or a local
    "YYYY-MM-DDTHH:MM" (a datetime-local input, company time). Not in the future (beyond
    the clock-skew tolerance). None when empty."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime.datetime):
        parsed = value
    else:
        try:
            parsed = datetime.datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
        except ValueError:
            errors[name] = "Enter a date and time such as 2026-03-02T07:30."
            return None
    if parsed.tzinfo is None:
        from app.core.timezones import company_zone

        parsed = parsed.replace(tzinfo=company_zone())
    parsed = parsed.astimezone(datetime.UTC)
    if parsed.year < 2000:
        errors[name] = "Enter a time after the year 2000."
        return None
    if parsed > now + CLOCK_SKEW:
        errors[name] = f"{clock_time(parsed)} on {local_day(parsed).isoformat()} is in the future."
        return None
    return parsed


def _text(value, name: str, limit: int, errors: dict) -> str:
    text = " ".join(str(value or "").split()) if name != "note" else str(value or "").strip()
    if len(text) > limit:
        errors[name] = f"Keep it under {limit} characters."
    return text


def _reason(value, errors: dict) -> str:
    reason = _text(value, "reason", REASON_MAX, errors)
    if not reason and "reason" not in errors:
        errors["reason"] = "Say why (the audit log keeps it)."
    return reason


def _id(value) -> int | None:
    from app.core.numbers import to_int

    return to_int(value if not isinstance(value, str) else value.strip())


# --- who punches where -------------------------------------------------------------------


def _assigned_project_ids(user) -> set[int]:
    return set(
        db.session.scalars(
            select(Task.project_id)
            .join(TaskAssignment, TaskAssignment.task_id == Task.id)
            .where(TaskAssignment.user_id == user.id)
            .distinct()
        )
    )


def may_punch_on(user, project: Project) -> bool:
    """May `user` clock in on `project` (ignoring whether it is closed)?"""
    if not can(user, "timeclock.punch") or user.role == CLIENT:
        return False
    if user.role == ADMIN:
        return True
    if user.role == EMPLOYEE:
        return project.id in _assigned_project_ids(user)
    return project.id in member_project_ids(user)


def punchable_projects(user) -> list[Project]:
    """The open projects `user` may clock in on, by name."""
    if not can(user, "timeclock.punch"):
        return []
    stmt = select(Project).where(Project.status != PROJECT_CLOSED).order_by(Project.name, Project.id)
    if user.role == EMPLOYEE:
        stmt = stmt.where(Project.id.in_(_assigned_project_ids(user) or {0}))
    elif user.role != ADMIN:
        stmt = stmt.where(Project.id.in_(member_project_ids(user) or {0}))
    return list(db.session.scalars(stmt))


def tasks_for(user, project: Project | None) -> list[Task]:
    """The tasks `user` may clock in on within `project`: an employee's own tasks there,
    everyone else the project's open tasks."""
    if project is None or not may_punch_on(user, project):
        return []
    stmt = select(Task).where(Task.project_id == project.id).order_by(Task.title, Task.id)
    # an employee's own tasks; everyone else the open ones
    stmt = stmt.where(Task.owned_by(user.id)) if user.role == EMPLOYEE else stmt.where(is_open())
    return list(db.session.scalars(stmt))


def _project_and_task(user, project_id, task_id, errors: dict, *, person=None) -> tuple[Project | None, Task | None]:
    """The project (one `person` may punch on, open) and the optional task (of that
    project; an employee's own), or field errors. Closed: a ConflictError."""
    person = person or user
    pid = _id(project_id)
    project = db.session.get(Project, pid) if pid is not None else None
    if project_id in (None, ""):
        errors["project_id"] = "Choose a project."
        return None, None
    if project is None or not (can(user, "project.view", project) or may_punch_on(person, project)):
        errors["project_id"] = "That project does not exist or you cannot see it."
        return None, None
    if not may_punch_on(person, project):
        who = "You are" if person.id == user.id else f"{person.name} is"
        errors["project_id"] = f"{who} not on the team of {project.name}, so no time can be recorded there."
        return project, None
    task = None
    if task_id not in (None, ""):
        tid = _id(task_id)
        task = db.session.get(Task, tid) if tid is not None else None
        if task is None or task.project_id != project.id:
            errors["task_id"] = f"Choose a task of {project.name}."
            task = None
        elif person.role == EMPLOYEE and person.id not in task.assignee_ids:
            errors["task_id"] = (
                f"Choose one of {'your' if person.id == user.id else person.name + chr(39) + 's'} tasks."
            )
            task = None
    return project, task


def _refuse_closed(project: Project) -> None:
    if project.status == PROJECT_CLOSED:
        raise ConflictError(f"{project.name} is closed.")


# --- punching ----------------------------------------------------------------------------


def open_punch(user) -> Punch | None:
    return db.session.scalar(select(Punch).where(Punch.user_id == user.id, Punch.clock_out.is_(None)))


def _settle(punch: Punch) -> None:
    punch.hours = punch.worked_hours() if punch.clock_out is not None else None


def clock_in(
    actor, project_id, task_id=None, *, latitude=None, longitude=None, accuracy=None, at=None, note=""
) -> Punch:
    require(actor, "timeclock.punch")
    now = utcnow()
    errors: dict = {}
    project, task = _project_and_task(actor, project_id, task_id, errors)
    lat, lng, acc = parse_location(latitude, longitude, accuracy, errors)
    when = parse_time(at, "clock_in", errors, now) or now
    note = _text(note, "note", NOTE_MAX, errors)
    if errors:
        raise ValidationError(errors)
    _refuse_closed(project)
    current = open_punch(actor)
    if current is not None:
        raise ConflictError(
            f"You are already clocked in on {current.project.name} since {clock_time(current.clock_in)}. "
            "Clock out first."
        )
    last_out = db.session.scalar(select(func.max(Punch.clock_out)).where(Punch.user_id == actor.id))
    if last_out is not None and when < last_out:
        raise ValidationError({"clock_in": f"You were clocked in until {clock_time(last_out)}; start after that."})
    punch = Punch(
        user_id=actor.id,
        project_id=project.id,
        task_id=task.id if task else None,
        clock_in=when.replace(microsecond=0),
        latitude=lat,
        longitude=lng,
        accuracy_m=acc,
        note=note,
    )
    db.session.add(punch)
    db.session.flush()
    _publish(punch)
    return punch


def _mine_open(actor) -> Punch:
    require(actor, "timeclock.punch")
    punch = open_punch(actor)
    if punch is None:
        raise ConflictError("You are not clocked in.")
    return punch


def clock_out(actor, *, at=None, note=None) -> Punch:
    punch = _mine_open(actor)
    now = utcnow()
    errors: dict = {}
    when = parse_time(at, "clock_out", errors, now) or now
    when = when.replace(microsecond=0)
    extra = _text(note, "note", NOTE_MAX, errors) if note else ""
    if not errors and when < punch.clock_in:
        errors["clock_out"] = f"You clocked in at {clock_time(punch.clock_in)}; clock out after that."
    if errors:
        raise ValidationError(errors)
    running = punch.open_break
    if running is not None:
        running.end = max(when, running.start)
    punch.clock_out = when
    if extra:
        punch.note = (punch.note + "\n" + extra).strip()
    _settle(punch)
    db.session.flush()
    _publish(punch)
    return punch


def start_break(actor) -> Punch:
    punch = _mine_open(actor)
    if punch.open_break is not None:
        raise ConflictError(f"Your break is already running since {clock_time(punch.open_break.start)}.")
    now = max(utcnow().replace(microsecond=0), punch.clock_in)
    punch.breaks.append(PunchBreak(start=now))
    db.session.flush()
    _publish(punch)
    return punch


def end_break(actor) -> Punch:
    punch = _mine_open(actor)
    running = punch.open_break
    if running is None:
        raise ConflictError("You are not on a break.")
    running.end = max(utcnow().replace(microsecond=0), running.start)
    db.session.flush()
    _publish(punch)
    return punch


# --- live events -------------------------------------------------------------------------


def audience(punch: Punch) -> list[int]:
    """Who hears of a punch: its person, and the project's team members who may see its
    timesheets (superintendents, PMs, trainees — never another employee); admins by role."""
    team = db.session.scalars(
        select(ProjectMembership.user_id).where(ProjectMembership.project_id == punch.project_id)
    ).all()
    return sorted({punch.user_id, *entitled(team, lambda user: can(user, "timesheet.view", punch))})


def _publish(punch: Punch, extra_projects=()) -> None:
    people = set(audience(punch))
    for project_id in extra_projects:  # a correction that moved the punch: the old team too
        if project_id != punch.project_id:
            team = db.session.scalars(
                select(ProjectMembership.user_id).where(ProjectMembership.project_id == project_id)
            ).all()
            people |= set(entitled(team, lambda user, pid=project_id: _sees_project(user, pid)))
    publish(
        "punch-changed",
        {"id": punch.id, "project_id": punch.project_id, "user_id": punch.user_id},
        users=sorted(people),
        roles=[ADMIN],
    )


def _sees_project(user, project_id: int) -> bool:
    scope = scope_of(user, "timesheet.view")
    return scope == ALL or (scope == ASSIGNED and project_id in member_project_ids(user))


# --- reading punches ---------------------------------------------------------------------


def visible(actor):
    """SQL: the punches `actor` may see — all (admin), their projects' and their own
    (superintendents, PMs, trainees), their own (employees, designers), none (clients)."""
    scope = scope_of(actor, "timesheet.view")
    if actor.role == CLIENT or (scope == NONE and not can(actor, "timeclock.punch")):
        return false()
    if scope == ALL:
        return true()
    if scope == ASSIGNED:
        return or_(Punch.project_id.in_(member_project_ids(actor) or {0}), Punch.user_id == actor.id)
    return Punch.user_id == actor.id


def get_punch(actor, punch_id) -> Punch:
    pid = _id(punch_id)
    punch = db.session.scalar(select(Punch).where(Punch.id == pid, visible(actor))) if pid else None
    if punch is None:
        raise ObjectNotFound("That punch does not exist or you cannot see it.")
    return punch


@dataclass
class PunchFilters:
    user_id: int | None = None
    project_id: int | None = None
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None


def _clamp(day: datetime.date) -> datetime.date:
    """A filter's day within what time zone arithmetic can handle (year 1 or 9999)."""
    return min(max(day, datetime.date(1900, 1, 1)), datetime.date(9000, 1, 1))


def punch_list(actor, filters: PunchFilters):
    """A select of the punches `actor` may see, newest first."""
    if not can(actor, "timeclock.punch") and not can(actor, "timesheet.view"):
        raise PermissionDenied()
    stmt = select(Punch).where(visible(actor))
    if filters.user_id is not None:
        stmt = stmt.where(Punch.user_id == filters.user_id)
    if filters.project_id is not None:
        stmt = stmt.where(Punch.project_id == filters.project_id)
    if filters.date_from is not None:
        stmt = stmt.where(Punch.clock_in >= day_bounds(_clamp(filters.date_from))[0])
    if filters.date_to is not None:
        stmt = stmt.where(Punch.clock_in < day_bounds(_clamp(filters.date_to))[1])
    return stmt.order_by(Punch.clock_in.desc(), Punch.id.desc())


def my_punches(actor, monday: datetime.date) -> list[Punch]:
    start, end = week_bounds(monday)
    return list(
        db.session.scalars(
            select(Punch)
            .where(Punch.user_id == actor.id, Punch.clock_in >= start, Punch.clock_in < end)
            .order_by(Punch.clock_in)
        )
    )


# --- weeks -------------------------------------------------------------------------------


def parse_week(value) -> datetime.date:
    """?week=YYYY-MM-DD (any day of it) → its Monday; this week when missing or bad."""
    try:
        day = datetime.date.fromisoformat(str(value).strip()) if value else today()
    except ValueError:
        day = today()
    if not datetime.date(2000, 1, 3) <= day <= datetime.date(2100, 1, 1):
        day = today()
    return week_start(day)


class Named(NamedTuple):
    """A person or a project as the review shows it: its id and its name, read with the
    sums (no object loaded for a name)."""

    id: int
    name: str


@dataclass
class Row:
    """A person's week on one project: hours per day (Monday first), how many punches and
    what about them needs attention. `punches` is filled for one's own timesheet only; the
    review page sums in SQL and loads a row's punches when it is opened (`row_punches`)."""

    user: User | Named
    project: Project | Named
    days: list[Decimal] = field(default_factory=lambda: [Decimal("0.00")] * 7)
    punches: list[Punch] = field(default_factory=list)
    punch_count: int = 0
    needs_review: bool = False
    auto_closed: bool = False
    has_open: bool = False
    approval: TimesheetApproval | None = None
    may_approve: bool = False

    @property
    def total(self) -> Decimal:
        return sum(self.days, Decimal("0.00"))

    @property
    def key(self) -> str:
        return f"{self.user.id}-{self.project.id}"


@dataclass
class Week:
    monday: datetime.date
    rows: list[Row]

    @property
    def days(self) -> list[datetime.date]:
        return [self.monday + datetime.timedelta(days=i) for i in range(7)]

    @property
    def day_totals(self) -> list[Decimal]:
        return [sum((r.days[i] for r in self.rows), Decimal("0.00")) for i in range(7)]

    @property
    def total(self) -> Decimal:
        return sum((r.total for r in self.rows), Decimal("0.00"))

    @property
    def previous(self) -> datetime.date:
        return self.monday - datetime.timedelta(days=7)

    @property
    def next(self) -> datetime.date:
        return self.monday + datetime.timedelta(days=7)

    def people(self) -> list[tuple[User, list[Row]]]:
        grouped: dict[int, list[Row]] = defaultdict(list)
        for row in self.rows:
            grouped[row.user.id].append(row)
        return [(rows[0].user, rows) for rows in grouped.values()]


def _finish(monday: datetime.date, rows: dict[tuple[int, int], Row], approvals, may_approve) -> Week:
    for approval in approvals:
        row = rows.get((approval.user_id, approval.project_id))
        if row is not None:
            row.approval = approval
    ordered = sorted(rows.values(), key=lambda r: (r.user.name.casefold(), r.user.id, r.project.name, r.project.id))
    for row in ordered:
        row.may_approve = may_approve(row)
    return Week(monday, ordered)


def _grid(monday: datetime.date, punches, approvals, may_approve=lambda row: False) -> Week:
    """One's own week from its punches (a handful): every punch kept on its row."""
    now = utcnow()
    rows: dict[tuple[int, int], Row] = {}
    for punch in punches:
        row = rows.get((punch.user_id, punch.project_id))
        if row is None:
            row = rows[(punch.user_id, punch.project_id)] = Row(punch.user, punch.project)
        index = (local_day(punch.clock_in) - monday).days
        if 0 <= index < 7:
            hours = punch.hours if punch.hours is not None else punch.worked_hours(now)
            row.days[index] += hours
        row.punches.append(punch)
        row.punch_count += 1
        row.needs_review |= punch.needs_review
        row.auto_closed |= punch.auto_closed
        row.has_open |= punch.is_open
    return _finish(monday, rows, approvals, may_approve)


@functools.cache
def _sums_statement(every_project: bool):
    """Per person, project and company-time day of a week (the day's index from the
    clock-in in the company's zone; DST-safe): names, punch count, flags, hours. Built
    once, with bound parameters (tz, monday, start, end and, unless every project, the
    project ids). One group per day, not seven filtered sums per person: PostgreSQL
    sums 210 punches into 210 groups faster than into 30 rows of seven sums."""
    index = cast(func.timezone(bindparam("tz", type_=String), Punch.clock_in), Date) - bindparam("monday", type_=Date)
    statement = (
        select(
            Punch.user_id,
            Punch.project_id,
            index,
            func.min(func.coalesce(func.nullif(User.full_name, ""), User.username)),
            func.min(Project.name),
            func.count(),
            func.bool_or(Punch.needs_review),
            func.bool_or(Punch.auto_closed),
            func.bool_or(Punch.clock_out.is_(None)),
            func.sum(Punch.hours),
        )
        .join(User, User.id == Punch.user_id)
        .join(Project, Project.id == Punch.project_id)
        .where(Punch.clock_in >= bindparam("start"), Punch.clock_in < bindparam("end"))
        .group_by(Punch.user_id, Punch.project_id, index)
    )
    if not every_project:
        statement = statement.where(Punch.project_id.in_(bindparam("projects", expanding=True)))
    return statement


def _week_sums(monday: datetime.date, values: dict, every_project: bool):
    """The rows of _sums_statement. SQLite (the embedded `make run`) has no timezone():
    there each punch's row comes back and Python sums it by its company-time day."""
    if db.engine.dialect.name == "postgresql":
        return db.session.execute(_sums_statement(every_project), values).all()
    statement = (
        select(
            Punch.user_id,
            Punch.project_id,
            Punch.clock_in,
            func.coalesce(func.nullif(User.full_name, ""), User.username),
            Project.name,
            Punch.needs_review,
            Punch.auto_closed,
            Punch.clock_out.is_(None),
            Punch.hours,
        )
        .join(User, User.id == Punch.user_id)
        .join(Project, Project.id == Punch.project_id)
        .where(Punch.clock_in >= values["start"], Punch.clock_in < values["end"])
    )
    if not every_project:
        statement = statement.where(Punch.project_id.in_(values["projects"]))
    sums: dict[tuple, list] = {}
    for user_id, project_id, clock_in, person, project, review, auto, open_, hours in db.session.execute(statement):
        if clock_in.tzinfo is None:  # SQLite hands back naive UTC
            clock_in = clock_in.replace(tzinfo=datetime.UTC)
        key = (user_id, project_id, (local_day(clock_in) - monday).days)
        row = sums.setdefault(key, [person, project, 0, False, False, False, None])
        row[2] += 1
        row[3] |= bool(review)
        row[4] |= bool(auto)
        row[5] |= bool(open_)
        if hours is not None:
            row[6] = (row[6] or 0) + hours
    return [(*key, *row) for key, row in sums.items()]


def _summed_grid(monday: datetime.date, project_ids: set[int] | None, approvals, may_approve) -> Week:
    """Everyone's week on `project_ids` (None: every project), summed by PostgreSQL per
    person, project and day: a crew's 200 punches come as sums, and no punch object is
    made. An open punch has no hours yet: those few are loaded to count until now."""
    start, end = week_bounds(monday)
    values = {"tz": company_zone().key, "monday": monday, "start": start, "end": end}
    if project_ids is not None:
        values["projects"] = sorted(project_ids) or [0]
    rows: dict[tuple[int, int], Row] = {}
    for user_id, project_id, day, person, project, count, review, auto, open_, hours in _week_sums(
        monday, values, project_ids is None
    ):
        row = rows.get((user_id, project_id))
        if row is None:
            row = rows[(user_id, project_id)] = Row(Named(user_id, person), Named(project_id, project))
        if hours is not None:
            row.days[day] += hours
        row.punch_count += count
        row.needs_review |= review
        row.auto_closed |= auto
        row.has_open |= open_
    if any(row.has_open for row in rows.values()):
        now = utcnow()
        on = true() if project_ids is None else Punch.project_id.in_(project_ids or {0})
        for punch in db.session.scalars(
            select(Punch)
            .where(Punch.clock_in >= start, Punch.clock_in < end, on, Punch.clock_out.is_(None))
            .options(selectinload(Punch.breaks))
        ):
            rows[(punch.user_id, punch.project_id)].days[(local_day(punch.clock_in) - monday).days] += (
                punch.worked_hours(now)
            )
    return _finish(monday, rows, approvals, may_approve)


def _lean():
    """Loader options for pages listing many punches: their breaks in one query, and
    none of what a project or a task loads for itself (teams, assignees, dependencies)."""
    return (
        selectinload(Punch.breaks),
        defaultload(Punch.project).lazyload(Project.memberships),
        defaultload(Punch.task).lazyload(Task.assignments),
        defaultload(Punch.task).lazyload(Task.dependency_links),
        defaultload(Punch.task).defaultload(Task.project).lazyload(Project.memberships),
    )


def _week_punches(monday: datetime.date, where) -> list[Punch]:
    start, end = week_bounds(monday)
    return list(
        db.session.scalars(
            select(Punch)
            .where(Punch.clock_in >= start, Punch.clock_in < end, where)
            .options(*_lean())
            .order_by(Punch.clock_in, Punch.id)
        ).unique()
    )


def _approvals(monday: datetime.date, where) -> list[TimesheetApproval]:
    return list(
        db.session.scalars(
            select(TimesheetApproval)
            .where(TimesheetApproval.week_start == monday, where)
            .options(lazyload(TimesheetApproval.user), lazyload(TimesheetApproval.project))
        ).unique()
    )


def my_week(actor, monday: datetime.date) -> Week:
    """The signed-in person's own timesheet (anyone who punches sees theirs)."""
    if not (can(actor, "timeclock.punch") or can(actor, "timesheet.view")) or actor.role == CLIENT:
        raise PermissionDenied()
    return _grid(
        monday,
        _week_punches(monday, Punch.user_id == actor.id),
        _approvals(monday, TimesheetApproval.user_id == actor.id),
    )


def may_review(actor) -> bool:
    """Does `actor` review others' timesheets (the review page, the crew board)?"""
    return scope_of(actor, "timesheet.view") in (ALL, ASSIGNED)


def reviewer_scope(actor) -> str:
    if not may_review(actor):
        raise PermissionDenied()
    return scope_of(actor, "timesheet.view")


def punch_to_correct(actor, punch_id) -> Punch:
    """A punch `actor` may correct (the correction form): an approver of its project, and
    not their own hours unless they are an admin (`_require_approver`)."""
    punch = get_punch(actor, punch_id)
    _require_approver(actor, punch.project_id, punch.user_id)
    return punch


def _reviewed_ids(actor) -> set[int] | None:
    """The projects whose timesheets `actor` reviews (None: every project)."""
    return None if reviewer_scope(actor) == ALL else member_project_ids(actor)


def _reviewed_projects(actor):
    """SQL condition on a project id column: the projects whose timesheets `actor` reviews."""
    ids = _reviewed_ids(actor)
    return (lambda column: true()) if ids is None else (lambda column: column.in_(ids or {0}))


def may_approve_on(actor, project_id: int) -> bool:
    scope = scope_of(actor, "timesheet.approve")
    return scope == ALL or (scope == ASSIGNED and project_id in member_project_ids(actor))


def _approver(actor):
    """(user id, project id) -> may `actor` approve that person's week on that project?
    (`_require_approver`'s rule as a question, asked once per project for a whole page.)"""
    on_project: dict[int, bool] = {}

    def may(user_id: int, project_id: int) -> bool:
        if project_id not in on_project:
            on_project[project_id] = may_approve_on(actor, project_id)
        return on_project[project_id] and (actor.role == ADMIN or user_id != actor.id)

    return may


def review_week(actor, monday: datetime.date) -> Week:
    """Everyone's week on the projects `actor` reviews: one row per person and project."""
    ids = _reviewed_ids(actor)
    approvals = _approvals(monday, _reviewed_projects(actor)(TimesheetApproval.project_id))
    may = _approver(actor)
    return _summed_grid(monday, ids, approvals, lambda row: may(row.user.id, row.project.id))


@dataclass
class RowPunches:
    """The punches behind one row of the review (opened on demand) and whether the
    reviewer may still correct them (they approve it and the week is not approved)."""

    user: User
    project: Project
    monday: datetime.date
    punches: list[Punch]
    may_correct: bool


def row_punches(actor, monday: datetime.date, user_id, project_id) -> RowPunches:
    """One person's punches of the week on one project, for the reviewer who sees that
    project's timesheets (anyone else: not found)."""
    reviewed = _reviewed_ids(actor)
    person, project = db.session.get(User, _id(user_id) or 0), db.session.get(Project, _id(project_id) or 0)
    if person is None or project is None or (reviewed is not None and project.id not in reviewed):
        raise ObjectNotFound()
    punches = _week_punches(monday, and_(Punch.user_id == person.id, Punch.project_id == project.id))
    approved = db.session.scalar(
        select(func.count()).where(
            TimesheetApproval.week_start == monday,
            TimesheetApproval.user_id == person.id,
            TimesheetApproval.project_id == project.id,
        )
    )
    return RowPunches(person, project, monday, punches, _approver(actor)(person.id, project.id) and not approved)


def approved_hours_by_project(project_ids) -> dict[int, Decimal]:
    """The approved labour hours of each project, all time."""
    ids = sorted(set(project_ids))
    if not ids:
        return {}
    rows = db.session.execute(
        select(TimesheetApproval.project_id, func.sum(TimesheetApproval.hours))
        .where(TimesheetApproval.project_id.in_(ids))
        .group_by(TimesheetApproval.project_id)
    ).all()
    return {pid: Decimal(total or 0).quantize(CENT) for pid, total in rows}


def project_labour(actor) -> list[tuple[Named, Decimal]]:
    """The approved labour hours of the projects `actor` reviews, by project name."""
    on = _reviewed_projects(actor)
    rows = db.session.execute(
        select(Project.id, Project.name, func.sum(TimesheetApproval.hours))
        .join(TimesheetApproval, TimesheetApproval.project_id == Project.id)
        .where(on(Project.id))
        .group_by(Project.id)
        .order_by(Project.name, Project.id)
    ).all()
    return [(Named(pid, name), Decimal(total or 0).quantize(CENT)) for pid, name, total in rows]


def crew_now(actor) -> list[Punch]:
    """The open punches on the projects `actor` reviews (the crew on site now)."""
    on = _reviewed_projects(actor)
    return list(
        db.session.scalars(
            select(Punch)
            .where(Punch.clock_out.is_(None), on(Punch.project_id))
            .options(*_lean())
            .join(Project, Project.id == Punch.project_id)
            .join(User, User.id == Punch.user_id)
            .order_by(Project.name, User.full_name, Punch.id)
        ).unique()
    )


# --- approval ----------------------------------------------------------------------------


def _require_approver(actor, project_id: int, person_id: int) -> None:
    if not may_approve_on(actor, project_id):
        raise PermissionDenied()
    if person_id == actor.id and actor.role != ADMIN:
        raise PermissionDenied("Someone else approves and corrects your own hours.")


def _week_key(user_id, project_id, week) -> tuple[User, Project, datetime.date]:
    uid, pid = _id(user_id), _id(project_id)
    person = db.session.get(User, uid) if uid else None
    project = db.session.get(Project, pid) if pid else None
    if person is None or project is None:
        raise ObjectNotFound("That timesheet does not exist.")
    return person, project, parse_week(week)


def approve(actor, user_id, project_id, week) -> TimesheetApproval:
    """Approve `user_id`'s week of `week` on `project_id`: its punches are locked, and the
    hours of those with a task are added to the task's actual hours."""
    require(actor, "timesheet.approve")
    person, project, monday = _week_key(user_id, project_id, week)
    _require_approver(actor, project.id, person.id)
    existing = db.session.scalar(
        select(TimesheetApproval).where(
            TimesheetApproval.user_id == person.id,
            TimesheetApproval.project_id == project.id,
            TimesheetApproval.week_start == monday,
        )
    )
    if existing is not None:
        raise ConflictError(f"{person.name}'s week of {monday.isoformat()} on {project.name} is already approved.")
    start, end = week_bounds(monday)
    punches = list(
        db.session.scalars(
            select(Punch)
            .where(
                Punch.user_id == person.id,
                Punch.project_id == project.id,
                Punch.clock_in >= start,
                Punch.clock_in < end,
            )
            .with_for_update(of=Punch)
        )
    )
    if not punches:
        raise ConflictError(f"{person.name} has no time on {project.name} that week.")
    if any(p.is_open for p in punches):
        raise ConflictError(f"{person.name} is still clocked in on {project.name}; approve after the clock-out.")
    total = sum((p.hours or Decimal(0) for p in punches), Decimal("0.00"))
    approval = TimesheetApproval(user=person, project=project, week_start=monday, hours=total, approved_by_id=actor.id)
    db.session.add(approval)
    db.session.flush()
    by_task: dict[int, Decimal] = defaultdict(Decimal)
    for punch in punches:
        punch.approval_id = approval.id
        punch.needs_review = False
        if punch.task_id is not None:
            by_task[punch.task_id] += punch.hours or Decimal(0)
    _credit_tasks(by_task, +1, f"approved hours of {person.name}, week of {monday.isoformat()}")
    db.session.flush()
    _labour_cost_changed(project.id)
    for punch in punches[:1]:
        _publish(punch)
    return approval


def _labour_cost_changed(project_id: int) -> None:
    """Approved hours are labour cost: the project's budget alerts are checked
    (app/budgets/alerts.py), in this transaction."""
    from app.budgets.alerts import check_projects

    check_projects([project_id])


def _credit_tasks(by_task: dict[int, Decimal], sign: int, why: str) -> None:
    for task in db.session.scalars(select(Task).where(Task.id.in_(sorted(by_task))).order_by(Task.id)):
        change = by_task[task.id] * sign
        task.actual_hours = max(Decimal("0.00"), (task.actual_hours or Decimal(0)) + change).quantize(CENT)
        note_reason(task, f"{'+' if sign > 0 else '−'}{by_task[task.id]} h: {why}")


def approve_many(actor, keys, week) -> list[TimesheetApproval]:
    """ "Approve all shown": each (user id, project id) of the week that the actor may
    approve and that is ready (not approved, nobody clocked in); the others are left."""
    require(actor, "timesheet.approve")
    monday = parse_week(week)
    done = []
    review = review_week(actor, monday)
    wanted = {(int(u), int(p)) for u, p in keys}
    for row in review.rows:
        if (row.user.id, row.project.id) not in wanted or not row.may_approve:
            continue
        if row.approval is not None or row.has_open:
            continue
        done.append(approve(actor, row.user.id, row.project.id, monday))
    if not done:
        raise ConflictError("Nothing shown is ready to approve.")
    return done


def unapprove(actor, user_id, project_id, week, reason) -> None:
    require(actor, "timesheet.approve")
    person, project, monday = _week_key(user_id, project_id, week)
    _require_approver(actor, project.id, person.id)
    errors: dict = {}
    reason = _reason(reason, errors)
    if errors:
        raise ValidationError(errors)
    approval = db.session.scalar(
        select(TimesheetApproval).where(
            TimesheetApproval.user_id == person.id,
            TimesheetApproval.project_id == project.id,
            TimesheetApproval.week_start == monday,
        )
    )
    if approval is None:
        raise ConflictError(f"{person.name}'s week of {monday.isoformat()} on {project.name} is not approved.")
    punches = list(db.session.scalars(select(Punch).where(Punch.approval_id == approval.id)))
    by_task: dict[int, Decimal] = defaultdict(Decimal)
    for punch in punches:
        punch.approval_id = None
        note_reason(punch, f"approval withdrawn: {reason}")
        if punch.task_id is not None:
            by_task[punch.task_id] += punch.hours or Decimal(0)
    _credit_tasks(by_task, -1, f"approval of {person.name}'s week of {monday.isoformat()} withdrawn: {reason}")
    db.session.delete(approval)
    db.session.flush()
    _labour_cost_changed(project.id)
    for punch in punches[:1]:
        _publish(punch)


# --- corrections -------------------------------------------------------------------------


def _overlap(user_id: int, start, end, exclude_id=None) -> Punch | None:
    stmt = select(Punch).where(
        Punch.user_id == user_id,
        Punch.clock_in < end,
        or_(Punch.clock_out.is_(None), Punch.clock_out > start),
    )
    if exclude_id is not None:
        stmt = stmt.where(Punch.id != exclude_id)
    return db.session.scalars(stmt.limit(1)).first()


def _times(data: dict, errors: dict, now, *, required_out: bool) -> tuple:
    start = parse_time(data.get("clock_in"), "clock_in", errors, now)
    end = parse_time(data.get("clock_out"), "clock_out", errors, now)
    if start is None and "clock_in" not in errors:
        errors["clock_in"] = "Enter the clock-in time."
    if end is None and required_out and "clock_out" not in errors:
        errors["clock_out"] = "Enter the clock-out time."
    if start and end:
        if end < start:
            errors["clock_out"] = "The clock-out must come after the clock-in."
        elif end - start > LONGEST_PUNCH:
            errors["clock_out"] = "A punch lasts at most 24 hours; split longer work into several."
    return start, end


def _overlap_message(other: Punch) -> str:
    day = local_day(other.clock_in).isoformat()
    until = clock_time(other.clock_out) if other.clock_out else "now"
    return f"It overlaps another punch ({other.project.name}, {day} {clock_time(other.clock_in)}–{until})."


@checks_version("punch")
def correct_punch(actor, punch: Punch, data: dict, *, version=None) -> Punch:
    """A superintendent's or PM's correction: times, project or task, with a reason."""
    require(actor, "timesheet.approve")
    _require_approver(actor, punch.project_id, punch.user_id)
    expect_version(punch, version)
    if punch.is_locked:
        raise ConflictError("This week is approved and locked; withdraw the approval first.")
    errors: dict = {}
    now = utcnow()
    person = punch.user
    start, end = _times(data, errors, now, required_out=not punch.is_open)
    project, task = _project_and_task(
        actor, data.get("project_id", punch.project_id), data.get("task_id"), errors, person=person
    )
    if project is not None and "project_id" not in errors and not may_approve_on(actor, project.id):
        errors["project_id"] = f"You do not approve time on {project.name}."
    reason = _reason(data.get("reason"), errors)
    if errors:
        raise ValidationError(errors)
    other = _overlap(person.id, start, end or now, exclude_id=punch.id)
    if other is not None:
        raise ValidationError({"clock_in": _overlap_message(other)})
    old_project = punch.project_id
    punch.clock_in, punch.clock_out = start, end
    punch.project_id, punch.task_id = project.id, task.id if task else None
    punch.corrected_by_id = actor.id
    punch.correction_reason = reason
    punch.needs_review = False
    if end is not None:
        running = punch.open_break
        if running is not None:
            running.end = max(running.start, min(end, now))
    _settle(punch)
    note_reason(punch, reason)
    db.session.flush()
    db.session.expire(punch, ["project", "task"])
    _publish(punch, extra_projects=(old_project,))
    return punch


def add_missed_punch(actor, data: dict) -> Punch:
    """A punch someone forgot, added by a superintendent or PM of the project (audited)."""
    require(actor, "timesheet.approve")
    errors: dict = {}
    now = utcnow()
    uid = _id(data.get("user_id"))
    person = db.session.get(User, uid) if uid else None
    if person is None or not person.is_active or person.role == CLIENT:
        errors["user_id"] = "Choose the person."
        person = None
    start, end = _times(data, errors, now, required_out=True)
    project, task = (None, None)
    if person is not None:
        project, task = _project_and_task(actor, data.get("project_id"), data.get("task_id"), errors, person=person)
    if project is not None and "project_id" not in errors and not may_approve_on(actor, project.id):
        errors["project_id"] = f"You do not approve time on {project.name}."
    reason = _reason(data.get("reason"), errors)
    if errors:
        raise ValidationError(errors)
    _require_approver(actor, project.id, person.id)
    _refuse_closed(project)
    other = _overlap(person.id, start, end)
    if other is not None:
        raise ValidationError({"clock_in": _overlap_message(other)})
    approved = db.session.scalar(
        select(TimesheetApproval.id).where(
            TimesheetApproval.user_id == person.id,
            TimesheetApproval.project_id == project.id,
            TimesheetApproval.week_start == week_start(local_day(start)),
        )
    )
    if approved is not None:
        raise ConflictError("That week is approved and locked; withdraw the approval first.")
    punch = Punch(
        user_id=person.id,
        project_id=project.id,
        task_id=task.id if task else None,
        clock_in=start,
        clock_out=end,
        corrected_by_id=actor.id,
        correction_reason=reason,
    )
    db.session.add(punch)
    db.session.flush()
    _settle(punch)
    note_reason(punch, reason)
    db.session.flush()
    _publish(punch)
    return punch


def people_for_missed(actor, monday: datetime.date) -> list[User]:
    """The people a missed punch can be added for: active staff on the actor's projects
    (members and task assignees), by name."""
    on = _reviewed_projects(actor)
    members = select(ProjectMembership.user_id).where(on(ProjectMembership.project_id))
    assigned = select(TaskAssignment.user_id).join(Task, Task.id == TaskAssignment.task_id).where(on(Task.project_id))
    stmt = select(User).where(
        User.is_active_flag.is_(True),
        User.role != CLIENT,
        or_(User.id.in_(members), User.id.in_(assigned), User.role == ADMIN if actor.role == ADMIN else false()),
    )
    if actor.role != ADMIN:
        stmt = stmt.where(User.id != actor.id)
    return list(db.session.scalars(stmt.order_by(User.full_name, User.username)))


def approvable_projects(actor) -> list[Project]:
    on = _reviewed_projects(actor)
    stmt = select(Project).where(on(Project.id), Project.status != PROJECT_CLOSED).order_by(Project.name)
    return [p for p in db.session.scalars(stmt) if may_approve_on(actor, p.id)]


# --- the nightly job ---------------------------------------------------------------------


def close_forgotten(now: datetime.datetime | None = None) -> int:
    """Close every punch open longer than 14 hours, at clock-in + 14 h (or at the start of
    its running break), flag it for review, and tell its person and the project's
    superintendents and PMs. Returns how many were closed."""
    from app.notifications.services import notify

    now = now or utcnow()
    punches = list(
        db.session.scalars(
            select(Punch)
            .where(Punch.clock_out.is_(None), Punch.clock_in <= now - AUTO_CLOSE_AFTER)
            .order_by(Punch.id)
            .with_for_update(of=Punch, skip_locked=True)
        )
    )
    for punch in punches:
        running = punch.open_break
        end = punch.clock_in + AUTO_CLOSE_AFTER
        if running is not None:
            end = min(end, running.start)
            running.end = end if end >= running.start else running.start
        punch.clock_out = end
        punch.auto_closed = True
        punch.needs_review = True
        _settle(punch)
        db.session.flush()
        day = local_day(punch.clock_in).isoformat()
        title = (
            f"{punch.user.name}'s punch on {punch.project.name} ({day}, in at {clock_time(punch.clock_in)}) "
            f"was closed automatically at {clock_time(end)}: please review it"
        )
        args = {"week": week_start(local_day(punch.clock_in)).isoformat()}
        notify(
            punch.user,
            NOTIFY_KIND,
            f"You did not clock out on {punch.project.name} ({day}); your punch was closed at {clock_time(end)}",
            "timeclock.my_timesheet",
            args,
            project_id=punch.project_id,
        )
        leads = db.session.scalars(
            select(User)
            .join(ProjectMembership, ProjectMembership.user_id == User.id)
            .where(
                ProjectMembership.project_id == punch.project_id,
                User.role.in_((*PM_ROLES, SUPERINTENDENT)),
                User.is_active_flag.is_(True),
                User.id != punch.user_id,
            )
            .order_by(User.id)
        )
        for lead in leads:
            notify(lead, NOTIFY_KIND, title, "timeclock.review", args, project_id=punch.project_id)
        _publish(punch)
    return len(punches)


# --- export ------------------------------------------------------------------------------


def timesheet_csv(actor, monday: datetime.date) -> str:
    """The week's approved hours as CSV for payroll (cells a spreadsheet would run as a
    formula are quoted as text)."""
    import csv
    import io

    from app.core.text import csv_cell

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["person", "username", "week", "project", "task", "hours"])
    for row in export_rows(actor, monday):
        writer.writerow([csv_cell(cell) for cell in row])
    return out.getvalue()


def export_rows(actor, monday: datetime.date) -> list[tuple[str, str, str, str, str, Decimal]]:
    """Approved hours of the week per person, project and task:
    (person, username, week, project, task, hours)."""
    require(actor, "timesheet.export")
    start, end = week_bounds(monday)
    stmt = (
        select(User.full_name, User.username, Project.name, Task.title, func.sum(Punch.hours))
        .select_from(Punch)
        .join(User, User.id == Punch.user_id)
        .join(Project, Project.id == Punch.project_id)
        .outerjoin(Task, Task.id == Punch.task_id)
        .where(Punch.approval_id.is_not(None), Punch.clock_in >= start, Punch.clock_in < end)
        .group_by(User.id, User.full_name, User.username, Project.id, Project.name, Task.id, Task.title)
        .order_by(User.full_name, User.username, Project.name, Task.title.nulls_first())
    )
    if scope_of(actor, "timesheet.export") != ALL:
        stmt = stmt.where(and_(Punch.project_id.in_(member_project_ids(actor) or {0})))
    return [
        (name or username, username, monday.isoformat(), project, task or "", Decimal(hours or 0).quantize(CENT))
        for name, username, project, task, hours in db.session.execute(stmt)
    ]
