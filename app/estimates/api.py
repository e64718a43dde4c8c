"""/api/estimates/ (SPEC.md §4–5 "Estimate"): list (client_id, status), detail, create,
PUT/PATCH (drafts), DELETE, send (emails the review link), approve (answers the
estimate with its new `project`) and decline. Routes translate HTTP; the rules are
app/estimates/services.py's."""

from __future__ import annotations

from flask import Blueprint
from flask_login import current_user

from app.core.api import api_ok, conflicts_show, paginate, sent_version, with_etag
from app.core.errors import ValidationError
from app.core.openapi import operation
from app.core.permissions import require
from app.core.schemas import given, request_body, request_body_or_empty, request_query
from app.core.signatures import signed
from app.estimates import services
from app.estimates.models import Estimate
from app.estimates.schemas import (
    Approve,
    Decline,
    EstimateCreate,
    EstimateOut,
    EstimateQuery,
    EstimateUpdate,
    VersionOnly,
)
from app.estimates.serialize import estimate_json
from app.files.schemas import Deleted

bp = Blueprint("estimates", __name__)
BASE = "/estimates/"


def _one(estimate: Estimate) -> dict:
    return estimate_json(estimate, services.for_client(current_user))


def _input(body) -> tuple[dict, list | None]:
    data = given(body, exclude=("client_id", "lines", "version"))
    return data, None if body.lines is None else [given(line) for line in body.lines]


@bp.get(BASE)
@operation("List estimates", returns=EstimateOut, paged=True, query=EstimateQuery)
def api_list():
    query = request_query()
    stmt = services.estimate_list(current_user, query.client_id, query.status)
    client_view = services.for_client(current_user)
    return paginate(stmt, lambda estimate: estimate_json(estimate, client_view))


@bp.post(BASE)
@operation("Write an estimate (a draft)", body=EstimateCreate, returns=EstimateOut, status=201)
def api_create():
    require(current_user, "estimate.edit")
    body = request_body()
    client = services.client_for_estimate(current_user, body.client_id)
    data, lines = _input(body)
    estimate = services.create_estimate(current_user, client, data, lines)
    return with_etag(api_ok(_one(estimate), 201), estimate)


@bp.get(BASE + "<int:estimate_id>/")
@operation("An estimate", returns=EstimateOut, headers={"ETag": 'The version, as "3".'})
def api_detail(estimate_id):
    estimate = services.get_estimate(current_user, estimate_id)
    return with_etag(api_ok(_one(estimate)), estimate)


def _update(estimate_id):
    estimate = services.get_estimate(current_user, estimate_id, "estimate.edit")
    body = request_body()
    data, lines = _input(body)
    with conflicts_show(_one):
        services.update_estimate(current_user, estimate, data, lines, version=sent_version(body.version))
    return with_etag(api_ok(_one(estimate)), estimate)


@bp.put(BASE + "<int:estimate_id>/")
@operation("Change a draft estimate", body=EstimateUpdate, returns=EstimateOut, if_match=True)
def api_put(estimate_id):
    return _update(estimate_id)


@bp.patch(BASE + "<int:estimate_id>/")
@operation("Change some fields of a draft estimate", body=EstimateUpdate, returns=EstimateOut, if_match=True)
def api_patch(estimate_id):
    return _update(estimate_id)


@bp.delete(BASE + "<int:estimate_id>/")
@operation("Delete an estimate (never an approved one)", returns=Deleted)
def api_delete(estimate_id):
    estimate = services.get_estimate(current_user, estimate_id, "estimate.delete")
    estimate_id = estimate.id
    services.delete_estimate(current_user, estimate)
    return api_ok({"id": estimate_id, "deleted": True})


@bp.post(BASE + "<int:estimate_id>/send/")
@operation(
    "Send an estimate",
    body=VersionOnly,
    body_optional=True,
    returns=EstimateOut,
    description="Status sent; a new review link (valid 30 days, the previous one stops working) is emailed "
    "with the PDF to the client's billing contact by a worker.",
)
def api_send(estimate_id):
    estimate = services.get_estimate(current_user, estimate_id, "estimate.send")
    body = request_body_or_empty()
    with conflicts_show(_one):
        services.send_estimate(current_user, estimate, version=sent_version(body.version))
    return with_etag(api_ok(_one(estimate)), estimate)


def _signature(name) -> services.Signature:
    return signed(name)


def _selected(estimate: Estimate, indexes) -> list[int] | None:
    if indexes is None:
        return None
    if any(i >= len(estimate.lines) or not estimate.lines[i].is_optional for i in indexes):
        raise ValidationError({"selected_lines": "Name optional lines by their index in lines."})
    return [estimate.lines[i].id for i in indexes]


@bp.post(BASE + "<int:estimate_id>/approve/")
@operation(
    "Approve an estimate",
    body=Approve,
    body_optional=True,
    returns=EstimateOut,
    description="The client's approval (signature_name required) or a PM's/admin's for the client "
    "(on_behalf_reason required). It converts the estimate into a project (answered as `project`) with a "
    "task per chosen line; a second approval is 409, an expired or declined estimate cannot be approved.",
)
def api_approve(estimate_id):
    estimate = services.get_estimate(current_user, estimate_id, "estimate.approve")
    body = request_body_or_empty()
    with conflicts_show(_one):
        services.approve(current_user, estimate, _signature(body.signature_name), body.on_behalf_reason or "",
                         _selected(estimate, body.selected_lines), version=sent_version(body.version))  # fmt: skip
    return with_etag(api_ok(_one(estimate)), estimate)


@bp.post(BASE + "<int:estimate_id>/decline/")
@operation("Decline an estimate", body=Decline, body_optional=True, returns=EstimateOut)
def api_decline(estimate_id):
    estimate = services.get_estimate(current_user, estimate_id, "estimate.approve")
    body = request_body_or_empty()
    with conflicts_show(_one):
        services.decline(current_user, estimate, body.decline_reason or "", _signature(body.signature_name),
                         body.on_behalf_reason or "", version=sent_version(body.version))  # fmt: skip
    return with_etag(api_ok(_one(estimate)), estimate)
