"""The reports API's input and output (SPEC.md §5 "Profitability", "Reports"). Money is a
decimal string with two places; ROI a decimal string (4 places) or null when undefined."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.core.openapi import Pagination
from app.core.schemas import Date, Input, Output, Query, QueryId, QueryPage
from app.projects.models import STATUSES
from app.reports.filters import SORTS
from app.reports.models import KINDS

Kind = Literal[tuple(KINDS)]  # type: ignore[valid-type]
Status = Literal[(*STATUSES, "any")]  # type: ignore[valid-type]
Sort = Literal[SORTS]  # type: ignore[valid-type]
Bool = Literal["true", "false", "1", "0"]


class Ref(Output):
    id: int
    name: str


class PeriodQuery(Query):
    date_from: Date | None = Field(None, description="Start of the period (issue, payment, expense dates).")
    date_to: Date | None = Field(None, description="End of the period, inclusive.")


class ReportQuery(PeriodQuery):
    pm: QueryId | None = Field(None, description="Only projects this PM (or trainee) is on.")
    client: QueryId | None = Field(None, description="Only this client's projects.")
    status: Status | None = Field(None, description="Project status (WIP: default active; `any` for all).")
    as_of: Date | None = Field(None, description="WIP and aging: the day they are taken (default today).")
    sort: Sort | None = None
    page: QueryId | None = Field(None, description="Page of the per-project rows (50 a page).")


class WipQuery(ReportQuery):
    page: QueryPage | None = Field(None, description="Page number, from 1 (past the end: the last page).")
    page_size: QueryPage | None = Field(None, description="Projects per page (default 20, at most 100).")


class CompanyQuery(ReportQuery):
    trend: Bool | None = Field(None, description="Also the monthly trend (default false: the figures only).")


class Forecast(Output):
    cost_at_completion: str | None = Field(
        description="The budget's forecast to completion: cost to date + remaining estimated hours × the "
        "project's cost per priced hour + the open budget of the other lines (null on the company's rows)."
    )
    profit_at_completion: str | None = Field(description="Contract value − cost at completion.")


class MonthOut(Output):
    month: str = Field(examples=["2026-03"])
    invoiced: str
    collected: str
    costs: str


class PhaseOut(Output):
    id: int
    code: str
    name: str
    category: str | None = Field(description="The category whose expenses (and, for LABOR, labour) fall on it.")
    budget: str
    cost: str = Field(
        description="Cost to date on the phase: its expenses that count as cost + labour (approved hours × "
        "cost rate) on a LABOR line — the budget page's actual."
    )
    variance: str = Field(description="budget − cost.")
    variance_pct: str | None = Field(description="variance ÷ budget in per cent; null when the budget is 0.")
    share_pct: str | None = Field(description="cost ÷ the project's cost to date in per cent.")
    forecast: str = Field(description="The budget's forecast to completion of the line.")
    expense_breakdown: dict[str, str] = Field(description="cost per category (labour under LABOR).")


class UnallocatedOut(Output):
    cost: str = Field(description="Cost on no phase: expenses of a category with no line, labour without one.")
    share_pct: str | None
    forecast: str
    expense_breakdown: dict[str, str]


class ProfitabilityOut(Output):
    project: Ref
    total_invoiced: str
    total_paid: str
    total_expenses: str = Field(description="Expenses that count as cost + approved hours × cost rate (LABOR).")
    profit: str = Field(description="total_paid − total_expenses.")
    roi: str | None = Field(description="profit ÷ total_expenses (4 places); null when there are no expenses.")
    budget: str | None
    budget_variance: str | None = Field(description="budget − total_expenses.")
    budget_variance_pct: str | None
    expense_breakdown: dict[str, str]
    change_order_impact: str = Field(description="Approved change orders' total.")
    contract_value: str | None
    original_contract_value: str | None
    labour_hours: str
    unpriced_hours: str = Field(description="Approved hours of people without a cost rate (cost 0).")
    forecast: Forecast
    phases: list[PhaseOut] | None = Field(
        None,
        description="A project's own profitability only: the cost per phase (budget line), the whole project "
        "to date whatever the period — the budget page's figures; with `unallocated` it adds up to "
        "total_expenses when no period is asked. Revenue is not split by phase: nothing ties a billed "
        "schedule-of-values line or invoice to a budget line.",
    )
    unallocated: UnallocatedOut | None = None
    trend: list[MonthOut] | None = None


class TotalsOut(Output):
    projects: int
    total_invoiced: str
    total_paid: str
    total_expenses: str
    profit: str
    roi: str | None
    budget: str
    expense_breakdown: dict[str, str]
    change_order_impact: str


class CompanyProfitabilityOut(Output):
    results: list[ProfitabilityOut]
    totals: TotalsOut
    page: int
    total_pages: int
    trend: list[MonthOut] = Field(description="Invoiced, collected and costs per month when asked (trend=true).")


class WipRowOut(Output):
    project: Ref | None
    client: str
    status: str
    contract_value: str
    estimated_total_cost: str | None
    estimate_source: str | None = Field(description="budget, lines (budget lines' sum), or null (by progress).")
    cost_to_date: str
    percent_complete: str | None
    earned_revenue: str
    billed_to_date: str
    over_billing: str
    under_billing: str


class WipOut(Output):
    as_of: str = Field(json_schema_extra={"format": "date"})
    results: list[WipRowOut] = Field(description="A page of the projects, by name.")
    totals: WipRowOut = Field(description="Over every project the filters cover, not only this page's.")
    pagination: Pagination


class AgingRowOut(Output):
    client: Ref | None
    current: str
    days_1_30: str
    days_31_60: str
    days_61_90: str
    days_over_90: str
    total: str
    invoices: int


class AgingOut(Output):
    as_of: str = Field(json_schema_extra={"format": "date"})
    results: list[AgingRowOut]
    totals: AgingRowOut


class ExportQuery(Query):
    kind: Kind
    date_from: Date = Field(alias="from", description="First day of the period.")
    date_to: Date = Field(alias="to", description="Last day of the period.")
    include_exported: Bool | None = Field(None, description="Also rows exported before (default false).")


class ExportIn(Input):
    kind: Kind | None = None
    date_from: Date | None = Field(None, alias="from")
    date_to: Date | None = Field(None, alias="to")
    include_exported: bool | None = None

    __required__ = ("kind", "from", "to")


class ExportOut(Output):
    id: int
    kind: str
    period_from: str = Field(json_schema_extra={"format": "date"})
    period_to: str = Field(json_schema_extra={"format": "date"})
    include_exported: bool
    row_count: int = Field(description="Invoices, payments or expenses the file carried.")
    created_at: str
