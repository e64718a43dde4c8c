"""/api/clients/: find a client's id (admin and PMs)."""

from __future__ import annotations

from flask import Blueprint
from flask_login import current_user

from app.clients import services
from app.clients.models import Client
from app.clients.schemas import ClientOut, ClientQuery
from app.core.api import api_ok, ordering_clauses, paginate, with_etag
from app.core.openapi import operation
from app.core.permissions import require
from app.core.schemas import request_query

# Under the one /api blueprint (app/api): /api/clients/…
bp = Blueprint("clients", __name__)


def client_json(client: Client) -> dict:
    return {
        "id": client.id,
        "name": client.name,
        "email": client.email,
        "phone": client.phone,
        "billing_address": {
            "address": client.billing_address,
            "city": client.billing_city,
            "state": client.billing_state,
            "zip": client.billing_zip,
        },
        "contacts": [
            {
                "id": c.id,
                "name": c.name,
                "title": c.title,
                "email": c.email,
                "phone": c.phone,
                "is_primary": c.is_primary,
            }
            for c in client.contacts
        ],
        "version": client.version,
        "created_at": client.created_at.isoformat(),
    }


@bp.get("/clients/")
@operation("List clients", returns=ClientOut, paged=True, query=ClientQuery)
def api_list():
    require(current_user, "client.view")
    query = request_query()
    order = ordering_clauses(services.SORTS, [Client.name.asc()])
    return paginate(services.search_clients(current_user, query.search or "", order), client_json)


@bp.get("/clients/<int:client_id>/")
@operation("A client", returns=ClientOut, headers={"ETag": 'The version, as "3".'})
def api_detail(client_id):
    client = services.get_client(current_user, client_id)
    return with_etag(api_ok(client_json(client)), client)
