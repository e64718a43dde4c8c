"""Client companies: contacts, billing details, their users and projects."""

from flask import Blueprint

from app.core.features import Feature, NavEntry

bp = Blueprint("clients", __name__)

from app.clients import routes, walk  # noqa: E402,F401
from app.clients.api import bp as api_bp  # noqa: E402

feature = Feature(
    name="clients",
    blueprints=(bp,),
    api=(api_bp,),
    nav=(NavEntry("clients", "Clients", "clients.index", permission="client.view", order=20),),
    encrypted_columns=(("clients", "tax_id"),),
    audit_refusals={
        "clients.new": "create a client",
        "clients.edit": "edit a client",
        "clients.add_contact": "add a contact to a client",
    },
    walk=walk.ROUTES,
)
