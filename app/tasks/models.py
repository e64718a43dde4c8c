"""Tasks: the work of a job (SPEC.md §3 "Tasks and assignments", §5 Task)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    exists,
    select,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.models import BOOKKEEPING_LABELS, TimestampMixin, utcnow
from app.core.permissions import Scope
from app.core.versioning import Versioned
from app.extensions import db

PENDING, IN_PROGRESS, BLOCKED, COMPLETED, CANCELLED = "pending", "in_progress", "blocked", "completed", "cancelled"
STATUSES = (PENDING, IN_PROGRESS, BLOCKED, COMPLETED, CANCELLED)
STATUS_LABELS = {
    PENDING: "To do",
    IN_PROGRESS: "In progress",
    BLOCKED: "Blocked",
    COMPLETED: "Done",
    CANCELLED: "Cancelled",
}
# A task in one of these is finished: read-only until a PM reopens it, and it no longer
# holds up the tasks that depend on it (completed) or books its people (both).
CLOSED_STATUSES = (COMPLETED, CANCELLED)
OPEN_STATUSES = (PENDING, IN_PROGRESS, BLOCKED)


def is_open(task=None):
    """SQL: the task is open (pending, in progress or blocked), with the statuses written
    into the statement (core.statements.inline) rather than sent as parameters: PostgreSQL's
    generic plan (DB_PLAN_CACHE_MODE) then knows them, so ix_tasks_open_due and the
    column's statistics apply."""
    column = (task if task is not None else Task).status
    from app.core.statements import inline

    return column.in_(inline(OPEN_STATUSES))


LOW, NORMAL, HIGH, URGENT = "low", "normal", "high", "urgent"
PRIORITIES = (LOW, NORMAL, HIGH, URGENT)
PRIORITY_LABELS = {LOW: "Low", NORMAL: "Normal", HIGH: "High", URGENT: "Urgent"}

DEFAULT_WEIGHT = 50  # schedule weight 0–100 when none is given (the project's progress weighs by it)


