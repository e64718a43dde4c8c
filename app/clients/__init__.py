"""Client companies: contacts, billing details, the communication log, their users (by
invitation) and projects."""

from flask import Blueprint

from app.core.features import Feature, NavEntry, PeriodicJob

bp = Blueprint("clients", __name__)

from app.clients import routes, walk  # noqa: E402,F401
from app.clients.api import bp as api_bp  # noqa: E402

feature = Feature(
    name="clients",
    blueprints=(bp,),
    api=(api_bp,),
    nav=(NavEntry("clients", "Clients", "clients.index", permission="client.view", order=20),),
    encrypted_columns=(("clients", "tax_id"),),
    periodic=(PeriodicJob("client-follow-ups", "workers.clients.follow_up_reminders", 3600),),
    notification_kinds=("client_follow_up",),
    audit_refusals={
        "clients.new": "create a client",
        "clients.edit": "edit a client",
        "clients.add_contact": "add a contact to a client",
        "clients.edit_contact": "edit a client's contact",
        "clients.primary_contact": "change a client's primary contact",
        "clients.remove_contact": "remove a client's contact",
        "clients.add_communication": "add to a client's communication log",
        "clients.follow_up_done": "mark a follow-up done",
        "clients.invite": "invite a client user",
        "clients.revoke_invitation": "revoke a client invitation",
        "api.clients.api_create": "create a client",
        "api.clients.api_update": "change a client",
    },
    walk=walk.ROUTES,
    walk_skip=(
        # public, the token is the authority (tests/test_client_invitations.py walks every role and anonymous)
        "/invitations/<token>",
    ),
)
