"""Daily log pages: a project's logs (newest first, paged), a log, its form (new and
edit, htmx, problems inline, "changed meanwhile" on a stale save), lock and unlock, the
paint-weather hint and the printable PDF. Thin: parse, call the service, render."""

from __future__ import annotations

import datetime as dt

from flask import flash, make_response, render_template, request, url_for
from flask_login import current_user, login_required

from app.core.errors import ConflictError, ValidationError
from app.core.htmx import redirect_to, render_for
from app.core.numbers import page_number
from app.core.permissions import permission_required
from app.core.transaction import attempt
from app.core.versioning import StaleObject, meanwhile
from app.daily_logs import bp, services
from app.daily_logs.models import CONDITIONS, MAX_PAINT_HUMIDITY, MIN_PAINT_TEMPERATURE_F, DailyLog, paint_warning
from app.projects.services import get_project

FIELDS = services.EDITABLE


def _context(log: DailyLog) -> dict:
    client_view = services.for_client(current_user)
    return {
        "log": log,
        "project": log.project,
        "client_view": client_view,
        "crew": [] if client_view else log.crew,
        "hours": services.crew_hours(current_user, log),
        "conditions": CONDITIONS,
        "locked": log.is_locked(services.today()),
        "may_edit": services.may_edit(current_user, log),
        "may_lock": services.may_lock(current_user, log),
        "may_unlock": services.may_unlock(current_user, log),
    }


@bp.get("/projects/<int:project_id>/daily-logs")
@login_required
@permission_required("daily_log.view")
def project_logs(project_id):
    project = get_project(current_user, project_id)
    page = services.project_logs(current_user, project, page_number(request.args.get("page")))
    return render_for(
        {"daily-log-list": "daily_logs/_list.html"},
        "daily_logs/list.html",
        project=project,
        page=page,
        today=services.today(),
        client_view=services.for_client(current_user),
        may_create=services.may_create(current_user, project),
    )


@bp.get("/daily-logs/<int:log_id>")
@login_required
@permission_required("daily_log.view")
def detail(log_id):
    log = services.get_log(current_user, log_id)
    return render_for({"daily-log": "daily_logs/_log.html"}, "daily_logs/detail.html", **_context(log))


@bp.get("/daily-logs/<int:log_id>.pdf")
@login_required
@permission_required("daily_log.view")
def pdf(log_id):
    """The log printed (WeasyPrint): the client's variant for a client."""
    from app.daily_logs.pdf import render_pdf

    log = services.get_log(current_user, log_id)
    html = render_template("daily_logs/print.html", **_context(log))
    response = make_response(render_pdf(html))
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'inline; filename="daily-log-{log.id}-{log.date.isoformat()}.pdf"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- the form ----------------------------------------------------------------------


def _submitted() -> tuple[dict, list[str] | None]:
    form = request.form
    data = {key: form.get(key, "") for key in FIELDS if key != "is_client_visible"}
    data["is_client_visible"] = "is_client_visible" in form
    if "date" in form:
        data["date"] = form.get("date", "")
    crew = form.getlist("crew_ids") if "crew_ids_field" in form else None
    return data, crew


def _shown(log: DailyLog | None, data: dict | None = None) -> dict:
    if data is not None:
        return dict(data)
    values = {key: getattr(log, key) for key in FIELDS}
    for key in ("temperature_f", "humidity"):
        values[key] = "" if values[key] is None else str(values[key])
    return values | {"version": log.version}


def _render(project, log, data, errors, crew_ids, status=200, changed=None):
    chosen = {int(i) for i in crew_ids or () if str(i).isdigit()}
    return render_for(
        {"daily-log-form": "daily_logs/_form.html"},
        "daily_logs/form.html",
        status,
        project=project,
        log=log,
        data=data,
        errors=errors,
        meanwhile=changed,
        chosen=chosen,
        people=[(p.id, p.name) for p in services.crew_choices(current_user, project)],
        conditions=list(CONDITIONS.items()),
        may_backdate=log is None and services.may_backdate(current_user, project),
        today=services.today(),
        warning=_warning(data.get("temperature_f"), data.get("humidity")),
    )


def _warning(temperature, humidity) -> str:
    errors: dict = {}
    temperature = services._whole(temperature, "t", errors, -60, 140, "")
    humidity = services._whole(humidity, "h", errors, 0, 100, "")
    return paint_warning(temperature, humidity)


def _project_for_new(project_id):
    project = get_project(current_user, project_id)
    services.require_create(current_user, project)
    if project.is_closed:
        raise ConflictError(services.CLOSED_MESSAGE)
    return project


