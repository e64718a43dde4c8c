"""Task rules (SPEC.md §3 "Tasks and assignments"), the same for pages and the API.

Every write goes through here: who may do it (core.permissions), what input is valid
(every problem at once, as field errors), and the rules of the work itself —
- due date on or after the start date;
- dependencies within the task's project, never a cycle (the message names it);
- a task others depend on cannot be deleted (the message names them);
- a task cannot start (or finish) while a dependency is unfinished, unless someone who
  runs the project overrides it with a reason, which the audit log keeps;
- completing sets progress to 100 and records who and when; completed and cancelled
  tasks are read-only until someone who runs the project reopens them;
- assignees: any active employee, otherwise members of the project's team;
- the project becomes active at its first task (if a PM runs it), and its progress is
  the schedule-weighted progress of its tasks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from sqlalchemy import func, select, update
from sqlalchemy.orm import defaultload

from app.auth.models import User
from app.core.audit import note_reason
from app.core.dates import parse_date
from app.core.errors import ConflictError, ObjectNotFound, ValidationError
from app.core.events import publish
from app.core.models import utcnow
from app.core.numbers import id_list, to_int
from app.core.permissions import PermissionDenied, can, require, scope_query
from app.core.roles import ADMIN, CLIENT, EMPLOYEE, PM_ROLES
from app.core.text import LONG_TEXT, check_lengths, declare_limits, normalise
from app.core.timezones import company_zone
from app.core.versioning import bump, checks_version, expect_version
from app.extensions import db
from app.notifications.services import notify
from app.projects.models import CLOSED as PROJECT_CLOSED
from app.projects.models import Project, ProjectMembership
from app.tasks.models import (
    BLOCKED,
    CANCELLED,
    CLOSED_STATUSES,
    COMPLETED,
    DEFAULT_WEIGHT,
    IN_PROGRESS,
    NORMAL,
    PENDING,
    PRIORITIES,
    STATUS_LABELS,
    STATUSES,
    Task,
    TaskAssignment,
    TaskDependency,
)

LIMITS = declare_limits(
    "task",
    {
        "title": 200,
        "description": LONG_TEXT,
        "notes": LONG_TEXT,
        "blocked_reason": 2000,
        "completion_notes": LONG_TEXT,
        "reason": 500,
    },
)
CHECKLIST_MAX = 100  # items on one task's checklist
CHECKLIST_ITEM_MAX = 200  # characters of one item
MAX_ASSIGNEES = 50
MAX_DEPENDENCIES = 50
MAX_HOURS = Decimal("9999.99")  # Numeric(7, 2)
HOUR = Decimal("0.01")

# What a PUT or form replaces, and what each kind of editor may change.
EDITABLE = (
    "title",
    "description",
    "notes",
    "priority",
    "start_date",
    "due_date",
    "estimated_hours",
    "actual_hours",
    "progress_percent",
    "schedule_weight",
    "checklist",
    "is_design",
)
# An employee reports progress on their own tasks; nothing else (SPEC.md §2, "O
# (progress only, no reassign)").
PROGRESS_FIELDS = ("progress_percent", "actual_hours", "notes", "checklist")


# --- reading -----------------------------------------------------------------------


def visible_tasks(user, action: str = "task.view", stmt=None):
    """A select of the tasks `user` may see (for `action`): the one visibility rule of
    pages, fragments, the API and exports."""
    return scope_query(stmt if stmt is not None else select(Task), user, action, Task)


# the task's project without its team (Project.memberships is selectin, each member's
# user and company joined): the checks read no team; a caller that does loads it then
_NO_TEAM = (defaultload(Task.project).lazyload(Project.memberships),)


def get_task(user, task_id, action: str = "task.view") -> Task:
    """The task if `user` may see it (404 otherwise, so its existence is not told) and
    may do `action` on it (403)."""
    require(user, "task.view")  # a role that sees no task at all is refused, not told "no such task"
    task_id = to_int(task_id)
    task = db.session.get(Task, task_id, options=_NO_TEAM) if task_id is not None else None
    if task is None or not can(user, "task.view", task):
        raise ObjectNotFound("That task does not exist or you cannot see it.")
    require(user, action, task)
    return task


def runs_project(user, project: Project) -> bool:
    """Does `user` run the project? Whoever may edit it (the matrix's project.edit: an
    admin, a PM or trainee on its team). They override dependencies, cancel and reopen
    tasks."""
    return can(user, "project.edit", project)


# --- input -------------------------------------------------------------------------


def _date(value, field: str, errors: dict) -> date | None:
    return parse_date(value, field, errors, earliest=date(2000, 1, 1), latest=date(2100, 12, 31))


def _hours(value, field: str, errors: dict, allow_empty: bool) -> Decimal | None:
    if value in (None, ""):
        return None if allow_empty else Decimal("0.00")
    if isinstance(value, bool):
        errors[field] = "Enter hours as a number such as 7.5."
        return None
    if isinstance(value, float):
        value = repr(value)
    try:
        hours = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        errors[field] = "Enter hours as a number such as 7.5."
        return None
    if not hours.is_finite():
        errors[field] = "Enter hours as a number such as 7.5."
        return None
    if hours < 0:
        errors[field] = "Hours cannot be negative."
        return None
    if hours > MAX_HOURS:
        errors[field] = "That is more hours than a task can hold (at most 9999.99)."
        return None
    return hours.quantize(HOUR, rounding=ROUND_HALF_UP)


def _percent(value, field: str, errors: dict, label: str) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        errors[field] = f"{label} must be a whole number from 0 to 100."
        return None
    if isinstance(value, int):
        number = value
    else:
        text = str(value).strip()
        if not (text.isascii() and text.lstrip("-").isdigit()) or len(text) > 4:
            errors[field] = f"{label} must be a whole number from 0 to 100."
            return None
        number = int(text)
    if not 0 <= number <= 100:
        errors[field] = f"{label} must be from 0 to 100."
        return None
    return number


def _checklist(value, errors: dict) -> list[dict] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        errors["checklist"] = "Send the checklist as a list of items."
        return None
    if len(value) > CHECKLIST_MAX:
        errors["checklist"] = f"A checklist holds at most {CHECKLIST_MAX} items; this one has {len(value):,}."
        return None
    items = []
    for position, entry in enumerate(value, 1):
        if isinstance(entry, str):
            entry = {"item": entry, "checked": False}
        if not isinstance(entry, dict):
            errors["checklist"] = f"Item {position}: send {{item, checked}}."
            return None
        text = normalise(entry.get("item"))
        checked = entry.get("checked", False)
        if not text:
            errors["checklist"] = f"Item {position} has no text."
            return None
        if len(text) > CHECKLIST_ITEM_MAX:
            errors["checklist"] = f"Item {position} is longer than {CHECKLIST_ITEM_MAX} characters."
            return None
        if not isinstance(checked, bool):
            errors["checklist"] = f"Item {position}: checked must be true or false."
            return None
        items.append({"item": text, "checked": checked})
    return items


def _bool(value, field: str, errors: dict) -> bool | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("1", "true", "on", "yes", "0", "false", "off", "no", ""):
        return value.strip().lower() in ("1", "true", "on", "yes")
    errors[field] = "Must be true or false."
    return None


def clean(data: dict, base: dict | None = None) -> tuple[dict, dict]:
    """Validated field values from raw input (a form or JSON), over `base` (the task's
    current values for an edit). Every problem at once."""
    errors: dict[str, str] = {}
    merged = dict(base or {})
    merged.update({k: v for k, v in data.items() if k in EDITABLE})
    values: dict = {}
    values["title"] = normalise(merged.get("title"))
    if not values["title"]:
        errors["title"] = "Give the task a title."
    for key in ("description", "notes"):
        values[key] = str(merged.get(key) or "").strip()
    check_lengths(values, LIMITS, errors)
    priority = merged.get("priority") or NORMAL
    if priority not in PRIORITIES:
        errors["priority"] = f"Choose one of: {', '.join(PRIORITIES)}."
    values["priority"] = priority
    values["start_date"] = _date(merged.get("start_date"), "start_date", errors)
    values["due_date"] = _date(merged.get("due_date"), "due_date", errors)
    if values["start_date"] and values["due_date"] and values["due_date"] < values["start_date"]:
        errors["due_date"] = "The due date cannot be before the start date."
    values["estimated_hours"] = _hours(merged.get("estimated_hours"), "estimated_hours", errors, allow_empty=True)
    values["actual_hours"] = _hours(merged.get("actual_hours"), "actual_hours", errors, allow_empty=False)
    progress = _percent(merged.get("progress_percent"), "progress_percent", errors, "Progress")
    values["progress_percent"] = 0 if progress is None else progress
    weight = _percent(merged.get("schedule_weight"), "schedule_weight", errors, "The schedule weight")
    values["schedule_weight"] = DEFAULT_WEIGHT if weight is None else weight
    checklist = _checklist(merged.get("checklist"), errors)
    values["checklist"] = checklist if checklist is not None else []
    design = _bool(merged.get("is_design"), "is_design", errors)
    values["is_design"] = bool(design)
    return values, errors


_ids = id_list  # the ids of a form or JSON list (app/core/numbers.py)


def _assignees(project: Project, ids: list[int], errors: dict) -> list[User]:
    """Any active employee; otherwise members of the project's team (SPEC.md §5)."""
    if not ids:
        return []
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))}
    team = {m.user_id for m in project.memberships}
    unknown = [str(i) for i in ids if i not in users]
    if unknown:
        errors["assigned_to_ids"] = f"No such user: {', '.join(unknown)}."
        return []
    refused = []
    for user_id in ids:
        user = users[user_id]
        if not user.is_active:
            refused.append(f"{user.name} (deactivated)")
        elif user.role == CLIENT:
            refused.append(f"{user.name} (a client)")
        elif user.role != EMPLOYEE and user.id not in team:
            refused.append(f"{user.name} (not on this project's team)")
    if refused:
        errors["assigned_to_ids"] = (
            "Assign active employees, or members of the project's team. Not possible: " + "; ".join(refused) + "."
        )
        return []
    return [users[i] for i in ids]


