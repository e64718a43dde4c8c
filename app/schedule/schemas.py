"""What /api/calendar/conflicts/ reads and answers (SPEC.md §5 "Conflicts answer
{"conflicts": [...]}", with the list envelope's pagination of §4)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.core.openapi import Pagination
from app.core.schemas import Date, ListQuery, Output, QueryId

Severity = Literal["low", "medium", "high", "critical"]
ConflictType = Literal["double_booking", "over_capacity", "dependency", "dates", "holiday"]


class ConflictQuery(ListQuery):
    project_id: QueryId | None = Field(None, description="Only this project's conflicts.")
    start_date: Date | None = Field(None, description="Conflicts on or after this day (YYYY-MM-DD).")
    end_date: Date | None = Field(None, description="Conflicts on or before this day (YYYY-MM-DD).")
    severity: Severity | None = Field(None, description="Only conflicts of this severity.")


class ConflictParty(Output):
    id: int | None = Field(description="None: an item the reader may not see (“another job”).")
    title: str
    kind: Literal["event", "task"]


class ConflictOut(Output):
    id: int
    type: ConflictType
    severity: Severity
    day: str | None = Field(description="The company-local day it starts (YYYY-MM-DD).")
    events: list[ConflictParty] = Field(description="The item in conflict first, then the other one if any.")
    message: str
    recommendation: str


class ConflictsPage(Output):
    conflicts: list[ConflictOut]
    pagination: Pagination
