"""Daily logs (SPEC.md §3, §5 "Daily log"): one a project and company-time day — who was
on site, what was done, the weather a painter cares about, problems, deliveries,
visitors; editable the same day, then locked (a PM unlocks it with a reason)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.models import BOOKKEEPING_LABELS, TimestampMixin
from app.core.permissions import Scope
from app.core.versioning import Versioned
from app.extensions import db

# The fixed list of conditions (typed by the superintendent; no weather service).
CONDITIONS = {
    "clear": "Clear",
    "partly_cloudy": "Partly cloudy",
    "overcast": "Overcast",
    "fog": "Fog",
    "drizzle": "Drizzle",
    "rain": "Rain",
    "snow": "Snow",
    "windy": "Windy",
}
# A common paint-label limit: below 50 °F or above 85 % relative humidity, most coatings
# should not go on (the log shows a warning; it does not refuse).
MIN_PAINT_TEMPERATURE_F = 50
MAX_PAINT_HUMIDITY = 85


def paint_warning(temperature_f: int | None, humidity: int | None) -> str:
    """Why the weather was poor for paint, or "" (a warning, never a refusal)."""
    problems = []
    if temperature_f is not None and temperature_f < MIN_PAINT_TEMPERATURE_F:
        problems.append(f"{temperature_f} °F is below {MIN_PAINT_TEMPERATURE_F} °F")
    if humidity is not None and humidity > MAX_PAINT_HUMIDITY:
        problems.append(f"{humidity} % humidity is above {MAX_PAINT_HUMIDITY} %")
    if not problems:
        return ""
    return "Poor weather for paint: " + " and ".join(problems) + " (a common paint-label limit)."


class DailyLog(Versioned, TimestampMixin, db.Model):
    __tablename__ = "daily_logs"
    __audited__ = True
    # The project's team (A); a client sees the logs of their own projects marked
    # client-visible (O), and then without crew, hours or internal notes (services).
    __scope__ = Scope(project="project_id", client_visible="is_client_visible")
    __audit_noun__ = "daily log"
    __audit_labels__ = {
        **BOOKKEEPING_LABELS,
        "project_id": "project",
        "date": "day",
        "work_done": "work done",
        "weather_conditions": "weather",
        "temperature_f": "temperature (°F)",
        "humidity": "humidity (%)",
        "problems": "delays and problems",
        "materials_delivered": "materials delivered",
        "visitors": "visitors and inspections",
        "internal_notes": "internal notes",
        "is_client_visible": "shown to the client",
        "locked": "locked",
        "unlocked_until": "unlocked until",
        "created_by_id": "written by",
        "reason": "reason",  # an unlocking's reason (daily_logs.services)
    }
    __audit_values__ = {"weather_conditions": CONDITIONS}
    __versioned_with__ = ("DailyLogCrew",)
    __table_args__ = (
        # one log a project and day; also the list's index (a project's logs by day)
        UniqueConstraint("project_id", "date", name="uq_daily_logs_project_date"),
        CheckConstraint("temperature_f IS NULL OR temperature_f BETWEEN -60 AND 140", name="temperature_range"),
        CheckConstraint("humidity IS NULL OR humidity BETWEEN 0 AND 100", name="humidity_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    date: Mapped[dt.date] = mapped_column(Date)
    work_done: Mapped[str] = mapped_column(Text, default="")
    weather_conditions: Mapped[str] = mapped_column(String(20), default="")
    temperature_f: Mapped[int | None] = mapped_column(Integer)
    humidity: Mapped[int | None] = mapped_column(Integer)
    problems: Mapped[str] = mapped_column(Text, default="")
    materials_delivered: Mapped[str] = mapped_column(Text, default="")
    visitors: Mapped[str] = mapped_column(Text, default="")
    internal_notes: Mapped[str] = mapped_column(Text, default="")
    is_client_visible: Mapped[bool] = mapped_column(Boolean, default=False)
    # Locked by hand ("Lock now"); a log is also locked once its day is over (is_locked),
    # unless a PM unlocked it: then it stays open through `unlocked_until` (that day).
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    unlocked_until: Mapped[dt.date | None] = mapped_column(Date)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    project = relationship("Project", lazy="joined", innerjoin=True)
    created_by = relationship("User", foreign_keys=[created_by_id], lazy="select")
    crew_links = relationship(
        "DailyLogCrew",
        back_populates="log",
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="DailyLogCrew.id",
    )

    def audit_name(self) -> str:
        return f"{self.project.name if self.project is not None else ''} {self.date.isoformat() if self.date else ''}".strip()

    @property
    def crew_ids(self) -> list[int]:
        return [link.user_id for link in self.crew_links]

    @property
    def crew(self):
        """The people on site, by name."""
        return sorted((link.user for link in self.crew_links), key=lambda u: (u.name.casefold(), u.id))

    def is_locked(self, today: dt.date) -> bool:
        """Locked by hand, or its day is over and no unlocking holds through `today`."""
        if self.locked:
            return True
        if self.date >= today:
            return False
        return self.unlocked_until is None or self.unlocked_until < today

    @property
    def paint_warning(self) -> str:
        return paint_warning(self.temperature_f, self.humidity)


class DailyLogCrew(db.Model):
    """A person on site that day (prefilled from the day's punches, editable)."""

    __tablename__ = "daily_log_crew"
    __audited__ = True
    __scope__ = Scope(project="project_id", client_visible=False)
    __audit_noun__ = "daily log crew"
    __audit_labels__ = {"id": None, "daily_log_id": "daily log", "user_id": "person"}
    __audit_created__ = "put {user_id} on {daily_log_id}"
    __audit_deleted__ = "took {user_id} off {daily_log_id}"
    __table_args__ = (UniqueConstraint("daily_log_id", "user_id", name="uq_daily_log_crew_log_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    daily_log_id: Mapped[int] = mapped_column(ForeignKey("daily_logs.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)

    log = relationship("DailyLog", back_populates="crew_links")
    user = relationship("User", lazy="joined", innerjoin=True)

    @property
    def project_id(self) -> int:
        return self.log.project_id

    def audit_name(self) -> str:
        return self.user.name if self.user is not None else ""