def _dependencies(project: Project, task: Task | None, ids: list[int], errors: dict) -> list[Task]:
    """Tasks of the same project, never the task itself, never a cycle."""
    if not ids:
        return []
    found = {t.id: t for t in db.session.scalars(select(Task).where(Task.id.in_(ids)))}
    bad = [str(i) for i in ids if i not in found or found[i].project_id != project.id]
    if bad:
        errors["dependency_ids"] = f"Dependencies must be tasks of this project. Not possible: {', '.join(bad)}."
        return []
    if task is not None and task.id in found:
        errors["dependency_ids"] = "A task cannot depend on itself."
        return []
    if task is not None:
        cycle = _cycle(task, ids)
        if cycle:
            errors["dependency_ids"] = "That would make a loop: " + " → ".join(cycle) + "."
            return []
    return [found[i] for i in ids]


def _cycle(task: Task, new_dependency_ids: list[int]) -> list[str] | None:
    """If `task` depended on `new_dependency_ids`, would a chain lead back to it? The
    titles along the loop ("Prime walls → Paint walls → Prime walls"), or None."""
    edges: dict[int, list[int]] = {}
    for task_id, depends_on in db.session.execute(
        select(TaskDependency.task_id, TaskDependency.depends_on_id)
        .join(Task, Task.id == TaskDependency.task_id)
        .where(Task.project_id == task.project_id)
    ):
        edges.setdefault(task_id, []).append(depends_on)
    edges[task.id] = list(new_dependency_ids)
    # depth-first from the task along "depends on": reaching the task again is a loop
    path: list[int] = [task.id]
    seen: set[int] = set()

    def walk(node: int) -> list[int] | None:
        for nxt in edges.get(node, ()):
            if nxt == task.id:
                return [*path, task.id]
            if nxt in seen:
                continue
            seen.add(nxt)
            path.append(nxt)
            loop = walk(nxt)
            if loop:
                return loop
            path.pop()
        return None

    loop = walk(task.id)
    if not loop:
        return None
    titles = dict(db.session.execute(select(Task.id, Task.title).where(Task.id.in_(set(loop)))).all())
    # read as "x waits for y": the loop from the task through what it waits for
    return [titles.get(i, str(i)) for i in loop]


