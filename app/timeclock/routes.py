"""Time clock and timesheet pages. Thin: parse the form, call one service, render (the
problem inline, nothing saved) or redirect (303)."""

from __future__ import annotations

from flask import flash, make_response, render_template, request, url_for
from flask_login import current_user, login_required

from app.core.errors import ConflictError, ValidationError
from app.core.htmx import redirect_to, wants_fragment
from app.core.permissions import can, permission_required
from app.core.transaction import attempt
from app.core.versioning import StaleObject
from app.timeclock import bp, services
from app.timeclock.queries import today, week_start


def _local_value(value) -> str:
    """A stored time as a datetime-local input holds it (company time, to the minute)."""
    from app.core.timezones import to_company_time

    return to_company_time(value).strftime("%Y-%m-%dT%H:%M") if value else ""


def _helpers() -> dict:
    return {"clock_time": services.clock_time, "local_day": services.local_day, "local_value": _local_value}


# --- the time clock ------------------------------------------------------------------


def _clock_page(errors: dict | None = None, problem: str = "", form=None, status: int = 200):
    user = current_user._get_current_object()
    punch = services.open_punch(user)
    projects = services.punchable_projects(user)
    form = form or {}
    chosen = form.get("project_id") or (str(projects[0].id) if len(projects) == 1 else "")
    chosen_project = next((p for p in projects if str(p.id) == chosen), None)
    monday = week_start(today())
    return make_response(
        render_template(
            "timeclock/index.html",
            punch=punch,
            projects=projects,
            chosen=chosen,
            tasks=services.tasks_for(user, chosen_project),
            task_chosen=form.get("task_id", ""),
            errors=errors or {},
            problem=problem,
            punches=services.my_punches(user, monday),
            monday=monday,
            may_review=services.may_review(user),
            **_helpers(),
        ),
        status,
    )


@bp.get("/timeclock")
@login_required
@permission_required("timeclock.punch")
def index():
    return _clock_page()


@bp.get("/timeclock/tasks")
@login_required
@permission_required("timeclock.punch")
def task_options():
    """The task select for the chosen project (htmx swaps it when the project changes)."""
    user = current_user._get_current_object()
    project = next(
        (p for p in services.punchable_projects(user) if str(p.id) == request.args.get("project_id", "")), None
    )
    return render_template("timeclock/_task_select.html", tasks=services.tasks_for(user, project), task_chosen="")


def _punch_action(do, done: str):
    try:
        with attempt():
            do()
    except ValidationError as exc:
        return _clock_page(errors=exc.fields, problem=exc.message, form=request.form, status=422)
    except ConflictError as exc:
        return _clock_page(problem=exc.message, form=request.form, status=409)
    flash(done, "success")
    return redirect_to(url_for("timeclock.index"))


@bp.post("/timeclock/clock-in")
@login_required
@permission_required("timeclock.punch")
def clock_in():
    form = request.form
    return _punch_action(
        lambda: services.clock_in(
            current_user,
            form.get("project_id"),
            form.get("task_id") or None,
            latitude=form.get("latitude"),
            longitude=form.get("longitude"),
            accuracy=form.get("accuracy"),
            note=form.get("note", ""),
        ),
        "Clocked in.",
    )


@bp.post("/timeclock/clock-out")
@login_required
@permission_required("timeclock.punch")
def clock_out():
    return _punch_action(lambda: services.clock_out(current_user, note=request.form.get("note")), "Clocked out.")


@bp.post("/timeclock/break/start")
@login_required
@permission_required("timeclock.punch")
def break_start():
    return _punch_action(lambda: services.start_break(current_user), "Break started.")


@bp.post("/timeclock/break/end")
@login_required
@permission_required("timeclock.punch")
def break_end():
    return _punch_action(lambda: services.end_break(current_user), "Break ended.")


@bp.get("/timeclock/crew")
@login_required
@permission_required("timesheet.view")
def crew():
    """Who is on site now, on my projects (live: kibray:punches)."""
    services.reviewer_scope(current_user)
    return render_template("timeclock/crew.html", punches=services.crew_now(current_user), **_helpers())


# --- timesheets ----------------------------------------------------------------------


@bp.get("/timesheets")
@login_required
@permission_required("timeclock.punch")
def my_timesheet():
    monday = services.parse_week(request.args.get("week"))
    return render_template(
        "timeclock/timesheet.html", week=services.my_week(current_user, monday), today=today(), **_helpers()
    )


def _review_page(monday, problem: str = "", status: int = 200):
    user = current_user._get_current_object()
    services.reviewer_scope(user)
    week = services.review_week(user, monday)
    return make_response(
        render_template(
            "timeclock/review.html",
            week=week,
            problem=problem,
            may_export=can(user, "timesheet.export"),
            may_add=can(user, "timesheet.approve"),
            labour=services.project_labour(user),
            **_helpers(),
        ),
        status,
    )


@bp.get("/timesheets/review")
@login_required
@permission_required("timesheet.view")
def review():
    return _review_page(services.parse_week(request.args.get("week")))


