"""Client company rules: unique name, valid contact details, payment terms, contacts
(roles, exactly one primary while there are any), the client page's reads (contacts,
project history with totals, log, users, invitations); shared by pages and API."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import select, update
from sqlalchemy.orm import selectinload, undefer

from app.clients.models import CONTACT_ROLES, DEFAULT_TERMS, PAYMENT_TERMS, Client, ClientContact
from app.core.errors import ObjectNotFound, ValidationError
from app.core.pagination import paginate_rows
from app.core.permissions import can, require
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
    history: Any = None  # ProjectHistory: counts by status, budget total (costs.view)
    tax_id_masked: str | None = None  # "•••• 4321", for client.edit roles only
    log: list = []  # communication log entries, newest first
    users: list = []  # the client's user accounts
    invitations: list = []  # open invitations


class ProjectHistory(NamedTuple):
    counts: dict  # status → number of the listed projects
    total: int
    budget_total: Decimal | None  # None: the viewer may see no budget of these projects
    budgets_shown: set  # ids of the projects whose budget the viewer may see


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
    Client.payment_terms,
    Client.tax_id.is_not(None).label("has_tax_id"),
)
_CONTACT_COLUMNS = (
    ClientContact.id.label("contact_id"),
    ClientContact.name.label("contact_name"),
    ClientContact.title.label("contact_title"),
    ClientContact.email.label("contact_email"),
    ClientContact.phone.label("contact_phone"),
    ClientContact.is_primary.label("contact_is_primary"),
    ClientContact.roles.label("contact_roles"),
    ClientContact.version.label("contact_version"),
)


class Contact(NamedTuple):
    id: int
    name: str
    title: str
    email: str
    phone: str
    is_primary: bool
    roles: str
    version: int

    @property
    def role_list(self) -> list[str]:
        return [r for r in self.roles.split(",") if r]


def mask_tax_id(value: str | None) -> str | None:
    """ "•••• 4321": only the last four characters, and only of an id longer than four."""
    if not value:
        return None
    tail = value[-4:] if len(value) > 4 else ""
    return "••••" + (f" {tail}" if tail else "")


def client_page_data(actor, client_id: int, *, extras: bool = True) -> ClientPage:
    """The client's page: the client with its contacts (one outer join; the tax ID read
    only for client.edit roles, to show it masked), the client's projects `actor` may see
    (their permission scope, in SQL) with the history's totals, and — with `extras` —
    the communication log, the client's users and open invitations."""
    from app.projects.models import Project
    from app.projects.queries import visible_projects

    require(actor, "client.view")
    editor = can(actor, "client.edit")
    columns = (*_PAGE_COLUMNS, Client.tax_id.label("tax_id")) if editor else _PAGE_COLUMNS
    rows = db.session.execute(
        select(*columns, *_CONTACT_COLUMNS)
        .outerjoin(ClientContact, ClientContact.client_id == Client.id)
        .where(Client.id == client_id)
        .order_by(ClientContact.id)
    ).all()
    if not rows:
        raise ObjectNotFound("That client does not exist.")
    width = len(columns)
    contacts = [Contact(*row[width:]) for row in rows if row.contact_id is not None]
    projects = db.session.execute(
        visible_projects(actor)
        .with_only_columns(
            Project.id,
            Project.name,
            Project.status,
            Project.address,
            Project.start_date,
            Project.end_date,
            Project.progress_percent,
            Project.budget,
        )
        .where(Project.client_id == client_id)
        .order_by(Project.status, Project.name)
    ).all()
    page = ClientPage(
        rows[0],
        contacts,
        projects,
        history=project_history(actor, projects),
        tax_id_masked=mask_tax_id(rows[0].tax_id) if editor else None,
    )
    if not extras:
        return page
    from app.clients import communications, invitations

    return page._replace(
        log=communications.entries(actor, client_id),
        users=invitations.client_users(actor, client_id),
        invitations=invitations.open_invitations(actor, client_id),
    )


def project_history(actor, projects) -> ProjectHistory:
    """Counts by status of `projects` (rows of the client page) and the sum of the budgets
    `actor` may see (costs.view, projects/views.py); None when they may see none."""
    from app.core.permissions import RowOf
    from app.projects.models import Project
    from app.projects.views import PROJECT_VIEW

    shows = PROJECT_VIEW.shows_each(actor, "budget")
    shown = {p.id for p in projects if shows(RowOf(Project, p))}
    budget_total = None
    if shown or (not projects and PROJECT_VIEW.shows(actor, Project, "budget")):
        budget_total = sum((p.budget or Decimal("0.00") for p in projects if p.id in shown), Decimal("0.00"))
    return ProjectHistory(dict(Counter(p.status for p in projects)), len(projects), budget_total, shown)


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
    terms = data.get("payment_terms")
    if terms in (None, ""):
        values["payment_terms"] = client.payment_terms if client is not None else DEFAULT_TERMS
    elif terms not in PAYMENT_TERMS:
        errors["payment_terms"] = "Choose one of: " + ", ".join(PAYMENT_TERMS.values()) + "."
    else:
        values["payment_terms"] = terms
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