@bp.get("/projects/<int:project_id>/daily-logs/new")
@login_required
@permission_required("daily_log.edit")
def new(project_id):
    """The form for today's log (a PM may pick a past day), prefilled with the day's
    punches and the tasks progressed that day; the day's log, if written, is opened."""
    project = _project_for_new(project_id)
    today = services.today()
    day = today
    if services.may_backdate(current_user, project):
        try:
            day = min(today, dt.date.fromisoformat(request.args.get("date", "")))
        except ValueError:
            day = today
    existing = services.log_for(current_user, project, day)
    if existing is not None:
        flash("The log of that day is already written: here it is.", "info")
        return redirect_to(url_for("daily_logs.detail", log_id=existing.id))
    filled = services.prefill(current_user, project, day)
    data = {"date": day.isoformat(), "work_done": filled["work_done"], "is_client_visible": False}
    return _render(project, None, data, {}, filled["crew_ids"])


@bp.post("/projects/<int:project_id>/daily-logs/new")
@login_required
@permission_required("daily_log.edit")
def create(project_id):
    project = get_project(current_user, project_id)
    services.require_create(current_user, project)
    data, crew = _submitted()
    data.setdefault("date", services.today().isoformat())
    try:
        with attempt():
            log = services.create_log(current_user, project, data, crew)
    except services.LogExists as exc:
        flash(f"{exc.message} It is opened instead; nothing new was saved.", "info")
        target = "daily_logs.edit" if services.may_edit(current_user, exc.log) else "daily_logs.detail"
        return redirect_to(url_for(target, log_id=exc.log.id))
    except ValidationError as exc:
        return _render(project, None, data, exc.fields or {"form": exc.message}, crew, 422)
    except ConflictError as exc:  # a closed project
        return _render(project, None, data, {"form": exc.message}, crew, 409)
    flash("Daily log saved.", "success")
    return redirect_to(url_for("daily_logs.detail", log_id=log.id))


def _editable(log_id) -> DailyLog:
    log = services.get_log(current_user, log_id, "daily_log.edit")
    if log.project.is_closed:
        raise ConflictError(services.CLOSED_MESSAGE)
    if log.is_locked(services.today()):
        raise ConflictError(services.LOCKED_MESSAGE)
    return log


@bp.get("/daily-logs/<int:log_id>/edit")
@login_required
@permission_required("daily_log.edit")
def edit(log_id):
    log = _editable(log_id)
    return _render(log.project, log, _shown(log), {}, log.crew_ids)


@bp.post("/daily-logs/<int:log_id>/edit")
@login_required
@permission_required("daily_log.edit")
def update(log_id):
    log = services.get_log(current_user, log_id, "daily_log.edit")
    data, crew = _submitted()
    version = request.form.get("version")
    try:
        with attempt():
            services.update_log(current_user, log, data, crew, partial=False, version=version)
    except ValidationError as exc:
        shown = _shown(log, data) | {"version": version}
        return _render(log.project, log, shown, exc.fields or {"form": exc.message}, crew, 422)
    except StaleObject:
        log = services.get_log(current_user, log_id, "daily_log.edit")
        changed = meanwhile(log, data, [k for k in FIELDS if k != "is_client_visible"])
        shown = _shown(log, data) | {"version": log.version}
        return _render(log.project, log, shown, {}, crew, 409, changed=changed)
    except ConflictError as exc:  # locked meanwhile, a closed project
        shown = _shown(log, data) | {"version": version}
        return _render(log.project, log, shown, {"form": exc.message}, crew, 409)
    flash("Daily log saved.", "success")
    return redirect_to(url_for("daily_logs.detail", log_id=log.id))


@bp.post("/daily-logs/<int:log_id>/lock")
@login_required
@permission_required("daily_log.edit")
def lock(log_id):
    log = services.get_log(current_user, log_id, "daily_log.edit")
    try:
        with attempt():
            services.lock_log(current_user, log, version=request.form.get("version"))
    except ConflictError as exc:
        flash(exc.message, "error")
    else:
        flash("Daily log locked.", "success")
    return redirect_to(url_for("daily_logs.detail", log_id=log_id))


@bp.post("/daily-logs/<int:log_id>/unlock")
@login_required
@permission_required("daily_log.unlock")
def unlock(log_id):
    log = services.get_log(current_user, log_id, "daily_log.unlock")
    try:
        with attempt():
            services.unlock_log(current_user, log, request.form.get("reason"), version=request.form.get("version"))
    except ValidationError as exc:
        flash(" ".join(exc.fields.values()) or exc.message, "error")
    except ConflictError as exc:
        flash(exc.message, "error")
    else:
        flash("Daily log unlocked until the end of today.", "success")
    return redirect_to(url_for("daily_logs.detail", log_id=log_id))


@bp.get("/daily-logs/paint-check")
@login_required
@permission_required("daily_log.edit")
def paint_check():
    """The form's weather hint, redrawn as the temperature or humidity is typed."""
    return render_template(
        "daily_logs/_paint_warning.html",
        warning=_warning(request.args.get("temperature_f"), request.args.get("humidity")),
        min_temperature=MIN_PAINT_TEMPERATURE_F,
        max_humidity=MAX_PAINT_HUMIDITY,
    )