# --- events ------------------------------------------------------------------------


def audience(task: Task) -> list[int]:
    """Who hears of `task`: the people of its team and its assignees who may see it (the
    matrix's task.view — a designer design tasks only, an employee their own, never a
    client); admins go by role."""
    from app.core.events import entitled

    team = db.session.scalars(
        select(ProjectMembership.user_id).where(ProjectMembership.project_id == task.project_id)
    ).all()
    return entitled({*team, *task.assignee_ids}, lambda user: can(user, "task.view", task))


def _publish(name: str, task: Task, extra=(), before=None) -> None:
    """`name` for who may see the task now; with `before` (its audience before the
    change), "task-withdrawn" — its id only — for whoever could see it and no longer
    may (an assignee taken off, a designer when it stops being a design task), so their
    My day and lists drop it live instead of keeping a task they can no longer open."""
    people = audience(task)
    publish(
        name,
        {"id": task.id, "project_id": task.project_id, "status": task.status},
        users=[*people, *extra],
        roles=[ADMIN],
    )
    gone = sorted(set(before or ()) - set(people) - set(extra))
    if gone:
        publish("task-withdrawn", {"id": task.id, "project_id": task.project_id}, users=gone, roles=[])


# --- project lifecycle ---------------------------------------------------------------


def refresh_project_progress(project_id: int) -> int:
    """The project's progress: its tasks' progress weighted by schedule weight
    (cancelled tasks left out; all weights 0: a plain average). Written without a new
    version of the project — it is derived, and an open edit form is not stale for it."""
    rows = db.session.execute(
        select(Task.progress_percent, Task.schedule_weight).where(
            Task.project_id == project_id, Task.status != CANCELLED
        )
    ).all()
    if not rows:
        progress = 0
    else:
        weights = sum(w for _, w in rows)
        if weights:
            exact = Decimal(sum(p * w for p, w in rows)) / Decimal(weights)
        else:
            exact = Decimal(sum(p for p, _ in rows)) / Decimal(len(rows))
        progress = int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    db.session.execute(
        update(Project)
        .where(Project.id == project_id, Project.progress_percent != progress)
        .values(progress_percent=progress, updated_at=Project.updated_at)
        .execution_options(synchronize_session=False)
    )
    for obj in db.session.identity_map.values():
        if isinstance(obj, Project) and obj.id == project_id:
            obj.__dict__["progress_percent"] = progress  # what was written, without a new version
    return progress


