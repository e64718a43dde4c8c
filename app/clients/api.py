"""/api/clients/: find a client's id (admin and PMs)."""

from __future__ import annotations

from flask import Blueprint, request
from flask_login import current_user
from sqlalchemy import func, or_, select

from app.clients.models import Client
from app.core.api import api_ok, apply_ordering, paginate
from app.core.errors import ObjectNotFound
from app.core.permissions import require
from app.extensions import db

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
        "created_at": client.created_at.isoformat(),
    }


@bp.get("/clients/")
def api_list():
    require(current_user, "client.view")
    stmt = select(Client)
    search = request.args.get("search", "").strip()
    if search:
        term = f"%{search.lower()}%"
        stmt = stmt.where(or_(func.lower(Client.name).like(term), func.lower(Client.email).like(term)))
    stmt = apply_ordering(
        stmt, {"id": Client.id, "name": Client.name, "created_at": Client.created_at}, [Client.name.asc()]
    )
    from sqlalchemy.orm import selectinload

    return paginate(stmt.options(selectinload(Client.contacts)).order_by(Client.id), client_json)


@bp.get("/clients/<int:client_id>/")
def api_detail(client_id):
    require(current_user, "client.view")
    client = db.session.get(Client, client_id)
    if client is None:
        raise ObjectNotFound("That client does not exist.")
    return api_ok(client_json(client))
