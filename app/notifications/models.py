"""In-app notifications (the bell). Channels and preferences come in a later issue."""

from __future__ import annotations

from datetime import datetime, time

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.models import utcnow
from app.core.permissions import Scope
from app.core.versioning import Versioned
from app.extensions import db


class Notification(db.Model):
    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_unread", "user_id", "read_at"),)
    # Owned by the person it is addressed to; never shown to a client through its project.
    __scope__ = Scope(project="project_id", client_visible=False, owner="user_id")

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    # What it links to, as an endpoint and its arguments (built into a URL when shown,
    # so services never need a request); "" = no link.
    link_endpoint: Mapped[str] = mapped_column(String(80), default="")
    link_args: Mapped[dict] = mapped_column(JSON, default=dict)
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class NotificationPreference(Versioned, db.Model):
    """One person's choices: per kind, the channels it reaches them by; quiet hours (email
    held until they end, in the company's time zone); a daily digest instead of one email
    each. No row: the defaults (app/notifications/channels.py DEFAULTS), version 1 — the
    first save writes version 2 (channels.save_preferences), so a save based on the
    defaults is stale once another window has saved."""

    __audit_noun__ = "notification setting"

    __tablename__ = "notification_preferences"
    __scope__ = Scope(project="project_id", client_visible=False, owner="user_id")

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    # {"task_assigned": {"in_app": true, "email": false}, …}: only kinds changed from the default
    choices: Mapped[dict] = mapped_column(JSON, default=dict)
    quiet_start: Mapped[time | None] = mapped_column(Time)
    quiet_end: Mapped[time | None] = mapped_column(Time)
    digest: Mapped[bool] = mapped_column(Boolean, default=False)

    @property
    def project_id(self) -> None:
        return None


class Delivery(db.Model):
    """A notification on its way by a channel other than the bell (email): the outbox.
    One row per notification and channel (unique), so a retried or duplicated job never
    sends twice. `send_after`: not before the end of the person's quiet hours."""

    __tablename__ = "notification_deliveries"
    __table_args__ = (
        UniqueConstraint("notification_id", "channel", name="uq_notification_deliveries_note_channel"),
        Index("ix_notification_deliveries_due", "status", "send_after"),
    )
    __scope__ = Scope(project="project_id", client_visible=False, owner="user_id")

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(16), default="email")
    # pending → sent, or failed after the retries; "digest": waits for the daily digest
    status: Mapped[str] = mapped_column(String(16), default="pending")
    send_after: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    notification = relationship("Notification", lazy="joined")

    @property
    def project_id(self):
        return self.notification.project_id if self.notification else None


class Reminder(db.Model):
    """That a person was told about a task's condition once ("due_soon", "overdue", for
    that due date): the hourly job inserts it first and notifies only if the insert was
    new, so workers running at once, or again after a restart, never repeat themselves."""

    __tablename__ = "task_reminders"
    __table_args__ = (UniqueConstraint("task_id", "user_id", "condition", name="uq_task_reminders_once"),)
    __scope__ = Scope(project="project_id", client_visible=False, owner="user_id")

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    condition: Mapped[str] = mapped_column(String(40))  # "due_soon:2026-03-05", "overdue:2026-03-05"
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    @property
    def project_id(self):
        return None
