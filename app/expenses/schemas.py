"""The expense API's input and output (core/schemas.py, SPEC.md §5 "Expense"). Amounts
arrive as decimal text or JSON numbers and the service judges them (core.money); dates
as text the service judges too (a date in 2099 gets its own message)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.core.schemas import Date, FilePart, Form, Id, Input, ListQuery, Output, QueryId, Text, Version
from app.expenses.models import CATEGORIES, REIMBURSEMENT_METHODS, REIMBURSEMENT_STATUSES
from app.invoices.schemas import NumberText

Category = Literal[tuple(CATEGORIES)]  # type: ignore[valid-type]
Status = Literal[tuple(REIMBURSEMENT_STATUSES)]  # type: ignore[valid-type]
Method = Literal[tuple(REIMBURSEMENT_METHODS)]  # type: ignore[valid-type]
DateText = Text(10)


class ExpenseInput(Input):
    project_id: Id | None = Field(None, description="The project (create only).")
    category: Category | None = None
    amount: NumberText | None = Field(None, description="Money, more than 0, at most two places.")
    description: Text(500) | None = None
    vendor: Text(200) | None = None
    expense_date: DateText | None = Field(None, description="YYYY-MM-DD; not in the future (company time).")
    budget_line_id: Id | None = Field(None, description="A budget line (phase or cost code) of the same project.")
    version: Version | None = None


class ExpenseCreate(ExpenseInput):
    paid_by_employee_id: Id | None = Field(
        None,
        description="Who paid it out of pocket: a reimbursement claim (submitted). Yourself, or — for staff who "
        "record company expenses on the project — someone who works on it. Left out: a company expense for "
        "those who may record one, else your own claim.",
    )

    __required__ = ("project_id", "category", "amount", "expense_date")


class ExpenseUpdate(ExpenseInput):
    """A company expense (by staff who record them) or one's own claim while submitted."""


class ExpenseQuery(ListQuery):
    project_id: QueryId | None = Field(None, description="Only this project's expenses.")
    category: Category | None = None
    reimbursement_status: Literal[(*REIMBURSEMENT_STATUSES, "company", "open")] | None = Field(  # type: ignore[misc]
        None, description="A claim status; `company` for company expenses; `open` for claims not paid or rejected."
    )
    paid_by_employee: QueryId | None = Field(None, description="Claims of this person.")
    date_from: Date | None = Field(None, description="YYYY-MM-DD, inclusive.")
    date_to: Date | None = Field(None, description="YYYY-MM-DD, inclusive.")
    budget_line_id: QueryId | None = None


class VersionOnly(Input):
    version: Version | None = None


class Rejection(Input):
    reason: Text(1000) | None = Field(None, description="Why (required).")
    version: Version | None = None

    __required__ = ("reason",)


class Reimbursement(Input):
    method: Method | None = Field(None, description="direct, paycheck or petty_cash.")
    reference: Text(120) | None = Field(None, description="The cheque, transfer or payslip reference.")
    date: DateText | None = Field(None, description="When it was paid back (default today).")
    version: Version | None = None

    __required__ = ("method",)


class ReceiptUpload(Form):
    """The multipart upload: `file`, a photo (JPEG, PNG, WebP, HEIC) or a PDF."""

    file: FilePart
    version: QueryId | None = Field(None, description="The version the change is based on.")


class Ref(Output):
    id: int
    name: str


class ReceiptOut(Output):
    name: str
    content_type: str
    size: int | None
    url: str = Field(description="The authorising download route (a short-lived presigned URL on S3).")


class ExpenseOut(Output):
    id: int
    project: Ref
    category: str
    amount: str
    description: str
    vendor: str
    expense_date: str
    paid_by_employee: Ref | None
    reimbursement_status: str | None
    reimbursement_method: str | None
    reimbursement_date: str | None
    reimbursement_reference: str
    budget_line: Ref | None
    rejection_reason: str
    receipt: ReceiptOut | None
    version: int
    created_at: str
