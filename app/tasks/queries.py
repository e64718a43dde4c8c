"""Reads of tasks: the one list statement behind the project's Tasks tab, the board, the
company-wide page, "My day" and /api/tasks/ — each viewer's visibility applied by
services.visible_tasks (core.permissions.scope_query)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

from sqlalchemy import case, exists, select
from sqlalchemy.orm import defaultload, lazyload, selectinload

from app.auth.models import User
from app.core.errors import ValidationError
from app.core.search import contains
from app.projects.models import Project
from app.tasks.conflicts import overlap_condition
from app.tasks.models import CLOSED_STATUSES, STATUSES, Task, TaskAssignment, TaskDependency, is_open
from app.tasks.services import today, visible_tasks

_PRIORITY_RANK = case({"urgent": 0, "high": 1, "normal": 2, "low": 3}, value=Task.priority, else_=4)
ORDERINGS = {
    "due_date": Task.due_date,
    "start_date": Task.start_date,
    "priority": _PRIORITY_RANK,
    "status": Task.status,
    "title": Task.title,
    "progress_percent": Task.progress_percent,
    "created_at": Task.created_at,
    "updated_at": Task.updated_at,
}
DEFAULT_ORDERING = (("due_date", False), ("priority", False))


@dataclass(frozen=True)
class TaskFilters:
    project_id: int | None = None
    assignee_id: int | None = None
    status: str = ""  # "" = any; "open" = not finished
    due_from: date | None = None
    due_to: date | None = None
    overdue: bool | None = None
    conflict: bool | None = None
    search: str = ""
    ordering: tuple[tuple[str, bool], ...] = field(default=DEFAULT_ORDERING)


def parse_ordering(raw: str | None) -> tuple[tuple[str, bool], ...]:
    """`ordering=-due_date,title` → (("due_date", True), ("title", False)); unknown
    fields are a field error naming the allowed ones."""
    fields = []
    for part in (raw or "").split(","):
        part = part.strip()
        if not part:
            continue
        name = part.lstrip("-")
        if name not in ORDERINGS:
            raise ValidationError({"ordering": f"Cannot order by {name!r}. Allowed: {', '.join(sorted(ORDERINGS))}."})
        fields.append((name, part.startswith("-")))
    return tuple(fields) or DEFAULT_ORDERING


# What a list of tasks (a page of rows, the API's page, a card) reads besides the tasks:
# their project (joined), their people (selectin) and the ids of what they wait for —
# not the project's team, the people's client companies, or each awaited task with its
# own project and client, which the models load eagerly for a single task's page
# (about 500 objects a page of 25 instead of about 150).
_NO_TEAM = defaultload(Task.project).lazyload(Project.memberships)
_NO_CLIENTS = defaultload(Task.assignments).defaultload(TaskAssignment.user).lazyload(User.client)
LIST_LOADS = (
    _NO_TEAM,
    defaultload(Task.project).lazyload(Project.client),
    _NO_CLIENTS,
    defaultload(Task.dependency_links).lazyload(TaskDependency.depends_on),
    # who completed each (the API's completed_by): one statement for the page, not one
    # per completed task (none at all when no task of the page is completed)
    selectinload(Task.completed_by).lazyload(User.client),
)


def task_list(user, filters: TaskFilters, action: str = "task.view"):
    """A select of the tasks `user` may see, filtered and ordered."""
    return _filtered(visible_tasks(user, action).options(*LIST_LOADS), filters, today())


def task_lines(user, filters: TaskFilters, page: int, per_page: int):
    """Page `page` of the tasks `user` may see, filtered and ordered, as the task list
    shows them (lines.TaskLine: columns and names, no ORM objects)."""
    from app.core.pagination import paginate
    from app.core.permissions import Viewer
    from app.core.transaction import read_connection
    from app.extensions import db
    from app.tasks import lines

    stmt = _line_statement(Viewer.of(user), filters, today())
    found = paginate(stmt, page, per_page, rows=True)
    found.items = lines.with_people(found.items, read_connection(db.session))
    return found


@lru_cache(maxsize=128)
def _line_statement(viewer, filters: TaskFilters, day: date):
    """The list's statement, built once per viewer, filters and day (what "overdue" is
    measured against) and then remembered: a statement reused costs nothing to build,
    nor to count or page (core.statements, core.cached_reads)."""
    from app.tasks import lines

    return _filtered(visible_tasks(viewer, stmt=lines.line_select()), filters, day)


def _filtered(stmt, filters: TaskFilters, day: date | None = None):
    """`stmt` (a select from tasks) filtered and ordered as `filters` say; "overdue" is
    due before `day` (today)."""
    if filters.project_id is not None:
        stmt = stmt.where(Task.project_id == filters.project_id)
    if filters.assignee_id is not None:
        stmt = stmt.where(
            exists(
                select(TaskAssignment.id).where(
                    TaskAssignment.task_id == Task.id, TaskAssignment.user_id == filters.assignee_id
                )
            )
        )
    if filters.status == "open":
        stmt = stmt.where(is_open())
    elif filters.status in STATUSES:
        stmt = stmt.where(Task.status == filters.status)
    if filters.due_from is not None:
        stmt = stmt.where(Task.due_date >= filters.due_from)
    if filters.due_to is not None:
        stmt = stmt.where(Task.due_date <= filters.due_to)
    if filters.overdue is not None:
        late = (Task.due_date < (day or today())) & is_open()
        stmt = stmt.where(late if filters.overdue else ~late | Task.due_date.is_(None))
    if filters.conflict is not None:
        stmt = stmt.where(overlap_condition() if filters.conflict else ~overlap_condition())
    if filters.search:
        stmt = stmt.where(contains((Task.title,), filters.search))
    order = [
        (ORDERINGS[name].desc() if desc else ORDERINGS[name].asc()).nulls_last() for name, desc in filters.ordering
    ]
    return stmt.order_by(*order, Task.id)


@dataclass
class Day:
    """A person's tasks, as "My day" shows them."""

    overdue: list = field(default_factory=list)
    today: list = field(default_factory=list)
    week: list = field(default_factory=list)
    other: list = field(default_factory=list)
    done_today: list = field(default_factory=list)
    conflicts: dict = field(default_factory=dict)  # task id → its conflicts (conflicts.Conflict)
    more: dict = field(default_factory=dict)  # section → how many are not shown (SECTION_LIMIT)

    @property
    def empty(self) -> bool:
        return not (self.overdue or self.today or self.week or self.other or self.done_today)


