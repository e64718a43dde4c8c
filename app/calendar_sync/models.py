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

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, String, Text, UniqueConstraint, text
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


ACCOUNT_STATUSES = ("ok", "syncing", "failing")
PROVIDERS = ("caldav", "icloud", "google")  # how it was connected (the page's presets)


class CalendarAccount(db.Model):
    """A person's CalDAV calendar that Kibray keeps in step with what they may see (issue
    11). The app password is encrypted with the field-encryption key."""

    __tablename__ = "calendar_accounts"
    __table_args__ = (
        CheckConstraint("status IN ('ok', 'syncing', 'failing')", name="status_valid"),
        Index("ix_calendar_accounts_user", "user_id"),
        UniqueConstraint("user_id", "calendar_url", name="uq_calendar_accounts_calendar"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    server_url: Mapped[str] = mapped_column(String(500))
    username: Mapped[str] = mapped_column(String(200))
    password: Mapped[str] = mapped_column(EncryptedString(1000))
    calendar_url: Mapped[str] = mapped_column(String(1000))
    calendar_name: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(8), default="ok", server_default="ok")
    last_synced_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str] = mapped_column(Text, default="", server_default="")
    sync_token: Mapped[str | None] = mapped_column(Text)
    provider: Mapped[str] = mapped_column(String(16), default="caldav", server_default="caldav")
    # events created in the calendar app come into this project (None: they stay there)
    import_project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id", ondelete="SET NULL"))
    import_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # when it was switched on
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __audit_exclude__ = {"sync_token", "last_synced_at", "status", "last_error"}  # the job's bookkeeping

    def audit_name(self) -> str:
        return f"{self.username} at {self.server_url}"

    @property
    def is_failing(self) -> bool:
        """Stopped until its owner fixes it (not retried, not scheduled)."""
        return self.status == "failing"

    @property
    def has_app_password(self) -> bool:
        """False for Google, which takes OAuth sign-in only."""
        return self.provider != "google"


class SyncedItem(db.Model):
    """What Kibray last put on an account's calendar for one UID (an event with its
    overrides, or a task): where (`href`), the server's version of it (`etag`), and a
    digest of the text sent (without DTSTAMP), so an unchanged item is not sent again."""

    __tablename__ = "calendar_synced_items"
    __table_args__ = (UniqueConstraint("account_id", "uid", name="uq_calendar_synced_items_uid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("calendar_accounts.id", ondelete="CASCADE"))
    uid: Mapped[str] = mapped_column(String(255))
    href: Mapped[str] = mapped_column(String(1000))
    etag: Mapped[str | None] = mapped_column(String(255))
    digest: Mapped[str] = mapped_column(String(40))
    # the text last agreed with the server: what the pull compares an edit made in the
    # calendar app against, field by field (deferred: a push reads thousands of rows and
    # needs none of it; the pull reads it for the few items that changed)
    sent: Mapped[str] = mapped_column(Text, default="", server_default="", deferred=True)
    pushed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


CONFLICT_SIDES = ("kibray", "calendar")


class SyncConflict(db.Model):
    """An item changed on both sides between two syncs: the later change won (`kept`),
    the other version is kept here for its owner to read (the account page's "sync
    conflicts" list) until they dismiss it."""

    __tablename__ = "calendar_sync_conflicts"
    __table_args__ = (
        CheckConstraint("kept IN ('kibray', 'calendar')", name="kept_valid"),
        Index("ix_calendar_sync_conflicts_account", "account_id", "dismissed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("calendar_accounts.id", ondelete="CASCADE"))
    uid: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(300))  # the item's, as it now stands
    kept: Mapped[str] = mapped_column(String(8))  # whose version won
    lost_summary: Mapped[str] = mapped_column(Text)  # the losing version, in words
    lost_ics: Mapped[str] = mapped_column(Text, default="", server_default="")  # and as text
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    dismissed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
