"""Conflicts: one person booked on two things at once. Here, tasks whose dates overlap
and that share an assignee, in any project — the tasks' side of the schedule's
conflicts (app/schedule/engine.py adds events, daily capacity, dependencies and
illogical dates).

A conflict never stops a save (the PM may have a reason: a half-day each); it is
flagged on both tasks, on the PM's views and on the person's day.

Only open tasks (pending, in progress, blocked) with both dates book anyone: a task
without dates is not yet scheduled, a finished one frees its people.

The pairs are rows, not worked out per read: "which of these 50,000 tasks are
double-booked" is then an index lookup, where computing it took a self-join of every
booking (~150 ms at 50,000 tasks, and the company list, its count and the home cards
all ask). They are the schedule's rows of kind double_booking whose other item is a
task (schedule_conflicts.task_id / other_task_id, one row each way per person), kept by
the one conflict engine in the same flush as any change that can alter them (until
migration 0025 this module kept a table of its own, task_conflicts, beside it: every
task move recomputed the same pairs twice).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache, lru_cache

from sqlalchemy import and_, exists, literal, select

from app.auth.models import User
from app.core.statements import one_of
from app.core.transaction import read_connection
from app.extensions import db
from app.schedule import engine  # noqa: F401 - its flush hooks keep the rows read here
from app.schedule.models import ScheduleConflict
from app.tasks.models import Task

DOUBLE_BOOKING = "double_booking"


@dataclass(frozen=True)
class Conflict:
    """`user` is booked on `task_id` and on `other_id` over overlapping days."""

    kind: str  # "double_booking"
    task_id: int
    other_id: int
    other_title: str | None  # None: the reader may not see the other task (its project is not theirs)
    other_project_id: int | None
    user_id: int
    user_name: str
    start: date
    end: date

    @property
    def message(self) -> str:
        days = self.start.isoformat() if self.start == self.end else f"{self.start.isoformat()}–{self.end.isoformat()}"
        if self.other_title is None:
            return f"{self.user_name} is also booked on another job ({days})."
        return f"{self.user_name} is also booked on “{self.other_title}” ({days})."


def _task_pair(row=ScheduleConflict):
    """SQL: the schedule row is a double booking of a task with another task."""
    return and_(row.kind == DOUBLE_BOOKING, row.task_id.is_not(None), row.other_task_id.is_not(None))


# --- reading them ----------------------------------------------------------------------


def overlap_condition(task=Task):
    """SQL: `task` (default: Task) shares an assignee with another open task over
    overlapping dates — the filter "with a conflict" of every task list."""
    return exists(select(ScheduleConflict.id).where(ScheduleConflict.task_id == task.id, _task_pair()))


# The conflicts of a page of tasks: one Core statement, built once per dialect (an ORM
# select with aliased entities rebuilt its column proxies and loading setup on every
# call, ~4 ms of a 50-row page).
_MINE, _OTHER = Task.__table__.alias("mine"), Task.__table__.alias("other")


@cache
def _pairs(dialect: str):
    return (
        select(
            ScheduleConflict.task_id,
            _OTHER.c.id,
            _OTHER.c.title,
            _OTHER.c.project_id,
            ScheduleConflict.user_id,
            User.full_name,
            User.username,
            _MINE.c.start_date,
            _MINE.c.due_date,
            _OTHER.c.start_date,
            _OTHER.c.due_date,
        )
        .join(_MINE, _MINE.c.id == ScheduleConflict.task_id)
        .join(_OTHER, _OTHER.c.id == ScheduleConflict.other_task_id)
        .join(User, User.id == ScheduleConflict.user_id)
        .where(one_of(ScheduleConflict.task_id, "ids", dialect), _task_pair())
        .order_by(ScheduleConflict.task_id, _OTHER.c.start_date, _OTHER.c.id, ScheduleConflict.user_id)
    )


@lru_cache(maxsize=256)
def _pairs_seen_by(viewer, dialect: str):
    """_pairs with a last column: may `viewer` (a permissions.Viewer, or None) see the
    other task (tasks.services.visible_tasks, the one rule) — asked in the same
    statement, built once per viewer."""
    from app.core.permissions import ALL, scope_of
    from app.tasks.services import visible_tasks

    if viewer is None:
        seen = literal(False)
    elif scope_of(viewer, "task.view") == ALL:
        seen = literal(True)
    else:
        seen = exists(visible_tasks(viewer, stmt=select(Task.id)).where(Task.id == _OTHER.c.id))
    return _pairs(dialect).add_columns(seen.label("seen"))


def conflicts_for(task_ids, viewer=None) -> dict[int, list[Conflict]]:
    """The conflicts of each of `task_ids` (one query for a page of tasks). The other
    task is named only to a `viewer` who may see it: to anyone else (or with no viewer)
    it is "another job", as it may be another client's."""
    from app.core.permissions import Viewer

    task_ids = sorted(set(task_ids))
    if not task_ids:
        return {}
    connection = read_connection(db.session)
    stmt = _pairs_seen_by(Viewer.of(viewer) if viewer is not None else None, connection.dialect.name)
    found: dict[int, list[Conflict]] = {}
    for task_id, other_id, title, project_id, user_id, full_name, username, s1, e1, s2, e2, shown in connection.execute(
        stmt, {"ids": task_ids}
    ):
        found.setdefault(task_id, []).append(
            Conflict(
                kind="double_booking",
                task_id=task_id,
                other_id=other_id,
                other_title=title if shown else None,
                other_project_id=project_id if shown else None,
                user_id=user_id,
                user_name=full_name or username,
                start=max(s1, s2),
                end=min(e1, e2),
            )
        )
    return found
