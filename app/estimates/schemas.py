"""The estimate API's input and output (core/schemas.py, SPEC.md §5 "Estimate"). Numbers
arrive as decimal text or JSON numbers (never through a float) and the service judges
them (core.money), so each bad quantity or rate gets one clear message."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from app.core.schemas import Date, Id, Input, ListQuery, Output, QueryId, Text, Version
from app.core.text import LONG_TEXT
from app.estimates.models import STATUSES, SURFACES, UNITS
from app.estimates.services import MAX_LINES
from app.invoices.schemas import NumberText

Surface = Literal[tuple(SURFACES)]  # type: ignore[valid-type]
Unit = Literal[tuple(UNITS)]  # type: ignore[valid-type]
Status = Literal[tuple(STATUSES)]  # type: ignore[valid-type]


class LineIn(Input):
    surface: Surface | None = Field(None, description="walls … deck (painted: hours and paint), prep or other.")
    description: Text(500) | None = Field(None, description="Default: the surface's name.")
    quantity: NumberText = Field(description="More than 0, at most three decimal places, under 1,000,000.")
    unit: Unit | None = Field(None, description="Default by surface (sq_ft, linear_ft, count; prep hours).")
    coats: Annotated[int, Field(ge=1, le=10)] | None = Field(None, description="Painted lines (default 1).")
    production_rate: NumberText | None = Field(None, description="Units per hour per coat (company default).")
    labor_rate: NumberText | None = Field(None, description="Money per hour (company default).")
    coverage: NumberText | None = Field(None, description="Sq ft per gallon (company default).")
    price_per_gallon: NumberText | None = Field(None, description="Money (company default).")
    unit_price: NumberText | None = Field(None, description="Prep and other lines: money per unit.")
    is_optional: bool | None = Field(None, description="An option the client may tick.")
    is_selected: bool | None = Field(None, description="An option ticked (ignored for required lines).")

    __required__ = ("quantity",)


class EstimateInput(Input):
    client_id: Id | None = Field(None, description="The client (create only).")
    title: Text(200) | None = None
    address: Text(300) | None = Field(None, description="The job site (the project's address once approved).")
    city: Text(120) | None = None
    state: Text(60) | None = None
    zip: Text(20) | None = None
    markup_pct: NumberText | None = Field(None, description="Per cent over the subtotal (company default).")
    terms: Text(LONG_TEXT) | None = None
    valid_until: Date | None = None
    internal_notes: Text(LONG_TEXT) | None = Field(None, description="Staff only, never shown to the client.")
    lines: Annotated[list[LineIn], Field(max_length=MAX_LINES)] | None = None
    version: Version | None = None


class EstimateCreate(EstimateInput):
    __required__ = ("client_id", "title", "address")


class EstimateUpdate(EstimateInput):
    """Only a draft changes; `lines`, when sent, replace all the lines."""


class EstimateQuery(ListQuery):
    client_id: QueryId | None = Field(None, description="Only this client's estimates.")
    status: Status | None = None


class Approve(Input):
    signature_name: Text(200) | None = Field(None, description="The client's typed full name (their signature).")
    on_behalf_reason: Text(500) | None = Field(None, description="Staff recording the client's approval: why.")
    selected_lines: Annotated[list[Annotated[int, Field(ge=0, le=MAX_LINES)]], Field(max_length=MAX_LINES)] | None = (
        Field(None, description="The optional lines chosen, by their index in `lines` (default: as they are).")
    )
    version: Version | None = None


class Decline(Input):
    decline_reason: Text(2000) | None = Field(None, description="Why (required).")
    signature_name: Text(200) | None = None
    on_behalf_reason: Text(500) | None = Field(None, description="Staff recording the client's decision: why.")
    version: Version | None = None


class VersionOnly(Input):
    version: Version | None = None


class Ref(Output):
    id: int
    name: str


class LineOut(Output):
    surface: str
    description: str
    quantity: str
    unit: str
    coats: int | None
    labor_hours: str | None = Field(description="Null for the client (internal).")
    material_gallons: int | None = Field(description="Null for the client (internal).")
    amount: str
    is_optional: bool
    is_selected: bool
    production_rate: str | None = Field(None, description="Staff only.")
    labor_rate: str | None = Field(None, description="Staff only.")
    labor_amount: str | None = Field(None, description="Staff only.")
    coverage: str | None = Field(None, description="Staff only.")
    price_per_gallon: str | None = Field(None, description="Staff only.")
    material_amount: str | None = Field(None, description="Staff only.")
    unit_price: str | None = Field(None, description="Staff only.")


class EstimateOut(Output):
    id: int
    number: str
    client: Ref
    project: Ref | None
    title: str
    status: str
    subtotal: str
    markup_pct: str | None = Field(description="Null for a client: the margin is never shown to them.")
    total: str
    valid_until: str | None
    lines: list[LineOut]
    version: int
    terms: str
    address: str
    markup_amount: str | None = Field(description="Null for a client.")
    approved_at: str | None
    signature_name: str
    decline_reason: str
    internal_notes: str | None = Field(None, description="Staff only.")
    on_behalf_reason: str | None = Field(None, description="Staff only.")
    sent_at: str | None = Field(None, description="Staff only.")
