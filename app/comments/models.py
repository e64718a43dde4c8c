"""Comments on tasks and projects — internal (a client never reads them) — and each
project's thread with its client (`for_client`: the portal's conversation). Versioned: an
edit or delete from a thread opened before another change is refused, never a silent
overwrite (core/versioning.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, DateTime, ForeignKey, Index, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.models import utcnow
from app.core.permissions import Scope
from app.core.versioning import Versioned
from app.extensions import db


class Comment(Versioned, db.Model):
    __tablename__ = "comments"
    __audited__ = True
    # The project's team (A) sees them; an employee the comments of their own tasks
    # (tasks.services decides per task); a client only the project's thread with them.
    __scope__ = Scope(project="project_id", client_visible="for_client", owner="author_id")
    __audit_noun__ = "comment"
    __audit_labels__ = {
        "id": None,
        "project_id": "project",
        "task_id": "task",
        "author_id": "author",
        "body": "text",
        "created_at": None,
        "edited_at": None,
        "for_client": "with the client",
        "version": None,
    }
    __table_args__ = (
        Index("ix_comments_task_created", "task_id", "created_at"),
        Index("ix_comments_project_created", "project_id", "created_at"),
        CheckConstraint("length(body) > 0", name="body_present"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # the project's conversation with its client (never on a task): the client reads it
    for_client: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    author = relationship("User", lazy="joined")

    def audit_name(self) -> str:
        return self.body[:60]
