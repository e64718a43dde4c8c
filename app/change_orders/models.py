"""Change orders (SPEC.md §3 "Change orders", §5 "Change order"): extra work on a project
with its cost lines (materials, labour, other, each with a markup), schedule impact,
and the way to the client's signature. Its amount is written only by
change_orders.services from the lines through core.money."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Computed,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.models import BOOKKEEPING_LABELS, TimestampMixin
from app.core.money import ZERO
from app.core.permissions import Scope
from app.core.versioning import Versioned
from app.extensions import db
from app.photos import models as _photos  # noqa: F401 - ChangeOrderPhoto.photo's model, mapped first

DRAFT, INTERNAL, CLIENT, APPROVED, REJECTED = (
    "draft",
    "pending_internal_approval",
    "pending_client",
    "approved",
    "rejected",
)
STATUSES = {
    DRAFT: "Draft",
    INTERNAL: "Waiting for a PM's approval",
    CLIENT: "Waiting for the client",
    APPROVED: "Approved",
    REJECTED: "Rejected",
}
KINDS = {"materials": "Materials", "labor": "Labour", "other": "Other"}


class ChangeOrder(Versioned, TimestampMixin, db.Model):
    __tablename__ = "change_orders"
    __audited__ = True
    # The project's team with change_order.view (A); the project's client sees it once it
    # is put to them (pending_client, approved, or rejected by them) — never a draft, never
    # one rejected inside before it reached them, never its costs or the inside comments.
    __scope__ = Scope(project="project_id", client_visible="is_client_visible")
    __audit_noun__ = "change order"
    __audit_labels__ = {
        **BOOKKEEPING_LABELS,
        "number": "number",
        "project_id": "project",
        "title": "title",
        "description": "description",
        "reason": "reason",
        "schedule_impact_days": "schedule impact (days)",
        "status": "status",
        "amount": "amount",
        "created_by_id": "written by",
        "submitted_at": "submitted at",
        "internal_approved_by_id": "approved inside by",
        "decided_by_id": "decided by",
        "decided_at": "decided at",
        "signature_name": "signed by",
        "signature_ip": "signed from",
        "signature_user_agent": None,
        "on_behalf_reason": "recorded for the client because",
        "decision_comment": "comment",
        "internal_comment": "comment inside",
        "put_to_client_at": "put to the client at",
        "schedule_applied": "schedule shifted",
        "is_client_visible": None,
    }
    __audit_values__ = {"status": STATUSES}
    __versioned_with__ = ("ChangeOrderLine",)
    __table_args__ = (
        CheckConstraint(
            "status IN ('draft', 'pending_internal_approval', 'pending_client', 'approved', 'rejected')",
            name="status_valid",
        ),
        CheckConstraint("schedule_impact_days BETWEEN -365 AND 365", name="impact_in_range"),
        Index("ix_change_orders_project_status", "project_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    schedule_impact_days: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(32), default=DRAFT)
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=ZERO)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    submitted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    internal_approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    signature_name: Mapped[str] = mapped_column(String(200), default="")
    signature_ip: Mapped[str] = mapped_column(String(64), default="")
    signature_user_agent: Mapped[str] = mapped_column(String(300), default="")
    on_behalf_reason: Mapped[str] = mapped_column(Text, default="")
    decision_comment: Mapped[str] = mapped_column(Text, default="")  # the client's step: shown to the client
    internal_comment: Mapped[str] = mapped_column(Text, default="")  # the inside step: staff only
    put_to_client_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    schedule_applied: Mapped[bool] = mapped_column(Boolean, default=False)
    is_client_visible: Mapped[bool] = mapped_column(
        Boolean,
        Computed(
            "status IN ('pending_client', 'approved') OR (status = 'rejected' AND put_to_client_at IS NOT NULL)",
            persisted=True,
        ),
    )

    project = relationship("Project", lazy="joined")
    created_by = relationship("User", foreign_keys=[created_by_id], lazy="select")
    decided_by = relationship("User", foreign_keys=[decided_by_id], lazy="select")
    lines = relationship(
        "ChangeOrderLine",
        back_populates="change_order",
        cascade="all, delete-orphan",
        order_by="ChangeOrderLine.position",
        lazy="selectin",
    )
    photos = relationship(
        "ChangeOrderPhoto",
        back_populates="change_order",
        cascade="all, delete-orphan",
        order_by="ChangeOrderPhoto.position",
        lazy="select",
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
    def is_internal(self) -> bool:
        return self.status == INTERNAL

    @property
    def is_with_client(self) -> bool:
        return self.status == CLIENT

    @property
    def is_approved(self) -> bool:
        return self.status == APPROVED

    @property
    def is_rejected(self) -> bool:
        return self.status == REJECTED

    @property
    def is_pending(self) -> bool:
        return self.status in (INTERNAL, CLIENT)

    @property
    def is_decided(self) -> bool:
        return self.status in (APPROVED, REJECTED)


class ChangeOrderLine(db.Model):
    """A cost line: cost = quantity × unit cost (rounded); price = cost + markup % of it
    (rounded). The client sees the price, never the cost or the markup."""

    __tablename__ = "change_order_lines"
    __audited__ = True
    __audit_noun__ = "change order line"
    __audit_labels__ = {
        "id": None,
        "change_order_id": "change order",
        "position": None,
        "kind": "kind",
        "description": "description",
        "quantity": "quantity",
        "unit_cost": "unit cost",
        "markup_pct": "markup (%)",
        "cost": "cost",
        "line_total": "price",
    }
    __audit_values__ = {"kind": KINDS}
    __table_args__ = (
        CheckConstraint("kind IN ('materials', 'labor', 'other')", name="kind_valid"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("markup_pct >= 0 AND markup_pct <= 100", name="markup_valid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    change_order_id: Mapped[int] = mapped_column(ForeignKey("change_orders.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[str] = mapped_column(String(10), default="labor")
    description: Mapped[str] = mapped_column(String(500))
    quantity: Mapped[Decimal] = mapped_column(Numeric(12, 3))
    unit_cost: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    markup_pct: Mapped[Decimal] = mapped_column(Numeric(6, 3), default=ZERO)
    cost: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    line_total: Mapped[Decimal] = mapped_column(Numeric(12, 2))

    change_order = relationship("ChangeOrder", back_populates="lines")

    @property
    def project_id(self) -> int:
        return self.change_order.project_id

    @property
    def kind_label(self) -> str:
        return KINDS[self.kind]


class ChangeOrderPhoto(db.Model):
    """A project photo shown with a change order, with the drawing made over it in the
    browser kept as a separate transparent layer (PNG, same size as the photo's web
    copy): the photo itself is never changed, and the client sees both, stacked, once
    the change order is put to them (through the change order's own image route)."""

    __tablename__ = "change_order_photos"
    __audited__ = True
    __audit_noun__ = "change order photo"
    __audit_labels__ = {
        "id": None,
        "change_order_id": "change order",
        "photo_id": "photo",
        "position": None,
        "annotation_key": None,  # a storage key: never words in the log (annotated_at says it)
        "annotated_by_id": "drawn by",
        "annotated_at": "drawn at",
    }
    __table_args__ = (UniqueConstraint("change_order_id", "photo_id"),)  # once each

    id: Mapped[int] = mapped_column(primary_key=True)
    change_order_id: Mapped[int] = mapped_column(ForeignKey("change_orders.id", ondelete="CASCADE"), index=True)
    photo_id: Mapped[int] = mapped_column(ForeignKey("photos.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    annotation_key: Mapped[str | None] = mapped_column(String(300))
    annotated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    annotated_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    change_order = relationship("ChangeOrder", back_populates="photos")
    photo = relationship("Photo", lazy="joined")

    @property
    def project_id(self) -> int:
        return self.change_order.project_id
