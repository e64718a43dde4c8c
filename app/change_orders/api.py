"""/api/change-orders/ (SPEC.md §4–5 "Change order"): list (project_id, status), detail,
create, PUT/PATCH (drafts), DELETE, submit, approve and reject (optional signature_name,
comment; on_behalf_reason when staff record the client's decision). Routes translate
HTTP; the rules are app/change_orders/services.py's."""

from __future__ import annotations

from flask import Blueprint
from flask_login import current_user

from app.change_orders import services
from app.change_orders.models import ChangeOrder
from app.change_orders.schemas import (
    ChangeOrderCreate,
    ChangeOrderOut,
    ChangeOrderQuery,
    ChangeOrderUpdate,
    Decision,
    VersionOnly,
)
from app.change_orders.serialize import change_order_json
from app.core.api import api_ok, conflicts_show, paginate, sent_version, with_etag
from app.core.openapi import operation
from app.core.permissions import require
from app.core.schemas import given, request_body, request_body_or_empty, request_query
from app.core.signatures import signed
from app.files.schemas import Deleted

bp = Blueprint("change_orders", __name__)
BASE = "/change-orders/"


def _one(co: ChangeOrder) -> dict:
    return change_order_json(co, services.for_client(current_user))


def _input(body) -> tuple[dict, list | None]:
    data = given(body, exclude=("project_id", "line_items", "version"))
    return data, None if body.line_items is None else [given(line) for line in body.line_items]


@bp.get(BASE)
@operation("List change orders", returns=ChangeOrderOut, paged=True, query=ChangeOrderQuery)
def api_list():
    query = request_query()
    stmt = services.change_order_list(current_user, query.project_id, query.status)
    client_view = services.for_client(current_user)
    return paginate(stmt, lambda co: change_order_json(co, client_view))


@bp.post(BASE)
@operation("Write a change order (a draft)", body=ChangeOrderCreate, returns=ChangeOrderOut, status=201)
def api_create():
    require(current_user, "change_order.edit")
    body = request_body()
    project = services.project_for_change_order(current_user, body.project_id)
    data, lines = _input(body)
    co = services.create_change_order(current_user, project, data, lines)
    return with_etag(api_ok(_one(co), 201), co)


@bp.get(BASE + "<int:change_order_id>/")
@operation("A change order", returns=ChangeOrderOut, headers={"ETag": 'The version, as "3".'})
def api_detail(change_order_id):
    co = services.get_change_order(current_user, change_order_id)
    return with_etag(api_ok(_one(co)), co)


def _update(change_order_id):
    co = services.get_change_order(current_user, change_order_id, "change_order.edit")
    body = request_body()
    data, lines = _input(body)
    with conflicts_show(_one):
        services.update_change_order(current_user, co, data, lines, version=sent_version(body.version))
    return with_etag(api_ok(_one(co)), co)


@bp.put(BASE + "<int:change_order_id>/")
@operation("Change a draft change order", body=ChangeOrderUpdate, returns=ChangeOrderOut, if_match=True)
def api_put(change_order_id):
    return _update(change_order_id)


@bp.patch(BASE + "<int:change_order_id>/")
@operation("Change some fields of a draft change order", body=ChangeOrderUpdate, returns=ChangeOrderOut, if_match=True)
def api_patch(change_order_id):
    return _update(change_order_id)


@bp.delete(BASE + "<int:change_order_id>/")
@operation("Delete a draft or rejected change order", returns=Deleted)
def api_delete(change_order_id):
    co = services.get_change_order(current_user, change_order_id, "change_order.delete")
    co_id = co.id
    services.delete_change_order(current_user, co)
    return api_ok({"id": co_id, "deleted": True})


@bp.post(BASE + "<int:change_order_id>/submit/")
@operation(
    "Submit a change order",
    body=VersionOnly,
    body_optional=True,
    returns=ChangeOrderOut,
    description="A PM trainee's goes to pending_internal_approval; anyone else's to pending_client.",
)
def api_submit(change_order_id):
    co = services.get_change_order(current_user, change_order_id, "change_order.edit")
    body = request_body_or_empty()
    with conflicts_show(_one):
        services.submit(current_user, co, version=sent_version(body.version))
    return with_etag(api_ok(_one(co)), co)


def _signature(body):
    return signed(body.signature_name)


@bp.post(BASE + "<int:change_order_id>/approve/")
@operation(
    "Approve a change order",
    body=Decision,
    body_optional=True,
    returns=ChangeOrderOut,
    description="On pending_internal_approval: a PM's or admin's approval inside (→ pending_client). On "
    "pending_client: the client's (signature_name required) or a PM's/admin's for the client "
    "(on_behalf_reason required); the project's contract value and budget change by the amount.",
)
def api_approve(change_order_id):
    co = services.get_change_order(current_user, change_order_id, "change_order.approve")
    body = request_body_or_empty()
    with conflicts_show(_one):
        services.approve(current_user, co, _signature(body), body.comment or "", body.on_behalf_reason or "",
                         version=sent_version(body.version))  # fmt: skip
    return with_etag(api_ok(_one(co)), co)


@bp.post(BASE + "<int:change_order_id>/reject/")
@operation("Reject a change order", body=Decision, body_optional=True, returns=ChangeOrderOut)
def api_reject(change_order_id):
    co = services.get_change_order(current_user, change_order_id, "change_order.approve")
    body = request_body_or_empty()
    with conflicts_show(_one):
        services.reject(current_user, co, _signature(body), body.comment or "", body.on_behalf_reason or "",
                        version=sent_version(body.version))  # fmt: skip
    return with_etag(api_ok(_one(co)), co)