def _contact_values(data: dict, errors: dict) -> dict:
    values = {key: str(data.get(key) or "").strip() for key in CONTACT_LIMITS}
    if not values["name"]:
        errors["contact_name"] = "Give the contact's name."
    if values["email"] and not EMAIL_RE.match(values["email"]):
        errors["contact_email"] = "Enter a valid email address."
    too_long: dict[str, str] = {}
    check_lengths(values, CONTACT_LIMITS, too_long)
    errors.update({f"contact_{key}": message for key, message in too_long.items() if f"contact_{key}" not in errors})
    roles = data.get("roles") or []
    if isinstance(roles, str):
        roles = [r for r in roles.split(",") if r]
    if not isinstance(roles, list | tuple) or any(r not in CONTACT_ROLES for r in roles):
        errors["contact_roles"] = "Choose roles from: " + ", ".join(CONTACT_ROLES.values()) + "."
    else:
        values["roles"] = ",".join(r for r in CONTACT_ROLES if r in roles)  # in the list's order, once each
    return values


def _truthy(value) -> bool:
    return value is True or str(value).lower() in ("1", "on", "true", "yes")


def _make_primary(client_id: int, contact: ClientContact) -> None:
    """Un-primary the others first (the partial unique index allows one primary)."""
    db.session.execute(
        update(ClientContact)
        .where(ClientContact.client_id == client_id, ClientContact.is_primary, ClientContact.id != (contact.id or 0))
        .values(is_primary=False, version=ClientContact.version + 1)
        .execution_options(synchronize_session="fetch")
    )
    contact.is_primary = True


def add_contact(actor, client: Client, data: dict) -> ClientContact:
    """A new contact; the client's first is its primary, and `is_primary` makes this one
    the primary instead of the current one."""
    require(actor, "client.edit")
    errors: dict[str, str] = {}
    values = _contact_values(data, errors)
    if errors:
        raise ValidationError(errors)
    first = not db.session.scalar(select(ClientContact.id).where(ClientContact.client_id == client.id).limit(1))
    primary = first or _truthy(data.get("is_primary"))
    contact = ClientContact(client_id=client.id, **values, is_primary=False)
    if primary:
        _make_primary(client.id, contact)  # the others first; inserted as the primary
    db.session.add(contact)
    db.session.flush()
    db.session.expire(client, ["contacts"])
    return contact


def get_contact(actor, client_id: int, contact_id: int, action: str = "client.view") -> ClientContact:
    require(actor, action)
    contact = db.session.get(ClientContact, contact_id)
    if contact is None or contact.client_id != client_id:
        raise ObjectNotFound("That contact does not exist.")
    return contact


@checks_version("contact")
def update_contact(actor, contact: ClientContact, data: dict, version=None) -> ClientContact:
    """Edit a contact (its version checked). Ticking primary makes it the primary; a
    primary contact stays primary (make another one primary instead)."""
    require(actor, "client.edit")
    expect_version(contact, version)
    errors: dict[str, str] = {}
    values = _contact_values(data, errors)
    if errors:
        raise ValidationError(errors)
    for key, value in values.items():
        setattr(contact, key, value)
    if _truthy(data.get("is_primary")) and not contact.is_primary:
        _make_primary(contact.client_id, contact)
    db.session.flush()
    return contact


@checks_version("contact")
def make_primary(actor, contact: ClientContact, version=None) -> ClientContact:
    require(actor, "client.edit")
    expect_version(contact, version)
    if not contact.is_primary:
        _make_primary(contact.client_id, contact)
        db.session.flush()
    return contact


@checks_version("contact")
def remove_contact(actor, contact: ClientContact, version=None) -> str:
    """Remove a contact; removing the primary makes the next one (oldest) primary, or
    leaves the client without a primary contact. Answers what happened, as a message."""
    require(actor, "client.edit")
    expect_version(contact, version)
    name, client_id, was_primary = contact.name, contact.client_id, contact.is_primary
    db.session.delete(contact)
    db.session.flush()
    if not was_primary:
        return f"Contact {name} removed."
    successor = db.session.scalar(
        select(ClientContact).where(ClientContact.client_id == client_id).order_by(ClientContact.id).limit(1)
    )
    if successor is None:
        return f"Contact {name} removed. The client has no contacts left, so no primary contact."
    _make_primary(client_id, successor)
    db.session.flush()
    return f"Contact {name} removed. {successor.name} is now the primary contact."


def current_values(client: Client) -> dict:
    """The client's writable fields as a write takes them (a PATCH changes some)."""
    return {key: getattr(client, key) for key in (*FIELDS, "payment_terms", "notes")}
