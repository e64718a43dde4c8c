"""Tasks: the work of a painting job — the rules of SPEC.md §3 "Tasks and assignments",
the JSON API's /api/tasks/, the task page; the PM's views and the crew's day build on it."""

from flask import Blueprint

from app.core.features import Feature, LiveEvent, NavEntry, PeriodicJob, Widget
from app.core.roles import EMPLOYEE

bp = Blueprint("tasks", __name__)

from app.tasks import form_routes, home_routes, list_routes, models, routes, walk, widgets  # noqa: E402,F401
from app.tasks.api import bp as api_bp  # noqa: E402

# Fragments listing tasks refresh on any of these (hx-trigger="kibray:tasks from:body").
_LIST = ("kibray:tasks",)


def _my_day(user) -> dict:
    from app.tasks import queries

    return {"day": queries.my_day(user), **routes.labels()}


feature = Feature(
    name="tasks",
    blueprints=(bp,),
    api=(api_bp,),
    nav=(
        NavEntry("my-day", "My day", "tasks.my_day", permission="task.view", order=5, active=("tasks.my_day",)),
        NavEntry("tasks", "Tasks", "tasks.index", permission="task.create", order=12, active=("tasks.index",)),
    ),
    widgets=(
        Widget("tasks/_my_day_widget.html", order=5, roles=(EMPLOYEE,)),
        # Each role's tasks card, fetched as a fragment that redraws live (tasks/home_routes.py).
        Widget("tasks/_home_crews_widget.html", order=5, permission="task.view", roles=widgets.CREW_ROLES),
        Widget("tasks/_home_attention_widget.html", order=5, permission="task.view", roles=widgets.PROJECT_ROLES),
        Widget("tasks/_home_company_widget.html", order=5, permission="task.view", roles=widgets.COMPANY_ROLES),
    ),
    live_events=(
        LiveEvent("task-created", dom=_LIST),
        LiveEvent("task-updated", dom=_LIST),
        LiveEvent("task-deleted", dom=_LIST),
        LiveEvent("task-withdrawn", dom=_LIST),  # to whoever may no longer see it (services._publish)
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
    walk_skip=(
        "/tasks/<int:task_id>/checklist/<int:position>",  # needs a checklist (tests/test_my_day.py)
        "/tasks/bulk",  # per-task refusals answer 422 (tests/test_task_views.py)
    ),
)
