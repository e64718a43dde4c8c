"""Conflicts: one person booked on two things at once. Here, tasks whose dates overlap
and that share an assignee, in any project; the schedule issue adds events, daily
capacity, dependencies and illogical dates to the same service.

A conflict never stops a save (the PM may have a reason: a half-day each); it is
flagged on both tasks, on the PM's views and on the person's day.

Only open tasks (pending, in progress, blocked) with both dates book anyone: a task
without dates is not yet scheduled, a finished one frees its people.

The pairs are kept as rows (models.TaskConflict), not worked out per read: "which of
these 50,000 tasks are double-booked" is then an index lookup, where computing it took
a self-join of every booking (~150 ms at 50,000 tasks, and the company list, its count
and the home cards all ask). They cannot go stale: every flush that changes what books
a person — a task's status or dates, an assignee put on or taken off — recomputes that
person's pairs in the same transaction (`_after_flush`, for the ORM; `rebuild` after a
bulk Core insert such as the seed's). Deleting a task deletes its pairs by cascade.
Two transactions recomputing the same person take turns (a PostgreSQL advisory lock
per person, held to commit), so neither computes from a state the other is changing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import cache, lru_cache

from sqlalchemy import and_, delete, event, exists, func, insert, inspect, literal, or_, select, union
from sqlalchemy.orm import Session, object_session

from app.auth.models import User
from app.core.statements import one_of
from app.core.transaction import read_connection
from app.extensions import db
from app.tasks.models import Task, TaskAssignment, TaskConflict, is_open

# What books a person: an assignment of theirs on a task in one of these states with
# both dates. A change to any of these columns of a task re-books its people.
BOOKING_COLUMNS = ("status", "start_date", "due_date")
_LOCK_SPACE = 8_000_101  # pg_advisory_xact_lock(space, user id): one person's pairs


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


def _booked(task):
    return and_(is_open(task), task.start_date.is_not(None), task.due_date.is_not(None))


# --- keeping the pairs -----------------------------------------------------------------


def _pairs_of(user_ids: list[int] | None, task_ids: list[int] | None = None):
    """select (task_id, other_id, user_id) of every double booking of `user_ids` (None:
    everyone) — the rows TaskConflict holds; with `task_ids`, only the pairs one of whose
    two tasks is one of them."""
    booking = (
        select(TaskAssignment.user_id, TaskAssignment.task_id, Task.start_date, Task.due_date)
        .join(Task, Task.id == TaskAssignment.task_id)
        .where(_booked(Task))
    )
    if user_ids is not None:
        booking = booking.where(TaskAssignment.user_id.in_(user_ids))
    if task_ids is not None:
        # the changed tasks' bookings (a few rows) against each of their people's bookings,
        # both ways round; UNION drops the pair found from both ends (two changed tasks)
        # (the people's bookings read once, through their assignments: planned as a join,
        # PostgreSQL walked every open task by due date instead)
        theirs = booking.cte("booking")
        changed = select(theirs).where(theirs.c.task_id.in_(task_ids)).subquery("changed")
        meets = and_(
            theirs.c.user_id == changed.c.user_id,
            theirs.c.task_id != changed.c.task_id,
            theirs.c.start_date <= changed.c.due_date,
            theirs.c.due_date >= changed.c.start_date,
        )
        return union(
            select(changed.c.task_id, theirs.c.task_id, changed.c.user_id).join(theirs, meets),
            select(theirs.c.task_id, changed.c.task_id, changed.c.user_id).join(theirs, meets),
        )
    booking = booking.cte("booking")
    mine, theirs = booking.alias("mine"), booking.alias("theirs")
    return select(mine.c.task_id, theirs.c.task_id, mine.c.user_id).join(
        theirs,
        and_(
            theirs.c.user_id == mine.c.user_id,
            theirs.c.task_id != mine.c.task_id,
            theirs.c.start_date <= mine.c.due_date,
            theirs.c.due_date >= mine.c.start_date,
        ),
    )


def refresh(connection, user_ids: Iterable[int], task_ids: Iterable[int] | None = None) -> None:
    """Recompute the pairs of `user_ids` from the rows as they are now: all of them, or
    with `task_ids` only those involving one of these tasks — the pairs a change to
    those tasks (their dates, status or people) can make or undo; the person's other
    pairs stay as they are (a person booked on 200 tasks: ~12 ms for all of them)."""
    user_ids = sorted({u for u in user_ids if u is not None})
    if not user_ids:
        return
    if connection.dialect.name == "postgresql":
        for user_id in user_ids:  # in id order: two refreshes never wait for each other in a ring
            connection.execute(select(func.pg_advisory_xact_lock(literal(_LOCK_SPACE), literal(user_id))))
    gone = delete(TaskConflict).where(TaskConflict.user_id.in_(user_ids))
    if task_ids is not None:
        task_ids = sorted(set(task_ids))
        gone = gone.where(or_(TaskConflict.task_id.in_(task_ids), TaskConflict.other_id.in_(task_ids)))
    connection.execute(gone)
    connection.execute(
        insert(TaskConflict).from_select(("task_id", "other_id", "user_id"), _pairs_of(user_ids, task_ids))
    )


def rebuild(connection=None) -> int:
    """Every pair from scratch (after a bulk insert that bypassed the ORM: the seed).
    How many rows it made."""
    connection = connection if connection is not None else db.session.connection()
    connection.execute(delete(TaskConflict))
    connection.execute(insert(TaskConflict).from_select(("task_id", "other_id", "user_id"), _pairs_of(None)))
    return connection.execute(select(func.count()).select_from(TaskConflict)).scalar_one()


def _changed(obj, keys) -> bool:
    attrs = inspect(obj).attrs
    return any(attrs[key].history.has_changes() for key in keys)


_REBOOK = "kibray.rebook"  # session.info: (people, tasks) whose bookings this flush changed


def _rebook(target, users=(), tasks=()) -> None:
    """`users` (their pairs involving `tasks`) and `tasks` (all their people's pairs
    involving them) are to be recomputed at the end of the flush."""
    session = object_session(target)
    if session is not None:
        people, changed = session.info.setdefault(_REBOOK, (set(), set()))
        people.update(u for u in users if u is not None)
        changed.update(t for t in tasks if t is not None)


# The mapper's own events see every row the flush writes — an assignee taken off by
# removing it from task.assignments (a delete-orphan, in no pending list) included.
@event.listens_for(TaskAssignment, "after_insert")
@event.listens_for(TaskAssignment, "after_delete")
def _assignment_written(_mapper, _connection, assignment) -> None:
    _rebook(assignment, users=[assignment.user_id], tasks=[assignment.task_id])


@event.listens_for(TaskAssignment, "after_update")
def _assignment_moved(_mapper, _connection, assignment) -> None:
    if _changed(assignment, ("user_id", "task_id")):
        attrs = inspect(assignment).attrs
        _rebook(
            assignment,
            users=[assignment.user_id, *(attrs.user_id.history.deleted or ())],
            tasks=[assignment.task_id, *(attrs.task_id.history.deleted or ())],
        )


@event.listens_for(Task, "after_update")
def _task_written(_mapper, _connection, task) -> None:
    if _changed(task, BOOKING_COLUMNS):
        _rebook(task, tasks=[task.id])
    # (a deleted task's pairs go by cascade, and nobody else's pairs change with it)


@event.listens_for(Session, "after_flush")
def _after_flush(session, _context) -> None:
    """Recompute the pairs of the people whose bookings this flush changed, in the same
    transaction."""
    pending = session.info.pop(_REBOOK, None)
    if not pending:
        return
    users, tasks = pending
    connection = session.connection()
    if tasks:
        users |= set(
            connection.execute(select(TaskAssignment.user_id).where(TaskAssignment.task_id.in_(tasks))).scalars()
        )
    # Every change here is to a task's dates or status or to one person's assignment on a
    # task: only pairs involving those tasks can change (a deleted task's go by cascade).
    refresh(connection, users, tasks)


# --- reading them ----------------------------------------------------------------------


def overlap_condition(task=Task):
    """SQL: `task` (default: Task) shares an assignee with another open task over
    overlapping dates — the filter "with a conflict" of every task list."""
    return exists(select(TaskConflict.task_id).where(TaskConflict.task_id == task.id))


# The conflicts of a page of tasks: one Core statement, built once per dialect (an ORM
# select with aliased entities rebuilt its column proxies and loading setup on every
# call, ~4 ms of a 50-row page).
_MINE, _OTHER = Task.__table__.alias("mine"), Task.__table__.alias("other")


@cache
def _pairs(dialect: str):
    return (
        select(
            TaskConflict.task_id,
            _OTHER.c.id,
            _OTHER.c.title,
            _OTHER.c.project_id,
            TaskConflict.user_id,
            User.full_name,
            User.username,
            _MINE.c.start_date,
            _MINE.c.due_date,
            _OTHER.c.start_date,
            _OTHER.c.due_date,
        )
        .join(_MINE, _MINE.c.id == TaskConflict.task_id)
        .join(_OTHER, _OTHER.c.id == TaskConflict.other_id)
        .join(User, User.id == TaskConflict.user_id)
        .where(one_of(TaskConflict.task_id, "ids", dialect))
        .order_by(TaskConflict.task_id, _OTHER.c.start_date, _OTHER.c.id, TaskConflict.user_id)
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
