"""Calendar events (SPEC.md §3 "Calendar and schedule", §5 Calendar event).

An event is a meeting, an inspection, a delivery, a milestone… of a project (or of the
company, with no project). Tasks with dates appear on the calendar beside events
(app/calendar/queries.py) but stay tasks: this table holds events only.

Recurrence: a series is one row with `rrule` (RFC 5545 RRULE, the subset of
app/calendar/recurrence.py); its occurrences are computed, not stored. Editing or
cancelling one occurrence writes an exception row: `series_id` names the series and
`recurrence_start` the occurrence's original start (a cancelled occurrence is an
exception row with status `cancelled`).

The external sync columns (`external_*`, `sync_status`, `last_synced_at`) are created
now and filled by the CalDAV issue.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Computed,
    DateTime,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    exists,
    select,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.models import BOOKKEEPING_LABELS, TimestampMixin
from app.core.permissions import Scope
from app.core.versioning import Versioned
from app.extensions import db

# --- types, statuses, visibility (SPEC.md §3) ------------------------------------------------

EVENT_TYPES = (
    "milestone",
    "task",
    "meeting",
    "deadline",
    "reminder",
    "phase_start",
    "phase_end",
    "inspection",
    "delivery",
)
TYPE_LABELS = {
    "milestone": "Milestone",
    "task": "Task",
    "meeting": "Meeting",
    "deadline": "Deadline",
    "reminder": "Reminder",
    "phase_start": "Phase start",
    "phase_end": "Phase end",
    "inspection": "Inspection",
    "delivery": "Delivery",
}
SCHEDULED, IN_PROGRESS, COMPLETED, CANCELLED, RESCHEDULED = (
    "scheduled",
    "in_progress",
    "completed",
    "cancelled",
    "rescheduled",
)
STATUSES = (SCHEDULED, IN_PROGRESS, COMPLETED, CANCELLED, RESCHEDULED)
STATUS_LABELS = {
    SCHEDULED: "Scheduled",
    IN_PROGRESS: "In progress",
    COMPLETED: "Completed",
    CANCELLED: "Cancelled",
    RESCHEDULED: "Rescheduled",
}
# An event in one of these no longer books its people (the conflict engine ignores it).
CLOSED_STATUSES = (COMPLETED, CANCELLED)

ADMIN_ONLY, INTERNAL, PROJECT_TEAM, CLIENT_VISIBLE = "admin_only", "internal", "project_team", "client_visible"
VISIBILITIES = (ADMIN_ONLY, INTERNAL, PROJECT_TEAM, CLIENT_VISIBLE)
VISIBILITY_LABELS = {
    ADMIN_ONLY: "Admins only",
    INTERNAL: "Internal (staff)",
    PROJECT_TEAM: "Project team",
    CLIENT_VISIBLE: "Visible to the client",
}

RISK_LEVELS = ("none", "low", "medium", "high", "critical")  # ascending severity
RISK_LABELS = {"none": "No risk", "low": "Low", "medium": "Medium", "high": "High", "critical": "Critical"}
SYNC_STATUSES = ("local", "synced", "pending", "failed")


def _in(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class CalendarEvent(Versioned, TimestampMixin, db.Model):
    __tablename__ = "calendar_events"
    __audited__ = True
    # A project's event belongs to its team (A); an employee sees the events they are on
    # (O, `owned_by`); a client only rows with is_client_visible of their own projects.
    # The visibility levels narrow this further in app/calendar/queries.py (admin_only).
    __scope__ = Scope(
        project="project_id", client_visible="is_client_visible", owner="assignee_ids", owner_query="owned_by"
    )
    __audit_noun__ = "event"
    __audit_labels__ = {
        **BOOKKEEPING_LABELS,
        "title": "title",
        "description": "description",
        "notes": "internal notes",
        "start_at": "start",
        "end_at": "end",
        "all_day": "all day",
        "project_id": "project",
        "event_type": "type",
        "status": "status",
        "visibility": "visibility",
        "rrule": "repeats",
        "series_id": "series",
        "recurrence_start": "occurrence",
        "risk_level": None,  # kept by the conflict engine
        "is_client_visible": None,
        "created_by_id": None,
        "external_uid": None,
        "external_etag": None,
        "external_calendar": None,
        "sync_status": None,
        "last_synced_at": None,
        "external_updated_at": None,
    }
    __audit_values__ = {"event_type": TYPE_LABELS, "status": STATUS_LABELS, "visibility": VISIBILITY_LABELS}
    __versioned_with__ = ("EventAssignee",)
    __table_args__ = (
        CheckConstraint("end_at >= start_at", name="dates_ordered"),
        CheckConstraint(_in("event_type", EVENT_TYPES), name="type_valid"),
        CheckConstraint(_in("status", STATUSES), name="status_valid"),
        CheckConstraint(_in("visibility", VISIBILITIES), name="visibility_valid"),
        CheckConstraint(_in("risk_level", RISK_LEVELS), name="risk_valid"),
        CheckConstraint(_in("sync_status", SYNC_STATUSES), name="sync_status_valid"),
        # an exception row names its occurrence; a series is not itself an exception
        CheckConstraint("series_id IS NULL OR (recurrence_start IS NOT NULL AND rrule IS NULL)", name="exception"),
        UniqueConstraint("series_id", "recurrence_start", name="uq_calendar_events_occurrence"),
        Index("ix_calendar_events_start", "start_at"),
        Index("ix_calendar_events_project_start", "project_id", "start_at"),
        # the series whose occurrences may fall in a period are read on every view
        Index("ix_calendar_events_series", "start_at", postgresql_where=text("rrule IS NOT NULL")).ddl_if(
            dialect="postgresql"
        ),
        Index("ix_calendar_events_external_uid", "external_uid"),
        # A period's plain events: those whose span meets it (`tstzrange(start, end, '[]') &&
        # period`, app/calendar/queries.py). A btree on start_at serves only "starts before
        # the period's end", which is every past event (migration 0024).
        # the few admins-only events, which every other reader's lists leave out
        Index("ix_calendar_events_admin_only", "id", postgresql_where=text("visibility = 'admin_only'")).ddl_if(
            dialect="postgresql"
        ),
        Index(
            "ix_calendar_events_span",
            text("tstzrange(start_at, end_at, '[]')"),
            postgresql_using="gist",
            postgresql_where=text("rrule IS NULL AND series_id IS NULL"),
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")  # internal: never shown to a client
    # active_history: a change made to an expired event still knows the old times, which
    # the conflict engine recomputes around (app/schedule/engine.py)
    start_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), active_history=True)
    end_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), active_history=True)
    all_day: Mapped[bool] = mapped_column(Boolean, default=False)
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    event_type: Mapped[str] = mapped_column(String(16), default="meeting")
    status: Mapped[str] = mapped_column(String(16), default=SCHEDULED)
    visibility: Mapped[str] = mapped_column(String(16), default=PROJECT_TEAM)
    is_client_visible: Mapped[bool] = mapped_column(Boolean, Computed("visibility = 'client_visible'", persisted=True))
    rrule: Mapped[str | None] = mapped_column(Text)
    series_id: Mapped[int | None] = mapped_column(ForeignKey("calendar_events.id", ondelete="CASCADE"))
    recurrence_start: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    risk_level: Mapped[str] = mapped_column(String(8), default="none", server_default="none")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # external calendars (the CalDAV issue)
    external_uid: Mapped[str | None] = mapped_column(String(255))
    external_etag: Mapped[str | None] = mapped_column(String(255))
    external_calendar: Mapped[str | None] = mapped_column(String(500))
    sync_status: Mapped[str] = mapped_column(String(8), default="local", server_default="local")
    last_synced_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    external_updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    project = relationship("Project", lazy="joined")
    created_by = relationship("User", foreign_keys=[created_by_id], lazy="select")
    assignments = relationship(
        "EventAssignee",
        back_populates="event",
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="EventAssignee.id",
    )

    def audit_name(self) -> str:
        return self.title

    @property
    def assignee_ids(self) -> set[int]:
        return {a.user_id for a in self.assignments}

    @property
    def assignees(self):
        return [a.user for a in self.assignments]

    @property
    def is_series(self) -> bool:
        return self.rrule is not None

    @property
    def is_closed(self) -> bool:
        return self.status in CLOSED_STATUSES

    @classmethod
    def owned_by(cls, user_id):
        """SQL: `user_id` is among the event's assignees (the O scope of scope_query)."""
        return exists(
            select(EventAssignee.id).where(EventAssignee.event_id == cls.id, EventAssignee.user_id == user_id)
        )


class EventAssignee(db.Model):
    __tablename__ = "calendar_event_assignees"
    __audited__ = True
    __scope__ = Scope(project="project_id", client_visible=False, owner="user_id")
    __audit_noun__ = "event assignment"
    __audit_labels__ = {"id": None, "event_id": "event", "user_id": "assignee"}
    __audit_created__ = "put {user_id} on {event_id}"
    __audit_deleted__ = "took {user_id} off {event_id}"
    __table_args__ = (
        UniqueConstraint("event_id", "user_id", name="uq_calendar_event_assignees_pair"),
        Index("ix_calendar_event_assignees_user_event", "user_id", "event_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("calendar_events.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))

    event = relationship("CalendarEvent", back_populates="assignments")
    user = relationship("User", lazy="joined", innerjoin=True)

    @property
    def project_id(self) -> int | None:
        return self.event.project_id

    def audit_name(self) -> str:
        return self.user.name if self.user is not None else ""
