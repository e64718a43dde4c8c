"""/api/timeclock/: clock in, clock out, breaks and the punches one may see (SPEC.md §5
"Punch"). Routes translate HTTP; the rules are app/timeclock/services.py's."""

from __future__ import annotations

import datetime

from flask import Blueprint
from flask_login import current_user

from app.core.api import api_ok, paginate
from app.core.openapi import operation
from app.core.schemas import request_body, request_body_or_empty, request_query
from app.timeclock import services
from app.timeclock.models import Punch
from app.timeclock.schemas import ClockInInput, ClockOutInput, PunchOut, PunchQuery

bp = Blueprint("timeclock", __name__)


def _time(value: datetime.datetime | None) -> str | None:
    return value.astimezone(datetime.UTC).isoformat() if value is not None else None


def punch_json(punch: Punch, now=None) -> dict:
    hours = punch.hours if punch.hours is not None else punch.worked_hours(now)
    return {
        "id": punch.id,
        "user": {"id": punch.user.id, "name": punch.user.name},
        "project": {"id": punch.project.id, "name": punch.project.name},
        "task_id": punch.task_id,
        "clock_in": _time(punch.clock_in),
        "clock_out": _time(punch.clock_out),
        "hours": f"{hours:.2f}",
        "latitude": f"{punch.latitude:f}" if punch.latitude is not None else None,
        "longitude": f"{punch.longitude:f}" if punch.longitude is not None else None,
        "on_break": punch.open_break is not None,
        "needs_review": punch.needs_review,
        "auto_closed": punch.auto_closed,
        "approved": punch.approval_id is not None,
        "version": punch.version,
    }


@bp.post("/timeclock/clock-in/")
@operation(
    "Clock in",
    body=ClockInInput,
    returns=PunchOut,
    status=201,
    description="Starts your punch now (server time). Refused while you are clocked in (409), on a closed "
    "project (409), or on a project you are not on (400).",
)
def api_clock_in():
    body = request_body()
    punch = services.clock_in(
        current_user,
        body.project_id,
        body.task_id,
        latitude=body.latitude,
        longitude=body.longitude,
        accuracy=body.accuracy,
        note=body.note or "",
    )
    return api_ok(punch_json(punch), 201)


def _optional_body() -> ClockOutInput:
    """No body is fine; one that is sent must be the documented object."""
    return request_body_or_empty()


@bp.post("/timeclock/clock-out/")
@operation(
    "Clock out",
    body=ClockOutInput,
    body_optional=True,
    returns=PunchOut,
    description="Ends your open punch now (a running break ends with it); 409 when you are not clocked in.",
)
def api_clock_out():
    body = _optional_body()
    return api_ok(punch_json(services.clock_out(current_user, note=body.note)))


@bp.post("/timeclock/break/start/")
@operation("Start a break", body=ClockOutInput, body_optional=True, returns=PunchOut)
def api_break_start():
    _optional_body()
    return api_ok(punch_json(services.start_break(current_user)))


@bp.post("/timeclock/break/end/")
@operation("End the break", body=ClockOutInput, body_optional=True, returns=PunchOut)
def api_break_end():
    _optional_body()
    return api_ok(punch_json(services.end_break(current_user)))


@bp.get("/timeclock/punches/")
@operation(
    "List punches",
    returns=PunchOut,
    paged=True,
    query=PunchQuery,
    description="Newest first. Employees and designers see their own; superintendents, PMs and trainees "
    "also their projects'; admins all.",
)
def api_punches():
    query = request_query()
    filters = services.PunchFilters(query.user_id, query.project_id, query.date_from, query.date_to)
    stmt = services.punch_list(current_user, filters)
    now = services.utcnow()
    return paginate(stmt, serialize_page=lambda punches: [punch_json(p, now) for p in punches])
