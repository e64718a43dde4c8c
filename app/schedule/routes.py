"""The conflicts panel (/calendar/conflicts, linked from the calendar) and the company
holidays with each person's daily capacity (/calendar/holidays, admins)."""

from __future__ import annotations

from flask import Blueprint, flash, render_template, request, url_for
from flask_login import current_user, login_required

from app.core.errors import ValidationError
from app.core.htmx import redirect_to, render_for
from app.core.numbers import page_number
from app.core.permissions import permission_required
from app.core.transaction import attempt
from app.schedule import services
from app.schedule.models import KIND_LABELS

bp = Blueprint("schedule", __name__)


def item_url(kind: str, item_id: int) -> str:
    if kind == "task":
        return url_for("tasks.detail", task_id=item_id)
    return f"/calendar/events/{item_id}"  # the calendar's event page (app/calendar/views)


@bp.get("/calendar/conflicts")
@login_required
@permission_required("calendar.view")
def panel():
    severity = request.args.get("severity", "")
    status = 200
    try:
        page, groups = services.panel_page(current_user, page_number(request.args.get("page", "1")), severity)
    except ValidationError as exc:
        page, groups, status = None, {}, 422
        flash(exc.fields.get("severity", "Invalid filter."), "error")
    return render_for(
        {"conflict-results": "schedule/_panel.html"},
        "schedule/panel.html",
        status,
        page=page,
        groups=groups,
        severity=severity if status == 200 else "",
        item_url=item_url,
        kind_labels=KIND_LABELS,
    )


def _holidays_page(errors=None, status=200):
    return render_template(
        "schedule/holidays.html",
        holidays=services.holidays(current_user),
        people=services.staff(current_user),
        errors=errors or {},
        form=request.form if request.method == "POST" else {},
    ), status


@bp.get("/calendar/holidays")
@login_required
@permission_required("settings.manage")
def holidays():
    return _holidays_page()


@bp.post("/calendar/holidays")
@login_required
@permission_required("settings.manage")
def add_holiday():
    try:
        with attempt():
            holiday = services.add_holiday(current_user, request.form.get("day", ""), request.form.get("name", ""))
    except ValidationError as exc:
        return _holidays_page(exc.fields, 422)
    flash(f"{holiday.name} added.", "success")
    return redirect_to(url_for("schedule.holidays"))


@bp.post("/calendar/holidays/<int:holiday_id>/delete")
@login_required
@permission_required("settings.manage")
def delete_holiday(holiday_id):
    services.delete_holiday(current_user, holiday_id)
    flash("Holiday removed.", "success")
    return redirect_to(url_for("schedule.holidays"))


@bp.post("/calendar/capacity")
@login_required
@permission_required("settings.manage")
def set_capacity():
    try:
        with attempt():
            person = services.set_capacity(current_user, request.form.get("user_id"), request.form.get("hours", ""))
    except ValidationError as exc:
        return _holidays_page(exc.fields, 422)
    flash(f"{person.name} may now be booked {person.daily_capacity_hours:g} h a day.", "success")
    return redirect_to(url_for("schedule.holidays"))
