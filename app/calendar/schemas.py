"""The calendar API's input and output (core/schemas.py): parsed, documented, checked.
Times are ISO 8601 text WITH an offset (the service refuses a time without one, with a
field error); business rules are the service's (app/calendar/services.py)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from app.calendar.models import EVENT_TYPES, RISK_LEVELS, STATUSES, VISIBILITIES
from app.calendar.services import BULK_ACTIONS, LIMITS, MAX_ASSIGNEES, MAX_BULK
from app.core.schemas import Date, Id, Input, ListQuery, Output, QueryId, Text, Version
from app.core.text import LONG_TEXT

EventType = Literal[EVENT_TYPES]  # type: ignore[valid-type]
Status = Literal[STATUSES]  # type: ignore[valid-type]
Visibility = Literal[VISIBILITIES]  # type: ignore[valid-type]
Risk = Literal[RISK_LEVELS]  # type: ignore[valid-type]
When = Annotated[
    str,
    Field(
        max_length=40,
        description="ISO 8601 with an offset, e.g. 2026-12-04T07:00:00-07:00 (all-day events: a date, 2026-12-04).",
        json_schema_extra={"examples": ["2026-12-04T07:00:00-07:00"]},
    ),
]


class EventInput(Input):
    """An event's writable fields; which are required is the service's rule."""

    title: Text(LIMITS["title"] * 2) | None = None
    description: Text(LONG_TEXT) | None = None
    notes: Text(LONG_TEXT) | None = Field(None, description="Internal notes: never shown to a client.")
    start_datetime: When | None = None
    end_datetime: When | None = Field(None, description="For an all-day event: its last day (inclusive).")
    all_day: bool | None = None
    event_type: EventType | None = None
    status: Status | None = None
    visibility: Visibility | None = None
    project_id: Id | None = Field(None, description="A project whose calendar you manage; null: the company's.")
    assigned_to_ids: Annotated[list[Id], Field(max_length=MAX_ASSIGNEES * 2)] | None = Field(
        None, description="Who is on it: active employees, or members of the project's team."
    )
    rrule: Text(500) | None = Field(
        None,
        description="Repeat rule (RFC 5545 RRULE: FREQ DAILY/WEEKLY/MONTHLY/YEARLY with COUNT ≤ 500 or UNTIL "
        "within five years), e.g. FREQ=WEEKLY;BYDAY=MO;COUNT=20.",
    )
    occurrence_start: When | None = Field(
        None, description="Change only this occurrence of a series (its original start, as the list gives it)."
    )
    version: Version | None = None


class EventCreate(EventInput):
    __required__ = ("title", "start_datetime", "end_datetime")


class EventPut(EventInput):
    """PUT replaces the fields of the event (omitted optional ones take their defaults)."""

    __required__ = ("title", "start_datetime", "end_datetime")


class EventPatch(EventInput):
    """PATCH changes the fields sent."""


class MoveInput(Input):
    __required__ = ("start_datetime", "end_datetime")

    start_datetime: When | None = None
    end_datetime: When | None = None
    occurrence_start: When | None = Field(None, description="Move only this occurrence of a series.")
    version: Version | None = None


class OccurrenceInput(Input):
    __required__ = ("occurrence_start",)

    occurrence_start: When | None = None
    version: Version | None = None


class BulkItem(Input):
    kind: Literal["event", "task"]
    id: Id
    version: Annotated[int, Field(ge=1)] | None = Field(
        None, description="The version the selection was made on: an item changed since is refused (stale)."
    )


class BulkInput(Input):
    __required__ = ("items", "action")

    items: Annotated[list[BulkItem], Field(max_length=MAX_BULK)] | None = None
    action: Literal[BULK_ACTIONS] | None = None  # type: ignore[valid-type]
    days: Annotated[int, Field(ge=-10_000, le=10_000)] | None = Field(None, description="move: by this many days.")
    user_ids: Annotated[list[Id], Field(max_length=MAX_ASSIGNEES * 2)] | None = Field(
        None, description="reassign: the new assignees."
    )
    status: Text(40) | None = Field(None, description="status: the new status.")


class EventQuery(ListQuery):
    project_id: QueryId | None = Field(None, description="Only this project's events.")
    start_date: Date | None = Field(None, description="Events ending on or after this (company-local) day.")
    end_date: Date | None = Field(
        None,
        description="Events starting on or before this day. With start_date too (at most 400 days apart), series "
        "are expanded into their occurrences in the range (each with occurrence_start).",
    )
    event_type: EventType | None = None
    assigned_to: QueryId | None = Field(None, description="Only events this user is on.")
    status: Status | None = None
    search: Text(200) | None = Field(None, description="Words in the title or description.")


class Ref(Output):
    id: int
    name: str


class ConflictOut(Output):
    type: str
    severity: str
    message: str
    recommendation: str | None = None


class EventOut(Output):
    id: int
    title: str
    description: str
    start_datetime: str = Field(json_schema_extra={"format": "date-time"})
    end_datetime: str = Field(
        json_schema_extra={"format": "date-time"},
        description="All-day events: the local midnight after the last day (exclusive).",
    )
    all_day: bool
    event_type: EventType
    status: Status
    project: Ref | None
    assigned_to: list[Ref] = Field(description="Always empty for a client.")
    is_visible_to_client: bool
    ai_risk_level: Risk
    ai_conflicts: list[ConflictOut]
    series_id: int | None = Field(description="For one edited occurrence of a series: the series.")
    occurrence_start: str | None = Field(
        json_schema_extra={"format": "date-time"},
        description="For an occurrence of a series (expanded list, exception rows): its original start.",
    )
    version: int
    # staff only (absent for a client)
    visibility: Visibility | None = None
    rrule: str | None = None
    notes: str | None = None


class Deleted(Output):
    id: int
    deleted: Literal[True]


class BulkRow(Output):
    kind: str | None
    id: int | None


class BulkRefused(Output):
    kind: str | None
    id: int | None
    reason: str


class BulkOut(Output):
    done: list[BulkRow]
    refused: list[BulkRefused]
