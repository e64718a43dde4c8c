"""Documents (SPEC.md §3 "client records … documents", §5 File): a project's or a client
company's contracts, permits, spec sheets and colour schedules. A document is a name in
one place (a project or a client, never both); each upload of that name is a version,
an immutable row naming its own private object in core.storage."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.models import BOOKKEEPING_LABELS, TimestampMixin, utcnow
from app.core.permissions import Scope
from app.extensions import db

CATEGORIES = {
    "contract": "Contract",
    "permit": "Permit",
    "spec_sheet": "Spec sheet",
    "colour_schedule": "Colour schedule",
    "other": "Other",
}
NAME_MAX = 255


class Document(TimestampMixin, db.Model):
    """One document of a project or of a client company. Deleting keeps the row (who,
    when) and its versions' rows; the objects leave storage after the commit."""

    __tablename__ = "documents"
    __audited__ = True
    # Clients see the shared documents of their own projects (and of their own company:
    # permissions.can() reads `client_id` first); staff by the project (A), or, for a
    # client company's documents, by client.view (files.services.may_view).
    __scope__ = Scope(project="project_id", client_visible="is_client_visible")
    __audit_noun__ = "document"
    __audit_labels__ = {
        **BOOKKEEPING_LABELS,
        "project_id": "project",
        "client_id": "client",
        "name": "name",
        "name_key": None,
        "category": "category",
        "is_client_visible": "shared with the client",
        "latest_number": "latest version",
        "created_by_id": "added by",
        "deleted_at": "deleted",
        "deleted_by_id": "deleted by",
    }
    __audit_values__ = {"category": CATEGORIES}
    __audit_phrases__ = {
        "is_client_visible": {True: "shared {name} with the client", False: "stopped sharing {name} with the client"},
        "deleted_at": {True: "deleted the document {name}", False: None},
        "deleted_by_id": None,
    }
    __table_args__ = (
        CheckConstraint("(project_id IS NULL) <> (client_id IS NULL)", name="one_place"),
        CheckConstraint(
            "category IN ('contract', 'permit', 'spec_sheet', 'colour_schedule', 'other')", name="category_known"
        ),
        # one live document per name and place (a deleted one frees its name)
        Index(
            "uq_documents_project_name",
            "project_id",
            "name_key",
            unique=True,
            postgresql_where=text("deleted_at IS NULL"),
            sqlite_where=text("deleted_at IS NULL"),
        ),
        Index(
            "uq_documents_client_name",
            "client_id",
            "name_key",
            unique=True,
            postgresql_where=text("deleted_at IS NULL"),
            sqlite_where=text("deleted_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    name_key: Mapped[str] = mapped_column(String(NAME_MAX))  # the name case-folded: versions match by it
    category: Mapped[str] = mapped_column(String(20), default="other", server_default="other")
    is_client_visible: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    latest_number: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    deleted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    project = relationship("Project")
    client = relationship("Client")
    versions = relationship(
        "DocumentVersion",
        back_populates="document",
        order_by="DocumentVersion.number.desc()",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    def audit_name(self) -> str:
        return self.name


class DocumentVersion(db.Model):
    """One upload of a document: never changed, kept when a newer one arrives."""

    __tablename__ = "document_versions"
    __audited__ = True
    __audit_noun__ = "document version"
    __audit_labels__ = {
        "id": None,
        "created_at": None,
        "document_id": "document",
        "number": "version",
        "filename": "file name",
        "storage_key": None,
        "content_type": "type",
        "size": "size",
        "uploaded_by_id": "uploaded by",
        "client_provided": "from the client",
    }
    __audit_created__ = "uploaded version {number} of {document_id}"
    __table_args__ = (UniqueConstraint("document_id", "number", name="uq_document_versions_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(NAME_MAX))  # as uploaded (made safe): the download's name
    storage_key: Mapped[str] = mapped_column(String(300), unique=True)
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    client_provided: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)

    document = relationship("Document", back_populates="versions")
    uploaded_by = relationship("User", foreign_keys=[uploaded_by_id])

    def audit_name(self) -> str:
        return f"{self.filename} (version {self.number})"