# My day's cards say what a task waits for (the awaited tasks' titles and statuses) and
# the project's name — not the task's people, the project's client or team, nor the
# awaited tasks' own projects, people or dependencies.
DAY_LOADS = (
    _NO_TEAM,
    defaultload(Task.project).lazyload(Project.client),
    lazyload(Task.assignments),
    defaultload(Task.dependency_links).defaultload(TaskDependency.depends_on).lazyload("*"),
)
MY_DAY_LIMIT = 200  # open tasks of one person; more would not be a day's work


def my_day(user, day: date | None = None) -> Day:
    """`user`'s own open tasks in the sections of "My day", and what they finished today.
    The tasks are read as lines (lines.TaskLine) and sorted into sections; only those
    shown as full cards (overdue and today, where the day's actions are) are then loaded
    as tasks, with what they wait for — a painter with ninety open tasks builds a dozen
    objects, not ninety."""
    from datetime import timedelta

    from app.core.transaction import read_connection
    from app.extensions import db
    from app.tasks import lines
    from app.tasks.conflicts import conflicts_for

    day = day or today()
    since = day - timedelta(days=1)
    week_end = day + timedelta(days=7)
    stmt = _day_statement(user.id, since)
    found = Day()
    for *columns, completed_at in read_connection(db.session).execute(stmt):
        task = lines.TaskLine(*columns)
        if task.status == "completed":
            if completed_at and completed_at.date() >= since:
                found.done_today.append(task)
        elif task.due_date and task.due_date < day:
            found.overdue.append(task)
        elif (task.start_date and task.start_date <= day and (not task.due_date or task.due_date >= day)) or (
            task.due_date == day
        ):
            found.today.append(task)
        elif (task.start_date and task.start_date <= week_end) or (task.due_date and task.due_date <= week_end):
            found.week.append(task)
        else:
            found.other.append(task)
    for key in ("overdue", "week", "other", "done_today"):
        items = getattr(found, key)
        if len(items) > SECTION_LIMIT:
            found.more[key] = len(items) - SECTION_LIMIT
            setattr(found, key, items[:SECTION_LIMIT])
    carded = [t.id for t in (*found.overdue, *found.today)]
    if carded:
        tasks = {t.id: t for t in db.session.scalars(select(Task).options(*DAY_LOADS).where(Task.id.in_(carded)))}
        found.overdue = [tasks[t.id] for t in found.overdue if t.id in tasks]
        found.today = [tasks[t.id] for t in found.today if t.id in tasks]
    found.conflicts = conflicts_for([t.id for t in (*found.overdue, *found.today, *found.week, *found.other)], user)
    return found


