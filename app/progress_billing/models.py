"""Progress billing (issue 13): a project's schedule of values (SOV), its pay applications
(the G702 summary and the G703 continuation sheet, SPEC.md §5 "Pay application"),
retainage terms with an optional step-down, and retainage released through invoices.

Amounts are Numeric(12, 2), percentages Numeric(6, 3). A draft pay application's figures
are computed from its lines whenever it is read; certifying one writes its G702 figures
on the row (`g702_*`) and its lines' figures, and from then on nothing changes them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Computed,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.models import BOOKKEEPING_LABELS, TimestampMixin, utcnow
from app.core.money import ZERO
from app.core.permissions import Scope
from app.core.versioning import Versioned
from app.extensions import db

DRAFT, CERTIFIED = "draft", "certified"
STATUSES = {DRAFT: "Draft", CERTIFIED: "Certified"}
DEFAULT_RETAINAGE_PCT = Decimal("10.000")

# the G702's figures, in its line order (1–9; line 5 is split into work and materials)
G702_FIELDS = (
    "original_contract_sum",
    "net_change_by_change_orders",
    "contract_sum_to_date",
    "total_completed_and_stored",
    "retainage_on_completed",
    "retainage_on_stored",
    "retainage",
    "total_earned_less_retainage",
    "less_previous_certificates",
    "current_payment_due",
    "balance_to_finish_including_retainage",
)

sov_line_tasks = Table(
    "sov_line_tasks",
    db.metadata,
    Column("sov_line_id", ForeignKey("sov_lines.id", ondelete="CASCADE"), primary_key=True),
    Column("task_id", ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class BillingTerms(Versioned, TimestampMixin, db.Model):
    """A project's retainage terms: the default per cent held on each line, and an
    optional step-down (hold `retainage_pct` until the project is `step_down_at_pct`
    complete, then `step_down_pct`). One row per project, made when first saved."""

    __tablename__ = "billing_terms"
    __audited__ = True
    __scope__ = Scope(project="project_id", client_visible=False)
    __audit_noun__ = "retainage terms"
    __audit_labels__ = {
        **BOOKKEEPING_LABELS,
        "project_id": "project",
        "retainage_pct": "retainage (%)",
        "step_down_at_pct": "step down at (% complete)",
        "step_down_pct": "retainage after the step-down (%)",
    }
    __table_args__ = (
        CheckConstraint("retainage_pct >= 0 AND retainage_pct <= 100", name="retainage_valid"),
        CheckConstraint(
            "step_down_at_pct IS NULL OR (step_down_at_pct > 0 AND step_down_at_pct < 100)", name="at_valid"
        ),
        CheckConstraint("step_down_pct IS NULL OR (step_down_pct >= 0 AND step_down_pct <= 100)", name="step_valid"),
        CheckConstraint("(step_down_at_pct IS NULL) = (step_down_pct IS NULL)", name="step_down_whole"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), unique=True)
    retainage_pct: Mapped[Decimal] = mapped_column(Numeric(6, 3), default=DEFAULT_RETAINAGE_PCT)
    step_down_at_pct: Mapped[Decimal | None] = mapped_column(Numeric(6, 3))
    step_down_pct: Mapped[Decimal | None] = mapped_column(Numeric(6, 3))

    def audit_name(self) -> str:
        return "retainage terms"


class SovLine(Versioned, TimestampMixin, db.Model):
    """A line of the schedule of values (G703 column A–C): a description and its
    scheduled value; `retainage_pct` overrides the project's default when set. A line an
    approved change order added names it (G702 line 2 sums those lines)."""

    __tablename__ = "sov_lines"
    __audited__ = True
    # The client receives the G703 of each certified pay application, so the line's
    # description and scheduled value are theirs to see (never costs).
    __scope__ = Scope(project="project_id", client_visible=True)
    __audit_noun__ = "schedule of values line"
    __audit_labels__ = {
        **BOOKKEEPING_LABELS,
        "project_id": "project",
        "position": None,
        "item": "item",
        "description": "description",
        "scheduled_value": "scheduled value",
        "retainage_pct": "retainage (%)",
        "change_order_id": "change order",
        "estimate_line_id": None,
        "is_archived": "removed",
    }
    __table_args__ = (
        CheckConstraint("retainage_pct IS NULL OR (retainage_pct >= 0 AND retainage_pct <= 100)", name="ret_valid"),
        CheckConstraint("scheduled_value > -10000000000 AND scheduled_value < 10000000000", name="value_range"),
        Index("ix_sov_lines_project_position", "project_id", "position"),
        Index("ix_sov_lines_change_order", "change_order_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    item: Mapped[str] = mapped_column(String(20), default="")  # column A ("1", "2", "CO-3" …)
    description: Mapped[str] = mapped_column(String(300))
    scheduled_value: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=ZERO)
    retainage_pct: Mapped[Decimal | None] = mapped_column(Numeric(6, 3))
    change_order_id: Mapped[int | None] = mapped_column(ForeignKey("change_orders.id", ondelete="RESTRICT"))
    estimate_line_id: Mapped[int | None] = mapped_column(ForeignKey("estimate_lines.id", ondelete="SET NULL"))
    # a line billed on a pay application is never deleted (earlier applications name it);
    # taken off the schedule it is archived instead
    is_archived: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))

    tasks = relationship("Task", secondary=sov_line_tasks, lazy="select", order_by="Task.id")
    change_order = relationship("ChangeOrder", lazy="select")

    def audit_name(self) -> str:
        return self.description


class PayApplication(Versioned, TimestampMixin, db.Model):
    """A pay application for a period (the G702 with its G703 lines). `application_no`
    counts a project's applications (1, 2, …); `number` (PA-YYYY-NNNN, core.numbering) is
    taken when it is certified. Certified, it is locked: its figures are the `g702_*`
    columns and its lines' stored figures; it produced `invoice_id`."""

    __tablename__ = "pay_applications"
    __audited__ = True
    __scope__ = Scope(project="project_id", client_visible="is_client_visible")
    __audit_noun__ = "pay application"
    __audit_labels__ = {
        **BOOKKEEPING_LABELS,
        "number": "number",
        "project_id": "project",
        "application_no": "application no.",
        "period_to": "period to",
        "status": "status",
        "notes": "notes",
        "created_by_id": "prepared by",
        "certified_by_id": "certified by",
        "certified_at": "certified at",
        "invoice_id": "invoice",
        "is_client_visible": None,
        **{f"g702_{name}": None for name in G702_FIELDS},
    }
    __audit_values__ = {"status": STATUSES}
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'certified')", name="status_valid"),
        CheckConstraint("status = 'draft' OR number IS NOT NULL", name="certified_has_number"),
        UniqueConstraint("project_id", "application_no", name="uq_pay_applications_project_no"),
        Index("ix_pay_applications_project_period", "project_id", "period_to"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(20), unique=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="RESTRICT"))
    application_no: Mapped[int] = mapped_column(Integer)
    period_to: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default=DRAFT)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    certified_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    certified_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # a draft invoice deleted (an admin's choice) leaves the application without one
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id", ondelete="SET NULL"))
    is_client_visible: Mapped[bool] = mapped_column(Boolean, Computed("status = 'certified'", persisted=True))
    # the G702 as certified (null while a draft: computed from the lines when read)
    g702_original_contract_sum: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    g702_net_change_by_change_orders: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    g702_contract_sum_to_date: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    g702_total_completed_and_stored: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    g702_retainage_on_completed: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    g702_retainage_on_stored: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    g702_retainage: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    g702_total_earned_less_retainage: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    g702_less_previous_certificates: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    g702_current_payment_due: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    g702_balance_to_finish_including_retainage: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))

    project = relationship("Project", lazy="joined")
    invoice = relationship("Invoice", lazy="select")
    lines = relationship(
        "PayApplicationLine",
        back_populates="pay_application",
        cascade="all, delete-orphan",
        order_by="PayApplicationLine.id",
        lazy="selectin",
    )

    def audit_name(self) -> str:
        return self.number or f"application no. {self.application_no}"

    @property
    def is_certified(self) -> bool:
        return self.status == CERTIFIED

    @property
    def status_label(self) -> str:
        return STATUSES[self.status]


