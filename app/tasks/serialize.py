"""The API shape of a task (SPEC.md §5 "Task"), one place for the list and the detail."""

from __future__ import annotations

from datetime import date

from app.tasks.conflicts import Conflict
from app.tasks.models import Task


def _hours(value) -> str | None:
    return None if value is None else f"{value:.2f}"


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def conflict_json(conflict: Conflict) -> dict:
    return {
        "type": conflict.kind,
        # null when the reader may not see the other task (another client's job)
        "task": {"id": conflict.other_id, "name": conflict.other_title} if conflict.other_title is not None else None,
        "user": {"id": conflict.user_id, "name": conflict.user_name},
        "start": conflict.start.isoformat(),
        "end": conflict.end.isoformat(),
        "message": conflict.message,
    }


def task_json(task: Task, conflicts: list[Conflict], today: date) -> dict:
    completed_by = task.completed_by
    return {
        "id": task.id,
        "title": task.title,
        "description": task.description,
        "notes": task.notes,
        "project": {"id": task.project_id, "name": task.project.name},
        "assigned_to": [{"id": a.user_id, "name": a.user.name} for a in task.assignments],
        "status": task.status,
        "priority": task.priority,
        "schedule_weight": task.schedule_weight,
        "progress_percent": task.progress_percent,
        "estimated_hours": _hours(task.estimated_hours),
        "actual_hours": _hours(task.actual_hours),
        "start_date": _day(task.start_date),
        "due_date": _day(task.due_date),
        "is_overdue": task.is_overdue(today),
        "checklist": [{"item": c["item"], "checked": bool(c["checked"])} for c in task.checklist or []],
        "dependencies": task.dependency_ids,
        "is_design": task.is_design,
        "blocked_reason": task.blocked_reason,
        "completed_at": task.completed_at.isoformat() if task.completed_at else None,
        "completed_by": {"id": completed_by.id, "name": completed_by.name} if completed_by else None,
        "completion_notes": task.completion_notes,
        "conflicts": [conflict_json(c) for c in conflicts],
        "version": task.version,
        "created_at": task.created_at.isoformat(),
        "updated_at": task.updated_at.isoformat(),
    }
