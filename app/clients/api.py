"""/api/clients/: list and find clients, create and update them (admin and PMs)."""

from __future__ import annotations

from contextlib import contextmanager

from flask import Blueprint, request
from flask_login import current_user

from app.clients import services
from app.clients.models import Client
from app.clients.schemas import ClientCreate, ClientDetailOut, ClientOut, ClientPatch, ClientPut, ClientQuery
from app.core.api import api_ok, conflicts_show, ordering_clauses, paginate, sent_version, with_etag
from app.core.errors import ValidationError
from app.core.openapi import operation
from app.core.permissions import can, require
from app.core.schemas import given, request_body, request_query

# Under the one /api blueprint (app/api): /api/clients/…
bp = Blueprint("clients", __name__)

_ADDRESS = {"address": "billing_address", "city": "billing_city", "state": "billing_state", "zip": "billing_zip"}


def client_json(client: Client) -> dict:
    """A client as the list shows it: never its tax ID."""
    return {
        "id": client.id,
        "name": client.name,
        "email": client.email,
        "phone": client.phone,
        "billing_address": {key: getattr(client, column) for key, column in _ADDRESS.items()},
        "payment_terms": client.payment_terms,
        "contacts": [
            {
                "id": c.id,
                "name": c.name,
                "title": c.title,
                "email": c.email,
                "phone": c.phone,
                "is_primary": c.is_primary,
                "roles": c.role_list,
                "version": c.version,
            }
            for c in sorted(client.contacts, key=lambda c: c.id)
        ],
        "version": client.version,
        "created_at": client.created_at.isoformat(),
    }


def detail_json(client: Client) -> dict:
    """The detail adds, for roles that edit clients, the masked tax ID. The notes stay on
    the page (internal; the API never carried them)."""
    masked = services.mask_tax_id(client.tax_id) if can(current_user, "client.edit") else None
    return client_json(client) | {"tax_id_masked": masked}


_FIELD_NAMES = {column: f"billing_address.{key}" for key, column in _ADDRESS.items()}


@contextmanager
def _api_field_names():
    """The service's field errors under the names the API takes (`billing_address.city`)."""
    try:
        yield
    except ValidationError as exc:
        exc.fields = {_FIELD_NAMES.get(key, key): message for key, message in exc.fields.items()}
        raise


def _input(body) -> dict:
    data = given(body, exclude=("billing_address", "version"))
    if body.billing_address is not None:
        data.update({_ADDRESS[key]: value for key, value in given(body.billing_address).items()})
    return data


@bp.get("/clients/")
@operation("List clients", returns=ClientOut, paged=True, query=ClientQuery)
def api_list():
    require(current_user, "client.view")
    query = request_query()
    order = ordering_clauses(services.SORTS, [Client.name.asc()])
    return paginate(services.search_clients(current_user, query.search or "", order), client_json)


@bp.post("/clients/")
@operation("Create a client", body=ClientCreate, returns=ClientDetailOut, status=201)
def api_create():
    require(current_user, "client.edit")
    with _api_field_names():
        client = services.create_client(current_user, _input(request_body()))
    return with_etag(api_ok(detail_json(services.get_client(current_user, client.id)), 201), client)


@bp.get("/clients/<int:client_id>/")
@operation("A client", returns=ClientDetailOut, headers={"ETag": 'The version, as "3".'})
def api_detail(client_id):
    client = services.get_client(current_user, client_id)
    return with_etag(api_ok(detail_json(client)), client)


@bp.route("/clients/<int:client_id>/", methods=["PUT", "PATCH"])
@operation(
    "Replace (PUT) or change (PATCH) a client",
    body=ClientPut,
    patch=ClientPatch,
    returns=ClientDetailOut,
    if_match=True,
    description="Send `version` (or If-Match) to refuse the write if the client changed meanwhile (409 with it).",
)
def api_update(client_id):
    require(current_user, "client.edit")
    client = services.get_client(current_user, client_id)
    body = request_body()
    data = _input(body)
    if request.method == "PATCH":
        data = services.current_values(client) | data
    elif "name" not in data:
        raise ValidationError({"name": "This field is required."})
    with conflicts_show(detail_json), _api_field_names():
        services.update_client(current_user, client, data, version=sent_version(body.version))
    return with_etag(api_ok(detail_json(client)), client)
