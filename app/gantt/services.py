"""The Gantt's one write: a task's bar dragged to other days (moved, or resized by its
right edge). It goes through the calendar's move service (app.calendar.services.move_task:
the same as the calendar's drag and the API — who may move, the version check, the
task's rules, conflicts and live events); nothing of its own but who is offered the drag."""

from __future__ import annotations

from app.calendar import services as calendar
from app.core.permissions import can


def may_move(user, task) -> bool:
    """Admins and the project's PMs and trainees (calendar.move_event) who may edit the
    task (app.calendar.services.may_move)."""
    return calendar.may_move(user, task)


def may_move_in(user, project) -> bool:
    """Does the chart offer dragging at all (the bars of open tasks of an open project)?
    The move itself asks may_move of the task."""
    return not project.is_closed and can(user, "calendar.move_event", project) and can(user, "task.modify", project)


def move(actor, task, start_date, due_date, version, shift_dependants: bool = False) -> list:
    """Move `task` to [start_date, due_date] (ISO strings or dates); with
    `shift_dependants`, the open tasks waiting on it (transitively) move by as many days.
    Returns the tasks moved, the task first. Raises PermissionDenied, ObjectNotFound,
    ValidationError, StaleObject (core.versioning)."""
    return calendar.move_task(actor, task, start_date, due_date, version, shift_dependants=shift_dependants)
