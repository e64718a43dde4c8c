"""Conflicts: one person booked on two things at once. Here, tasks whose dates overlap
and that share an assignee, in any project; the schedule issue adds events, daily
capacity, dependencies and illogical dates to the same service.

A conflict never stops a save (the PM may have a reason: a half-day each); it is
flagged on both tasks, on the PM's views and on the person's day. It is computed from
the rows, not stored, so it can never go stale: a task's dates, status or people change
and the flag follows at the next read.

Only open tasks (pending, in progress, blocked) with both dates book anyone: a task
without dates is not yet scheduled, a finished one frees its people.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import aliased

from app.auth.models import User
from app.extensions import db
from app.tasks.models import OPEN_STATUSES, Task, TaskAssignment


@dataclass(frozen=True)
class Conflict:
    """`user` is booked on `task_id` and on `other_id` over overlapping days."""

    kind: str  # "double_booking"
    task_id: int
    other_id: int
    other_title: str
    other_project_id: int
    user_id: int
    user_name: str
    start: date
    end: date

    @property
    def message(self) -> str:
        days = self.start.isoformat() if self.start == self.end else f"{self.start.isoformat()}–{self.end.isoformat()}"
        return f"{self.user_name} is also booked on “{self.other_title}” ({days})."


def _booked(task):
    return and_(task.status.in_(OPEN_STATUSES), task.start_date.is_not(None), task.due_date.is_not(None))


def overlap_condition(task=Task):
    """SQL: `task` (default: Task) shares an assignee with another open task over
    overlapping dates — the filter "with a conflict" of every task list."""
    mine, theirs = aliased(TaskAssignment), aliased(TaskAssignment)
    other = aliased(Task)
    return and_(
        _booked(task),
        exists(
            select(mine.id)
            .join(theirs, and_(theirs.user_id == mine.user_id, theirs.task_id != mine.task_id))
            .join(other, other.id == theirs.task_id)
            .where(
                mine.task_id == task.id,
                _booked(other),
                other.start_date <= task.due_date,
                other.due_date >= task.start_date,
            )
        ),
    )


def conflicts_for(task_ids) -> dict[int, list[Conflict]]:
    """The conflicts of each of `task_ids` (one query for a page of tasks)."""
    task_ids = sorted(set(task_ids))
    if not task_ids:
        return {}
    mine_task, other = aliased(Task), aliased(Task)
    mine, theirs = aliased(TaskAssignment), aliased(TaskAssignment)
    rows = db.session.execute(
        select(
            mine.task_id,
            other.id,
            other.title,
            other.project_id,
            mine.user_id,
            User.full_name,
            User.username,
            mine_task.start_date,
            mine_task.due_date,
            other.start_date,
            other.due_date,
        )
        .join(mine_task, mine_task.id == mine.task_id)
        .join(theirs, and_(theirs.user_id == mine.user_id, theirs.task_id != mine.task_id))
        .join(other, other.id == theirs.task_id)
        .join(User, User.id == mine.user_id)
        .where(
            mine.task_id.in_(task_ids),
            _booked(mine_task),
            _booked(other),
            other.start_date <= mine_task.due_date,
            other.due_date >= mine_task.start_date,
        )
        .order_by(mine.task_id, other.start_date, other.id, mine.user_id)
    ).all()
    found: dict[int, list[Conflict]] = {}
    for task_id, other_id, title, project_id, user_id, full_name, username, s1, e1, s2, e2 in rows:
        found.setdefault(task_id, []).append(
            Conflict(
                kind="double_booking",
                task_id=task_id,
                other_id=other_id,
                other_title=title,
                other_project_id=project_id,
                user_id=user_id,
                user_name=full_name or username,
                start=max(s1, s2),
                end=min(e1, e2),
            )
        )
    return found


def conflicting_task_ids(task_ids) -> set[int]:
    return set(conflicts_for(task_ids))
