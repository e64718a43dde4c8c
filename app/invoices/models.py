"""Invoices, their lines and payments (SPEC.md §3 "Money", §5 "Invoice").

Amounts are Numeric(12, 2), quantities Numeric(12, 3), rates Numeric(6, 3) per cent;
the figures on the invoice row (subtotal, tax, total, paid) are written only by
`invoices.services` from the lines and payments through `core.money.totals`, in the
same transaction, so the row always agrees with its lines (a CHECK keeps the sums
consistent in the database too)."""

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
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.models import BOOKKEEPING_LABELS, TimestampMixin, utcnow
from app.core.money import ZERO
from app.core.permissions import Scope
from app.core.versioning import Versioned
from app.extensions import db

STANDARD, DEPOSIT, FINAL = "standard", "deposit", "final"
INVOICE_TYPES = {STANDARD: "Standard", DEPOSIT: "Deposit", FINAL: "Final"}
DRAFT, SENT, PAID, OVERDUE, CANCELLED = "DRAFT", "SENT", "PAID", "OVERDUE", "CANCELLED"
STATUSES = {DRAFT: "Draft", SENT: "Sent", PAID: "Paid", OVERDUE: "Overdue", CANCELLED: "Cancelled"}
# payments may be recorded on these (SPEC.md §5 "Invoices")
PAYABLE = (SENT, OVERDUE)
PAYMENT_METHODS = {"check": "Check", "ach": "ACH", "card": "Card", "cash": "Cash"}
# where a line came from (the wizard's prefill; "not yet billed" reads them)
LINE_SOURCES = {
    "task": "Task",
    "change_order": "Change order",
    "deposit": "Deposit applied",
    "retention": "Retention release",
    "retainage": "Retainage release (pay applications)",
    "pay_application": "Pay application",
    "extra": "Extra charge",
}