PROGRESS_INPUTS = ("progress_percent", "schedule_weight", "status")  # what refresh_project_progress reads


def _project_changed(task: Task, progress: bool = True) -> None:
    """A task changed: its project's progress (when `progress`: one of PROGRESS_INPUTS
    may have changed) and its page (planned end, counts) told to who sees it."""
    from app.core.events import publish_project

    if progress:
        refresh_project_progress(task.project_id)
    publish_project("project-updated", task.project)


def _ensure_open_project(project: Project) -> None:
    if project.status == PROJECT_CLOSED:
        raise ConflictError("This project is closed and read-only.")


def _ensure_editable(task: Task) -> None:
    if task.status in CLOSED_STATUSES:
        raise ConflictError(
            f"This task is {STATUS_LABELS[task.status].lower()} and read-only; someone who runs the project can reopen it."
        )


# --- writing -----------------------------------------------------------------------


def may_edit(actor, task: Task) -> bool:
    """May `actor` change more of `task` than progress (its form)? The matrix's task.modify,
    less employees, who report progress only (SPEC.md §2), from My day."""
    return actor.role != EMPLOYEE and can(actor, "task.modify", task)


def require_edit(actor, task: Task) -> None:
    if actor.role == EMPLOYEE:
        raise PermissionDenied("You report progress on your tasks from My day.")
    require(actor, "task.modify", task)


def may_create(actor, project: Project) -> bool:
    """May `actor` add tasks to `project` (the matrix's task.create)?"""
    return can(actor, "task.create", _ProjectTask(project))


