"""The progress billing API's input and output (core/schemas.py, SPEC.md §5 "Pay
application", "Schedule of values"). Numbers arrive as decimal text or JSON numbers and
the services judge them (core.money): one clear message per bad line."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from app.core.schemas import Date, Id, Input, ListQuery, Output, QueryId, Text, Version
from app.core.text import LONG_TEXT
from app.invoices.schemas import NumberText
from app.progress_billing.models import STATUSES

Status = Literal[tuple(STATUSES)]  # type: ignore[valid-type]


class PayLineIn(Input):
    sov_line_id: Id
    this_period: NumberText | None = Field(None, description="Money: work completed this period (column E).")
    this_period_pct: NumberText | None = Field(
        None, description="Instead of this_period: a per cent of the line's scheduled value."
    )
    materials_stored: NumberText | None = Field(
        None, description="Money: materials presently stored (column F; default: the previous application's)."
    )
    reason: Text(500) | None = Field(None, description="Required when this period's work is negative.")

    __required__ = ("sov_line_id",)


class PayApplicationInput(Input):
    project_id: Id | None = Field(None, description="The project (create only).")
    period_to: Date | None = None
    notes: Text(LONG_TEXT) | None = None
    lines: Annotated[list[PayLineIn], Field(max_length=300)] | None = None
    version: Version | None = None


class PayApplicationCreate(PayApplicationInput):
    __required__ = ("project_id", "period_to")


class PayApplicationUpdate(PayApplicationInput):
    """Only a draft changes; lines sent replace those lines' figures."""


class PayApplicationQuery(ListQuery):
    project_id: QueryId | None = Field(None, description="Only this project's pay applications.")
    status: Status | None = None


class VersionOnly(Input):
    version: Version | None = None


class Ref(Output):
    id: int
    name: str


class G702Out(Output):
    original_contract_sum: str
    net_change_by_change_orders: str
    contract_sum_to_date: str
    total_completed_and_stored: str
    retainage: str
    retainage_on_completed: str
    retainage_on_stored: str
    total_earned_less_retainage: str
    less_previous_certificates: str
    current_payment_due: str
    balance_to_finish_including_retainage: str


class PayLineOut(Output):
    sov_line_id: int
    item: str
    description: str
    scheduled_value: str
    from_previous: str
    this_period: str
    materials_stored: str
    total_completed_and_stored: str
    percent: str | None
    balance_to_finish: str
    retainage: str
    reason: str | None = Field(None, description="Staff only.")


class PayApplicationOut(Output):
    id: int
    number: str | None
    application_no: int
    project: Ref
    period_to: str
    status: str
    g702: G702Out
    lines: list[PayLineOut]
    certified_at: str | None
    invoice_id: int | None
    version: int
    notes: str | None = Field(None, description="Staff only.")


class SovLineIn(Input):
    id: Id | None = Field(None, description="An existing line (omit for a new one).")
    description: Text(300)
    scheduled_value: NumberText
    retainage_pct: NumberText | None = Field(None, description="The line's own retainage %, else the project's.")
    task_ids: Annotated[list[Id], Field(max_length=100)] | None = Field(None, description="Tasks tied to the line.")

    __required__ = ("description", "scheduled_value")


class ScheduleIn(Input):
    lines: Annotated[list[SovLineIn], Field(max_length=300)]
    version: Annotated[int, Field(ge=0, le=2**31 - 1)] | None = Field(
        None, description="The schedule's version (0 before its first save); stale: 409."
    )

    __required__ = ("lines",)


class SovLineOut(Output):
    id: int
    item: str
    description: str
    scheduled_value: str
    retainage_pct: str | None
    change_order_id: int | None
    task_ids: list[int]
    is_archived: bool


class ScheduleOut(Output):
    project: Ref
    lines: list[SovLineOut]
    total: str
    contract_value: str | None
    retainage_pct: str
    step_down_at_pct: str | None
    step_down_pct: str | None
    version: int
