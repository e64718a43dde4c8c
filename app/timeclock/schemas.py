"""The time clock API's input and output (SPEC.md §5 "Punch"). Ranges, projects and
times are the service's rules (app/timeclock/services.py); this layer decides the shape."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

from app.core.schemas import Date, Id, Input, ListQuery, Output, QueryId, Text, decimal_text
from app.timeclock.services import NOTE_MAX

_NUMBER = re.compile(r"-?\d{1,4}(\.\d{1,12})?")


def _coordinate(value: Any) -> Decimal:
    """A coordinate as a JSON number or decimal text (never through a float)."""
    text = decimal_text(value)
    if text is None or not _NUMBER.fullmatch(text.strip()):
        raise PydanticCustomError("coordinate", "Send a number in decimal degrees, such as 39.7392.")
    return Decimal(text.strip())


Coordinate = Annotated[
    Decimal,
    BeforeValidator(_coordinate),
    WithJsonSchema({"type": ["number", "string"], "examples": [39.7392], "description": "Decimal degrees."}),
]


def _metres(value: Any) -> Decimal:
    text = decimal_text(value)
    if text is None or not re.fullmatch(r"\d{1,7}(\.\d{1,6})?", text.strip()):
        raise PydanticCustomError("accuracy", "Send the accuracy in metres, such as 12.")
    return Decimal(text.strip())


Metres = Annotated[
    Decimal,
    BeforeValidator(_metres),
    WithJsonSchema({"type": ["number", "string"], "examples": [12], "description": "Metres."}),
]


class ClockInInput(Input):
    __required__ = ("project_id",)

    project_id: Id | None = Field(None, description="A project you may punch on (not closed).")
    task_id: Id | None = Field(None, description="Optionally, a task of that project.")
    latitude: Coordinate | None = Field(None, description="−90 to 90, with longitude.")
    longitude: Coordinate | None = Field(None, description="−180 to 180, with latitude.")
    accuracy: Metres | None = Field(None, description="The location's accuracy in metres.")
    note: Text(NOTE_MAX) | None = None


class ClockOutInput(Input):
    note: Text(NOTE_MAX) | None = None


class PunchQuery(ListQuery):
    user_id: QueryId | None = Field(None, description="Only this person's punches.")
    project_id: QueryId | None = Field(None, description="Only punches on this project.")
    date_from: Date | None = Field(None, description="Clocked in on or after this day (company time).")
    date_to: Date | None = Field(None, description="Clocked in on or before this day (company time).")


class Ref(Output):
    id: int
    name: str


class PunchOut(Output):
    id: int
    user: Ref
    project: Ref
    task_id: int | None
    clock_in: str = Field(json_schema_extra={"format": "date-time"})
    clock_out: str | None = Field(json_schema_extra={"format": "date-time"})
    hours: str = Field(description="Worked hours (breaks taken out), two decimals; so far while open.")
    latitude: str | None
    longitude: str | None
    on_break: bool
    needs_review: bool
    auto_closed: bool
    approved: bool
    version: int
