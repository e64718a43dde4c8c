"""The tasks' cards on the home page, one per kind of role (issue 8 "Home pages per role"):

- the superintendent's **crews**: today's tasks on their projects by crew member, and the
  blocked tasks with their reasons;
- the **projects** card of PMs, trainees and designers: the overdue, blocked, double-booked
  tasks and those due this week, of the tasks they may see;
- the admin's **company** counts: active projects, overdue tasks, conflicts, blockers.
(The employee's card is "My day", templates/tasks/_my_day_widget.html.)

Every read starts from the one visibility of tasks — `queries.task_list` (which applies
`services.visible_tasks`, core.permissions.scope_query) or `visible_tasks` itself — so
a card never shows a task its reader could not open. Each list is one statement of the
columns shown (no Task objects, so no eager loads per row) with its LIMIT and its total
as a window count; a card costs the same few statements at 50 tasks as at 50,000.
The counts are those of the filtered list each links to (the same TaskFilters as the
/tasks page builds from `?overdue=1`, `?conflict=1`, `?status=blocked`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import NamedTuple

from sqlalchemy import func, or_, select

from app.auth.models import User
from app.core.permissions import require
from app.core.roles import ADMIN, DESIGNER, PM_TRAINEE, PROJECT_MANAGER, SUPERINTENDENT
from app.extensions import db
from app.projects.models import ACTIVE, Project
from app.tasks import queries
from app.tasks.conflicts import conflicts_for
from app.tasks.models import BLOCKED, Task, TaskAssignment, is_open
from app.tasks.services import today, visible_tasks

# Who gets which card (the Widget declarations and the fragment routes read these).
CREW_ROLES = (SUPERINTENDENT,)
PROJECT_ROLES = (PROJECT_MANAGER, PM_TRAINEE, DESIGNER)  # designers: their design tasks only
COMPANY_ROLES = (ADMIN,)

LIST_LIMIT = 3  # tasks per list of the projects card (four lists: kept short)
BLOCKER_LIMIT = 10  # blocked tasks on the crews card
CREW_LIMIT = 60  # (person, task) lines of today's crews
WEEK_DAYS = 7  # "due this week": today and the six days after it

# The /tasks page's filters for each list (what `?overdue=1` etc. give there).
OVERDUE = queries.TaskFilters(status="open", overdue=True)
CONFLICT = queries.TaskFilters(status="open", conflict=True)
BLOCKERS = queries.TaskFilters(status=BLOCKED)


class TaskLine(NamedTuple):
    """What a card shows of a task."""

    id: int
    title: str
    status: str
    start_date: date | None
    due_date: date | None
    blocked_reason: str
    project_id: int
    project_name: str


_COLUMNS = (
    Task.id,
    Task.title,
    Task.status,
    Task.start_date,
    Task.due_date,
    Task.blocked_reason,
    Project.id,
    Project.name,
)


def _lines(stmt, limit: int) -> tuple[list[TaskLine], int]:
    """The first `limit` rows of a select of tasks (its order kept) as TaskLines, and how
    many rows it has in all — one statement (the total is a window count)."""
    stmt = stmt.with_only_columns(*_COLUMNS, func.count().over()).join(Project, Project.id == Task.project_id)
    rows = db.session.execute(stmt.limit(limit)).all()
    return [TaskLine(*row[:-1]) for row in rows], (rows[0][-1] if rows else 0)


def for_today(day: date):
    """SQL: an open task on for `day` — started and not yet due, or due that day (the
    "Today" of My day, queries.my_day)."""
    return is_open() & or_(
        (Task.start_date <= day) & (Task.due_date.is_(None) | (Task.due_date >= day)),
        Task.due_date == day,
    )


# --- the superintendent: today's crews and blockers ---------------------------------


@dataclass
class CrewMember:
    user_id: int | None  # None: the tasks nobody is on yet
    name: str
    tasks: list[TaskLine] = field(default_factory=list)


@dataclass
class Crews:
    day: date
    crews: list[CrewMember]
    more: int  # (person, task) lines past CREW_LIMIT
    tasks: int  # today's tasks shown
    blockers: list[TaskLine]
    blocker_total: int


def crews(user, day: date | None = None) -> Crews:
    """Today's open tasks on the projects `user` may see, by crew member (a task with two
    people under each; unassigned ones last), and the blocked tasks. Two statements."""
    require(user, "task.view")
    day = day or today()
    name = func.coalesce(func.nullif(User.full_name, ""), User.username)
    stmt = (
        visible_tasks(user)
        .where(for_today(day))
        .with_only_columns(User.id, name, *_COLUMNS, func.count().over())
        .join(Project, Project.id == Task.project_id)
        .outerjoin(TaskAssignment, TaskAssignment.task_id == Task.id)
        .outerjoin(User, User.id == TaskAssignment.user_id)
        .order_by(User.id.is_(None), name, User.id, Task.due_date.asc().nulls_last(), Task.id)
        .limit(CREW_LIMIT)
    )
    rows = db.session.execute(stmt).all()
    by_person: dict[int | None, CrewMember] = {}
    for row in rows:
        user_id, person = row[0], row[1]
        member = by_person.setdefault(user_id, CrewMember(user_id, person or "Nobody assigned yet"))
        member.tasks.append(TaskLine(*row[2:-1]))
    total = rows[0][-1] if rows else 0
    blockers, blocker_total = _lines(queries.task_list(user, BLOCKERS), BLOCKER_LIMIT)
    return Crews(
        day=day,
        crews=list(by_person.values()),
        more=max(total - len(rows), 0),
        tasks=len({line.id for member in by_person.values() for line in member.tasks}),
        blockers=blockers,
        blocker_total=blocker_total,
    )


# --- PMs, trainees, designers: what needs them on their projects --------------------


@dataclass
class TaskSection:
    key: str  # overdue, blocked, conflict, week
    heading: str
    lines: list[TaskLine]
    total: int
    link: dict  # the /tasks page's query parameters for the whole list
    conflicts: dict = field(default_factory=dict)  # task id → "who, which days" (conflict list)


@dataclass
class Attention:
    day: date
    week_end: date
    sections: list[TaskSection]

    @property
    def empty(self) -> bool:
        return not any(section.total for section in self.sections)


def attention(user, day: date | None = None) -> Attention:
    """The tasks `user` may see that need them: overdue, blocked, double-booked, due this
    week (today to six days on) — LIST_LIMIT of each with its total. Five statements."""
    require(user, "task.view")
    day = day or today()
    week_end = day + timedelta(days=WEEK_DAYS - 1)
    week = queries.TaskFilters(status="open", due_from=day, due_to=week_end)
    sections = []
    for key, heading, filters, link in (
        ("overdue", "Overdue", OVERDUE, {"overdue": "1"}),
        ("blocked", "Blocked", BLOCKERS, {"status": BLOCKED}),
        ("conflict", "Double-booked", CONFLICT, {"conflict": "1"}),
        ("week", "Due this week", week, {"due_from": day.isoformat(), "due_to": week_end.isoformat()}),
    ):
        lines, total = _lines(queries.task_list(user, filters), LIST_LIMIT)
        sections.append(TaskSection(key, heading, lines, total, link))
    conflict = sections[2]
    conflict.conflicts = _who_is_double_booked([line.id for line in conflict.lines])
    return Attention(day, week_end, sections)


def _who_is_double_booked(task_ids) -> dict[int, list[str]]:
    """Task id → "Pat Painter (Mar 2, Mar 5–6)" per person booked twice on it (the
    conflict service, one statement). The other task is not named: it may be on a project
    the reader cannot see."""
    found: dict[int, dict[str, list[str]]] = {}
    for task_id, items in conflicts_for(task_ids).items():
        people = found.setdefault(task_id, {})
        for c in items:
            days = people.setdefault(c.user_name, [])
            if _days(c.start, c.end) not in days:
                days.append(_days(c.start, c.end))
    return {
        task_id: [f"{name} ({', '.join(days)})" for name, days in people.items()] for task_id, people in found.items()
    }


def _days(start: date, end: date) -> str:
    if start == end:
        return f"{start:%b} {start.day}"
    if (start.year, start.month) == (end.year, end.month):
        return f"{start:%b} {start.day}–{end.day}"
    return f"{start:%b} {start.day} – {end:%b} {end.day}"


# --- the admin: the company's counts ------------------------------------------------


class CompanyCounts(NamedTuple):
    active_projects: int
    overdue: int
    conflicts: int
    blockers: int


def company_counts(user) -> CompanyCounts:
    """The company's active projects, overdue tasks, double-booked tasks and blocked
    tasks, as far as `user` may see them (an admin: all). The task counts are one
    statement of three scalar counts over the /tasks page's filtered lists; the projects'
    is the projects card's cached aggregate (projects/counts.py)."""
    require(user, "task.view")
    from app.projects import counts as project_counts

    def total(filters):
        sub = queries.task_list(user, filters).order_by(None).with_only_columns(Task.id).subquery()
        return select(func.count()).select_from(sub).scalar_subquery()

    overdue, conflicts, blockers = db.session.execute(select(total(OVERDUE), total(CONFLICT), total(BLOCKERS))).one()
    return CompanyCounts(project_counts.status_counts(user).get(ACTIVE, 0), overdue, conflicts, blockers)
