"""The accountant's export (issue 13): what was exported to QuickBooks Online, so that
nothing is exported twice unless asked. One `AccountingExport` per file made; one
`AccountingExportItem` per invoice, payment or expense it carried."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.models import utcnow
from app.extensions import db

KINDS = {"invoices": "Invoices", "payments": "Payments", "expenses": "Expenses"}


class AccountingExport(db.Model):
    __tablename__ = "accounting_exports"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    period_from: Mapped[dt.date] = mapped_column(Date)
    period_to: Mapped[dt.date] = mapped_column(Date)
    include_exported: Mapped[bool] = mapped_column(Boolean, default=False)  # asked to repeat rows
    row_count: Mapped[int] = mapped_column(Integer, default=0)
    file_key: Mapped[str | None] = mapped_column(String(300))  # the CSV as made, for a re-download
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    items = relationship("AccountingExportItem", cascade="all, delete-orphan", lazy="select")


class AccountingExportItem(db.Model):
    __tablename__ = "accounting_export_items"
    __table_args__ = (Index("ix_accounting_export_items_object", "kind", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    export_id: Mapped[int] = mapped_column(ForeignKey("accounting_exports.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    object_id: Mapped[int] = mapped_column(Integer)
