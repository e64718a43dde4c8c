"""Tasks: the work of a painting job — the rules of SPEC.md §3 "Tasks and assignments",
the JSON API's /api/tasks/, the task page; the PM's views and the crew's day build on it."""

from flask import Blueprint

from app.core.features import Feature, LiveEvent, PeriodicJob

bp = Blueprint("tasks", __name__)

from app.tasks import models, routes, walk  # noqa: E402,F401
from app.tasks.api import bp as api_bp  # noqa: E402

# Fragments listing tasks refresh on any of these (hx-trigger="kibray:tasks from:body").
_LIST = ("kibray:tasks",)

feature = Feature(
    name="tasks",
    blueprints=(bp,),
    api=(api_bp,),
    live_events=(
        LiveEvent("task-created", dom=_LIST),
        LiveEvent("task-updated", dom=_LIST),
        LiveEvent("task-deleted", dom=_LIST),
    ),
    periodic=(PeriodicJob("task-reminders", "workers.notifications.task_reminders", 3600),),
    notification_kinds=("task_assigned", "task_due_soon", "task_overdue", "task_blocked"),
    audit_refusals={
        "api.tasks.api_create": "add a task",
        "api.tasks.api_update": "change a task",
        "api.tasks.api_progress": "report progress on a task",
        "api.tasks.api_complete": "complete a task",
        "api.tasks.api_delete": "delete a task",
    },
    walk=walk.ROUTES,
)
