"""The task API's input and output (core/schemas.py): parsed, documented, checked.
Business rules (dates in order, assignees on the team, no dependency loop) are the
service's; this layer decides only the shape."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

from app.core.schemas import Date, Id, Input, ListQuery, Output, QueryId, Text, Version, decimal_text
from app.core.text import LONG_TEXT
from app.tasks.services import CHECKLIST_ITEM_MAX, CHECKLIST_MAX, LIMITS, MAX_ASSIGNEES, MAX_DEPENDENCIES

Status = Literal["pending", "in_progress", "blocked", "completed", "cancelled"]
Priority = Literal["low", "normal", "high", "urgent"]

_HOURS = re.compile(r"\d{1,4}(\.\d{1,2})?")


def _hours(value: Any) -> Decimal:
    """Hours as a decimal string or JSON number ("7.5", 7.5): never a float inside."""
    text = decimal_text(value)
    if text is None or not _HOURS.fullmatch(text):
        raise PydanticCustomError(
            "hours", 'Send hours as a decimal such as "7.5": at most 9999.99, two decimal places, not negative.'
        )
    return Decimal(text)


Hours = Annotated[
    Decimal,
    BeforeValidator(_hours),
    WithJsonSchema(
        {"type": "string", "pattern": r"^\d{1,4}(\.\d{1,2})?$", "examples": ["7.50"], "description": "Hours."}
    ),
]
Percent = Annotated[int, Field(ge=0, le=100)]


class ChecklistItem(Input):
    item: Text(CHECKLIST_ITEM_MAX) | None = None
    checked: bool | None = None


class TaskInput(Input):
    """A task's writable fields; which are required is the service's rule."""

    title: Text(LIMITS["title"] * 2) | None = None
    description: Text(LONG_TEXT) | None = None
    notes: Text(LONG_TEXT) | None = None
    project_id: Id | None = Field(None, description="The project (create only; a task does not move projects).")
    assigned_to_ids: Annotated[list[Id], Field(max_length=MAX_ASSIGNEES * 2)] | None = Field(
        None, description="Who does it: active employees, or members of the project's team."
    )
    dependency_ids: Annotated[list[Id], Field(max_length=MAX_DEPENDENCIES * 2)] | None = Field(
        None, description="Tasks of the same project that must be completed first."
    )
    priority: Priority | None = None
    start_date: Date | None = None
    due_date: Date | None = None
    estimated_hours: Hours | None = None
    actual_hours: Hours | None = None
    progress_percent: Annotated[int, Field(ge=-(10**6), le=10**6)] | None = Field(None, description="0 to 100.")
    schedule_weight: Annotated[int, Field(ge=-(10**6), le=10**6)] | None = Field(
        None, description="0 to 100: how much of the project's progress this task is."
    )
    checklist: Annotated[list[ChecklistItem], Field(max_length=CHECKLIST_MAX)] | None = Field(
        None, description=f"At most {CHECKLIST_MAX} items of {CHECKLIST_ITEM_MAX} characters; sent whole."
    )
    is_design: bool | None = None
    status: Status | None = Field(None, description="A move through the rules (PATCH); see also …/complete/.")
    reason: Text(LONG_TEXT) | None = Field(
        None, description="With a status move: why a PM starts a task before its dependencies, a blocker, a reopening."
    )
    version: Version | None = None


class TaskCreate(TaskInput):
    __required__ = ("title", "project_id")


class TaskPut(TaskInput):
    """PUT replaces every writable field."""

    __required__ = ("title",)


class TaskPatch(TaskInput):
    """PATCH changes the fields sent."""


class ProgressInput(Input):
    progress_percent: Annotated[int, Field(ge=-(10**6), le=10**6)] | None = Field(None, description="0 to 100.")
    actual_hours: Hours | None = None
    notes: Text(LONG_TEXT) | None = None
    version: Version | None = None


class CompleteInput(Input):
    completion_notes: Text(LONG_TEXT) | None = None
    completion_photo: Text(15_000_000) | None = Field(
        None, description="A photo of the finished work, base64 (JPEG, PNG or WebP, up to 10 MB)."
    )
    reason: Text(LIMITS["reason"]) | None = Field(
        None, description="Why a PM completes it before its dependencies (required then)."
    )
    version: Version | None = None


class TaskQuery(ListQuery):
    project_id: QueryId | None = Field(None, description="Only this project's tasks.")
    assigned_to: QueryId | None = Field(None, description="Only tasks this user is assigned to.")
    status: Status | None = None
    due_date_from: Date | None = Field(None, description="Due on or after (YYYY-MM-DD).")
    due_date_to: Date | None = Field(None, description="Due on or before (YYYY-MM-DD).")
    is_overdue: Literal["true", "false"] | None = Field(
        None, description="true: past due and not finished; false: the others."
    )
    has_conflict: Literal["true", "false"] | None = Field(
        None, description="true: someone on it is booked on another task over the same days."
    )
    search: Text(200) | None = Field(None, description="Words in the title.")


class Ref(Output):
    id: int
    name: str


class ChecklistOut(Output):
    item: str
    checked: bool


class ConflictOut(Output):
    type: Literal["double_booking"]
    task: Ref | None = Field(description="The other task; null when it is on a project you cannot see.")
    user: Ref
    start: str = Field(json_schema_extra={"format": "date"})
    end: str = Field(json_schema_extra={"format": "date"})
    message: str


class TaskOut(Output):
    id: int
    title: str
    description: str
    notes: str
    project: Ref
    assigned_to: list[Ref]
    status: Status
    priority: Priority
    schedule_weight: int
    progress_percent: int
    estimated_hours: str | None
    actual_hours: str
    start_date: str | None = Field(json_schema_extra={"format": "date"})
    due_date: str | None = Field(json_schema_extra={"format": "date"})
    is_overdue: bool
    checklist: list[ChecklistOut]
    dependencies: list[int]
    is_design: bool
    blocked_reason: str
    completed_at: str | None = Field(json_schema_extra={"format": "date-time"})
    completed_by: Ref | None
    completion_notes: str
    conflicts: list[ConflictOut]
    version: int
    created_at: str = Field(json_schema_extra={"format": "date-time"})
    updated_at: str = Field(json_schema_extra={"format": "date-time"})


class Deleted(Output):
    id: int
    deleted: Literal[True]