@lru_cache(maxsize=256)
def _day_statement(user_id: int, since: date):
    """The person's open tasks and those they finished since `since`, as lines (and
    when each was finished): built once per person and day, then remembered."""
    from sqlalchemy import func

    from app.tasks import lines

    return (
        lines.line_select()
        .add_columns(Task.completed_at)
        .where(Task.owned_by(user_id))
        .where(
            Task.status.not_in(CLOSED_STATUSES)
            | ((Task.status == "completed") & (func.date(Task.completed_at) >= since))
        )
        # By due date (none last) as an expression no index serves: ordered by the column,
        # PostgreSQL's generic plan walked every task by due date looking for this
        # person's until the LIMIT filled (30–100 ms at 50,000 tasks); this way it starts
        # from their assignments and sorts those (~2 ms).
        .order_by(func.coalesce(Task.due_date, date.max), _PRIORITY_RANK, Task.id)
        .limit(MY_DAY_LIMIT)
    )


SECTION_LIMIT = 20  # cards per section of My day beyond "Today" (the rest: a link to the full list)


def board(user, project_id: int, limit: int) -> list:
    """The project's tasks the user may see, as the board shows them (cancelled left out)."""
    from app.extensions import db

    stmt = (
        visible_tasks(user)
        .where(Task.project_id == project_id, Task.status != "cancelled")
        .order_by(_PRIORITY_RANK, Task.due_date.asc().nulls_last(), Task.id)
        .limit(limit)
    )
    return db.session.scalars(stmt).all()


@dataclass
class TimeRow:
    label: str
    estimated: object  # Decimal | None
    actual: object  # Decimal

    @property
    def over(self) -> bool:
        """Over the estimate (the rows the PM looks at first)."""
        return self.estimated is not None and self.actual > self.estimated

    @property
    def difference(self):
        return None if self.estimated is None else self.actual - self.estimated


@dataclass
class TimeAnalysis:
    tasks: list
    people: list
    project: TimeRow


def time_analysis(user, project_id: int) -> TimeAnalysis:
    """Estimated against actual hours per task, per person (a task's hours shared equally
    among its people) and for the project."""
    from decimal import ROUND_HALF_UP, Decimal

    from app.extensions import db

    tasks = db.session.scalars(
        visible_tasks(user)
        .where(Task.project_id == project_id, Task.status != "cancelled")
        .order_by(Task.title, Task.id)
    ).all()
    cent = Decimal("0.01")
    rows = [TimeRow(t.title, t.estimated_hours, t.actual_hours or Decimal("0")) for t in tasks]
    per_person: dict[str, list] = {}
    for task in tasks:
        people = [a.user.name for a in task.assignments] or ["(nobody)"]
        share = Decimal(len(people))
        for name in people:
            bucket = per_person.setdefault(name, [Decimal("0"), Decimal("0"), False])
            if task.estimated_hours is not None:
                bucket[0] += task.estimated_hours / share
                bucket[2] = True
            bucket[1] += (task.actual_hours or Decimal("0")) / share
    people_rows = [
        TimeRow(
            name,
            est.quantize(cent, rounding=ROUND_HALF_UP) if has_estimate else None,
            act.quantize(cent, rounding=ROUND_HALF_UP),
        )
        for name, (est, act, has_estimate) in sorted(per_person.items())
    ]
    estimated = [t.estimated_hours for t in tasks if t.estimated_hours is not None]
    total = TimeRow(
        "Project",
        sum(estimated, Decimal("0")) if estimated else None,
        sum((t.actual_hours or Decimal("0") for t in tasks), Decimal("0")),
    )
    return TimeAnalysis(rows, people_rows, total)


def time_csv(analysis: TimeAnalysis) -> str:
    """The analysis as CSV (per task, then per person, then the project). Cells that a
    spreadsheet would run as a formula are quoted as text."""
    import csv
    import io

    from app.core.text import csv_cell as cell

    def number(value) -> str:
        return "" if value is None else f"{value:.2f}"

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["level", "name", "estimated_hours", "actual_hours", "difference", "over_estimate"])
    for level, rows in (("task", analysis.tasks), ("person", analysis.people), ("project", [analysis.project])):
        for row in rows:
            writer.writerow(
                [
                    level,
                    cell(row.label),
                    number(row.estimated),
                    number(row.actual),
                    number(row.difference),
                    "yes" if row.over else "no",
                ]
            )
    return out.getvalue()


def open_tasks_of(project_id: int) -> list:
    """The project's unfinished tasks (the closing checklist)."""
    from app.extensions import db

    return db.session.scalars(
        select(Task).where(Task.project_id == project_id, Task.status.not_in(CLOSED_STATUSES)).order_by(Task.title)
    ).all()


# --- the task list's people pickers (the Assignee filter, the bulk bar's reassign) ------
# The people tasks may be given to, bounded: a <select> of them while they are at
# most projects.queries.PICKER_LIMIT, past that a search-as-you-type box whose
# suggestions (people_options) are at most OPTIONS_LIMIT (docs/architecture.md, pickers).


