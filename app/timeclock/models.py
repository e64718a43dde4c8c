"""Time clock: punches (clock in, clock out, breaks, where) and the approval of a
person's week on a project (SPEC.md §3 "Other modules", §5 Punch; issue 9).

Times are stored in UTC; a punch's day and week are those of its clock-in in the
company's time zone (core.timezones). `hours` is kept by timeclock.services whenever a
punch closes or its times or breaks change: (clock_out − clock_in) − breaks, in hours
rounded to 0.01 (Decimal), NULL while the punch is open.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.models import BOOKKEEPING_LABELS, TimestampMixin, utcnow
from app.core.permissions import Scope
from app.core.versioning import Versioned
from app.extensions import db
from app.tasks import models as _tasks  # noqa: F401 - Task, which punches name, mapped first

CENT = Decimal("0.01")
SECONDS_PER_HOUR = Decimal(3600)


def hours_between(seconds) -> Decimal:
    """Whole seconds as hours, rounded half up to 0.01 (never below zero)."""
    value = Decimal(int(seconds)) / SECONDS_PER_HOUR
    return max(value, Decimal(0)).quantize(CENT, rounding=ROUND_HALF_UP)


def _seconds(start: datetime, end: datetime) -> int:
    return int((end - start).total_seconds())


class Punch(Versioned, TimestampMixin, db.Model):
    __tablename__ = "punches"
    __audited__ = True
    # A punch belongs to its project's team (A: superintendents and PMs of the project);
    # an employee sees their own (O); never a client.
    __scope__ = Scope(project="project_id", client_visible=False, owner="user_id")
    __audit_noun__ = "punch"
    __audit_labels__ = {
        **BOOKKEEPING_LABELS,
        "user_id": "person",
        "project_id": "project",
        "task_id": "task",
        "clock_in": "clock-in",
        "clock_out": "clock-out",
        "hours": "hours",
        "latitude": "latitude",
        "longitude": "longitude",
        "accuracy_m": "location accuracy",
        "note": "note",
        "auto_closed": "closed automatically",
        "needs_review": "needs review",
        "corrected_by_id": "corrected by",
        "correction_reason": "correction reason",
        "approval_id": "approval",
        "reason": "reason",  # a correction's or un-approval's reason (timeclock.services)
    }
    __table_args__ = (
        CheckConstraint("clock_out IS NULL OR clock_out >= clock_in", name="times_ordered"),
        CheckConstraint("latitude IS NULL OR latitude BETWEEN -90 AND 90", name="latitude_range"),
        CheckConstraint("longitude IS NULL OR longitude BETWEEN -180 AND 180", name="longitude_range"),
        CheckConstraint("accuracy_m IS NULL OR accuracy_m >= 0", name="accuracy_positive"),
        CheckConstraint("hours IS NULL OR hours >= 0", name="hours_positive"),
        # One open punch per person: the service says so first, this makes it true.
        Index("uq_punches_open_user", "user_id", unique=True, postgresql_where=text("clock_out IS NULL")),
        Index("ix_punches_user_clock_in", "user_id", "clock_in"),
        Index("ix_punches_project_clock_in", "project_id", "clock_in"),
        Index("ix_punches_task", "task_id"),
        Index("ix_punches_approval", "approval_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id", ondelete="SET NULL"))
    clock_in: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    clock_out: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    hours: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    latitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    longitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    accuracy_m: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")
    auto_closed: Mapped[bool] = mapped_column(Boolean, default=False)
    needs_review: Mapped[bool] = mapped_column(Boolean, default=False)
    corrected_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    correction_reason: Mapped[str] = mapped_column(Text, default="")
    # Set while the week of this punch (its person, project and week) is approved: locked.
    approval_id: Mapped[int | None] = mapped_column(ForeignKey("timesheet_approvals.id", ondelete="SET NULL"))

    user = relationship("User", foreign_keys=[user_id], lazy="joined", innerjoin=True)
    project = relationship("Project", lazy="joined", innerjoin=True)
    task = relationship("Task", lazy="joined")
    corrected_by = relationship("User", foreign_keys=[corrected_by_id], lazy="select")
    breaks = relationship(
        "PunchBreak",
        back_populates="punch",
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="PunchBreak.start",
    )

    def audit_name(self) -> str:
        who = self.user.name if self.user is not None else "someone"
        return f"{who}'s punch"

    @property
    def is_open(self) -> bool:
        return self.clock_out is None

    @property
    def is_locked(self) -> bool:
        return self.approval_id is not None

    @property
    def open_break(self) -> PunchBreak | None:
        return next((b for b in self.breaks if b.end is None), None)

    def break_seconds(self, until: datetime | None = None) -> int:
        """Seconds on break; an open break counts until `until` (the clock-out, or now)."""
        end_of_punch = self.clock_out or until or utcnow()
        total = 0
        for b in self.breaks:  # a break counts only within the punch (a corrected punch)
            start, end = max(b.start, self.clock_in), min(b.end or end_of_punch, end_of_punch)
            total += max(0, _seconds(start, end))
        return total

    def worked_hours(self, now: datetime | None = None) -> Decimal:
        """(clock_out − clock_in) − breaks in hours (0.01); an open punch counts until now."""
        end = self.clock_out or now or utcnow()
        return hours_between(_seconds(self.clock_in, end) - self.break_seconds(end))

    @property
    def map_url(self) -> str | None:
        if self.latitude is None or self.longitude is None:
            return None
        return map_url(self.latitude, self.longitude)


def map_url(latitude, longitude) -> str:
    """A plain OpenStreetMap link to a point (no JavaScript map)."""
    lat, lng = f"{Decimal(latitude):f}", f"{Decimal(longitude):f}"
    return f"https://www.openstreetmap.org/?mlat={lat}&mlon={lng}#map=18/{lat}/{lng}"


class PunchBreak(db.Model):
    __tablename__ = "punch_breaks"
    __audited__ = True
    __scope__ = Scope(project="project_id", client_visible=False, owner="user_id")
    __audit_noun__ = "break"
    __audit_labels__ = {"id": None, "punch_id": "punch", "start": "start", "end": "end"}
    __table_args__ = (
        CheckConstraint('"end" IS NULL OR "end" >= start', name="times_ordered"),
        # One running break per punch.
        Index("uq_punch_breaks_open", "punch_id", unique=True, postgresql_where=text('"end" IS NULL')),
        Index("ix_punch_breaks_punch", "punch_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    punch_id: Mapped[int] = mapped_column(ForeignKey("punches.id", ondelete="CASCADE"))
    start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    end: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    punch = relationship("Punch", back_populates="breaks")

    @property
    def project_id(self) -> int:
        return self.punch.project_id

    @property
    def user_id(self) -> int:
        return self.punch.user_id

    def audit_name(self) -> str:
        return "break"


class TimesheetApproval(db.Model):
    """A person's week (Monday, company time) on a project, approved by a superintendent,
    a PM or an admin: its punches are locked while this row exists. Un-approving deletes
    it (audited, with the reason)."""

    __tablename__ = "timesheet_approvals"
    __audited__ = True
    __scope__ = Scope(project="project_id", client_visible=False, owner="user_id")
    __audit_noun__ = "timesheet approval"
    __audit_labels__ = {
        "id": None,
        "user_id": "person",
        "project_id": "project",
        "week_start": "week of",
        "hours": "approved hours",
        "approved_by_id": "approved by",
        "approved_at": None,
        "reason": "reason",
    }
    __audit_created__ = "approved the timesheet of {user_id} on {project_id} for the week of {week_start}"
    __audit_deleted__ = "withdrew the approval of {user_id}'s timesheet on {project_id} for the week of {week_start}"
    __table_args__ = (
        UniqueConstraint("user_id", "project_id", "week_start", name="uq_timesheet_approvals_user_project_week"),
        Index("ix_timesheet_approvals_project_week", "project_id", "week_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    week_start: Mapped[date] = mapped_column(Date)
    hours: Mapped[Decimal] = mapped_column(Numeric(7, 2), default=Decimal("0.00"))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    approved_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    user = relationship("User", foreign_keys=[user_id], lazy="joined", innerjoin=True)
    project = relationship("Project", lazy="joined", innerjoin=True)
    approved_by = relationship("User", foreign_keys=[approved_by_id], lazy="joined")

    def audit_name(self) -> str:
        who = self.user.name if self.user is not None else "someone"
        return f"{who}'s week of {self.week_start.isoformat()}"