def add_photo(actor, task: Task, data: bytes, caption: str = ""):
    """A photo from the site on the task (the crew's camera, a completion photo): whoever
    may work on the task, while its project is open. It joins the project's gallery
    (app/photos), internal until approved for the client."""
    from app.photos import services as photos

    require(actor, "task.modify", task)
    _ensure_open_project(task.project)
    try:
        return photos.add(actor, task.project, data, task=task, caption=caption)
    except ValidationError as exc:  # the task's forms call the field "photo"
        if exc.fields and "file" in exc.fields:
            raise ValidationError({"photo": exc.fields["file"]}) from None
        raise


def attachments_of(task: Task) -> list:
    """The task's files, oldest first (its page lists them; each is read through
    the authorising route)."""
    from app.tasks.models import TaskAttachment

    return db.session.scalars(
        select(TaskAttachment).where(TaskAttachment.task_id == task.id).order_by(TaskAttachment.id)
    ).all()


def attachment_of(task: Task, attachment_id) -> object:
    """One of the task's files (404 when it is not one of them)."""
    from app.tasks.models import TaskAttachment

    found = db.session.get(TaskAttachment, to_int(attachment_id)) if to_int(attachment_id) is not None else None
    if found is None or found.task_id != task.id:
        raise ObjectNotFound("That file does not exist.")
    return found


def require_create(actor, project: Project) -> None:
    """Refuse (403) unless `actor` may add tasks to `project`."""
    if not may_create(actor, project):
        raise PermissionDenied("You cannot add tasks to this project.")


def create_task(actor, project: Project, data: dict, assignee_ids=None, dependency_ids=None) -> Task:
    require_create(actor, project)
    _ensure_open_project(project)
    values, errors = clean(data)
    people = _ids(assignee_ids, "assigned_to_ids", errors, MAX_ASSIGNEES) or []
    needs = _ids(dependency_ids, "dependency_ids", errors, MAX_DEPENDENCIES) or []
    assignees = _assignees(project, people, errors)
    dependencies = _dependencies(project, None, needs, errors)
    if errors:
        raise ValidationError(errors)
    task = Task(project=project, status=PENDING, created_by_id=actor.id, **values)
    db.session.add(task)
    db.session.flush()
    for user in assignees:
        _assign(actor, task, user)
    for dependency in dependencies:
        db.session.add(TaskDependency(task=task, depends_on_id=dependency.id))
    db.session.flush()
    from app.projects.services import schedule_started

    schedule_started(project)  # the first task makes a project with a PM active
    _publish("task-created", task)
    _project_changed(task)
    return task


def project_for_new_task(actor, project_id) -> Project:
    """The project a new task goes to, named by id in a request body: one the actor may
    see, or a field error (its existence is not told)."""
    require(actor, "task.create")
    if project_id is None:
        raise ValidationError({"project_id": "This field is required."})
    project = db.session.get(Project, project_id)
    if project is None or not can(actor, "project.view", project):
        raise ValidationError({"project_id": "That project does not exist or you cannot see it."})
    return project


class _ProjectTask:
    """A task not yet made, for asking can(actor, "task.create", …) of a project: the
    A scope needs its project, the D scope says design tasks only."""

    __scope__ = Task.__scope__

    def __init__(self, project: Project):
        self.project_id = project.id
        self.project = project
        self.is_design = False
        self.assignee_ids: set[int] = set()


def _assign(actor, task: Task, user: User) -> None:
    db.session.add(TaskAssignment(task=task, user_id=user.id))
    db.session.flush()
    notify(
        user,
        "task_assigned",
        f"You were given the task {task.title} ({task.project.name})",
        "tasks.detail",
        {"task_id": task.id},
        project_id=task.project_id,
        actor=actor,
    )


