"""Budgets and labour cost (issue 13; SPEC.md §3 "Budgets").

A project's budget is `projects.budget`; its phase / cost-code lines are `BudgetLine`s
(a line's `category` lets the labour cost and the expenses of that category fall on it
when an expense names no line); `BudgetVersion` is the one version of a project's set of
lines (every save of the lines bumps it; see services.save_lines). `BudgetAlert` remembers each threshold (90 %, 100 %) told
for a line or the whole project, so each is told once. `CostRate` is what an hour of a
person costs the company from a date: admin-only data (payroll.view), never shown to
anyone else; labour cost = approved timesheet hours × the rate in force that week."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import BOOKKEEPING_LABELS, TimestampMixin, utcnow
from app.core.permissions import Scope
from app.core.versioning import Versioned
from app.extensions import db

THRESHOLDS = (90, 100)


class BudgetLine(Versioned, TimestampMixin, db.Model):
    __tablename__ = "budget_lines"
    __audited__ = True
    __scope__ = Scope(project="project_id", client_visible=False)
    __audit_noun__ = "budget line"
    __audit_labels__ = {
        **BOOKKEEPING_LABELS,
        "project_id": "project",
        "position": None,
        "code": "cost code",
        "name": "phase",
        "category": "category",
        "amount": "budget",
        "estimated_hours": "estimated hours",
    }
    __table_args__ = (
        CheckConstraint("amount >= 0 AND amount < 10000000000", name="amount_valid"),
        CheckConstraint("estimated_hours IS NULL OR estimated_hours >= 0", name="hours_valid"),
        Index("ix_budget_lines_project_position", "project_id", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    code: Mapped[str] = mapped_column(String(20), default="")
    name: Mapped[str] = mapped_column(String(120))
    category: Mapped[str | None] = mapped_column(String(20))  # one of expenses.models.CATEGORIES
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    estimated_hours: Mapped[Decimal | None] = mapped_column(Numeric(9, 2))

    def audit_name(self) -> str:
        return f"{self.code} {self.name}".strip()


class BudgetVersion(db.Model):
    """The version of a project's set of budget lines — one optimistic lock for the whole
    set, as `billing_terms.version` is the schedule of values'. A project without a row
    is at version 1; every save of the lines (services.save_lines, under the project's
    row lock) writes the next. Its own table, not a column of `projects`: bumping it
    then neither writes the project row (its `version`, `updated_at`, the cached reads
    of projects) nor touches the projects feature's model."""

    __tablename__ = "budget_versions"
    __scope__ = Scope(project="project_id", client_visible=False)

    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1, server_default=text("1"))


class BudgetAlert(db.Model):
    """A threshold told: `subject` is "project" or "line:<id>"; one row per subject and
    threshold (a unique index), written in the transaction that notifies."""

    __tablename__ = "budget_alerts"
    __scope__ = Scope(project="project_id", client_visible=False)
    __table_args__ = (UniqueConstraint("project_id", "subject", "threshold", name="uq_budget_alerts_once"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(30))
    threshold: Mapped[int] = mapped_column(Integer)
    sent_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CostRate(Versioned, db.Model):
    """What an hour of `user_id` costs the company from `effective_from` (until the next
    rate). Admin-only (payroll.view). Versioned: an edit or delete based on an older
    version is refused (budgets.rates)."""

    __tablename__ = "cost_rates"
    __audited__ = True
    # not a project's: only payroll.view (admins, scope ✓) ever reads it
    __scope__ = Scope(project="user_id", client_visible=False)
    __audit_noun__ = "cost rate"
    __audit_labels__ = {
        "id": None,
        "user_id": "person",
        "hourly_cost": "hourly cost",
        "effective_from": "from",
        "created_by_id": "set by",
        "created_at": None,
        "version": None,
    }
    __table_args__ = (
        UniqueConstraint("user_id", "effective_from", name="uq_cost_rates_user_from"),
        CheckConstraint("hourly_cost >= 0 AND hourly_cost < 100000", name="cost_valid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    hourly_cost: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    effective_from: Mapped[dt.date] = mapped_column(Date)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    def audit_name(self) -> str:
        return f"cost rate from {self.effective_from}"
