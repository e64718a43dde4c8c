"""/api/financials/pay-applications/ (SPEC.md §5 "Pay application"): list (project_id,
status), create, detail, PUT/PATCH and DELETE of a draft, certify; and
/api/financials/schedule-of-values/{project_id}/ (GET, PUT replacing the set). Routes
translate HTTP; the rules are app/progress_billing/services.py's and schedule.py's."""

from __future__ import annotations

from flask import Blueprint
from flask_login import current_user

from app.core.api import api_ok, conflicts_show, paginate, sent_version, with_etag
from app.core.openapi import operation
from app.core.permissions import require
from app.core.schemas import given, request_body, request_body_or_empty, request_query
from app.files.schemas import Deleted
from app.progress_billing import schedule, services
from app.progress_billing.models import PayApplication
from app.progress_billing.schemas import (
    PayApplicationCreate,
    PayApplicationOut,
    PayApplicationQuery,
    PayApplicationUpdate,
    ScheduleIn,
    ScheduleOut,
    VersionOnly,
)
from app.progress_billing.serialize import pay_application_json, schedule_json

bp = Blueprint("progress_billing", __name__)
BASE = "/financials/pay-applications/"
SOV = "/financials/schedule-of-values/<int:project_id>/"


def _one(app: PayApplication) -> dict:
    return pay_application_json(app, services.for_client(current_user))


def _lines(body) -> list | None:
    return None if body.lines is None else [given(line) for line in body.lines]


@bp.get(BASE)
@operation("List pay applications", returns=PayApplicationOut, paged=True, query=PayApplicationQuery)
def api_list():
    query = request_query()
    stmt = services.pay_application_list(current_user, query.project_id, query.status)
    client_view = services.for_client(current_user)
    return paginate(stmt, lambda app: pay_application_json(app, client_view))


@bp.post(BASE)
@operation("Start a pay application (a draft)", body=PayApplicationCreate, returns=PayApplicationOut, status=201)
def api_create():
    require(current_user, services.EDIT)
    body = request_body()
    project = services.project_for_billing(current_user, body.project_id, services.EDIT)
    data = given(body, exclude=("project_id", "lines", "version"))
    app = services.create_pay_application(current_user, project, data, _lines(body) or [])
    return with_etag(api_ok(_one(app), 201), app)


@bp.get(BASE + "<int:pay_application_id>/")
@operation("A pay application (G702 and G703)", returns=PayApplicationOut, headers={"ETag": 'The version, as "3".'})
def api_detail(pay_application_id):
    app = services.get_pay_application(current_user, pay_application_id)
    return with_etag(api_ok(_one(app)), app)


def _update(pay_application_id):
    app = services.get_pay_application(current_user, pay_application_id, services.EDIT)
    body = request_body()
    data = given(body, exclude=("project_id", "lines", "version"))
    with conflicts_show(_one):
        services.update_pay_application(current_user, app, data, _lines(body), version=sent_version(body.version))
    return with_etag(api_ok(_one(app)), app)


@bp.put(BASE + "<int:pay_application_id>/")
@operation("Change a draft pay application", body=PayApplicationUpdate, returns=PayApplicationOut, if_match=True)
def api_put(pay_application_id):
    return _update(pay_application_id)


@bp.patch(BASE + "<int:pay_application_id>/")
@operation("Change some of a draft pay application", body=PayApplicationUpdate, returns=PayApplicationOut,
           if_match=True)  # fmt: skip
def api_patch(pay_application_id):
    return _update(pay_application_id)


@bp.delete(BASE + "<int:pay_application_id>/")
@operation("Delete a draft pay application", returns=Deleted, if_match=True)
def api_delete(pay_application_id):
    app = services.get_pay_application(current_user, pay_application_id, services.EDIT)
    app_id = app.id
    with conflicts_show(_one):
        services.delete_pay_application(current_user, app, version=sent_version(None))
    return api_ok({"id": app_id, "deleted": True})


@bp.post(BASE + "<int:pay_application_id>/certify/")
@operation(
    "Certify a pay application",
    body=VersionOnly,
    body_optional=True,
    returns=PayApplicationOut,
    description="Takes its PA-YYYY-NNNN number, locks it and makes a draft standard invoice for the current "
    "payment due (invoice_id).",
)
def api_certify(pay_application_id):
    app = services.get_pay_application(current_user, pay_application_id, services.CERTIFY)
    body = request_body_or_empty()
    with conflicts_show(_one):
        services.certify(current_user, app, version=sent_version(body.version))
    return with_etag(api_ok(_one(app)), app)


@bp.get(SOV)
@operation("A project's schedule of values", returns=ScheduleOut)
def api_schedule(project_id):
    require(current_user, services.EDIT)
    project = services.project_for_billing(current_user, project_id, services.EDIT)
    return api_ok(schedule_json(project))


@bp.put(SOV)
@operation(
    "Replace a project's schedule of values",
    body=ScheduleIn,
    returns=ScheduleOut,
    description="Lines without an id are created; lines not sent are removed (archived when a certified "
    "application billed them). `version` is the schedule's (409 when stale).",
)
def api_put_schedule(project_id):
    require(current_user, services.EDIT)
    project = services.project_for_billing(current_user, project_id, services.EDIT)
    body = request_body()
    lines = [given(line) for line in body.lines]
    schedule.save_schedule(current_user, project, lines, version=body.version)
    return api_ok(schedule_json(project))
