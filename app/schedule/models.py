"""The schedule's stored conflicts and the company holidays.

A conflict row is one reason an item (a calendar event or a dated task) is at risk:
one per (item, kind, other item or none, person or none). Rows are kept by
app/schedule/engine.py in the same flush as the change that causes or clears them, so
lists, badges and the API read them without recomputing anything. The four foreign key
columns (task_id, event_id, other_task_id, other_event_id) are there so deleting an item
(or its project) deletes its rows by cascade; item_kind/item_id and other_kind/other_id
are what the readers use.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, SmallInteger, String, text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.cached_reads import writes_also
from app.core.permissions import Scope
from app.extensions import db

KINDS = ("double_booking", "over_capacity", "dependency", "dates", "holiday")
KIND_LABELS = {
    "double_booking": "Double booking",
    "over_capacity": "Over capacity",
    "dependency": "Dependency",
    "dates": "Illogical dates",
    "holiday": "Weekend or holiday",
}
SEVERITIES = ("low", "medium", "high", "critical")  # ascending
SEVERITY_RANK = {"none": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}
SEVERITY_OF = {
    "double_booking": "high",
    "over_capacity": "medium",
    "dependency": "critical",
    "dates": "high",
    "holiday": "low",
}
# kinds about one person's bookings (user_id set) and kinds about the item itself
PERSON_KINDS = ("double_booking", "over_capacity")
ITEM_KINDS = ("dependency", "dates", "holiday")


def _in(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


# severity_rank is SEVERITY_RANK[severity], stored so the lists' order ("most severe
# first, then by day") is an index's order (ix_schedule_conflicts_order): a page of the
# list walks the index and stops after its rows instead of sorting every visible row.
RANK_MATCHES = (
    "severity_rank = CASE severity "
    + " ".join(f"WHEN '{level}' THEN {SEVERITY_RANK[level]}" for level in SEVERITIES)
    + " END"
)


class ScheduleConflict(db.Model):
    __tablename__ = "schedule_conflicts"
    # the item's project (None: a company event); never a client's (it names the crew)
    __scope__ = Scope(project="project_id", client_visible=False)
    __table_args__ = (
        CheckConstraint(_in("item_kind", ("event", "task")), name="item_kind_valid"),
        CheckConstraint(_in("kind", KINDS), name="kind_valid"),
        CheckConstraint(_in("severity", SEVERITIES), name="severity_valid"),
        CheckConstraint(RANK_MATCHES, name="severity_rank_matches"),
        Index("ix_schedule_conflicts_user_day", "user_id", "day"),
        Index("ix_schedule_conflicts_project_day", "project_id", "day"),
        Index("ix_schedule_conflicts_task", "task_id"),
        Index("ix_schedule_conflicts_event", "event_id"),
        Index("ix_schedule_conflicts_other_task", "other_task_id"),
        Index("ix_schedule_conflicts_other_event", "other_event_id"),
        Index("ix_schedule_conflicts_order", text("severity_rank DESC"), "day", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_kind: Mapped[str] = mapped_column(String(8))
    item_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(8))
    severity_rank: Mapped[int] = mapped_column(SmallInteger)  # SEVERITY_RANK[severity]
    other_kind: Mapped[str | None] = mapped_column(String(8))
    other_id: Mapped[int | None] = mapped_column(Integer)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    day: Mapped[date | None] = mapped_column(Date)
    detail: Mapped[str] = mapped_column(String(200), default="", server_default="")
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    event_id: Mapped[int | None] = mapped_column(ForeignKey("calendar_events.id", ondelete="CASCADE"))
    other_task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    other_event_id: Mapped[int | None] = mapped_column(ForeignKey("calendar_events.id", ondelete="CASCADE"))

    @classmethod
    def of_items(cls, kind: str, ids):
        """SQL: the row is about one of the items `ids` of `kind` ("task", "event") —
        through its foreign key column and that column's index (the cascades' own; no
        second index on item_kind/item_id to keep up on every write)."""
        return (cls.task_id if kind == "task" else cls.event_id).in_(ids)


class CompanyHoliday(db.Model):
    """A day the company does not work: a client-visible milestone on it is flagged, and
    a task's estimated hours are not spread over it."""

    __tablename__ = "company_holidays"
    __audited__ = True
    __audit_noun__ = "company holiday"
    __audit_labels__ = {"id": None, "day": "day", "name": "name"}

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, unique=True)
    name: Mapped[str] = mapped_column(String(120))

    def audit_name(self) -> str:
        return self.name


# Deleting an item, its project or a person deletes their conflict rows by cascade: the
# cached totals of the conflict lists (core.cached_reads) go stale with them.
writes_also("tasks", "schedule_conflicts", verbs=("DELETE",))
writes_also("calendar_events", "schedule_conflicts", verbs=("DELETE",))
writes_also("projects", "schedule_conflicts", verbs=("DELETE",))
writes_also("users", "schedule_conflicts", verbs=("DELETE",))
