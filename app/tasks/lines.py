"""A task as a list shows it — a row of the task list: its own columns, its project's
name and its people's names, read as plain rows (a select of columns and one more for
the names), not as ORM objects with their project, client, assignments and users.

At 50 rows a page the ORM's part (building ~250 objects and its per-execution setup of
the joined loads) was two thirds of the list's time; these rows cost a tenth of it
(docs/performance.md, "Tasks at 50,000"). A single row redrawn after an inline edit
is made from the task in hand (`TaskLine.of`), so one template serves both.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache

from sqlalchemy import select

from app.auth.models import User
from app.core.statements import one_of
from app.projects.models import Project
from app.tasks.models import CLOSED_STATUSES, Task, TaskAssignment


@dataclass(frozen=True, slots=True)
class TaskLine:
    id: int
    title: str
    status: str
    priority: str
    start_date: date | None
    due_date: date | None
    progress_percent: int
    version: int
    project_id: int
    project_name: str
    people: tuple[str, ...] = ()  # the assignees' names, in the order they were added

    @property
    def is_closed(self) -> bool:
        return self.status in CLOSED_STATUSES

    def is_overdue(self, today: date) -> bool:
        return self.due_date is not None and self.due_date < today and self.status not in CLOSED_STATUSES

    @classmethod
    def of(cls, task: Task) -> TaskLine:
        """The line of a task already loaded (a row redrawn after its edit)."""
        return cls(
            task.id,
            task.title,
            task.status,
            task.priority,
            task.start_date,
            task.due_date,
            task.progress_percent,
            task.version,
            task.project_id,
            task.project.name,
            tuple(a.user.name for a in task.assignments),
        )


# The columns of a line, in TaskLine's order (people apart); a list's select starts from
# these (queries.task_lines), joined to the project for its name.
COLUMNS = (
    Task.id,
    Task.title,
    Task.status,
    Task.priority,
    Task.start_date,
    Task.due_date,
    Task.progress_percent,
    Task.version,
    Task.project_id,
    Project.name.label("project_name"),
)


def line_select():
    """A select of the lines' columns (the caller adds visibility, filters and order)."""
    return select(*COLUMNS).select_from(Task).join(Project, Project.id == Task.project_id)


@cache
def _people(dialect: str):
    """The people of a page of tasks (parameter `ids`), ordered as each task's own
    assignments are: one Core statement, built once."""
    return (
        select(TaskAssignment.task_id, User.full_name, User.username)
        .join(User, User.id == TaskAssignment.user_id)
        .where(one_of(TaskAssignment.task_id, "ids", dialect))
        .order_by(TaskAssignment.task_id, TaskAssignment.id)
    )


def with_people(rows, connection) -> list[TaskLine]:
    """TaskLines of `rows` (a page of line_select's rows), their people read at once."""
    if not rows:
        return []
    names: dict[int, list[str]] = {}
    for task_id, full_name, username in connection.execute(
        _people(connection.dialect.name), {"ids": [row[0] for row in rows]}
    ):
        names.setdefault(task_id, []).append(full_name or username)
    return [TaskLine(*row, tuple(names.get(row[0], ()))) for row in rows]
