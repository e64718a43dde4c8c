"""Expenses and reimbursement claims (issue 13; SPEC.md §3 "Expenses", §5 "Expense").

An expense is money spent on a project: a category of SPEC.md's eight, an optional
budget line (the phase or cost code), vendor, date, amount and a receipt (a photo or a
PDF in the storage service). One paid by an employee out of pocket
(`paid_by_employee_id`) is a reimbursement claim: submitted → under_review → approved →
paid (direct, paycheck or petty cash, with date and reference), or rejected with a reason.

`is_cost` says whether it counts as the project's cost: a company expense always, a claim
once approved (or paid) — the reports, budgets and profitability read that column."""

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

from app.core.models import BOOKKEEPING_LABELS, TimestampMixin
from app.core.permissions import Scope
from app.core.versioning import Versioned
from app.extensions import db

CATEGORIES = {
    "MATERIALS": "Materials",
    "LABOR": "Labour",
    "EQUIPMENT": "Equipment",
    "TOOLS": "Tools",
    "SUBCONTRACTOR": "Subcontractor",
    "PERMITS": "Permits",
    "INSURANCE": "Insurance",
    "OVERHEAD": "Overhead",
}
SUBMITTED, UNDER_REVIEW, APPROVED, PAID, REJECTED = "submitted", "under_review", "approved", "paid", "rejected"
REIMBURSEMENT_STATUSES = {
    SUBMITTED: "Submitted",
    UNDER_REVIEW: "Under review",
    APPROVED: "Approved",
    PAID: "Paid",
    REJECTED: "Rejected",
}
REIMBURSEMENT_METHODS = {"direct": "Direct payment", "paycheck": "Next paycheck", "petty_cash": "Petty cash"}
RECEIPT_TYPES = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "image/heic": "heic",
    "application/pdf": "pdf",
}


class Expense(Versioned, TimestampMixin, db.Model):
    __tablename__ = "expenses"
    __audited__ = True
    # The project's team with expense.view (A: admins, PMs, trainees); the person who
    # paid it out of pocket sees their own claim (O); never a client.
    __scope__ = Scope(project="project_id", client_visible=False, owner="paid_by_employee_id")
    __audit_noun__ = "expense"
    __audit_labels__ = {
        **BOOKKEEPING_LABELS,
        "project_id": "project",
        "budget_line_id": "budget line",
        "category": "category",
        "amount": "amount",
        "description": "description",
        "vendor": "vendor",
        "expense_date": "date",
        "receipt_key": None,
        "receipt_name": "receipt",
        "receipt_content_type": None,
        "receipt_size": None,
        "paid_by_employee_id": "paid by",
        "reimbursement_status": "reimbursement status",
        "reimbursement_method": "paid back by",
        "reimbursement_date": "paid back on",
        "reimbursement_reference": "payment reference",
        "reviewed_by_id": "reviewed by",
        "reviewed_at": "reviewed at",
        "rejection_reason": "reason for rejecting",
        "reimbursed_by_id": "paid back by (who)",
        "created_by_id": "entered by",
        "is_cost": None,
        "reason": "reason",
    }
    __audit_values__ = {"category": CATEGORIES, "reimbursement_status": REIMBURSEMENT_STATUSES}
    __table_args__ = (
        CheckConstraint(
            "category IN ('MATERIALS', 'LABOR', 'EQUIPMENT', 'TOOLS', 'SUBCONTRACTOR', 'PERMITS', 'INSURANCE',"
            " 'OVERHEAD')",
            name="category_valid",
        ),
        CheckConstraint("amount > 0 AND amount < 10000000000", name="amount_valid"),
        CheckConstraint(
            "reimbursement_status IS NULL OR reimbursement_status IN"
            " ('submitted', 'under_review', 'approved', 'paid', 'rejected')",
            name="reimbursement_status_valid",
        ),
        CheckConstraint("(paid_by_employee_id IS NULL) = (reimbursement_status IS NULL)", name="claim_has_status"),
        CheckConstraint(
            "reimbursement_method IS NULL OR reimbursement_method IN ('direct', 'paycheck', 'petty_cash')",
            name="method_valid",
        ),
        CheckConstraint(
            "reimbursement_status IS NULL OR reimbursement_status <> 'paid' OR (reimbursement_method IS NOT NULL"
            " AND reimbursement_date IS NOT NULL)",
            name="paid_has_method",
        ),
        Index("ix_expenses_project_date", "project_id", "expense_date"),
        Index("ix_expenses_date", "expense_date"),
        Index("ix_expenses_paid_by", "paid_by_employee_id", "reimbursement_status"),
        Index("ix_expenses_budget_line", "budget_line_id"),
        # the reports' cost reads (app/budgets/actuals.py: is_cost IS TRUE) answered from the
        # index alone: by date (company totals, the trend, WIP as of a day), by project
        Index(
            "ix_expenses_cost_date",
            "expense_date",
            postgresql_include=["project_id", "category", "amount"],
            postgresql_where=text("is_cost IS TRUE"),
            sqlite_where=text("is_cost IS TRUE"),
        ),
        Index(
            "ix_expenses_cost_project",
            "project_id",
            "expense_date",
            postgresql_include=["category", "amount"],
            postgresql_where=text("is_cost IS TRUE"),
            sqlite_where=text("is_cost IS TRUE"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="RESTRICT"))
    budget_line_id: Mapped[int | None] = mapped_column(ForeignKey("budget_lines.id", ondelete="SET NULL"))
    category: Mapped[str] = mapped_column(String(20))
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    description: Mapped[str] = mapped_column(String(500), default="")
    vendor: Mapped[str] = mapped_column(String(200), default="")
    expense_date: Mapped[dt.date] = mapped_column(Date)
    receipt_key: Mapped[str | None] = mapped_column(String(300))
    receipt_name: Mapped[str] = mapped_column(String(255), default="")
    receipt_content_type: Mapped[str] = mapped_column(String(100), default="")
    receipt_size: Mapped[int | None] = mapped_column(Integer)
    paid_by_employee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    reimbursement_status: Mapped[str | None] = mapped_column(String(20))
    reimbursement_method: Mapped[str | None] = mapped_column(String(20))
    reimbursement_date: Mapped[dt.date | None] = mapped_column(Date)
    reimbursement_reference: Mapped[str] = mapped_column(String(120), default="")
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    rejection_reason: Mapped[str] = mapped_column(Text, default="")
    reimbursed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # counts as the project's cost: a company expense, or a claim approved or paid
    is_cost: Mapped[bool] = mapped_column(
        Boolean,
        Computed("paid_by_employee_id IS NULL OR reimbursement_status IN ('approved', 'paid')", persisted=True),
    )

    project = relationship("Project", lazy="joined")
    paid_by_employee = relationship("User", foreign_keys=[paid_by_employee_id], lazy="joined")
    budget_line = relationship("BudgetLine", lazy="select")

    def audit_name(self) -> str:
        return f"{CATEGORIES.get(self.category, self.category).lower()} expense of {self.amount}"

    @property
    def is_claim(self) -> bool:
        return self.paid_by_employee_id is not None

    @property
    def category_label(self) -> str:
        return CATEGORIES[self.category]

    @property
    def reimbursement_label(self) -> str:
        return REIMBURSEMENT_STATUSES.get(self.reimbursement_status or "", "")
