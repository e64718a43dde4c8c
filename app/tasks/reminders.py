"""The hourly reminders of tasks: "due soon" (due tomorrow) to the people on the task,
"overdue" (past due, not finished) to them and to the project's PMs — each person once
per task, condition and due date. The `task_reminders` row is inserted first (ON
CONFLICT DO NOTHING) and the notification sent only when the insert was new, so two
workers at once, or a rerun after a restart, never repeat a reminder; a new due date is
a new condition."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.auth.models import User
from app.core.roles import PM_ROLES
from app.extensions import db
from app.notifications.models import Reminder
from app.notifications.services import notify
from app.projects.models import ProjectMembership
from app.tasks.models import OPEN_STATUSES, Task
from app.tasks.services import today


def _first_time(task_id: int, user_id: int, condition: str) -> bool:
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = (
        insert(Reminder)
        .values(task_id=task_id, user_id=user_id, condition=condition)
        .on_conflict_do_nothing(index_elements=["task_id", "user_id", "condition"])
        .returning(Reminder.id)
    )
    return db.session.execute(stmt).first() is not None


def _people(task: Task, with_pms: bool) -> list[User]:
    people = {a.user_id: a.user for a in task.assignments if a.user.is_active}
    if with_pms:
        for member in db.session.scalars(
            select(ProjectMembership).where(ProjectMembership.project_id == task.project_id)
        ):
            if member.user.role in PM_ROLES and member.user.is_active:
                people.setdefault(member.user_id, member.user)
    return list(people.values())


def remind() -> int:
    """Send what is due now; the number of notifications sent."""
    day = today()
    sent = 0
    soon = db.session.scalars(
        select(Task).where(Task.status.in_(OPEN_STATUSES), Task.due_date == day + timedelta(days=1))
    ).all()
    late = db.session.scalars(select(Task).where(Task.status.in_(OPEN_STATUSES), Task.due_date < day)).all()
    for kind, tasks, with_pms in (("task_due_soon", soon, False), ("task_overdue", late, True)):
        for task in tasks:
            condition = f"{kind.removeprefix('task_')}:{task.due_date.isoformat()}"
            for person in _people(task, with_pms):
                if not _first_time(task.id, person.id, condition):
                    continue
                title = (
                    f"Due tomorrow: {task.title} ({task.project.name})"
                    if kind == "task_due_soon"
                    else f"Overdue since {task.due_date.isoformat()}: {task.title} ({task.project.name})"
                )
                notify(person, kind, title, "tasks.detail", {"task_id": task.id}, project_id=task.project_id)
                sent += 1
    return sent
