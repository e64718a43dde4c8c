"""Estimate rules (SPEC.md §3 "Money" estimates bullet, §5 "Estimate"; the rows
estimate.* of core/permissions.py), the same for pages, the API, the review link and
the worker.

- Seeing: estimate.view — admins, PMs and trainees all estimates (✓); a client user the
  estimates of their own company once sent (O, never a draft), without rates, hours,
  costs or internal notes (`for_client`).
- Writing (estimate.edit): only a draft changes; its figures come from the lines through
  core.money, defaults from the company's settings (company.services).
- Sending (estimate.send: admins, PMs): status sent, a fresh review link (a random
  token, only its SHA-256 kept) valid REVIEW_DAYS days, emailed with the PDF to the
  client's billing contact by a worker on the `invoices` queue; a new send replaces
  the link (the old one answers 404).
- Deciding: the client (signed in, or through the link) ticks optional items and
  approves with a typed-name signature (name, time, address and browser recorded) or
  declines with a reason; a PM or admin (estimate.approve ✓) records it for the client
  with a reason. A decision is final (409); an estimate past its validity date cannot
  be approved.
- Approval converts the estimate into a project in the same transaction, through the
  projects and tasks services (audit, permissions, live events): the client, the title
  as its name (made unique for the client), the site address, contract value = the
  total, budget = the subtotal (see `convert`), the estimate linked both ways, one task
  per counted line with its labour hours; the PM who wrote or sent it is on the team.
- Deleting (estimate.delete: admins, PMs): not an approved one (it is its project's
  origin).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import secrets
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.core.audit import note_reason
from app.core.errors import ConflictError, ObjectNotFound, ValidationError
from app.core.events import entitled, publish
from app.core.models import utcnow
from app.core.money import ZERO, line_total, parse_price, parse_quantity, parse_rate, percent_of
from app.core.numbering import next_number
from app.core.numbers import to_int
from app.core.permissions import can, require, scope_query
from app.core.roles import ADMIN, PM_ROLES
from app.core.roles import CLIENT as CLIENT_ROLE
from app.core.signatures import UNSIGNED, Signature
from app.core.text import LONG_TEXT, check_lengths, declare_limits
from app.core.versioning import bump, checks_version, expect_version
from app.estimates.models import (
    APPROVED,
    DECLINED,
    DRAFT,
    PAINTED_SURFACES,
    PLAIN_SURFACES,
    REVIEW_DAYS,
    SENT,
    STATUSES,
    SURFACES,
    UNITS,
    Estimate,
    EstimateLine,
)
from app.extensions import db

VIEW = "estimate.view"
LIMITS = declare_limits(
    "estimate",
    {
        "title": 200,
        "address": 300,
        "city": 120,
        "state": 60,
        "zip": 20,
        "terms": LONG_TEXT,
        "internal_notes": LONG_TEXT,
        "signature_name": 200,
        "on_behalf_reason": 500,
        "decline_reason": 2000,
    },
)
EDITABLE = ("title", "address", "city", "state", "zip", "markup_pct", "terms", "valid_until", "internal_notes")
TEXTS = ("title", "address", "city", "state", "zip", "terms", "internal_notes")
MAX_LINES = 100
MAX_COATS = 10
MAX_HOURS = Decimal("9999.99")  # a line's labour: a task holds at most this (tasks.services.MAX_HOURS)
HOUR = Decimal("0.01")
TOKEN_MAX = 100
# Built-in production rates (units per hour, per coat) when the company has set none:
# a brush-and-roll crew's figures; admins change them under /admin/company.
DEFAULT_RATES = {
    "walls": Decimal("150.00"),
    "ceilings": Decimal("120.00"),
    "trim": Decimal("60.00"),
    "doors": Decimal("1.50"),
    "cabinets": Decimal("2.00"),
    "siding": Decimal("120.00"),
    "deck": Decimal("100.00"),
}
SURFACE_UNITS = {"walls": "sq ft", "ceilings": "sq ft", "trim": "linear ft", "doors": "doors", "cabinets": "doors",
                 "siding": "sq ft", "deck": "sq ft"}  # fmt: skip
DEFAULT_UNIT = {"walls": "sq_ft", "ceilings": "sq_ft", "trim": "linear_ft", "doors": "count", "cabinets": "count",
                "siding": "sq_ft", "deck": "sq_ft", "prep": "hours", "other": "each"}  # fmt: skip


def today() -> dt.date:
    from app.timeclock.queries import today as company_today

    return company_today()


def for_client(user) -> bool:
    return getattr(user, "role", None) == CLIENT_ROLE


def surface_choices_painted() -> list[tuple[str, str]]:
    return [(code, SURFACES[code]) for code in PAINTED_SURFACES]


# --- company defaults -------------------------------------------------------------------


def production_rates(settings=None) -> dict[str, Decimal]:
    """Each painted surface's production rate (units per hour, per coat): the company's
    (company_settings.production_rates, decimal strings) over the built-in defaults."""
    if settings is None:
        from app.company.services import company

        settings = company()
    rates = dict(DEFAULT_RATES)
    for surface, value in (settings.production_rates or {}).items():
        if surface in rates:
            try:
                rates[surface] = Decimal(str(value))
            except ArithmeticError:
                continue
    return rates


@dataclass(frozen=True)
class Defaults:
    labor_rate: Decimal
    price_per_gallon: Decimal
    coverage: Decimal
    markup_pct: Decimal
    valid_days: int
    terms: str
    rates: dict


def defaults() -> Defaults:
    from app.company.services import company

    settings = company()
    return Defaults(
        Decimal(settings.estimate_labor_rate),
        Decimal(settings.estimate_price_per_gallon),
        Decimal(settings.estimate_coverage),
        Decimal(settings.estimate_markup_pct),
        int(settings.estimate_valid_days or 30),
        settings.estimate_terms or "",
        production_rates(settings),
    )


# --- reading -------------------------------------------------------------------------


def visible_estimates(user, stmt=None):
    """The one visibility rule of pages, the API and live events."""
    return scope_query(stmt if stmt is not None else select(Estimate), user, VIEW, Estimate)


def get_estimate(user, estimate_id, action: str = VIEW) -> Estimate:
    require(user, VIEW)
    estimate_id = to_int(estimate_id)
    found = db.session.get(Estimate, estimate_id) if estimate_id is not None else None
    if found is None or not can(user, VIEW, found):
        raise ObjectNotFound("That estimate does not exist or you cannot see it.")
    require(user, action, found)
    return found


def estimate_list(user, client_id=None, status=None):
    require(user, VIEW)
    stmt = visible_estimates(user)
    if client_id is not None:
        stmt = stmt.where(Estimate.client_id == client_id)
    if status is not None:
        stmt = stmt.where(Estimate.status == status)
    # a page's clients and projects read at once, not an estimate at a time
    return stmt.options(selectinload(Estimate.project)).order_by(Estimate.id.desc())


def client_choices(user) -> list[tuple[int, str]]:
    """The clients a new estimate may be for (everyone with estimate.edit sees all clients)."""
    from app.clients.models import Client

    require(user, "estimate.edit")
    return [(c.id, c.name) for c in db.session.execute(select(Client.id, Client.name).order_by(Client.name)).all()]


def client_for_estimate(actor, client_id):
    from app.clients.models import Client

    require(actor, "estimate.edit")
    client_id = to_int(client_id)
    client = db.session.get(Client, client_id) if client_id is not None else None
    if client is None:
        raise ValidationError({"client_id": "Choose an existing client."})
    return client


def status_choices() -> list[tuple[str, str]]:
    return list(STATUSES.items())


# --- may -----------------------------------------------------------------------------


def may_edit(user, estimate: Estimate) -> bool:
    return estimate.is_draft and can(user, "estimate.edit", estimate)


def may_send(user, estimate: Estimate) -> bool:
    return estimate.status in (DRAFT, SENT) and bool(estimate.lines) and can(user, "estimate.send", estimate)


def may_delete(user, estimate: Estimate) -> bool:
    return not estimate.is_approved and can(user, "estimate.delete", estimate)


def may_decide(user, estimate: Estimate) -> bool:
    """May `user` approve or decline it now (the client on a sent one; staff for the
    client on a draft or a sent one)?"""
    if estimate.is_decided or not can(user, "estimate.approve", estimate):
        return False
    return estimate.is_sent or (estimate.is_draft and not for_client(user) and bool(estimate.lines))


# --- input ---------------------------------------------------------------------------


def _date(value, field: str, errors: dict) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        errors[field] = "Enter a date as YYYY-MM-DD."
        return None


def clean(data: dict, base: dict) -> dict:
    merged = {**base, **{k: v for k, v in data.items() if k in EDITABLE}}
    errors: dict[str, str] = {}
    values: dict = {key: str(merged.get(key) or "").strip() for key in TEXTS}
    if not values["title"]:
        errors["title"] = "Give the estimate a title (the project's name once approved)."
    if not values["address"]:
        errors["address"] = "The site address is required (the project is there)."
    raw = merged.get("markup_pct")
    try:
        values["markup_pct"] = parse_rate(raw if raw not in (None, "") else 0, "markup")
    except ValueError as exc:
        errors["markup_pct"] = str(exc)
    values["valid_until"] = _date(merged.get("valid_until"), "valid_until", errors)
    check_lengths(values, LIMITS, errors)
    if errors:
        raise ValidationError(errors)
    return values


def _flag(value) -> bool:
    if isinstance(value, bool):
        return value
    return str(value or "").strip().lower() in ("1", "true", "on", "yes")


@dataclass
class LineIn:
    """A line as typed, its figures computed (the one arithmetic: core.money)."""

    surface: str
    description: str
    quantity: Decimal
    unit: str
    coats: int | None = None
    production_rate: Decimal | None = None
    labor_rate: Decimal | None = None
    coverage: Decimal | None = None
    price_per_gallon: Decimal | None = None
    unit_price: Decimal | None = None
    is_optional: bool = False
    is_selected: bool = False

    @property
    def is_plain(self) -> bool:
        return self.surface in PLAIN_SURFACES

    @property
    def labor_hours(self) -> Decimal:
        """quantity × coats ÷ rate, rounded half up to 0.01 h; a plain line's hours are
        its quantity when counted in hours, else none."""
        if self.is_plain:
            return self.quantity.quantize(HOUR, rounding=ROUND_HALF_UP) if self.unit == "hours" else ZERO
        return (self.quantity * self.coats / self.production_rate).quantize(HOUR, rounding=ROUND_HALF_UP)

    @property
    def labor_amount(self) -> Decimal:
        return ZERO if self.is_plain else line_total(self.labor_hours, self.labor_rate)

    @property
    def material_gallons(self) -> int:
        """Whole cans: ⌈quantity × coats ÷ coverage⌉ (an exact Decimal division, then up)."""
        if self.is_plain:
            return 0
        return math.ceil(self.quantity * self.coats / self.coverage)

    @property
    def material_amount(self) -> Decimal:
        return ZERO if self.is_plain else line_total(Decimal(self.material_gallons), self.price_per_gallon)

    @property
    def amount(self) -> Decimal:
        if self.is_plain:
            return line_total(self.quantity, self.unit_price)
        return self.labor_amount + self.material_amount

    @property
    def counts(self) -> bool:
        return not self.is_optional or self.is_selected


def _coats(value) -> int:
    if value in (None, ""):
        return 1
    number = to_int(value) if not isinstance(value, bool) else None
    if number is None or not 1 <= number <= MAX_COATS:
        raise ValueError(f"the coats are a whole number from 1 to {MAX_COATS}.")
    return number


def _lower(message: str) -> str:
    return message[0].lower() + message[1:]


def clean_line(item: dict, fallback: Defaults) -> LineIn:
    """One line from a form row or JSON; ValueError says what to type."""
    from app.company.services import parse_coverage, parse_production_rate

    surface = item.get("surface") or "walls"
    if surface not in SURFACES:
        raise ValueError("the surface is one of " + ", ".join(SURFACES) + ".")
    description = str(item.get("description") or "").strip() or SURFACES[surface]
    if len(description) > 500:
        raise ValueError("the description is too long (at most 500 characters).")
    unit = item.get("unit") or DEFAULT_UNIT[surface]
    if unit not in UNITS:
        raise ValueError("the unit is one of " + ", ".join(UNITS) + ".")
    quantity = parse_quantity(item.get("quantity"))

    def given(key):
        value = item.get(key)
        return None if value in (None, "") else value

    line = LineIn(surface, description, quantity, unit, is_optional=_flag(item.get("is_optional")))
    line.is_selected = line.is_optional and _flag(item.get("is_selected"))
    if line.is_plain:
        line.unit_price = parse_price(given("unit_price") if given("unit_price") is not None else "", "unit price")
    else:
        line.coats = _coats(item.get("coats"))
        rate = given("production_rate")
        line.production_rate = parse_production_rate(rate) if rate is not None else fallback.rates[surface]
        labor = given("labor_rate")
        line.labor_rate = parse_price(labor, "labour rate") if labor is not None else fallback.labor_rate
        coverage = given("coverage")
        line.coverage = parse_coverage(coverage) if coverage is not None else fallback.coverage
        price = given("price_per_gallon")
        line.price_per_gallon = (
            parse_price(price, "price per gallon") if price is not None else fallback.price_per_gallon
        )
        if line.labor_hours > MAX_HOURS:
            raise ValueError(f"that is {line.labor_hours:,} hours of labour: split the line (at most 9,999.99 h).")
    if line.amount >= Decimal("10000000000"):
        raise ValueError("that line's amount is too large (under 10 billion).")
    return line


def clean_lines(raw, errors: dict) -> list[LineIn]:
    if not isinstance(raw, list | tuple):
        errors["lines"] = "Send the lines as a list."
        return []
    if len(raw) > MAX_LINES:
        errors["lines"] = f"At most {MAX_LINES} lines."
        return []
    fallback = defaults()
    lines, problems = [], []
    for number, item in enumerate(raw, start=1):
        if not isinstance(item, dict):
            problems.append(f"Line {number}: send an object.")
            continue
        try:
            lines.append(clean_line(item, fallback))
        except ValueError as exc:
            problems.append(f"Line {number}: {_lower(str(exc))}")
    if problems:
        errors["lines"] = " ".join(problems[:5]) + (" …" if len(problems) > 5 else "")
    return lines


@dataclass(frozen=True)
class Figures:
    subtotal: Decimal
    markup_amount: Decimal
    total: Decimal


def price_of(amount: Decimal, markup_pct: Decimal) -> Decimal:
    """What the client sees of a line: its amount with the markup in it, rounded once per
    line (the change orders' rule) — so the prices a client reads add up to the total to
    the cent, and the margin itself is never shown to them (SPEC.md §2)."""
    return amount + percent_of(amount, markup_pct)


def figures(amounts_counted, markup_pct: Decimal) -> Figures:
    """subtotal = Σ counted amounts (the cost side); total = Σ their prices (price_of);
    markup = total − subtotal (for staff)."""
    amounts = list(amounts_counted)
    subtotal = sum(amounts, ZERO)
    total = sum((price_of(a, markup_pct) for a in amounts), ZERO)
    return Figures(subtotal, total - subtotal, total)


def _apply_figures(estimate: Estimate) -> None:
    result = figures((line.amount for line in estimate.lines if line.counts), Decimal(estimate.markup_pct))
    if result.total >= Decimal("10000000000"):
        raise ValidationError({"lines": "The estimate's total is too large (under 10 billion)."})
    estimate.subtotal, estimate.markup_amount, estimate.total = result.subtotal, result.markup_amount, result.total


def _write_lines(estimate: Estimate, lines: list[LineIn]) -> None:
    estimate.lines.clear()
    db.session.flush()
    for position, line in enumerate(lines):
        estimate.lines.append(
            EstimateLine(
                position=position,
                surface=line.surface,
                description=line.description,
                quantity=line.quantity,
                unit=line.unit,
                coats=line.coats,
                production_rate=line.production_rate,
                labor_hours=line.labor_hours,
                labor_rate=line.labor_rate,
                labor_amount=line.labor_amount,
                coverage=line.coverage,
                material_gallons=line.material_gallons,
                price_per_gallon=line.price_per_gallon,
                material_amount=line.material_amount,
                unit_price=line.unit_price,
                amount=line.amount,
                is_optional=line.is_optional,
                is_selected=line.is_selected,
            )
        )


def preview(estimate: Estimate, selected_ids) -> Figures:
    """The figures if exactly `selected_ids` of its optional lines were chosen (the
    review page's live total); writes nothing."""
    chosen = _ids(selected_ids)
    amounts = (line.amount for line in estimate.lines if not line.is_optional or line.id in chosen)
    return figures(amounts, Decimal(estimate.markup_pct))


def _ids(raw) -> set[int]:
    found = set()
    for item in raw or ():
        number = to_int(item) if not isinstance(item, bool) else None
        if number is not None:
            found.add(number)
    return found


# --- writing -------------------------------------------------------------------------


def create_estimate(actor, client, data: dict, raw_lines) -> Estimate:
    require(actor, "estimate.edit")
    fallback = defaults()
    base = {"markup_pct": fallback.markup_pct, "terms": fallback.terms,
            "valid_until": today() + dt.timedelta(days=fallback.valid_days)}  # fmt: skip
    errors: dict[str, str] = {}
    try:
        values = clean({k: v for k, v in data.items() if v is not None}, base)
    except ValidationError as exc:
        values, errors = {}, dict(exc.fields)
    lines = clean_lines(raw_lines if raw_lines is not None else [], errors)
    if errors:
        raise ValidationError(errors)
    start = figures((line.amount for line in lines if line.counts), values["markup_pct"])
    estimate = Estimate(
        client_id=client.id,
        number=next_number("estimate", today()),
        status=DRAFT,
        created_by_id=actor.id,
        subtotal=start.subtotal,
        markup_amount=start.markup_amount,
        total=start.total,
        signature_name="",
        signature_ip="",
        signature_user_agent="",
        on_behalf_reason="",
        decline_reason="",
        **values,
    )
    db.session.add(estimate)
    _write_lines(estimate, lines)
    _apply_figures(estimate)
    db.session.flush()
    _publish(estimate)
    return estimate


@checks_version("estimate")
def update_estimate(actor, estimate: Estimate, data: dict, raw_lines=None, version=None) -> Estimate:
    require(actor, "estimate.edit", estimate)
    if not estimate.is_draft:
        raise ConflictError(f"{estimate.number} is {estimate.status_label.lower()}: only a draft changes.")
    expect_version(estimate, version)
    errors: dict[str, str] = {}
    try:
        values = clean(data, {key: getattr(estimate, key) for key in EDITABLE})
    except ValidationError as exc:
        values, errors = {}, dict(exc.fields)
    lines = clean_lines(raw_lines, errors) if raw_lines is not None else None
    if errors:
        raise ValidationError(errors)
    if lines is not None:
        _write_lines(estimate, lines)
    for key, value in values.items():
        setattr(estimate, key, value)
    _apply_figures(estimate)
    if lines is not None and not db.session.is_modified(estimate, include_collections=False):
        bump(estimate)  # new lines, same figures: still a new version (its editors see the lines)
    db.session.flush()
    _publish(estimate)
    return estimate


def delete_estimate(actor, estimate: Estimate) -> None:
    require(actor, "estimate.delete", estimate)
    if estimate.is_approved:
        raise ConflictError(f"{estimate.number} is approved: it is its project's origin and is kept.")
    audience, ids = _audience(estimate), {"id": estimate.id, "client_id": estimate.client_id}
    db.session.delete(estimate)
    db.session.flush()
    publish("estimate-changed", ids, users=audience, roles=[ADMIN, *PM_ROLES])


# --- sending -------------------------------------------------------------------------


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def recipient(estimate: Estimate) -> tuple[str, str] | None:
    """(name, email) of the client's billing contact (invoices' rule), else None."""
    from app.clients.models import ClientContact

    contacts = db.session.scalars(
        select(ClientContact).where(ClientContact.client_id == estimate.client_id, ClientContact.email != "")
    ).all()
    billing = [c for c in contacts if "billing" in c.role_list or "accounts_payable" in c.role_list]
    for group in (sorted(billing, key=lambda c: not c.is_primary), [c for c in contacts if c.is_primary]):
        if group:
            return group[0].name, group[0].email
    if estimate.client.email:
        return estimate.client.name, estimate.client.email
    return None


def review_link(token: str) -> str:
    from flask import current_app

    return current_app.config["PUBLIC_URL"].rstrip("/") + f"/estimates/review/{token}"


@checks_version("estimate")
def send_estimate(actor, estimate: Estimate, version=None) -> tuple[Estimate, str]:
    """Send (or send again) a draft or sent estimate: status sent, a new review link
    valid REVIEW_DAYS days (the old one stops working), emailed with the PDF by a worker.
    Answers the estimate and the link's token (shown once when no email is configured)."""
    require(actor, "estimate.send", estimate)
    if estimate.is_decided:
        raise ConflictError(f"{estimate.number} was {estimate.status_label.lower()}: there is nothing to send.")
    expect_version(estimate, version)
    if not estimate.lines:
        raise ValidationError({"lines": "Add at least one line before sending."})
    if estimate.valid_until is not None and estimate.valid_until < today():
        raise ValidationError({"valid_until": "The validity date has passed: move it before sending."})
    who = recipient(estimate)
    if who is None:
        raise ValidationError(
            {"client": f"{estimate.client.name} has no billing email: add a billing contact or the client's email."}
        )
    token = secrets.token_urlsafe(32)
    estimate.status = SENT
    estimate.sent_by_id = actor.id
    now = utcnow()
    estimate.sent_at = now
    estimate.review_token_hash = token_hash(token)
    estimate.review_expires_at = now + dt.timedelta(days=REVIEW_DAYS)
    db.session.flush()
    from app.estimates import delivery

    delivery.queue_send(estimate, token, who, actor)
    _publish(estimate)
    return estimate, token


class ReviewGone(Exception):
    """The token names no estimate (404) or a link that no longer works (410)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


NOT_FOUND = "This review link is not valid. Check that you copied the whole link, or ask us for a new one."
EXPIRED = "This review link has expired. Ask us to send the estimate again."


def from_token(token: str, *, lock: bool = False) -> Estimate:
    """The estimate of a review link. Every lookup is counted per client address like
    sign-in and invitations (auth.throttle): an unknown or expired token counts as a
    failure, so guessing is locked out (LockedOut, 429). Unknown: 404; expired: 410."""
    from app.auth import throttle
    from app.auth.services import LockedOut

    ip = throttle.client_ip()
    found: dict = {}

    def check() -> bool:
        if not token or len(token) > TOKEN_MAX:
            return False
        stmt = select(Estimate).where(Estimate.review_token_hash == token_hash(token))
        found["estimate"] = db.session.scalar(stmt.with_for_update(of=Estimate) if lock else stmt)
        return found["estimate"] is not None and found["estimate"].review_link_open

    try:
        throttle.guarded(f"token:estimate-review:{ip}", ip, check)
    except throttle.TooManyAttempts as exc:
        raise LockedOut("token", exc) from None
    estimate = found.get("estimate")
    if estimate is None:
        raise ReviewGone(404, NOT_FOUND)
    if not estimate.review_link_open:
        raise ReviewGone(410, EXPIRED)
    return estimate


# --- deciding ------------------------------------------------------------------------


def _check_decision(actor, estimate: Estimate, version, via_link: bool) -> None:
    if not via_link:
        require(actor, "estimate.approve", estimate)
    if estimate.is_decided:
        raise ConflictError(f"{estimate.number} was {estimate.status_label.lower()} already: a decision is final.")
    if estimate.is_draft and (via_link or for_client(actor)):
        raise ConflictError(f"{estimate.number} has not been sent.")
    expect_version(estimate, version)


def _choose(estimate: Estimate, selected) -> None:
    """Tick exactly `selected` (line ids) among the optional lines; None keeps the choice."""
    if selected is None:
        return
    chosen = _ids(selected)
    for line in estimate.lines:
        if line.is_optional:
            line.is_selected = line.id in chosen
    _apply_figures(estimate)


def _texts(actor, signature: Signature, on_behalf_reason, via_link: bool, errors: dict) -> tuple[str, str]:
    name = str(signature.name or "").strip()
    reason = str(on_behalf_reason or "").strip()
    staff = not via_link and not for_client(actor)
    if not staff and not name:
        errors["signature_name"] = "Type your full name to sign."
    if staff and not reason:
        errors["on_behalf_reason"] = "Say why you record the client's decision (e.g. signed on paper on site)."
    check_lengths({"signature_name": name, "on_behalf_reason": reason}, LIMITS, errors)
    return name, reason if staff else ""


def _record(actor, estimate: Estimate, signature: Signature, name: str, reason: str, via_link: bool) -> None:
    estimate.signature_name = name
    estimate.signature_ip = (signature.ip or "")[:64]
    estimate.signature_user_agent = (signature.user_agent or "")[:300]
    estimate.on_behalf_reason = reason
    if reason:
        note_reason(estimate, reason)


@checks_version("estimate")
def approve(actor, estimate: Estimate, signature: Signature = UNSIGNED, on_behalf_reason="", selected=None,
            version=None, via_link: bool = False):  # fmt: skip
    """Approve (the client's signature, or staff's record of it with a reason) with the
    optional items `selected` (line ids; None keeps the current choice), and convert the
    estimate into its project in the same transaction. Answers the project."""
    _check_decision(actor, estimate, version, via_link)
    if estimate.expired_on(today()):
        raise ConflictError(f"{estimate.number} expired on {estimate.valid_until.isoformat()}: ask for a new one.")
    errors: dict[str, str] = {}
    name, reason = _texts(actor, signature, on_behalf_reason, via_link, errors)
    if errors:
        raise ValidationError(errors)
    _choose(estimate, selected)
    if estimate.total <= 0:
        raise ValidationError({"lines": "An estimate of 0.00 cannot be approved."})
    estimate.status = APPROVED
    estimate.approved_at = utcnow()
    estimate.approved_by_id = None if via_link else actor.id
    _record(actor, estimate, signature, name, reason, via_link)
    db.session.flush()
    project = convert(actor if not via_link else None, estimate)
    _tell_decided(actor, estimate)
    _publish(estimate)
    return project


@checks_version("estimate")
def decline(actor, estimate: Estimate, reason="", signature: Signature = UNSIGNED, on_behalf_reason="",
            version=None, via_link: bool = False) -> Estimate:  # fmt: skip
    _check_decision(actor, estimate, version, via_link)
    errors: dict[str, str] = {}
    reason = str(reason or "").strip()
    if not reason:
        errors["decline_reason"] = "Tell us why, so that we can do better (a line is enough)."
    staff = not via_link and not for_client(actor)
    behalf = str(on_behalf_reason or "").strip()
    if staff and not behalf:
        errors["on_behalf_reason"] = "Say why you record the client's decision."
    check_lengths({"decline_reason": reason, "on_behalf_reason": behalf}, LIMITS, errors)
    if errors:
        raise ValidationError(errors)
    estimate.status = DECLINED
    estimate.declined_at = utcnow()
    estimate.decline_reason = reason
    estimate.approved_by_id = None if via_link else actor.id
    _record(actor, estimate, signature, str(signature.name or "").strip()[:200], behalf if staff else "", via_link)
    db.session.flush()
    _tell_decided(actor, estimate)
    _publish(estimate)
    return estimate


# --- the conversion ------------------------------------------------------------------


def _converter(actor, estimate: Estimate):
    """Who creates the project: the staff member approving for the client; else (the
    client's own approval) the PM or admin who sent it, else who wrote it, else an admin
    — someone the projects service lets create a project and set its budget."""
    from app.auth.models import User

    if actor is not None and not for_client(actor):
        return actor
    candidates = [estimate.sent_by, estimate.created_by]
    for person in candidates:
        if person is not None and person.is_active and can(person, "project.create") and can(person, "budget.modify"):
            return person
    admin = db.session.scalar(
        select(User).where(User.role == ADMIN, User.is_active_flag.is_(True)).order_by(User.id).limit(1)
    )
    if admin is None:
        raise ConflictError("Nobody may create the project: ask the company to activate an administrator.")
    return admin


def _free_name(estimate: Estimate) -> str:
    """The title, or — when the client has a project of that name — the title and number."""
    from app.core.text import name_key, normalise
    from app.projects.models import Project

    for name in (estimate.title, f"{estimate.title} ({estimate.number})"[:200]):
        clash = db.session.scalar(
            select(Project.id).where(
                Project.client_id == estimate.client_id, Project.name_key == name_key(normalise(name))
            )
        )
        if clash is None:
            return name
    return f"{estimate.title[:150]} ({estimate.number}-{secrets.token_hex(2)})"


def convert(actor, estimate: Estimate):
    """The approved estimate's project and task list, through the projects and tasks
    services (audited, checked, published live).

    - name: the title (with the number when the client has a project of that name);
      client, site address; the estimate linked (projects.estimate_id and back).
    - contract value: the total (what the client agreed to pay, markup included).
    - budget: the subtotal — the cost of the approved lines before markup. The budget
      is the internal figure actual costs are compared with; the markup is the margin
      over it, so budgeting the total would hide an overrun of the margin.
    - one task per counted line (required lines and chosen options) with its labour
      hours as the estimate; the PM who wrote or sent the estimate is on the team."""
    from app.projects.services import create_project
    from app.tasks.services import create_task

    maker = _converter(actor, estimate)
    team = []
    for person in (estimate.created_by, estimate.sent_by, actor):
        if person is not None and person.is_active and person.role in PM_ROLES and person.id not in team:
            team.append(person.id)
    data = {
        "name": _free_name(estimate),
        "client_id": estimate.client_id,
        "address": estimate.address,
        "city": estimate.city,
        "state": estimate.state,
        "zip": estimate.zip,
        "description": f"From estimate {estimate.number}.",
        "budget": str(estimate.subtotal),
    }
    project = create_project(maker, data, team)
    project.contract_value = estimate.total
    project.estimate_id = estimate.id
    note_reason(project, f"estimate {estimate.number} approved ({estimate.total})")
    estimate.project_id = project.id
    db.session.flush()
    for line in estimate.lines:
        if not line.counts:
            continue
        task = {"title": f"{line.surface_label}: {line.description}"[:200],
                "description": f"{estimate.number}, line {line.position + 1}: {line.quantity.normalize():f} "
                               f"{line.unit_label}" + (f", {line.coats} coat(s)" if line.coats else "")}  # fmt: skip
        if line.labor_hours > 0:
            task["estimated_hours"] = str(line.labor_hours)
        create_task(maker, project, task)
    db.session.flush()
    return project


# --- telling ------------------------------------------------------------------------


def _audience(estimate: Estimate) -> list[int]:
    """The client company's users who may see it now (staff hear by role)."""
    from app.auth.models import User

    ids = db.session.scalars(
        select(User.id).where(User.client_id == estimate.client_id, User.is_active_flag.is_(True))
    ).all()
    return entitled(ids, lambda user: can(user, VIEW, estimate))


def _publish(estimate: Estimate) -> None:
    publish("estimate-changed", {"id": estimate.id, "client_id": estimate.client_id}, users=_audience(estimate),
            roles=[ADMIN, *PM_ROLES])  # fmt: skip


def _tell_decided(actor, estimate: Estimate) -> None:
    """estimate_decided: who wrote and who sent it (staff), unless they decided it."""
    from app.notifications.services import notify

    verdict = "approved" if estimate.is_approved else "declined"
    title = f"Estimate {estimate.number} for {estimate.client.name} was {verdict}"
    if estimate.is_approved and estimate.project is not None:
        title += f": project {estimate.project.name} created"
    seen = set()
    for person in (estimate.created_by, estimate.sent_by):
        if person is None or person.id in seen or not person.is_active or for_client(person):
            continue
        seen.add(person.id)
        notify(person, "estimate_decided", title, "estimates.detail", {"estimate_id": estimate.id},
               project_id=estimate.project_id, actor=actor)  # fmt: skip


def email_configured() -> bool:
    from flask import current_app

    return bool(current_app.config.get("EMAIL_HOST"))