@checks_version("task")
def update_task(
    actor,
    task: Task,
    data: dict,
    assignee_ids=None,
    dependency_ids=None,
    partial: bool = False,
    fields: tuple = EDITABLE,
    version=None,
) -> Task:
    """Edit a task. `partial` (PATCH, inline edits) changes the fields sent; otherwise
    (a form, PUT) every field in `fields` is replaced, omitted ones emptied. Assignees
    and dependencies change only when sent."""
    require(actor, "task.modify", task)
    _ensure_open_project(task.project)
    _ensure_editable(task)
    expect_version(task, version)
    incoming = {k: v for k, v in data.items() if k in EDITABLE}
    if actor.role == EMPLOYEE:
        others = sorted(k for k in incoming if k not in PROGRESS_FIELDS)
        if others or assignee_ids is not None or dependency_ids is not None:
            raise PermissionDenied(
                "You can report progress, hours, notes and the checklist on your tasks; nothing else."
            )
    elif assignee_ids is not None and not can(actor, "task.reassign", task):
        raise PermissionDenied("Your role cannot change who does a task.")
    base = {key: getattr(task, key) for key in EDITABLE}
    if not partial:
        base.update(dict.fromkeys(fields))
    values, errors = clean(incoming, base)
    if "is_design" in incoming and actor.role == "designer" and not values["is_design"]:
        errors["is_design"] = "A designer works on design tasks only."
    people = _ids(assignee_ids, "assigned_to_ids", errors, MAX_ASSIGNEES)
    needs = _ids(dependency_ids, "dependency_ids", errors, MAX_DEPENDENCIES)
    assignees = _assignees(task.project, people, errors) if people is not None else None
    dependencies = _dependencies(task.project, task, needs, errors) if needs is not None else None
    if errors:
        raise ValidationError(errors)
    # who sees a task hangs on its assignees (O) and on is_design (D): who saw it before?
    sight = assignees is not None or ("is_design" in incoming and values.get("is_design") != task.is_design)
    before = audience(task) if sight else None
    changed = set(incoming) if partial else set(incoming) | set(fields)
    # the project's progress follows its tasks' progress, weights and statuses only (a
    # move of dates leaves it as it is: not recomputed)
    progress_moves = False
    for key in changed:
        if key in values and getattr(task, key) != values[key]:
            setattr(task, key, values[key])
            progress_moves = progress_moves or key in PROGRESS_INPUTS
    if assignees is not None and {u.id for u in assignees} != task.assignee_ids:
        _set_assignees(actor, task, assignees)
    if dependencies is not None and {d.id for d in dependencies} != set(task.dependency_ids):
        bump(task)
        for link in list(task.dependency_links):
            if link.depends_on_id not in {d.id for d in dependencies}:
                task.dependency_links.remove(link)
        for dependency in dependencies:
            if dependency.id not in task.dependency_ids:
                task.dependency_links.append(TaskDependency(depends_on_id=dependency.id))
    if "progress_percent" in incoming and task.status == PENDING and values["progress_percent"] > 0:
        _start(actor, task, reason=None)
        progress_moves = True
    db.session.flush()
    _publish("task-updated", task, before=before)
    _project_changed(task, progress=progress_moves)
    return task


def _set_assignees(actor, task: Task, assignees: list[User]) -> None:
    bump(task)
    wanted = {u.id for u in assignees}
    for assignment in list(task.assignments):
        if assignment.user_id not in wanted:
            task.assignments.remove(assignment)
    db.session.flush()
    current = task.assignee_ids
    for user in assignees:
        if user.id not in current:
            _assign(actor, task, user)
    db.session.expire(task, ["assignments"])


def unfinished_dependencies(task: Task) -> list[Task]:
    return [link.depends_on for link in task.dependency_links if link.depends_on.status != COMPLETED]


def _dependency_gate(actor, task: Task, reason: str | None, doing: str) -> None:
    """Refuse to start or finish `task` while a dependency is unfinished — unless the
    actor runs the project and gives a reason (kept in the task's audit entry)."""
    waiting = unfinished_dependencies(task)
    if not waiting:
        return
    names = ", ".join(f"“{t.title}” ({STATUS_LABELS[t.status].lower()})" for t in waiting)
    reason = " ".join(str(reason or "").split())
    if not runs_project(actor, task.project):
        raise ConflictError(f"“{task.title}” cannot be {doing} yet: it waits for {names}.")
    if not reason:
        raise ValidationError(
            {"reason": f"It waits for {names}. To {doing.split()[0]} it anyway, say why (the audit log keeps it)."},
            f"“{task.title}” waits for {names}.",
        )
    if len(reason) > LIMITS["reason"]:
        raise ValidationError({"reason": "Keep the reason under 500 characters."})
    note_reason(
        task, f"started before {names}: {reason}" if doing == "started" else f"{doing} before {names}: {reason}"
    )


