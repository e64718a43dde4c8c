"""The budget API's input and output (core/schemas.py). Amounts and hours arrive as
decimal text or JSON numbers and the service judges them (core.money)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from app.core.schemas import Id, Input, Output, Text, Version
from app.expenses.models import CATEGORIES
from app.invoices.schemas import NumberText

Category = Literal[tuple(CATEGORIES)]  # type: ignore[valid-type]


class LineIn(Input):
    id: Id | None = Field(None, description="A line of this project to change; without: a new line.")
    version: Version | None = Field(None, description="The line's version read (a stale one answers 409).")
    code: Text(20) | None = Field(None, description="Cost code, unique in the project (optional).")
    name: Text(120) = Field(description="The phase or line.")
    category: Category | None = Field(None, description="Expenses without a line, and labour (LABOR), fall here.")
    amount: NumberText = Field(description="Money: the line's budget.")
    estimated_hours: NumberText | None = None

    __required__ = ("name", "amount")


class BudgetIn(Input):
    """The project's lines, in order: they replace the lines (a line not sent is deleted)."""

    version: Version | None = Field(
        None,
        description="The budget's version read (GET's `version`): a stale one answers 409 with the current "
        "budget. Send it: without it a line added meanwhile is deleted.",
    )
    lines: Annotated[list[LineIn], Field(max_length=200)]

    __required__ = ("lines",)


class Ref(Output):
    id: int
    name: str


class Figures(Output):
    actual: str
    expenses: str
    labour: str
    labour_hours: str
    variance: str | None
    percent_used: str | None = Field(description="Actual ÷ budget in per cent, one place; null without a budget.")
    forecast: str


class LineOut(Figures):
    id: int
    code: str
    name: str
    category: str | None
    amount: str
    estimated_hours: str | None
    version: int


class UnallocatedOut(Figures):
    category: str
    label: str


class BudgetOut(Output):
    project: Ref
    version: int = Field(description="The version of the set of lines: send it back with a PUT.")
    budget: str | None = Field(description="The project's budget (projects.budget).")
    lines_total: str
    lines_differ: bool = Field(description="The lines do not add up to the project's budget (a warning).")
    cost_to_date: str
    expenses: str
    labour: str
    labour_hours: str
    unpriced_hours: str = Field(description="Approved hours of people without a cost rate (costed 0).")
    variance: str | None
    percent_used: str | None
    remaining_hours: str = Field(description="Estimated hours left on the open tasks.")
    labour_to_complete: str
    open_budget: str = Field(description="Σ max(budget − actual, 0) of the lines other than labour.")
    forecast: str = Field(description="Cost to date + labour to complete + open budget.")
    forecast_variance: str | None
    lines: list[LineOut]
    unallocated: list[UnallocatedOut]
