"""The change order API's input and output (core/schemas.py, SPEC.md §5). Numbers arrive
as decimal text or JSON numbers and the service judges them (core.money)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from app.change_orders.models import KINDS, STATUSES
from app.core.schemas import Id, Input, ListQuery, Output, QueryId, Text, Version
from app.core.text import LONG_TEXT
from app.invoices.schemas import NumberText

Kind = Literal[tuple(KINDS)]  # type: ignore[valid-type]
Status = Literal[tuple(STATUSES)]  # type: ignore[valid-type]


class LineIn(Input):
    kind: Kind | None = Field(None, description="materials, labor or other (default labor).")
    description: Text(500)
    quantity: NumberText | None = Field(None, description="More than 0; for labour, hours (default 1).")
    unit_cost: NumberText = Field(description="Money: the cost of one unit.")
    markup_pct: NumberText | None = Field(None, description="Per cent added to the cost (default 0).")

    __required__ = ("description", "unit_cost")


class ChangeOrderInput(Input):
    project_id: Id | None = Field(None, description="The project (create only).")
    title: Text(200) | None = None
    description: Text(LONG_TEXT) | None = None
    reason: Text(LONG_TEXT) | None = None
    schedule_impact_days: Annotated[int, Field(ge=-365, le=365)] | None = None
    line_items: Annotated[list[LineIn], Field(max_length=100)] | None = None
    version: Version | None = None


class ChangeOrderCreate(ChangeOrderInput):
    __required__ = ("project_id", "title")


class ChangeOrderUpdate(ChangeOrderInput):
    """Only a draft changes; line_items, when sent, replace all the lines."""


class ChangeOrderQuery(ListQuery):
    project_id: QueryId | None = Field(None, description="Only this project's change orders.")
    status: Status | None = None


class Decision(Input):
    signature_name: Text(200) | None = Field(None, description="The client's typed full name (their signature).")
    comment: Text(2000) | None = None
    on_behalf_reason: Text(500) | None = Field(
        None, description="Staff recording the client's decision, or an admin's override: why."
    )
    version: Version | None = None


class VersionOnly(Input):
    version: Version | None = None


class Ref(Output):
    id: int
    name: str


class LineOut(Output):
    kind: str
    description: str
    quantity: str
    line_total: str
    unit_cost: str | None = Field(None, description="Staff only.")
    markup_pct: str | None = Field(None, description="Staff only.")
    cost: str | None = Field(None, description="Staff only.")


class ChangeOrderOut(Output):
    id: int
    number: str
    project: Ref
    title: str
    description: str
    reason: str
    amount: str
    schedule_impact_days: int
    status: str
    line_items: list[LineOut]
    approved_by: Ref | None
    approved_at: str | None
    signature_name: str
    decision_comment: str
    version: int
    on_behalf_reason: str | None = Field(None, description="Staff only.")
    internal_comment: str | None = Field(
        None, description="Staff only: the comment of the inside approval or rejection."
    )