def _start(actor, task: Task, reason: str | None) -> None:
    _dependency_gate(actor, task, reason, "started")
    task.status = IN_PROGRESS
    task.blocked_reason = ""


@dataclass(frozen=True)
class Move:
    """A status change asked for by the board, a button or the API."""

    status: str
    reason: str | None = None  # override (start before a dependency), blocker, or reopening
    notes: str | None = None  # completion notes, when the move completes the task


@checks_version("task")
def set_status(actor, task: Task, move: Move, version=None) -> Task:
    """Move a task to another status through the rules (the board's drop, My day's
    buttons, the API's PATCH of `status`)."""
    if move.status not in STATUSES:
        raise ValidationError({"status": f"Choose one of: {', '.join(STATUSES)}."})
    expect_version(task, version)
    _ensure_open_project(task.project)
    if move.status == task.status:
        return task
    if task.status in CLOSED_STATUSES:
        return reopen_task(actor, task, move)
    if move.status == COMPLETED:
        return complete_task(actor, task, notes=move.notes, override=move.reason)
    require(actor, "task.modify", task)
    if move.status == IN_PROGRESS:
        _start(actor, task, move.reason)
    elif move.status == BLOCKED:
        report_blocker(actor, task, move.reason, _flush=False)
    elif move.status == CANCELLED:
        if not runs_project(actor, task.project) and not can(actor, "task.create", task):
            raise PermissionDenied("Your role cannot cancel tasks.")
        if actor.role == EMPLOYEE:
            raise PermissionDenied("Your role cannot cancel tasks.")
        task.status = CANCELLED
    elif move.status == PENDING:
        task.status = PENDING
    db.session.flush()
    _publish("task-updated", task)
    _project_changed(task)
    return task


def report_blocker(actor, task: Task, reason, _flush: bool = True) -> Task:
    """Status `blocked` with the reason; the project's PMs are told."""
    require(actor, "task.modify", task)
    _ensure_editable(task)
    reason = " ".join(str(reason or "").split())
    if not reason:
        raise ValidationError({"reason": "Say what blocks the task, so the PM can act on it."})
    if len(reason) > LIMITS["blocked_reason"]:
        raise ValidationError({"reason": "Keep it under 2,000 characters."})
    task.status = BLOCKED
    task.blocked_reason = reason
    for member in task.project.memberships:
        if member.user.role in PM_ROLES and member.user.is_active:
            notify(
                member.user,
                "task_blocked",
                f"Blocked: {task.title} ({task.project.name}) — {reason}"[:200],
                "tasks.detail",
                {"task_id": task.id},
                body=reason,
                project_id=task.project_id,
                actor=actor,
            )
    if _flush:
        db.session.flush()
        _publish("task-updated", task)
        _project_changed(task)
    return task


@checks_version("task")
def complete_task(actor, task: Task, notes=None, override=None, version=None) -> Task:
    """Done: progress 100, who and when recorded, completion notes kept."""
    require(actor, "task.complete", task)
    _ensure_open_project(task.project)
    _ensure_editable(task)
    expect_version(task, version)
    notes = str(notes or "").strip()
    if len(notes) > LIMITS["completion_notes"]:
        raise ValidationError({"completion_notes": "Keep the notes under 10,000 characters."})
    _dependency_gate(actor, task, override, "completed")
    task.status = COMPLETED
    task.progress_percent = 100
    task.completed_at = utcnow()
    task.completed_by_id = actor.id
    task.completion_notes = notes
    task.blocked_reason = ""
    db.session.flush()
    _publish("task-updated", task)
    _project_changed(task)
    return task


