"""Estimates (SPEC.md §3 "Money", §5 "Estimate"): a priced proposal to a client, line by
line for painting (surface, quantity, coats, production rate → labour hours; coverage →
whole cans of paint), prep and other lines at a plain price, optional items the client
ticks, a markup, terms and a validity date; sent with a tokenized review link, approved
with a typed-name signature (or declined), and then converted into a project.

Every figure (a line's hours, gallons, amounts; the subtotal, markup and total) is
written only by estimates.services through core.money, in the same transaction as the
lines, so the row always agrees with its lines (CHECKs keep the sums consistent too)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Computed,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.models import BOOKKEEPING_LABELS, TimestampMixin, utcnow
from app.core.money import ZERO
from app.core.permissions import Scope
from app.core.versioning import Versioned
from app.extensions import db

DRAFT, SENT, APPROVED, DECLINED = "draft", "sent", "approved", "declined"
STATUSES = {DRAFT: "Draft", SENT: "Sent to the client", APPROVED: "Approved", DECLINED: "Declined"}
# Painted surfaces have hours (quantity × coats ÷ production rate) and paint (whole cans
# by coverage); prep and other lines are a plain amount (quantity × unit price).
SURFACES = {
    "walls": "Walls",
    "ceilings": "Ceilings",
    "trim": "Trim",
    "doors": "Doors",
    "cabinets": "Cabinets",
    "siding": "Siding",
    "deck": "Deck",
    "prep": "Prep",
    "other": "Other",
}
PLAIN_SURFACES = ("prep", "other")
PAINTED_SURFACES = tuple(s for s in SURFACES if s not in PLAIN_SURFACES)
UNITS = {"sq_ft": "sq ft", "linear_ft": "linear ft", "count": "count", "hours": "hours", "each": "each"}
REVIEW_DAYS = 30  # how long an emailed review link works


class Estimate(Versioned, TimestampMixin, db.Model):
    __tablename__ = "estimates"
    __audited__ = True
    # An estimate belongs to a client (a project only once approved): staff with
    # estimate.view (admins, PMs, trainees: ✓) see all; the client company's users see
    # theirs once sent (never a draft) — `client` names the owning client's column, so
    # core.permissions compares it in SQL (scope_query) as in can().
    __scope__ = Scope(project="project_id", client="client_id", client_visible="is_client_visible")
    __audit_noun__ = "estimate"
    __audit_labels__ = {
        **BOOKKEEPING_LABELS,
        "number": "number",
        "client_id": "client",
        "project_id": "project",
        "title": "title",
        "status": "status",
        "address": "site address",
        "city": "city",
        "state": "state",
        "zip": "ZIP code",
        "markup_pct": "markup (%)",
        "terms": "terms",
        "valid_until": "valid until",
        "subtotal": "subtotal",
        "markup_amount": "markup",
        "total": "total",
        "internal_notes": "internal notes",
        "created_by_id": "written by",
        "sent_by_id": "sent by",
        "sent_at": "sent at",
        "approved_at": "approved at",
        "approved_by_id": "approved by",
        "signature_name": "signed by",
        "signature_ip": "signed from",
        "signature_user_agent": None,
        "on_behalf_reason": "recorded for the client because",
        "declined_at": "declined at",
        "decline_reason": "reason for declining",
        "review_token_hash": None,  # a secret's hash: never shown
        "review_expires_at": "review link valid until",
        "is_client_visible": None,
    }
    __audit_values__ = {"status": STATUSES}
    __versioned_with__ = ("EstimateLine",)
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'sent', 'approved', 'declined')", name="status_valid"),
        CheckConstraint("markup_pct >= 0 AND markup_pct <= 100", name="markup_valid"),
        CheckConstraint("total = subtotal + markup_amount", name="total_is_sum"),
        CheckConstraint("status <> 'approved' OR approved_at IS NOT NULL", name="approved_has_time"),
        Index("ix_estimates_client_status", "client_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id", ondelete="SET NULL"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(10), default=DRAFT)
    # the job site: the project made on approval is there (projects need a site address)
    address: Mapped[str] = mapped_column(String(300), default="")
    city: Mapped[str] = mapped_column(String(120), default="")
    state: Mapped[str] = mapped_column(String(60), default="")
    zip: Mapped[str] = mapped_column(String(20), default="")
    markup_pct: Mapped[Decimal] = mapped_column(Numeric(6, 3), default=ZERO)
    terms: Mapped[str] = mapped_column(Text, default="")
    valid_until: Mapped[dt.date | None] = mapped_column(Date)
    subtotal: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=ZERO)
    markup_amount: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=ZERO)
    total: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=ZERO)
    internal_notes: Mapped[str] = mapped_column(Text, default="")  # never shown to the client
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    approved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # the signed-in person who approved (a client user, or staff for the client); None
    # when approved through the emailed link (the signature names the person)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    signature_name: Mapped[str] = mapped_column(String(200), default="")
    signature_ip: Mapped[str] = mapped_column(String(64), default="")
    signature_user_agent: Mapped[str] = mapped_column(String(300), default="")
    on_behalf_reason: Mapped[str] = mapped_column(Text, default="")
    declined_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    decline_reason: Mapped[str] = mapped_column(Text, default="")
    # the emailed review link: only the SHA-256 of its token is kept; a new send replaces it
    review_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    review_expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    is_client_visible: Mapped[bool] = mapped_column(Boolean, Computed("status <> 'draft'", persisted=True))

    client = relationship("Client", lazy="joined")
    project = relationship("Project", lazy="select", foreign_keys=[project_id])
    created_by = relationship("User", foreign_keys=[created_by_id], lazy="select")
    sent_by = relationship("User", foreign_keys=[sent_by_id], lazy="select")
    approved_by = relationship("User", foreign_keys=[approved_by_id], lazy="select")
    lines = relationship(
        "EstimateLine",
        back_populates="estimate",
        cascade="all, delete-orphan",
        order_by="EstimateLine.position",
        lazy="selectin",
    )

    def audit_name(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def status_label(self) -> str:
        return STATUSES[self.status]

    @property
    def is_draft(self) -> bool:
        return self.status == DRAFT

    @property
    def is_sent(self) -> bool:
        return self.status == SENT

    @property
    def is_approved(self) -> bool:
        return self.status == APPROVED

    @property
    def is_declined(self) -> bool:
        return self.status == DECLINED

    @property
    def is_decided(self) -> bool:
        return self.status in (APPROVED, DECLINED)

    def expired_on(self, day: dt.date) -> bool:
        """Past its validity date (and not decided): it can no longer be approved."""
        return not self.is_decided and self.valid_until is not None and self.valid_until < day

    @property
    def has_options(self) -> bool:
        return any(line.is_optional for line in self.lines)

    @property
    def review_link_open(self) -> bool:
        return self.review_token_hash is not None and (self.review_expires_at or utcnow()) > utcnow()


class EstimateLine(db.Model):
    """A line. Painted surfaces: labour hours = quantity × coats ÷ production rate
    (rounded to 0.01 h), labour = hours × labour rate (rounded), gallons = ⌈quantity ×
    coats ÷ coverage⌉ whole cans, materials = gallons × price per gallon (rounded),
    amount = labour + materials. Prep and other lines: amount = quantity × unit price.
    The client sees the description, quantity and amount, never rates or costs."""

    __tablename__ = "estimate_lines"
    __audited__ = True
    __audit_noun__ = "estimate line"
    __audit_labels__ = {
        "id": None,
        "estimate_id": "estimate",
        "position": None,
        "surface": "surface",
        "description": "description",
        "quantity": "quantity",
        "unit": "unit",
        "coats": "coats",
        "production_rate": "production rate (units per hour)",
        "labor_hours": "labour hours",
        "labor_rate": "labour rate",
        "labor_amount": "labour",
        "coverage": "coverage (sq ft per gallon)",
        "material_gallons": "gallons",
        "price_per_gallon": "price per gallon",
        "material_amount": "materials",
        "unit_price": "unit price",
        "amount": "amount",
        "is_optional": "optional",
        "is_selected": "chosen",
    }
    __audit_values__ = {"surface": SURFACES, "unit": UNITS}
    __table_args__ = (
        CheckConstraint(
            "surface IN ('walls', 'ceilings', 'trim', 'doors', 'cabinets', 'siding', 'deck', 'prep', 'other')",
            name="surface_valid",
        ),
        CheckConstraint("unit IN ('sq_ft', 'linear_ft', 'count', 'hours', 'each')", name="unit_valid"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("coats IS NULL OR coats BETWEEN 1 AND 10", name="coats_valid"),
        CheckConstraint("amount = labor_amount + material_amount OR unit_price IS NOT NULL", name="amount_is_sum"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    estimate_id: Mapped[int] = mapped_column(ForeignKey("estimates.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    surface: Mapped[str] = mapped_column(String(10))
    description: Mapped[str] = mapped_column(String(500))
    quantity: Mapped[Decimal] = mapped_column(Numeric(12, 3))
    unit: Mapped[str] = mapped_column(String(10))
    coats: Mapped[int | None] = mapped_column(Integer)
    production_rate: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    labor_hours: Mapped[Decimal] = mapped_column(Numeric(9, 2), default=ZERO)
    labor_rate: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    labor_amount: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=ZERO)
    coverage: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    material_gallons: Mapped[int] = mapped_column(Integer, default=0)
    price_per_gallon: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    material_amount: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=ZERO)
    unit_price: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))  # prep and other lines
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    is_optional: Mapped[bool] = mapped_column(Boolean, default=False)
    is_selected: Mapped[bool] = mapped_column(Boolean, default=False)

    estimate = relationship("Estimate", back_populates="lines")

    @property
    def project_id(self) -> int | None:
        return self.estimate.project_id

    @property
    def surface_label(self) -> str:
        return SURFACES[self.surface]

    @property
    def unit_label(self) -> str:
        return UNITS[self.unit]

    @property
    def is_plain(self) -> bool:
        return self.surface in PLAIN_SURFACES

    @property
    def counts(self) -> bool:
        """Is it in the subtotal? A required line always; an optional one when chosen."""
        return not self.is_optional or self.is_selected

    @property
    def price(self):
        """What the client sees: the amount with the estimate's markup in it (services.price_of)."""
        from app.estimates.services import price_of

        return price_of(self.amount, self.estimate.markup_pct)


class EstimateDelivery(db.Model):
    """One emailing of an estimate's review link (and its PDF) to the client's billing
    contact: queued by "Send", sent by a worker on the `invoices` queue. A delivery sent
    already is never sent again (a re-run job does not email twice), and one whose link
    was replaced by a newer send is skipped."""

    __tablename__ = "estimate_deliveries"
    __table_args__ = (CheckConstraint("status IN ('pending', 'sent', 'failed', 'skipped')", name="status_valid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    estimate_id: Mapped[int] = mapped_column(ForeignKey("estimates.id", ondelete="CASCADE"), index=True)
    recipient_name: Mapped[str] = mapped_column(String(200), default="")
    recipient_email: Mapped[str] = mapped_column(String(254))
    message_id: Mapped[str] = mapped_column(String(255))
    token_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(8), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    estimate = relationship("Estimate", lazy="joined")

    @property
    def is_sent(self) -> bool:
        return self.status == "sent"