@bp.get("/timesheets/review/punches")
@login_required
@permission_required("timesheet.view")
def review_punches():
    """The punches behind one row of the review: a fragment when the row is opened, a
    page of its own without JavaScript."""
    args = request.args
    row = services.row_punches(
        current_user._get_current_object(),
        services.parse_week(args.get("week")),
        args.get("user_id"),
        args.get("project_id"),
    )
    template = "timeclock/_review_punches.html" if wants_fragment() else "timeclock/review_punches.html"
    return render_template(template, row=row, **_helpers())


def _review_action(do, done: str):
    monday = services.parse_week(request.form.get("week"))
    try:
        with attempt():
            do(monday)
    except ValidationError as exc:
        message = "; ".join(exc.fields.values()) or exc.message
        return _review_page(monday, problem=message, status=422)
    except ConflictError as exc:
        return _review_page(monday, problem=exc.message, status=409)
    flash(done, "success")
    return redirect_to(url_for("timeclock.review", week=monday.isoformat()))


@bp.post("/timesheets/approve")
@login_required
@permission_required("timesheet.approve")
def approve():
    form = request.form
    return _review_action(
        lambda monday: services.approve(current_user, form.get("user_id"), form.get("project_id"), monday),
        "Timesheet approved.",
    )


@bp.post("/timesheets/approve-all")
@login_required
@permission_required("timesheet.approve")
def approve_all():
    keys = []
    for value in request.form.getlist("row")[:500]:
        user_id, _, project_id = value.partition("-")
        if user_id.isdigit() and project_id.isdigit() and len(value) < 24:
            keys.append((int(user_id), int(project_id)))

    def do(monday):
        done = services.approve_many(current_user, keys, monday)
        flash(f"{len(done)} timesheet{'s' if len(done) != 1 else ''} approved.", "success")

    return _review_action(do, "All shown are approved.")


@bp.post("/timesheets/unapprove")
@login_required
@permission_required("timesheet.approve")
def unapprove():
    form = request.form
    return _review_action(
        lambda monday: services.unapprove(
            current_user, form.get("user_id"), form.get("project_id"), monday, form.get("reason")
        ),
        "Approval withdrawn.",
    )


def _correction_form(punch, form=None, errors=None, problem="", status=200):
    user = current_user._get_current_object()
    return make_response(
        render_template(
            "timeclock/correct.html",
            punch=punch,
            form=form,
            errors=errors or {},
            problem=problem,
            projects=services.approvable_projects(user),
            tasks=services.tasks_for(punch.user, punch.project),
            **_helpers(),
        ),
        status,
    )


@bp.get("/timesheets/punches/<int:punch_id>/correct")
@login_required
@permission_required("timesheet.approve")
def correct(punch_id):
    return _correction_form(services.punch_to_correct(current_user, punch_id))


@bp.post("/timesheets/punches/<int:punch_id>/correct")
@login_required
@permission_required("timesheet.approve")
def correct_save(punch_id):
    punch = services.get_punch(current_user, punch_id)
    form = request.form
    data = {key: form.get(key, "") for key in ("clock_in", "clock_out", "project_id", "task_id", "reason")}
    try:
        with attempt():
            services.correct_punch(current_user, punch, data, version=form.get("version"))
    except ValidationError as exc:
        return _correction_form(punch, form, exc.fields, exc.message, 422)
    except StaleObject as exc:
        return _correction_form(services.get_punch(current_user, punch_id), form, {}, exc.message, 409)
    except ConflictError as exc:
        return _correction_form(punch, form, {}, exc.message, 409)
    flash("Punch corrected.", "success")
    monday = week_start(services.local_day(punch.clock_in))
    return redirect_to(url_for("timeclock.review", week=monday.isoformat()))


def _missed_form(monday, form=None, errors=None, problem="", status=200):
    user = current_user._get_current_object()
    return make_response(
        render_template(
            "timeclock/missed.html",
            monday=monday,
            form=form or {},
            errors=errors or {},
            problem=problem,
            people=services.people_for_missed(user, monday),
            projects=services.approvable_projects(user),
        ),
        status,
    )


@bp.get("/timesheets/missed")
@login_required
@permission_required("timesheet.approve")
def missed():
    return _missed_form(services.parse_week(request.args.get("week")))


@bp.post("/timesheets/missed")
@login_required
@permission_required("timesheet.approve")
def missed_save():
    form = request.form
    monday = services.parse_week(form.get("week"))
    data = {k: form.get(k, "") for k in ("user_id", "project_id", "task_id", "clock_in", "clock_out", "reason")}
    try:
        with attempt():
            punch = services.add_missed_punch(current_user, data)
    except ValidationError as exc:
        return _missed_form(monday, form, exc.fields, exc.message, 422)
    except ConflictError as exc:
        return _missed_form(monday, form, {}, exc.message, 409)
    flash("Punch added.", "success")
    return redirect_to(url_for("timeclock.review", week=week_start(services.local_day(punch.clock_in)).isoformat()))


# --- export --------------------------------------------------------------------------


@bp.get("/timesheets/export.csv")
@login_required
@permission_required("timesheet.export")
def export_csv():
    monday = services.parse_week(request.args.get("week"))
    response = make_response(services.timesheet_csv(current_user, monday))
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="approved-hours-{monday.isoformat()}.csv"'
    return response