def reopen_task(actor, task: Task, move: Move) -> Task:
    """A completed or cancelled task back to work: someone who runs the project, with a reason."""
    if not runs_project(actor, task.project):
        raise PermissionDenied("Only someone who runs the project can reopen a finished task.")
    if move.status in CLOSED_STATUSES:
        raise ValidationError({"status": "Reopen it as to do, in progress or blocked."})
    reason = " ".join(str(move.reason or "").split())
    if not reason:
        raise ValidationError({"reason": "Say why the task is reopened."})
    if len(reason) > LIMITS["reason"]:
        raise ValidationError({"reason": "Keep the reason under 500 characters."})
    note_reason(task, f"reopened: {reason}")
    task.completed_at = None
    task.completed_by_id = None
    if move.status == IN_PROGRESS:
        task.status = PENDING  # through the gate like any start
        _start(actor, task, None)
    elif move.status == BLOCKED:
        task.status = PENDING
        report_blocker(actor, task, reason, _flush=False)
    else:
        task.status = PENDING
    if task.progress_percent == 100:
        task.progress_percent = 90  # not done any more; the PM sets the real figure
    db.session.flush()
    _publish("task-updated", task)
    _project_changed(task)
    return task


@checks_version("task")
def report_progress(actor, task: Task, data: dict, version=None) -> Task:
    """A crew member's update: progress, hours, notes (the API's PATCH …/progress/)."""
    require(actor, "task.modify", task)
    expect_version(task, version)
    incoming = {k: data[k] for k in ("progress_percent", "actual_hours", "notes") if k in data and data[k] is not None}
    if not incoming:
        raise ValidationError({"progress_percent": "Send progress_percent, actual_hours or notes."})
    return update_task(actor, task, incoming, partial=True)


@checks_version("task")
def delete_task(actor, task: Task, version=None) -> None:
    require(actor, "task.delete", task)
    _ensure_open_project(task.project)
    expect_version(task, version)
    dependents = db.session.scalars(
        select(Task.title)
        .join(TaskDependency, TaskDependency.task_id == Task.id)
        .where(TaskDependency.depends_on_id == task.id)
        .order_by(Task.title)
    ).all()
    if dependents:
        names = ", ".join(f"“{t}”" for t in dependents)
        raise ConflictError(
            f"{names} {'depends' if len(dependents) == 1 else 'depend'} on “{task.title}”: "
            "remove that dependency first, or cancel the task instead."
        )
    people = audience(task)
    project, task_id = task.project, task.id
    db.session.delete(task)
    db.session.flush()
    publish("task-deleted", {"id": task_id, "project_id": project.id}, users=people, roles=[ADMIN])
    refresh_project_progress(project.id)
    from app.core.events import publish_project

    publish_project("project-updated", project)


def counts_by_status(project_id: int) -> dict[str, int]:
    rows = db.session.execute(
        select(Task.status, func.count()).where(Task.project_id == project_id).group_by(Task.status)
    ).all()
    return dict.fromkeys(STATUSES, 0) | dict(rows)


def today() -> date:
    """Today in the company's time zone (what "overdue" and "due soon" count from)."""
    return datetime.now(company_zone()).date()


@checks_version("task")
def tick(actor, task: Task, position: int, version=None) -> Task:
    """Tick (or untick) item `position` (from 1) of the checklist."""
    items = [dict(item) for item in task.checklist or []]
    if not 1 <= position <= len(items):
        raise ValidationError({"checklist": "That checklist item does not exist (any more)."})
    items[position - 1]["checked"] = not items[position - 1]["checked"]
    return update_task(actor, task, {"checklist": items}, partial=True, version=version)


@checks_version("task")
def add_note(actor, task: Task, text, version=None) -> Task:
    """A dated line added to the task's notes, signed by its author."""
    text = " ".join(str(text or "").split())
    if not text:
        raise ValidationError({"note": "Write the note first."})
    if len(text) > 2000:
        raise ValidationError({"note": "Keep a note under 2,000 characters."})
    line = f"{today().isoformat()} {actor.name}: {text}"
    notes = f"{task.notes}\n{line}".strip() if task.notes else line
    if len(notes) > LIMITS["notes"]:
        raise ValidationError({"note": "The task's notes are full; ask the PM to tidy them."})
    return update_task(actor, task, {"notes": notes}, partial=True, version=version)
