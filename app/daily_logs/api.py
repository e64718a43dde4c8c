"""/api/daily-logs/: list (project_id, date_from, date_to; pagination), detail, create,
PATCH (SPEC.md §4–5 "Daily log"). Routes translate HTTP; the rules and reads are the
service's (app/daily_logs/services.py). A second log for a project and day answers 409
CONFLICT with the existing log's id in `error.details`."""

from __future__ import annotations

from flask import Blueprint
from flask_login import current_user

from app.core.api import api_ok, conflicts_show, paginate, sent_version, with_etag
from app.core.openapi import operation
from app.core.permissions import require
from app.core.schemas import given, request_body, request_query
from app.daily_logs import services
from app.daily_logs.models import DailyLog
from app.daily_logs.schemas import DailyLogCreate, DailyLogOut, DailyLogPatch, DailyLogQuery
from app.daily_logs.serialize import log_json

bp = Blueprint("daily_logs", __name__)


def _one(log: DailyLog) -> dict:
    return log_json(log, services.for_client(current_user), services.today())


def _input(body) -> dict:
    data = given(body, exclude=("project_id", "date", "crew_ids", "weather", "version"))
    if body.weather is not None:
        weather = given(body.weather)
        if "conditions" in weather:
            data["weather_conditions"] = weather["conditions"]
        for key in ("temperature_f", "humidity"):
            if key in weather:
                data[key] = weather[key]
    return data


@bp.get("/daily-logs/")
@operation("List daily logs", returns=DailyLogOut, paged=True, query=DailyLogQuery)
def api_list():
    require(current_user, "daily_log.view")
    query = request_query()
    stmt = services.log_list(current_user, query.project_id, query.date_from, query.date_to)
    client_view, today = services.for_client(current_user), services.today()
    return paginate(stmt, lambda log: log_json(log, client_view, today))


@bp.post("/daily-logs/")
@operation(
    "Write a project's daily log",
    body=DailyLogCreate,
    returns=DailyLogOut,
    status=201,
    description="Without crew_ids the crew is that day's punches; without work_done, the tasks progressed that day.",
)
def api_create():
    require(current_user, "daily_log.edit")
    body = request_body()
    project = services.project_for_new_log(current_user, body.project_id)
    data = _input(body) | {"date": body.date}
    log = services.create_log(current_user, project, data, body.crew_ids)
    return with_etag(api_ok(_one(log), 201), log)


@bp.get("/daily-logs/<int:log_id>/")
@operation("A daily log", returns=DailyLogOut, headers={"ETag": 'The version, as "3".'})
def api_detail(log_id):
    log = services.get_log(current_user, log_id)
    return with_etag(api_ok(_one(log)), log)


@bp.patch("/daily-logs/<int:log_id>/")
@operation(
    "Change a daily log",
    body=DailyLogPatch,
    returns=DailyLogOut,
    if_match=True,
    description="Only while the log is open (its day, or unlocked). Send `version` (or If-Match) to refuse a stale write.",
)
def api_update(log_id):
    log = services.get_log(current_user, log_id, "daily_log.edit")
    body = request_body()
    with conflicts_show(_one):
        services.update_log(current_user, log, _input(body), body.crew_ids, version=sent_version(body.version))
    return with_etag(api_ok(_one(log)), log)
