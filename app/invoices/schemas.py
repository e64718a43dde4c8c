"""The invoice API's input and output (core/schemas.py, SPEC.md §5 "Invoice"). Numbers
arrive as decimal text or JSON numbers (parsed as Decimal, never a float) and the
service judges them (core.money), so every bad quantity or price gets one clear message."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

from app.core.schemas import Amount, Date, Id, Input, ListQuery, Output, QueryId, Text, Version, decimal_text
from app.core.text import LONG_TEXT
from app.invoices.models import INVOICE_TYPES, PAYMENT_METHODS, STATUSES
from app.invoices.services import MAX_DESCRIPTION, MAX_LINES, TERMS_DAYS


def _number_text(value: Any) -> str:
    text = decimal_text(value)
    if text is None or len(text) > 40:
        raise PydanticCustomError("number", 'Send a number as decimal text such as "12.5".')
    return text


NumberText = Annotated[
    str,
    BeforeValidator(_number_text),
    WithJsonSchema({"type": "string", "pattern": r"^-?\d+(\.\d+)?$", "examples": ["12.5"]}),
]
InvoiceType = Literal[tuple(INVOICE_TYPES)]  # type: ignore[valid-type]
Status = Literal[tuple(STATUSES)]  # type: ignore[valid-type]
Method = Literal[tuple(PAYMENT_METHODS)]  # type: ignore[valid-type]
Terms = Literal[tuple(TERMS_DAYS)]  # type: ignore[valid-type]
Source = Literal["task", "change_order", "deposit", "retention", "extra", "retainage"]


class LineIn(Input):
    description: Text(MAX_DESCRIPTION)
    quantity: NumberText | None = Field(None, description="More than 0, at most three decimal places (default 1).")
    unit_price: NumberText = Field(description="Money, at most two places; negative only for a deposit applied.")
    tax_rate: NumberText | None = Field(None, description="Per cent; default the invoice's tax_rate.")
    source: Source | None = Field(None, description="Where the line comes from (the wizard's prefill).")
    source_id: Id | None = Field(None, description="The task, change order or invoice it comes from.")

    __required__ = ("description", "unit_price")


class InvoiceInput(Input):
    project_id: Id | None = Field(None, description="The project (create only).")
    invoice_type: InvoiceType | None = None
    issue_date: Date | None = Field(None, description="Default today.")
    due_date: Date | None = Field(None, description="Default from the issue date and the payment terms.")
    tax_rate: NumberText | None = Field(None, description="Sales tax in per cent on the taxable lines.")
    retention_amount: NumberText | None = Field(None, description="Held back until the final invoice; ≤ total.")
    payment_terms: Terms | None = None
    client_message: Text(LONG_TEXT) | None = Field(None, description="Printed on the invoice.")
    internal_notes: Text(LONG_TEXT) | None = Field(None, description="Never shown to the client.")
    line_items: Annotated[list[LineIn], Field(max_length=MAX_LINES)] | None = None
    version: Version | None = None


class InvoiceCreate(InvoiceInput):
    __required__ = ("project_id", "line_items")


class InvoiceUpdate(InvoiceInput):
    """Only a draft changes; line_items, when sent, replace all the lines."""


class InvoiceQuery(ListQuery):
    project_id: QueryId | None = Field(None, description="Only this project's invoices.")
    status: Status | None = None
    invoice_type: InvoiceType | None = None
    is_overdue: Literal["true", "false"] | None = Field(None, description="true: only OVERDUE; false: the others.")


class MarkPaid(Input):
    amount_paid: Amount = Field(description="This payment's amount; less than the balance is a partial payment.")
    payment_date: Date | None = Field(None, description="Default today; never in the future.")
    payment_method: Method = "check"
    payment_reference: Text(120) | None = Field(None, description="Check number, ACH trace, …")

    __required__ = ("amount_paid",)


class Reason(Input):
    reason: Text(500) | None = None
    version: Version | None = None

    __required__ = ("reason",)


class Comment(Input):
    comment: Text(2000) | None = None
    version: Version | None = None

    __required__ = ("comment",)


class VersionOnly(Input):
    version: Version | None = None


class Ref(Output):
    id: int
    name: str


class LineOut(Output):
    description: str
    quantity: str
    unit_price: str
    tax_rate: str
    line_total: str
    source: str | None
    source_id: int | None


class PaymentOut(Output):
    id: int
    amount: str
    payment_date: str = Field(json_schema_extra={"format": "date"})
    method: str
    reference: str
    is_void: bool
    void_reason: str


class InvoiceOut(Output):
    id: int
    invoice_number: str | None = Field(description="INV-YYYY-NNNN once issued; null for a draft.")
    invoice_type: str
    status: str
    project: Ref
    client: Ref
    subtotal: str
    tax_rate: str
    tax_amount: str
    total_amount: str
    retention_amount: str
    amount_paid: str
    net_payable: str
    issue_date: str = Field(json_schema_extra={"format": "date"})
    due_date: str = Field(json_schema_extra={"format": "date"})
    is_overdue: bool
    is_draft_for_review: bool
    payment_terms: str
    client_message: str
    sent_at: str | None
    line_items: list[LineOut]
    payments: list[PaymentOut]
    version: int
    internal_notes: str | None = Field(None, description="Staff only.")
    review_comment: str | None = Field(None, description="Staff only.")


class PaymentRecorded(Output):
    invoice: InvoiceOut
    payment: PaymentOut