@dataclass(frozen=True)
class Person:
    """One of the people a task may be given to, as the pickers show them."""

    id: int
    name: str
    role_label: str = ""  # (the picker's suggestions show it beside the name)


def _assignable(user, project=None):
    """The people `user` may put on tasks, (id, full_name, username, role) by name: every
    active employee, and the team of `project` (or of all the user's projects; an admin's
    is every member role)."""
    return _assignable_for(user.role, user.id, project.id if project is not None else None)


@lru_cache(maxsize=256)
def _assignable_for(role: str, user_id: int, project_id: int | None):
    from sqlalchemy import or_

    from app.auth.models import User
    from app.core.roles import ADMIN, EMPLOYEE, MEMBER_ROLES
    from app.projects.models import ProjectMembership

    if project_id is not None:
        team = select(ProjectMembership.user_id).where(ProjectMembership.project_id == project_id)
    elif role == ADMIN:
        team = select(User.id).where(User.role.in_(MEMBER_ROLES))
    else:
        mine = select(ProjectMembership.project_id).where(ProjectMembership.user_id == user_id)
        team = select(ProjectMembership.user_id).where(ProjectMembership.project_id.in_(mine))
    return (
        select(User.id, User.full_name, User.username, User.role)
        .where(User.is_active_flag.is_(True), or_(User.role == EMPLOYEE, User.id.in_(team)))
        .order_by(User.full_name, User.username, User.id)
    )


@lru_cache(maxsize=256)
def _assignable_up_to(role: str, user_id: int, project_id: int | None, limit: int):
    return _assignable_for(role, user_id, project_id).limit(limit)  # built once, remembered


def _people(stmt, rows=None) -> list[Person]:
    from app.core.roles import ROLE_LABELS
    from app.extensions import db

    return [
        Person(user_id, full_name or username, ROLE_LABELS.get(role, ""))
        for user_id, full_name, username, role in (db.session.execute(stmt) if rows is None else rows)
    ]


def people_choices(user, project=None, chosen_id: int | None = None, limit: int | None = None):
    """The task list's people controls (projects.queries.Choices): every assignable person
    when they are at most `limit` (PICKER_LIMIT) — one statement of at most limit + 1 rows,
    cached until the users or memberships are written (core.cached_reads) — else None (a
    picker) with the name of `chosen_id` if they are one of them."""
    from app.auth.models import User
    from app.core.cached_reads import rows_of
    from app.extensions import db
    from app.projects.queries import PICKER_LIMIT, Choices

    limit = PICKER_LIMIT if limit is None else limit
    stmt = _assignable_up_to(user.role, user.id, project.id if project is not None else None, limit + 1)
    rows = _people(stmt, rows_of(stmt, db.session))
    if len(rows) <= limit:
        return Choices(rows)
    chosen = _people(_assignable(user, project).where(User.id == chosen_id)) if chosen_id is not None else []
    return Choices(None, chosen[0].name if chosen else "")


def people_named(ids) -> list[Person]:
    """The people of `ids` (a task form's chosen assignees), by name."""
    from app.auth.models import User

    if not ids:
        return []
    stmt = select(User.id, User.full_name, User.username, User.role).where(User.id.in_(sorted(ids)))
    return _people(stmt.order_by(User.full_name, User.username, User.id))


DEPENDENCY_CHOICES_LIMIT = 300  # a project's tasks a form offers as dependencies (as the board's cards)


def dependency_choices(user, project, task=None) -> list[tuple[int, str]]:
    """The tasks of `project` the user may see that a task may wait for: (id, title) by
    title, the task itself left out (the service refuses loops, naming them)."""
    from app.extensions import db

    stmt = visible_tasks(user, stmt=select(Task.id, Task.title)).where(Task.project_id == project.id)
    if task is not None:
        stmt = stmt.where(Task.id != task.id)
    return [
        tuple(row) for row in db.session.execute(stmt.order_by(Task.title, Task.id).limit(DEPENDENCY_CHOICES_LIMIT))
    ]


def people_options(user, project, typed: str, limit: int | None = None) -> list[Person]:
    """The assignable people whose name or username contains `typed` (any case), at most
    `limit` (OPTIONS_LIMIT): the pickers' suggestions, and what a box sent without a click
    is resolved among (projects.queries.typed_choice)."""
    from app.auth.models import User
    from app.projects.queries import OPTIONS_LIMIT

    stmt = _assignable(user, project).where(contains((User.full_name, User.username), typed))
    return _people(stmt.limit(OPTIONS_LIMIT if limit is None else limit))