class Task(Versioned, TimestampMixin, db.Model):
    __tablename__ = "tasks"
    __audited__ = True
    # A task belongs to its project's team (A); an employee sees the tasks they are
    # assigned to (O, `owned_by`); a designer the project's design tasks; never a client.
    __scope__ = Scope(project="project_id", client_visible=False, owner="assignee_ids", owner_query="owned_by")
    __audit_noun__ = "task"
    __audit_labels__ = {
        **BOOKKEEPING_LABELS,
        "project_id": "project",
        "title": "title",
        "description": "description",
        "notes": "notes",
        "status": "status",
        "priority": "priority",
        "start_date": "start date",
        "due_date": "due date",
        "estimated_hours": "estimated hours",
        "actual_hours": "actual hours",
        "progress_percent": "progress",
        "schedule_weight": "schedule weight",
        "checklist": "checklist",
        "is_design": "design task",
        "change_order_id": "change order",
        "blocked_reason": "blocker",
        "completed_at": None,
        "completed_by_id": "completed by",
        "completion_notes": "completion notes",
        "created_by_id": None,
        "reason": "reason",  # a PM's override or reopening (tasks.services)
        "risk_level": None,  # kept by the schedule's conflict engine (app/schedule/engine.py)
    }
    __audit_values__ = {"status": STATUS_LABELS, "priority": PRIORITY_LABELS}
    __versioned_with__ = ("TaskAssignment", "TaskDependency")
    __table_args__ = (
        CheckConstraint("due_date IS NULL OR start_date IS NULL OR due_date >= start_date", name="dates_ordered"),
        CheckConstraint(
            "status IN ('pending', 'in_progress', 'blocked', 'completed', 'cancelled')", name="status_valid"
        ),
        CheckConstraint("priority IN ('low', 'normal', 'high', 'urgent')", name="priority_valid"),
        CheckConstraint("progress_percent BETWEEN 0 AND 100", name="progress_range"),
        CheckConstraint("schedule_weight BETWEEN 0 AND 100", name="weight_range"),
        CheckConstraint("estimated_hours IS NULL OR estimated_hours >= 0", name="estimate_positive"),
        CheckConstraint("actual_hours >= 0", name="actual_positive"),
        Index("ix_tasks_project_status", "project_id", "status"),
        Index("ix_tasks_due_date", "due_date"),
        # A project's tasks that end on or after a day (the calendar's period, the Gantt): the
        # calendar reads `coalesce(due_date, start_date) >= first day` per project, and
        # this skips the project's finished past (migration 0024).
        Index("ix_tasks_project_last", "project_id", text("coalesce(due_date, start_date)")),
        # The open tasks by due date (every list's default order, most of them filtered to
        # the open ones): a tenth of the table, where walking ix_tasks_due_date first
        # steps over years of finished tasks. Used when the query says `is_open(...)`.
        Index(
            "ix_tasks_open_due",
            "due_date",
            "id",
            postgresql_where=text("status IN ('pending', 'in_progress', 'blocked')"),
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    priority: Mapped[str] = mapped_column(String(8), default=NORMAL)
    # active_history: a change made to an expired task still knows the old dates, which
    # the conflict engine recomputes around (app/schedule/engine.py)
    start_date: Mapped[date | None] = mapped_column(Date, active_history=True)
    due_date: Mapped[date | None] = mapped_column(Date, active_history=True)
    estimated_hours: Mapped[Decimal | None] = mapped_column(Numeric(7, 2))
    actual_hours: Mapped[Decimal] = mapped_column(Numeric(7, 2), default=Decimal("0.00"))
    progress_percent: Mapped[int] = mapped_column(Integer, default=0)
    schedule_weight: Mapped[int] = mapped_column(Integer, default=DEFAULT_WEIGHT)
    # [{"item": "Mask windows", "checked": false}, …] — a short list, replaced whole
    checklist: Mapped[list] = mapped_column(JSON, default=list)
    is_design: Mapped[bool] = mapped_column(Boolean, default=False)
    # The change order that added this work (change_orders.services.create_tasks).
    change_order_id: Mapped[int | None] = mapped_column(ForeignKey("change_orders.id", ondelete="SET NULL"))
    blocked_reason: Mapped[str] = mapped_column(Text, default="")
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    completion_notes: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # the highest severity among its schedule conflicts (app/schedule/engine.py keeps it)
    risk_level: Mapped[str] = mapped_column(String(8), default="none", server_default="none")

    project = relationship("Project", lazy="joined", innerjoin=True)
    completed_by = relationship("User", foreign_keys=[completed_by_id], lazy="select")
    assignments = relationship(
        "TaskAssignment",
        back_populates="task",
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="TaskAssignment.id",
    )
    dependency_links = relationship(
        "TaskDependency",
        foreign_keys="TaskDependency.task_id",
        back_populates="task",
        cascade="all, delete-orphan",
        lazy="selectin",
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
    def dependency_ids(self) -> list[int]:
        return sorted(link.depends_on_id for link in self.dependency_links)

    @property
    def is_closed(self) -> bool:
        return self.status in CLOSED_STATUSES

    @property
    def can_start(self) -> bool:
        """Not started yet, or held up: the crew's "Start" button."""
        return self.status in (PENDING, BLOCKED)

    @property
    def is_blocked(self) -> bool:
        return self.status == BLOCKED

    def is_overdue(self, today: date) -> bool:
        return self.due_date is not None and self.due_date < today and self.status not in CLOSED_STATUSES

    @classmethod
    def owned_by(cls, user_id):
        """SQL: `user_id` is among the task's assignees (the O scope of scope_query)."""
        return exists(
            select(TaskAssignment.id).where(TaskAssignment.task_id == cls.id, TaskAssignment.user_id == user_id)
        )


class TaskAssignment(db.Model):
    __tablename__ = "task_assignees"
    __audited__ = True
    __scope__ = Scope(project="project_id", client_visible=False, owner="user_id")
    __audit_noun__ = "task assignment"
    __audit_labels__ = {"id": None, "task_id": "task", "user_id": "assignee"}
    __audit_created__ = "assigned {user_id} to {task_id}"
    __audit_deleted__ = "took {user_id} off {task_id}"
    __table_args__ = (
        UniqueConstraint("task_id", "user_id", name="uq_task_assignees_task_user"),
        # "My day", the double-booking check and the employee's scope start from the person
        Index("ix_task_assignees_user_task", "user_id", "task_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))

    task = relationship("Task", back_populates="assignments")
    user = relationship("User", lazy="joined", innerjoin=True)

    @property
    def project_id(self) -> int:
        return self.task.project_id

    def audit_name(self) -> str:
        return self.user.name if self.user is not None else ""


class TaskDependency(db.Model):
    """`task` cannot start until `depends_on` is completed (same project, no cycle:
    tasks.services is where both rules live)."""

    __tablename__ = "task_dependencies"
    __audited__ = True
    __scope__ = Scope(project="project_id", client_visible=False)
    __audit_noun__ = "task dependency"
    __audit_labels__ = {"id": None, "task_id": "task", "depends_on_id": "depends on"}
    __audit_created__ = "made {task_id} wait for {depends_on_id}"
    __audit_deleted__ = "{task_id} no longer waits for {depends_on_id}"
    __table_args__ = (
        UniqueConstraint("task_id", "depends_on_id", name="uq_task_dependencies_pair"),
        CheckConstraint("task_id <> depends_on_id", name="not_itself"),
        Index("ix_task_dependencies_depends_on", "depends_on_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    depends_on_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))

    task = relationship("Task", foreign_keys=[task_id], back_populates="dependency_links")
    depends_on = relationship("Task", foreign_keys=[depends_on_id], lazy="joined")

    @property
    def project_id(self) -> int:
        return self.task.project_id


class TaskAttachment(db.Model):
    """A file on a task (a completion photo, a spec sheet), kept by core.storage under a
    random key — never the uploader's file name, never a public URL."""

    __tablename__ = "task_attachments"
    __audited__ = True
    __scope__ = Scope(project="project_id", client_visible=False)
    __audit_noun__ = "task attachment"
    __audit_labels__ = {
        "id": None,
        "task_id": "task",
        "storage_key": None,
        "thumb_key": None,
        "web_key": None,
        "filename": "file",
        "content_type": None,
        "size": None,
        "kind": None,
        "uploaded_by_id": "uploaded by",
        "created_at": None,
    }
    __table_args__ = (Index("ix_task_attachments_task", "task_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    storage_key: Mapped[str] = mapped_column(String(300), unique=True)
    filename: Mapped[str] = mapped_column(String(255), default="")
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20), default="attachment")  # or "completion_photo"
    # a photo's smaller copies, made by a job after the upload (workers/media.py); until
    # then (and for other files) the original is served
    thumb_key: Mapped[str | None] = mapped_column(String(300))
    web_key: Mapped[str | None] = mapped_column(String(300))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    task = relationship("Task")

    @property
    def project_id(self) -> int:
        return self.task.project_id
