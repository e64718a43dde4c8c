"""Reads of tasks: the one list statement behind the project's Tasks tab, the board, the
company-wide page, "My day" and /api/tasks/ — each viewer's visibility applied by
services.visible_tasks (core.permissions.scope_query)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import case, exists, select

from app.core.errors import ValidationError
from app.core.search import contains
from app.tasks.conflicts import overlap_condition
from app.tasks.models import CLOSED_STATUSES, STATUSES, Task, TaskAssignment
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


def task_list(user, filters: TaskFilters, action: str = "task.view"):
    """A select of the tasks `user` may see, filtered and ordered."""
    stmt = visible_tasks(user, action)
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
        stmt = stmt.where(Task.status.not_in(CLOSED_STATUSES))
    elif filters.status in STATUSES:
        stmt = stmt.where(Task.status == filters.status)
    if filters.due_from is not None:
        stmt = stmt.where(Task.due_date >= filters.due_from)
    if filters.due_to is not None:
        stmt = stmt.where(Task.due_date <= filters.due_to)
    if filters.overdue is not None:
        late = (Task.due_date < today()) & Task.status.not_in(CLOSED_STATUSES)
        stmt = stmt.where(late if filters.overdue else ~late | Task.due_date.is_(None))
    if filters.conflict is not None:
        stmt = stmt.where(overlap_condition() if filters.conflict else ~overlap_condition())
    if filters.search:
        stmt = stmt.where(contains((Task.title,), filters.search))
    order = [
        (ORDERINGS[name].desc() if desc else ORDERINGS[name].asc()).nulls_last() for name, desc in filters.ordering
    ]
    return stmt.order_by(*order, Task.id)
