"""Task pages. Thin: parse, call one service, render."""

from __future__ import annotations

from flask import render_template
from flask_login import current_user, login_required

from app.core.permissions import permission_required
from app.tasks import bp, services
from app.tasks.conflicts import conflicts_for
from app.tasks.models import PRIORITY_LABELS, STATUS_LABELS


@bp.get("/tasks/<int:task_id>")
@login_required
@permission_required("task.view")
def detail(task_id):
    task = services.get_task(current_user, task_id)
    return render_template(
        "tasks/detail.html",
        task=task,
        conflicts=conflicts_for([task.id]).get(task.id, []),
        waiting=services.unfinished_dependencies(task),
        today=services.today(),
        status_labels=STATUS_LABELS,
        priority_labels=PRIORITY_LABELS,
    )
