"""Bulk actions on a multi-selection of tasks (the PM's list): reassign, shift dates by N
days, change status, delete — all or nothing. Each task goes through the same service
rule as one by one; if any is refused, nothing is saved and the answer says, per task,
which rule refused it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from app.core.errors import ConflictError, ObjectNotFound, ValidationError
from app.core.permissions import PermissionDenied
from app.core.transaction import attempt
from app.tasks import services
from app.tasks.models import STATUS_LABELS, STATUSES, Task

ACTIONS = {
    "reassign": "Reassign to",
    "shift": "Shift dates by (days)",
    "status": "Change status to",
    "delete": "Delete",
}
MAX_SELECTION = 200
MAX_SHIFT = 3650


@dataclass
class BulkResult:
    done: int = 0
    refused: dict[int, str] = field(default_factory=dict)  # task id → why
    titles: dict[int, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.refused


class BulkRefused(Exception):
    def __init__(self, result: BulkResult):
        super().__init__("Nothing was changed: some tasks were refused.")
        self.result = result


def _message(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(exc.fields.values()) if exc.fields else exc.message
    return getattr(exc, "message", str(exc))


def apply(actor, task_ids, action: str, value) -> BulkResult:
    """Run `action` with `value` on every task of `task_ids` the actor may see, all or
    nothing (one savepoint around the whole selection): BulkRefused names each refusal."""
    if action not in ACTIONS:
        raise ValidationError({"action": f"Choose one of: {', '.join(ACTIONS)}."})
    ids = []
    for raw in task_ids or []:
        try:
            ids.append(int(raw))
        except (TypeError, ValueError):
            raise ValidationError({"task_ids": "Select tasks by their ids."}) from None
    ids = list(dict.fromkeys(ids))
    if not ids:
        raise ValidationError({"task_ids": "Select at least one task."})
    if len(ids) > MAX_SELECTION:
        raise ValidationError({"task_ids": f"Select at most {MAX_SELECTION} tasks at once."})
    change = _change(action, value)
    result = BulkResult()
    try:
        with attempt():
            for task_id in ids:
                try:
                    task = services.get_task(actor, task_id, "task.view")
                except (ObjectNotFound, PermissionDenied):
                    result.refused[task_id] = "That task does not exist or you cannot see it."
                    continue
                result.titles[task_id] = task.title
                try:
                    with attempt():
                        change(actor, task)
                    result.done += 1
                except (ValidationError, ConflictError, PermissionDenied) as exc:
                    result.refused[task_id] = _message(exc)
            if result.refused:
                raise BulkRefused(result)
    except BulkRefused:
        result.done = 0
        raise
    return result


def _change(action: str, value):
    if action == "reassign":
        try:
            user_ids = [int(v) for v in (value if isinstance(value, list) else [value]) if str(v).strip()]
        except (TypeError, ValueError):
            raise ValidationError({"value": "Choose who does the tasks."}) from None
        if not user_ids:
            raise ValidationError({"value": "Choose who does the tasks."})
        return lambda actor, task: services.update_task(actor, task, {}, assignee_ids=user_ids, partial=True)
    if action == "shift":
        try:
            days = int(str(value).strip())
        except (TypeError, ValueError):
            raise ValidationError({"value": "Shift by a whole number of days (negative: earlier)."}) from None
        if days == 0 or abs(days) > MAX_SHIFT:
            raise ValidationError({"value": f"Shift by 1 to {MAX_SHIFT} days, forwards or back (e.g. -3)."})
        return lambda actor, task: _shift(actor, task, days)
    if action == "status":
        if value not in STATUSES:
            raise ValidationError({"value": f"Choose a status: {', '.join(STATUS_LABELS.values())}."})
        return lambda actor, task: services.set_status(actor, task, services.Move(value))
    return lambda actor, task: services.delete_task(actor, task)


def _shift(actor, task: Task, days: int) -> None:
    if task.start_date is None and task.due_date is None:
        raise ValidationError({"dates": "It has no dates to shift."})
    moved = {}
    if task.start_date is not None:
        moved["start_date"] = task.start_date + timedelta(days=days)
    if task.due_date is not None:
        moved["due_date"] = task.due_date + timedelta(days=days)
    services.update_task(actor, task, moved, partial=True)


def refusal_lines(result: BulkResult) -> list[str]:
    return [f"{result.titles.get(task_id, f'Task {task_id}')}: {why}" for task_id, why in result.refused.items()]
