"""A subscription feed: the secret URL a calendar app (Apple, Google, Outlook) polls for
one person's schedule, or for one project's as that person may see it.

The URL carries a random token (no login: the calendar servers that fetch it cannot sign
in). The token is looked up by its SHA-256 (`token_hash`, unique): a copy of the table
does not give anyone a working URL. The owner can still read their URL again on the
settings page and through the API — kept as `token`, encrypted with the field-encryption
key (core.crypto), never compared. Regenerating replaces both (the old URL answers 404);
revoking deletes the row.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.crypto import EncryptedString
from app.core.models import utcnow
from app.core.permissions import Scope
from app.extensions import db


class CalendarFeed(db.Model):
    __tablename__ = "calendar_feeds"
    # a person's own (feeds.py reads and changes only the caller's rows); never a client
    # company's as such
    __scope__ = Scope(project="project_id", owner="user_id", client_visible=False)
    __table_args__ = (
        # one "my schedule" feed a person, and one feed a person a project
        Index(
            "uq_calendar_feeds_mine",
            "user_id",
            unique=True,
            postgresql_where=text("project_id IS NULL"),
            sqlite_where=text("project_id IS NULL"),
        ),
        Index(
            "uq_calendar_feeds_project",
            "user_id",
            "project_id",
            unique=True,
            postgresql_where=text("project_id IS NOT NULL"),
            sqlite_where=text("project_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token: Mapped[str] = mapped_column(EncryptedString(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