class PayApplicationLine(db.Model):
    """A G703 row of one pay application: this period's work (column E), materials
    presently stored (F) and, when the period's work is negative, the reason. The
    previous applications' total (D), the retainage per cent applied and the retainage
    (I) are written when the application is certified."""

    __tablename__ = "pay_application_lines"
    __audited__ = True
    __scope__ = Scope(project="project_id", client_visible=False)
    __audit_noun__ = "pay application line"
    __audit_labels__ = {
        "id": None,
        "pay_application_id": "pay application",
        "project_id": None,
        "sov_line_id": "schedule of values line",
        "this_period": "work completed this period",
        "materials_stored": "materials presently stored",
        "reason": "reason",
        "from_previous": None,
        "retainage_pct": None,
        "retainage": None,
        "item": None,
        "description": None,
        "scheduled_value": None,
    }
    __table_args__ = (
        UniqueConstraint("pay_application_id", "sov_line_id", name="uq_pay_application_lines_line"),
        CheckConstraint("materials_stored >= 0", name="stored_positive"),
        CheckConstraint("retainage_pct IS NULL OR (retainage_pct >= 0 AND retainage_pct <= 100)", name="ret_valid"),
        Index("ix_pay_application_lines_sov_line", "sov_line_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pay_application_id: Mapped[int] = mapped_column(ForeignKey("pay_applications.id", ondelete="CASCADE"))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    sov_line_id: Mapped[int] = mapped_column(ForeignKey("sov_lines.id", ondelete="RESTRICT"))
    this_period: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=ZERO)
    materials_stored: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=ZERO)
    reason: Mapped[str] = mapped_column(Text, default="")
    from_previous: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    retainage_pct: Mapped[Decimal | None] = mapped_column(Numeric(6, 3))
    retainage: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    # the line as certified (columns A–C), so a later edit of the schedule never changes it
    item: Mapped[str | None] = mapped_column(String(20))
    description: Mapped[str | None] = mapped_column(String(300))
    scheduled_value: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))

    pay_application = relationship("PayApplication", back_populates="lines")
    sov_line = relationship("SovLine", lazy="select")

    def audit_name(self) -> str:
        return f"line {self.sov_line_id}"


class RetainageRelease(db.Model):
    """Retainage handed back to the contractor: part of what the certified applications
    held, or all of it at completion (`is_final`), billed through `invoice_id` (a final
    invoice whose line is the release). The sum released never exceeds the sum held
    (progress_billing.services checks it under the project's row lock)."""

    __tablename__ = "retainage_releases"
    __audited__ = True
    __scope__ = Scope(project="project_id", client_visible=False)
    __audit_noun__ = "retainage release"
    __audit_labels__ = {
        "id": None,
        "project_id": "project",
        "amount": "amount",
        "is_final": "at completion",
        "invoice_id": "invoice",
        "note": "note",
        "created_by_id": "released by",
        "created_at": None,
    }
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="RESTRICT"), index=True)
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    is_final: Mapped[bool] = mapped_column(Boolean, default=False)
    # a release is its invoice: a draft invoice deleted takes the release with it
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id", ondelete="CASCADE"))
    note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    invoice = relationship("Invoice", lazy="select")

    def audit_name(self) -> str:
        return f"retainage release of {self.amount}"
