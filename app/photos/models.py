"""Photos from the site (SPEC.md §3 "photo galleries", §5 Photo): a project's, optionally a
task's; internal until an admin or PM approves them for the client."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.models import BOOKKEEPING_LABELS, TimestampMixin
from app.core.permissions import Scope
from app.core.versioning import Versioned
from app.extensions import db

BEFORE, AFTER = "before", "after"
PHASES = (BEFORE, AFTER)
# Offered as tags beside the free ones (a room, "north wall"): the surfaces of an estimate.
SURFACES = ("walls", "ceilings", "trim", "doors", "cabinets", "siding", "deck")
MAX_TAGS, MAX_TAG = 10, 40


class Photo(Versioned, TimestampMixin, db.Model):
    """One photo. The original (re-encoded on upload, core/uploads.py) and its thumbnail
    and web copies (workers/media.py) are private objects of core.storage under random
    keys. A deleted photo keeps its row (who deleted it, when) and loses its objects."""

    __tablename__ = "photos"
    __audited__ = True
    # Clients see the approved photos of their own projects; an employee the photos they took.
    __scope__ = Scope(project="project_id", client_visible="is_client_visible", owner="uploaded_by_id")
    __audit_noun__ = "photo"
    __audit_labels__ = {
        **BOOKKEEPING_LABELS,
        "project_id": "project",
        "task_id": "task",
        "storage_key": None,
        "thumb_key": None,
        "web_key": None,
        "content_type": None,
        "size": None,
        "width": None,
        "height": None,
        "caption": "caption",
        "tags": "tags",
        "phase": "before or after",
        "pair_id": "paired with",
        "taken_on": "day",
        "uploaded_by_id": "uploaded by",
        "client_provided": "from the client",
        "is_client_visible": "shown to the client",
        "approved_by_id": "approved by",
        "approved_at": None,
        "deleted_at": "deleted",
        "deleted_by_id": "deleted by",
    }
    __audit_created__ = "added a photo to {project_id}"
    __table_args__ = (
        # the gallery's page: a project's photos, newest first (queries.gallery)
        Index("ix_photos_project_created", "project_id", "created_at"),
        Index("ix_photos_task", "task_id"),
        # the gallery's before/after section: a project's paired photos (few of its many)
        Index(
            "ix_photos_pairs",
            "project_id",
            postgresql_where=text("pair_id IS NOT NULL"),
            sqlite_where=text("pair_id IS NOT NULL"),
        ),
        CheckConstraint("phase IS NULL OR phase IN ('before', 'after')", name="phase_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id", ondelete="SET NULL"))
    storage_key: Mapped[str] = mapped_column(String(300), unique=True)
    thumb_key: Mapped[str | None] = mapped_column(String(300))
    web_key: Mapped[str | None] = mapped_column(String(300))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    caption: Mapped[str] = mapped_column(String(500), default="")
    tags: Mapped[list] = mapped_column(JSON, default=list)
    phase: Mapped[str | None] = mapped_column(String(10))
    pair_id: Mapped[int | None] = mapped_column(ForeignKey("photos.id", ondelete="SET NULL"))
    taken_on: Mapped[date] = mapped_column(Date)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    client_provided: Mapped[bool] = mapped_column(Boolean, default=False)
    is_client_visible: Mapped[bool] = mapped_column(Boolean, default=False)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    deleted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    project = relationship("Project")
    uploaded_by = relationship("User", foreign_keys=[uploaded_by_id])
