"""The Gantt's pages: a project's tasks (/projects/<id>/gantt) and the company's projects
(/calendar/gantt) over a day/week/month scale, and the move of a dragged bar. Thin:
parse, call the queries or the service, render the chart fragment htmx swaps (or the
whole page)."""

from __future__ import annotations

from datetime import date

from flask import make_response, render_template, request
from flask_login import current_user, login_required

from app.core.errors import ValidationError
from app.core.htmx import render_for
from app.core.numbers import page_number, to_int
from app.core.permissions import PermissionDenied, permission_required
from app.core.transaction import attempt
from app.core.versioning import StaleObject, current
from app.gantt import bp, queries, services, svg
from app.gantt.scales import SCALES
from app.projects.services import get_project
from app.tasks.services import get_task


def _day(value) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _chart_context(project, args, message: str = "", error: bool = False) -> dict:
    scale = args.get("scale") if args.get("scale") in SCALES else None
    chart = queries.project_chart(
        current_user,
        project,
        scale,
        _day(args.get("start")),
        movable=services.may_move_in(current_user, project),
    )
    return {
        "project": project,
        "chart": chart,
        "scales": SCALES,
        "message": message,
        "error": error,
        "bar_title": queries.bar_title,
        "fmt": queries.fmt,
        "days": queries.days,
        "shift": args.get("shift_dependants") == "1",
        "svg": svg,
    }


@bp.get("/projects/<int:project_id>/gantt")
@login_required
@permission_required("task.view")
def project(project_id):
    """Whoever sees the project's task list sees its Gantt (the rows are the tasks they
    may see); `scale` and `start` in the URL restore the same view."""
    project = get_project(current_user, project_id)
    context = _chart_context(project, request.args)
    return render_for({"gantt-chart": "gantt/_chart.html"}, "gantt/project.html", **context)


@bp.post("/gantt/tasks/<int:task_id>/move")
@login_required
@permission_required("task.modify")
def move(task_id):
    """A bar dropped on other days: moved through the calendar's service. The chart comes
    back redrawn (the critical path may have changed); a stale version answers 409 with
    the chart as it is now and the reason, a rule 422."""
    task = get_task(current_user, task_id)
    if not services.may_move(current_user, task):
        raise PermissionDenied("Only admins and the project's PMs move tasks on the schedule.")
    project = task.project
    form = request.form
    status, message = 200, ""
    try:
        with attempt():
            moved = services.move(
                current_user,
                task,
                form.get("start_date"),
                form.get("due_date"),
                form.get("version"),
                shift_dependants=form.get("shift_dependants") == "1",
            )
        others = len(moved) - 1 if isinstance(moved, list) else 0
        message = f"Moved “{task.title}”" + (
            f" and {others} task{'s' if others != 1 else ''} after it." if others else "."
        )
    except StaleObject as exc:
        task = current(exc.obj)
        status = 409
        message = f"Someone changed “{task.title}” meanwhile; the chart shows it as it is now. Drag it again."
    except ValidationError as exc:
        status = 422
        message = "; ".join(exc.fields.values()) or exc.message
    context = _chart_context(project, form, message, error=status != 200)
    return make_response(render_template("gantt/_chart.html", **context), status)


@bp.get("/calendar/gantt")
@login_required
@permission_required("calendar.view")
def timeline():
    """The company's active projects as bars, the ones the user may see; 50 a page."""
    pm_id = to_int(request.args.get("pm", ""))
    scale = request.args.get("scale") if request.args.get("scale") in SCALES else None
    try:
        data = queries.timeline(
            current_user, scale, _day(request.args.get("start")), pm_id, page_number(request.args.get("page"))
        )
    except ValidationError as exc:
        return render_for(
            {"timeline-chart": "gantt/_timeline.html"},
            "gantt/timeline.html",
            status=422,
            timeline=None,
            refusal=" ".join(exc.fields.values()),
            pm_id=None,
            pms=None,
            scales=SCALES,
        )
    return render_for(
        {"timeline-chart": "gantt/_timeline.html"},
        "gantt/timeline.html",
        timeline=data,
        refusal="",
        pm_id=pm_id,
        pms=queries.pm_choices(current_user),
        scales=SCALES,
        fmt=queries.fmt,
    )
