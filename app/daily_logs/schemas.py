"""The daily log API's input and output (core/schemas.py). Business rules (the day, the
lock, the crew being staff) are the service's; this layer decides only the shape."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from app.core.schemas import Date, Id, Input, ListQuery, Output, QueryId, Text, Version
from app.core.text import LONG_TEXT
from app.daily_logs.models import CONDITIONS
from app.daily_logs.services import MAX_CREW

Conditions = Literal[tuple(CONDITIONS)]  # type: ignore[valid-type]


class WeatherIn(Input):
    conditions: Conditions | Literal[""] | None = Field(None, description="One of the fixed conditions.")
    temperature_f: Annotated[int, Field(ge=-(10**6), le=10**6)] | None = Field(None, description="-60 to 140 °F.")
    humidity: Annotated[int, Field(ge=-(10**6), le=10**6)] | None = Field(
        None, description="Relative humidity, 0 to 100 %."
    )


class DailyLogInput(Input):
    """A log's writable fields; which are required is the service's rule."""

    project_id: Id | None = Field(None, description="The project (create only).")
    date: Date | None = Field(None, description="The day (create only): today, or a past day for a PM.")
    crew_ids: Annotated[list[Id], Field(max_length=MAX_CREW * 2)] | None = Field(
        None, description="Who was on site (staff). Left out on create: the day's punches."
    )
    work_done: Text(LONG_TEXT) | None = Field(None, description="Left out on create: the tasks progressed that day.")
    weather: WeatherIn | None = None
    problems: Text(LONG_TEXT) | None = Field(None, description="Delays and problems.")
    materials_delivered: Text(LONG_TEXT) | None = None
    visitors: Text(LONG_TEXT) | None = Field(None, description="Visitors and inspections.")
    internal_notes: Text(LONG_TEXT) | None = Field(None, description="Never shown to the client.")
    is_client_visible: bool | None = None
    version: Version | None = None


class DailyLogCreate(DailyLogInput):
    __required__ = ("project_id", "date")


class DailyLogPatch(DailyLogInput):
    """PATCH changes the fields sent (not the project or the day)."""


class DailyLogQuery(ListQuery):
    project_id: QueryId | None = Field(None, description="Only this project's logs.")
    date_from: Date | None = Field(None, description="On or after (YYYY-MM-DD).")
    date_to: Date | None = Field(None, description="On or before (YYYY-MM-DD).")


class Ref(Output):
    id: int
    name: str


class WeatherOut(Output):
    conditions: str
    temperature_f: int | None
    humidity: int | None
    paint_warning: str = Field(description="Why the day was poor for paint (below 50 °F, above 85 %), or empty.")


class DailyLogOut(Output):
    id: int
    project: Ref
    date: str = Field(json_schema_extra={"format": "date"})
    crew: list[Ref] = Field(description="Empty for a client.")
    work_done: str
    weather: WeatherOut
    problems: str
    is_client_visible: bool
    locked: bool
    materials_delivered: str
    visitors: str = Field(description="Visitors and inspections.")
    version: int
    internal_notes: str | None = Field(None, description="Staff only.")
    created_by: Ref | None = Field(None, description="Staff only.")
