"""Client company rules: unique name, valid contact details; shared by pages and API."""

from __future__ import annotations

from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import selectinload, undefer

from app.clients.models import Client, ClientContact
from app.core.errors import ObjectNotFound, ValidationError
from app.core.pagination import paginate_rows
from app.core.permissions import require
from app.core.search import contains
from app.core.text import LONG_TEXT, check_lengths, declare_limits, name_key, normalise
from app.core.unique import unique_fields
from app.core.validators import EMAIL_RE
from app.core.versioning import checks_version, expect_version
from app.extensions import db

FIELDS = {
    "name": 200,
    "email": 254,
    "phone": 40,
    "billing_address": 300,
    "billing_city": 120,
    "billing_state": 60,
    "billing_zip": 20,
}
# The longest text each field takes, enforced here and shown in the form (`maxlength`).
LIMITS = declare_limits("client", {**FIELDS, "notes": LONG_TEXT, "tax_id": 40, "contact_name": 160})
CONTACT_LIMITS = declare_limits("contact", {"name": 160, "title": 120, "email": 254, "phone": 40})


# Fields the client list may be ordered by (API `ordering`).
SORTS = {"id": Client.id, "name": Client.name, "created_at": Client.created_at}


def search_clients(actor, term: str = "", order=None):
    """select() of the clients whose name or email contains `term`, with their contacts,
    ordered by `order` (clauses; default the name)."""
    require(actor, "client.view")
    stmt = select(Client).where(contains((Client.name, Client.email), term))
    return stmt.options(selectinload(Client.contacts)).order_by(*(order or [Client.name.asc()]), Client.id)


def client_page(actor, term: str, page: int, per_page: int = 25):
    """One page of clients matching `term` (past the end: the last page): rows of the
    columns the list shows."""
    require(actor, "client.view")
    return paginate_rows(
        select(Client.id, Client.name, Client.email, Client.phone, Client.billing_city)
        .where(contains((Client.name, Client.email), term))
        .order_by(Client.name, Client.id),
        page,
        per_page,
    )


class ClientPage(NamedTuple):
    """What the client's page shows: rows of the shown columns, not ORM objects."""

    client: Any  # Client's columns, with `has_tax_id` instead of the (encrypted) tax ID
    contacts: list
    projects: list  # the client's projects this person may see


_PAGE_COLUMNS = (
    Client.id,
    Client.name,
    Client.email,
    Client.phone,
    Client.billing_address,
    Client.billing_city,
    Client.billing_state,
    Client.billing_zip,
    Client.notes,
    Client.tax_id.is_not(None).label("has_tax_id"),  # never decrypted for the page
)
_CONTACT_COLUMNS = (
    ClientContact.id.label("contact_id"),
    ClientContact.name.label("contact_name"),
    ClientContact.title.label("contact_title"),
    ClientContact.email.label("contact_email"),
    ClientContact.phone.label("contact_phone"),
    ClientContact.is_primary.label("contact_is_primary"),
)


class Contact(NamedTuple):
    id: int
    name: str
    title: str
    email: str
    phone: str
    is_primary: bool


def client_page_data(actor, client_id: int) -> ClientPage:
    """The client's page in two statements: the client with its contacts (one outer
    join), and the client's projects `actor` may see (their permission scope, in SQL)."""
    from app.projects.models import Project
    from app.projects.queries import visible_projects

    require(actor, "client.view")
    rows = db.session.execute(
        select(*_PAGE_COLUMNS, *_CONTACT_COLUMNS)
        .outerjoin(ClientContact, ClientContact.client_id == Client.id)
        .where(Client.id == client_id)
        .order_by(ClientContact.id)
    ).all()
    if not rows:
        raise ObjectNotFound("That client does not exist.")
    width = len(_PAGE_COLUMNS)
    contacts = [Contact(*row[width:]) for row in rows if row.contact_id is not None]
    projects = db.session.execute(
        visible_projects(actor)
        .with_only_columns(Project.id, Project.name, Project.status, Project.address)
        .where(Project.client_id == client_id)
        .order_by(Project.status, Project.name)
    ).all()
    return ClientPage(rows[0], contacts, projects)


def get_client(actor, client_id: int) -> Client:
    require(actor, "client.view")
    client = db.session.get(Client, client_id, options=[undefer(Client.tax_id)])
    if client is None:
        raise ObjectNotFound("That client does not exist.")
    return client


def _clean(data: dict, client: Client | None) -> tuple[dict, dict]:
    values, errors = {}, {}
    for key in FIELDS:
        values[key] = str(data.get(key) or "").strip()
    values["name"] = normalise(values["name"])
    values["notes"] = str(data.get("notes") or "").strip()
    check_lengths(values, LIMITS, errors)
    tax_id = str(data.get("tax_id") or "").strip()
    values["tax_id"] = tax_id or None
    if len(tax_id) > 40:
        errors["tax_id"] = "A tax ID is at most 40 characters."
    if not values["name"]:
        errors["name"] = "Give the client's company or household name."
    elif db.session.scalar(
        select(Client.id).where(Client.name_key == name_key(values["name"]), Client.id != (client.id if client else 0))
    ):
        errors["name"] = _name_taken(values["name"])
    if values["email"] and not EMAIL_RE.match(values["email"]):
        errors["email"] = "Enter a valid email address."
    return values, errors


def _name_taken(name: str) -> str:
    return f"A client named {name!r} already exists."


def _unique_name(name: str):
    """The writes of a client, flushed; the unique index on the name's key has the last
    word (a concurrent request may have taken the name since the check)."""
    message = ("name", _name_taken(name))
    return unique_fields(
        {("uq_clients_name_key", "clients.name_key"): message, ("ix_clients_name", "clients.name"): message}
    )


def create_client(actor, data: dict) -> Client:
    require(actor, "client.edit")
    values, errors = _clean(data, None)
    contact_name = str(data.get("contact_name") or "").strip()
    if len(contact_name) > LIMITS["contact_name"]:
        errors["contact_name"] = f"At most {LIMITS['contact_name']} characters, please."
    if errors:
        raise ValidationError(errors)
    with _unique_name(values["name"]):
        client = Client(**values)
        if contact_name:
            client.contacts.append(
                ClientContact(name=contact_name, email=values["email"], phone=values["phone"], is_primary=True)
            )
        db.session.add(client)
    return client


@checks_version("client")
def update_client(actor, client: Client, data: dict, version=None) -> Client:
    require(actor, "client.edit")
    expect_version(client, version)  # the version the edit started from (core/versioning.py)
    values, errors = _clean(data, client)
    if errors:
        raise ValidationError(errors)
    if not data.get("tax_id"):
        values.pop("tax_id")  # an empty field keeps the stored (never displayed) value
    with _unique_name(values["name"]):
        for key, value in values.items():
            setattr(client, key, value)
    return client


def add_contact(actor, client: Client, data: dict) -> ClientContact:
    require(actor, "client.edit")
    values = {key: str(data.get(key) or "").strip() for key in CONTACT_LIMITS}
    errors = {}
    if not values["name"]:
        errors["contact_name"] = "Give the contact's name."
    if values["email"] and not EMAIL_RE.match(values["email"]):
        errors["contact_email"] = "Enter a valid email address."
    too_long: dict[str, str] = {}
    check_lengths(values, CONTACT_LIMITS, too_long)
    errors.update({f"contact_{key}": message for key, message in too_long.items() if f"contact_{key}" not in errors})
    if errors:
        raise ValidationError(errors)
    contact = ClientContact(client=client, **values, is_primary=not client.contacts)
    db.session.add(contact)
    db.session.flush()
    return contact