class Invoice(Versioned, TimestampMixin, db.Model):
    __tablename__ = "invoices"
    __audited__ = True
    # The project's team with project.view_financials (A); the project's client sees the
    # invoices issued to them (never a draft) and never the internal notes (services).
    __scope__ = Scope(project="project_id", client_visible="is_client_visible")
    __audit_noun__ = "invoice"
    __audit_labels__ = {
        **BOOKKEEPING_LABELS,
        "number": "number",
        "project_id": "project",
        "client_id": None,  # the project's, copied
        "invoice_type": "type",
        "status": "status",
        "issue_date": "issue date",
        "due_date": "due date",
        "tax_rate": "tax rate (%)",
        "subtotal": "subtotal",
        "tax_amount": "tax",
        "total_amount": "total",
        "retention_amount": "retention",
        "amount_paid": "paid",
        "payment_terms": "payment terms",
        "client_message": "message to the client",
        "internal_notes": "internal notes",
        "is_draft_for_review": "draft for review",
        "review_comment": "review comment",
        "created_by_id": "created by",
        "sent_at": "issued at",
        "cancelled_at": "cancelled at",
        "cancel_reason": "reason for cancelling",
        "is_client_visible": None,
        "reminder_stage": None,
        "reason": "reason",
    }
    __audit_values__ = {"invoice_type": INVOICE_TYPES, "status": STATUSES}
    __table_args__ = (
        CheckConstraint("invoice_type IN ('standard', 'deposit', 'final')", name="type_valid"),
        CheckConstraint("status IN ('DRAFT', 'SENT', 'PAID', 'OVERDUE', 'CANCELLED')", name="status_valid"),
        CheckConstraint("due_date >= issue_date", name="due_after_issue"),
        CheckConstraint("total_amount = subtotal + tax_amount", name="total_is_sum"),
        CheckConstraint("retention_amount >= 0 AND retention_amount <= total_amount", name="retention_in_total"),
        CheckConstraint("amount_paid >= 0 AND amount_paid <= total_amount - retention_amount", name="paid_in_owed"),
        CheckConstraint("tax_rate >= 0 AND tax_rate <= 100", name="tax_rate_valid"),
        CheckConstraint("status = 'DRAFT' OR number IS NOT NULL", name="issued_has_number"),
        Index("ix_invoices_project_status", "project_id", "status"),
        Index("ix_invoices_status_due", "status", "due_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Taken when the invoice is issued (sent), so issued numbers have no gaps; a draft has none.
    number: Mapped[str | None] = mapped_column(String(20), unique=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="RESTRICT"), index=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="RESTRICT"), index=True)
    invoice_type: Mapped[str] = mapped_column(String(10), default=STANDARD)
    status: Mapped[str] = mapped_column(String(10), default=DRAFT)
    issue_date: Mapped[dt.date] = mapped_column(Date)
    due_date: Mapped[dt.date] = mapped_column(Date)
    tax_rate: Mapped[Decimal] = mapped_column(Numeric(6, 3), default=ZERO, server_default=text("0"))
    subtotal: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=ZERO, server_default=text("0"))
    tax_amount: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=ZERO, server_default=text("0"))
    total_amount: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=ZERO, server_default=text("0"))
    retention_amount: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=ZERO, server_default=text("0"))
    amount_paid: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=ZERO, server_default=text("0"))
    payment_terms: Mapped[str] = mapped_column(String(20), default="net_30")
    client_message: Mapped[str] = mapped_column(Text, default="")  # printed on the invoice
    internal_notes: Mapped[str] = mapped_column(Text, default="")  # never shown to the client
    is_draft_for_review: Mapped[bool] = mapped_column(Boolean, default=False)
    review_comment: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    cancel_reason: Mapped[str] = mapped_column(Text, default="")
    # the last reminder stage told (invoices.reminders.STAGES), so each is sent once
    reminder_stage: Mapped[str] = mapped_column(String(12), default="", server_default=text("''"))
    is_client_visible: Mapped[bool] = mapped_column(Boolean, Computed("status <> 'DRAFT'", persisted=True))

    project = relationship("Project", lazy="joined")
    client = relationship("Client", lazy="joined")
    created_by = relationship("User", foreign_keys=[created_by_id], lazy="select")
    lines = relationship(
        "InvoiceLine",
        back_populates="invoice",
        cascade="all, delete-orphan",
        order_by="InvoiceLine.position",
        lazy="selectin",
    )
    payments = relationship(
        "Payment",
        back_populates="invoice",
        cascade="all, delete-orphan",
        order_by="Payment.id",
        lazy="select",
        foreign_keys="Payment.invoice_id",
    )

    def audit_name(self) -> str:
        return self.number or f"draft #{self.id}"

    @property
    def label(self) -> str:
        return self.number or f"Draft invoice #{self.id}"

    @property
    def net_payable(self) -> Decimal:
        """What is still owed now: total − retention − paid (SPEC.md §3)."""
        return max(self.total_amount - self.retention_amount - self.amount_paid, ZERO)

    @property
    def is_draft(self) -> bool:
        return self.status == DRAFT

    @property
    def is_cancelled(self) -> bool:
        return self.status == CANCELLED

    @property
    def is_payable(self) -> bool:
        return self.status in PAYABLE

    @property
    def is_paid(self) -> bool:
        return self.status == PAID

    @property
    def is_overdue(self) -> bool:
        return self.status == OVERDUE

    @property
    def is_issued(self) -> bool:
        return self.status not in (DRAFT, CANCELLED)

    @property
    def status_label(self) -> str:
        return STATUSES[self.status]

    @property
    def document_title(self) -> str:
        """The title printed on the invoice."""
        return {DEPOSIT: "DEPOSIT INVOICE", FINAL: "FINAL INVOICE"}.get(self.invoice_type, "INVOICE")

    @property
    def type_label(self) -> str:
        return INVOICE_TYPES[self.invoice_type]


class InvoiceLine(db.Model):
    __tablename__ = "invoice_lines"
    __audited__ = True
    __audit_noun__ = "invoice line"
    __audit_labels__ = {
        "id": None,
        "invoice_id": "invoice",
        "position": None,
        "description": "description",
        "quantity": "quantity",
        "unit_price": "unit price",
        "tax_rate": "tax rate (%)",
        "line_total": "line total",
        "source": "from",
        "source_id": None,
    }
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("tax_rate >= 0 AND tax_rate <= 100", name="tax_rate_valid"),
        Index("ix_invoice_lines_source", "source", "source_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    description: Mapped[str] = mapped_column(String(500))
    quantity: Mapped[Decimal] = mapped_column(Numeric(12, 3))
    unit_price: Mapped[Decimal] = mapped_column(Numeric(12, 2))  # negative: a credit (a deposit applied)
    tax_rate: Mapped[Decimal] = mapped_column(Numeric(6, 3), default=ZERO)
    line_total: Mapped[Decimal] = mapped_column(Numeric(12, 2))  # quantity × unit price, rounded
    source: Mapped[str | None] = mapped_column(String(16))
    source_id: Mapped[int | None] = mapped_column(Integer)

    invoice = relationship("Invoice", back_populates="lines")

    @property
    def project_id(self) -> int:
        return self.invoice.project_id


class Payment(db.Model):
    """A payment received against an invoice. Never edited; a mistaken one is voided with
    a reason (kept, audited) and the invoice's paid amount and status follow."""

    __tablename__ = "payments"
    __audited__ = True
    __audit_noun__ = "payment"
    __audit_labels__ = {
        "id": None,
        "invoice_id": "invoice",
        "amount": "amount",
        "payment_date": "payment date",
        "method": "method",
        "reference": "reference",
        "recorded_by_id": "recorded by",
        "created_at": None,
        "voided_at": "voided at",
        "voided_by_id": "voided by",
        "void_reason": "reason for voiding",
    }
    __audit_values__ = {"method": PAYMENT_METHODS}
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("method IN ('check', 'ach', 'card', 'cash')", name="method_valid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id", ondelete="CASCADE"), index=True)
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    payment_date: Mapped[dt.date] = mapped_column(Date)
    method: Mapped[str] = mapped_column(String(8))
    reference: Mapped[str] = mapped_column(String(120), default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    voided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    voided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    void_reason: Mapped[str] = mapped_column(Text, default="")

    invoice = relationship("Invoice", back_populates="payments", foreign_keys=[invoice_id])
    recorded_by = relationship("User", foreign_keys=[recorded_by_id], lazy="joined")

    @property
    def project_id(self) -> int:
        return self.invoice.project_id

    @property
    def is_void(self) -> bool:
        return self.voided_at is not None

    @property
    def method_label(self) -> str:
        return PAYMENT_METHODS[self.method]


class InvoicePdf(db.Model):
    """The stored PDF of an invoice and the fingerprint of what it shows: a PDF whose
    invoice, company details, client address or project name changed since is stale and is
    drawn again before it is sent or downloaded. Kept
    beside the invoice (not on it) so that storing a PDF does not change the invoice's
    version under someone's open form."""

    __tablename__ = "invoice_pdfs"

    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id", ondelete="CASCADE"), primary_key=True)
    invoice_version: Mapped[int] = mapped_column(Integer)
    # SHA-256 of the HTML it was drawn from (delivery.fingerprint): also stale when the
    # company's details, the client's address or the project's name changed
    fingerprint: Mapped[str] = mapped_column(String(64), default="", server_default=text("''"))
    storage_key: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class InvoiceDelivery(db.Model):
    """One emailing of an invoice to the client: queued by "Send", sent by a worker.
    Its Message-ID is chosen when it is queued, and a delivery already sent is never
    sent again — a job that re-runs after its worker died does not email twice."""

    __tablename__ = "invoice_deliveries"
    __table_args__ = (CheckConstraint("status IN ('pending', 'sent', 'failed')", name="status_valid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id", ondelete="CASCADE"), index=True)
    batch_id: Mapped[str | None] = mapped_column(String(40), index=True)
    recipient_name: Mapped[str] = mapped_column(String(200), default="")
    recipient_email: Mapped[str] = mapped_column(String(254))
    message_id: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(8), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    invoice = relationship("Invoice", lazy="joined")

    @property
    def is_sent(self) -> bool:
        return self.status == "sent"

    @property
    def is_failed(self) -> bool:
        return self.status == "failed"
