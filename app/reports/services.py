"""The owner's reports (issue 13): profitability per project and across the company, WIP
(over/under billing) and receivables aging. Each takes the acting user and requires
`report.view`; the figures come from app/reports/queries.py (SQL aggregation, a few
statements per report whatever the number of projects) and are finished here: ROI,
variance, percentages, the forecast — arithmetic on a row, never a loop over rows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal
from types import SimpleNamespace

from app.core.errors import ObjectNotFound
from app.core.money import HUNDRED, ZERO
from app.core.permissions import require
from app.expenses.models import CATEGORIES
from app.extensions import db
from app.reports import cache, queries
from app.reports.filters import Filters

PER_PAGE = 50
RATIO = Decimal("0.0001")  # ROI and percent complete are kept to 4 places (0.01 %)
PCT = Decimal("0.01")


def _key(user, report: str, f: Filters, *extra) -> str:
    """The cache name of a report's rows: the report, whose rows, the filters, the day."""
    return "\0".join(map(str, (report, cache.viewer_key(user, queries.ACTION), f, today(), *extra)))


def today() -> dt.date:
    from app.timeclock.queries import today as company_today

    return company_today()


def _ratio(part: Decimal, whole: Decimal) -> Decimal | None:
    """part ÷ whole to 4 places, None (undefined) when whole is 0."""
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(RATIO, rounding=ROUND_HALF_UP)


@dataclass
class Profitability:
    """One project's (or the company's) profitability, SPEC.md §3/§5."""

    invoiced: Decimal
    collected: Decimal
    expenses: Decimal
    budget: Decimal | None
    change_orders: Decimal
    breakdown: dict[str, Decimal]
    labour: Decimal = ZERO
    labour_hours: Decimal = ZERO
    unpriced_hours: Decimal = ZERO
    contract_value: Decimal | None = None
    progress_percent: int | None = None
    id: int | None = None
    name: str = ""
    client_id: int | None = None
    client_name: str = ""
    status: str = ""
    # cost at completion: the budgets' forecast to completion (project_forecast), set on a
    # project's own profitability only (None on the company's rows)
    forecast_cost: Decimal | None = None
    # per phase (budget line): set with the forecast, from the same budget figures
    phases: Phases | None = None

    @property
    def profit(self) -> Decimal:
        return self.collected - self.expenses

    @property
    def roi(self) -> Decimal | None:
        """profit ÷ expenses; None (undefined) when nothing was spent."""
        return _ratio(self.profit, self.expenses)

    @property
    def roi_percent(self) -> Decimal | None:
        return None if self.roi is None else (self.roi * HUNDRED).quantize(PCT)

    @property
    def budget_variance(self) -> Decimal | None:
        """budget − expenses (positive: under budget); None without a budget."""
        return None if self.budget is None else self.budget - self.expenses

    @property
    def budget_variance_pct(self) -> Decimal | None:
        """The variance as a percentage of the budget; None without a budget (or a 0 one)."""
        if not self.budget:
            return None
        return (self.budget_variance * HUNDRED / self.budget).quantize(PCT, rounding=ROUND_HALF_UP)

    @property
    def is_loss(self) -> bool:
        return self.profit < 0

    @property
    def is_over_budget(self) -> bool:
        return self.budget_variance is not None and self.budget_variance < 0

    @property
    def original_contract(self) -> Decimal | None:
        return None if self.contract_value is None else self.contract_value - self.change_orders

    @property
    def forecast_profit(self) -> Decimal | None:
        """Profit at completion = contract value − the forecast cost at completion."""
        if self.forecast_cost is None or self.contract_value is None:
            return None
        return self.contract_value - self.forecast_cost


def _pct_of(part: Decimal | None, whole: Decimal | None) -> Decimal | None:
    """part ÷ whole in per cent to 2 places (as budget_variance_pct); None without a whole."""
    if part is None or not whole:
        return None
    return (Decimal(part) * HUNDRED / Decimal(whole)).quantize(PCT, rounding=ROUND_HALF_UP)


@dataclass
class Phase:
    """One phase (a budget line) or one unallocated row of the budget, as profitability
    shows it: budgets.services.Row's figures (the one cost to date) and its share of the
    project's cost. No revenue: nothing ties what is billed to a phase (docs/architecture.md)."""

    row: object  # app.budgets.services.Row
    share_pct: Decimal | None

    @property
    def line(self):
        return self.row.line

    @property
    def id(self) -> int | None:
        return None if self.row.line is None else self.row.line.id

    @property
    def label(self) -> str:
        return self.row.label

    @property
    def budget(self) -> Decimal | None:
        return self.row.budget

    @property
    def cost(self) -> Decimal:
        return self.row.actual

    @property
    def variance(self) -> Decimal | None:
        return self.row.variance

    @property
    def variance_pct(self) -> Decimal | None:
        """budget − cost as a percentage of the budget (None without one, or a 0 one)."""
        return _pct_of(self.row.variance, self.row.budget)

    @property
    def is_over(self) -> bool:
        return self.row.is_over

    @property
    def forecast(self) -> Decimal:
        return self.row.forecast

    @property
    def breakdown(self) -> dict[str, Decimal]:
        return self.row.breakdown


@dataclass
class Phases:
    """A project's cost per phase, the whole project to date: its budget's rows
    (app/budgets/services.figures), which add up to the project's cost to date."""

    lines: list[Phase]
    unallocated: list[Phase]
    cost_to_date: Decimal
    lines_total: Decimal

    @property
    def all(self) -> list[Phase]:
        return [*self.lines, *self.unallocated]

    @property
    def forecast(self) -> Decimal:
        return sum((p.forecast for p in self.all), ZERO)

    @property
    def breakdown(self) -> dict[str, Decimal]:
        return {c: sum((p.breakdown[c] for p in self.all), ZERO) for c in CATEGORIES}

    @property
    def unallocated_cost(self) -> Decimal:
        return sum((p.cost for p in self.unallocated), ZERO)

    @property
    def unallocated_breakdown(self) -> dict[str, Decimal]:
        return {c: sum((p.breakdown[c] for p in self.unallocated), ZERO) for c in CATEGORIES}

    @property
    def unallocated_share_pct(self) -> Decimal | None:
        return _pct_of(self.unallocated_cost, self.cost_to_date)

    @property
    def unallocated_forecast(self) -> Decimal:
        return sum((p.forecast for p in self.unallocated), ZERO)


def phases_of(budget) -> Phases:
    """The phases of a project's budget (budgets.services.Budget): arithmetic only."""
    total = budget.cost_to_date

    def phase(row) -> Phase:
        return Phase(row, _pct_of(row.actual, total))

    return Phases([phase(r) for r in budget.rows], [phase(r) for r in budget.unallocated], total, budget.lines_total)


def _profit_of(row) -> Profitability:
    return Profitability(
        invoiced=row.invoiced,
        collected=row.collected,
        expenses=row.expenses,
        budget=row.budget,
        change_orders=row.change_orders,
        breakdown={c: getattr(row, c) for c in CATEGORIES},
        labour=row.labour,
        labour_hours=getattr(row, "labour_hours", ZERO),
        unpriced_hours=getattr(row, "unpriced_hours", ZERO),
        contract_value=getattr(row, "contract_value", None),
        progress_percent=getattr(row, "progress_percent", None),
        id=getattr(row, "id", None),
        name=getattr(row, "name", ""),
        client_id=getattr(row, "client_id", None),
        client_name=getattr(row, "client_name", ""),
        status=getattr(row, "status", ""),
    )


@dataclass
class Month:
    month: str  # YYYY-MM
    invoiced: Decimal
    collected: Decimal
    costs: Decimal

    @property
    def label(self) -> str:
        return dt.date.fromisoformat(self.month + "-01").strftime("%b %Y")

    @property
    def short(self) -> str:
        return dt.date.fromisoformat(self.month + "-01").strftime("%b")

    @property
    def start(self) -> dt.date:
        return dt.date.fromisoformat(self.month + "-01")

    @property
    def period(self) -> dict:
        """The query arguments asking for this month (a bar's drill-down)."""
        return {"date_from": self.start.isoformat(), "date_to": self.end.isoformat()}

    @property
    def end(self) -> dt.date:
        start = self.start
        following = dt.date(start.year + start.month // 12, start.month % 12 + 1, 1)
        return following - dt.timedelta(days=1)


def months_between(start: dt.date, end: dt.date) -> list[str]:
    out, year, month = [], start.year, start.month
    while (year, month) <= (end.year, end.month):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def trend_window(f: Filters) -> tuple[dt.date, dt.date]:
    """The chart's months: the period asked for (at most 36 months, the latest), else the
    twelve months to today."""
    end = f.date_to or today()
    start = f.date_from or dt.date(end.year - 1 + (end.month == 12), end.month % 12 + 1, 1)
    if (end.year - start.year) * 12 + end.month - start.month >= 36:
        start = dt.date(end.year - 3 + (end.month == 12), end.month % 12 + 1, 1)
    return start, end


def _month_key(value) -> str:
    """ "YYYY-MM" of what queries.month_of gives (a month's first day, or that text)."""
    return value if isinstance(value, str) else f"{value.year:04d}-{value.month:02d}"


def trend(user, f: Filters, project_id: int | None = None) -> list[Month]:
    """Invoiced, collected and costs per month (every month of the window, 0 when quiet)."""
    require(user, queries.ACTION)
    start, end = trend_window(f)
    stmt = queries.trend_select(user, f, start, end, project_id)
    rows = cache.rows(_key(user, "trend", f, project_id), lambda: db.session.execute(stmt))
    found = {_month_key(row.month): row for row in rows}
    return [
        Month(m, *(getattr(found[m], k) if m in found else ZERO for k in ("invoiced", "collected", "costs")))
        for m in months_between(start, end)
    ]


@dataclass
class CompanyProfitability:
    rows: list[Profitability]
    totals: Profitability
    count: int
    page: int
    pages: int
    months: list[Month] = field(default_factory=list)


def profitability_totals(user, f: Filters) -> tuple[Profitability, int]:
    """The company's profitability over every visible project, and their count: one
    statement (each source table summed once, not per project)."""
    require(user, queries.ACTION)
    stmt = queries.profitability_totals(user, f)
    t = cache.rows(_key(user, "profit-totals", f), lambda: db.session.execute(stmt))[0]
    totals = Profitability(
        invoiced=t.invoiced,
        collected=t.collected,
        expenses=t.expenses,
        budget=t.budget,
        change_orders=t.change_orders,
        breakdown={c: getattr(t, c) for c in CATEGORIES},
        labour=t.labour,
    )
    return totals, t.count


def company_profitability(user, f: Filters, *, with_trend: bool = True, per_page: int = PER_PAGE):
    """Every visible project's profitability (a page of them, in `f.sort` order) and the
    totals over all of them: two statements (the page aggregates only its projects when in
    name order), plus one for the monthly trend."""
    totals, count = profitability_totals(user, f)
    pages = max(1, -(-count // per_page))
    page = max(f.page, 1)
    if page > pages:  # past the last page: the first
        page = 1
    paged = queries.profitability_page(user, f, per_page, (page - 1) * per_page)
    rows = cache.rows(_key(user, "profit", f, per_page, page), lambda: db.session.execute(paged))
    return CompanyProfitability(
        [_profit_of(r) for r in rows], totals, count, page, pages, trend(user, f) if with_trend else []
    )


def profitability_rows(user, f: Filters):
    """Every visible project's row in `f.sort` order, streamed (the CSV)."""
    require(user, queries.ACTION)
    stmt = queries.profitability_order(queries.profitability_select(user, f), f.sort)
    return (_profit_of(row) for row in db.session.execute(stmt.execution_options(yield_per=500)))


def project_for_report(user, project_id: int):
    """The project, if `user` may see its reports (403 for a role without report.view
    anywhere, 404 for a project they may not see)."""
    from app.projects.services import get_project

    require(user, queries.ACTION)
    return get_project(user, project_id, queries.ACTION)


def project_profitability(user, project_id: int, f: Filters | None = None, *, with_forecast: bool = False):
    """One project's profitability (one statement), over the period of `f` if any; with
    `with_forecast`, its forecast cost at completion too (project_forecast: the whole
    project's, whatever the period) and its cost per phase (`phases`, from the same
    budget figures: the whole project to date, whatever the period)."""
    project = project_for_report(user, project_id)
    f = Filters(date_from=f.date_from, date_to=f.date_to) if f else Filters()
    stmt = queries.profitability_select(user, f, project.id)
    row = db.session.execute(stmt).one_or_none()
    if row is None:
        raise ObjectNotFound("That project does not exist or you cannot see it.")
    figures = _profit_of(row)
    if with_forecast:
        from app.budgets.services import budget_for

        budget = budget_for(user, project)  # costs.view, as project_forecast
        figures.forecast_cost = budget.forecast
        figures.phases = phases_of(budget)
    return figures


def project_forecast(user, project) -> Decimal:
    """The project's forecast cost at completion: the budgets' forecast to completion
    (app/budgets/services.py, the one definition: cost to date + remaining estimated hours
    × the project's cost per priced hour + the open budget of the other lines)."""
    from app.budgets.services import budget_for

    return budget_for(user, project).forecast


# --- WIP -----------------------------------------------------------------------------


@dataclass
class WipRow:
    id: int | None
    name: str
    client_name: str
    status: str
    contract: Decimal
    estimated_cost: Decimal | None
    estimate_source: str | None
    cost: Decimal
    percent: Decimal | None  # 0–1
    earned: Decimal
    billed: Decimal
    over_billing: Decimal
    under_billing: Decimal
    by_applications: bool = False  # billed = the latest certified pay application's line 4 + other invoices

    @property
    def percent_complete(self) -> Decimal | None:
        """Percent complete, 0–100 with 2 places."""
        return None if self.percent is None else (Decimal(self.percent) * HUNDRED).quantize(PCT, ROUND_HALF_UP)

    @property
    def by_progress(self) -> bool:
        return self.estimated_cost is None


@dataclass
class Wip:
    as_of: dt.date
    rows: list[WipRow]
    totals: WipRow
    count: int
    page: int = 1
    pages: int = 1


def _wip_row(row) -> WipRow:
    return WipRow(*(getattr(row, name) for name in WipRow.__dataclass_fields__))


def wip(user, f: Filters, per_page: int | None = None) -> Wip:
    """Work in progress for every visible project (default: active ones), as of `f.as_of`
    (default today): the rows (a page of `per_page` when given) and the totals over all —
    two statements."""
    require(user, queries.ACTION)
    as_of = f.as_of or today()
    stmt = queries.wip_select(user, f, as_of)
    if per_page:  # the totals over every project, then only the page's projects aggregated
        t = _wip_totals_row(user, f, stmt)
        pages = max(1, -(-t.count // per_page))
        page = min(max(f.page, 1), pages)
        paged = queries.wip_select(
            user, f, as_of, ids=queries.page_of_projects(user, f, per_page, (page - 1) * per_page)
        )
        found = cache.rows(_key(user, "wip", f, per_page, page), lambda: db.session.execute(paged))
    else:  # every row: the rows and the totals of one aggregation (window sums)
        pages = page = 1
        both = queries.wip_with_totals(stmt)
        found = cache.rows(_key(user, "wip-all", f), lambda: db.session.execute(both))
        first = found[0] if found else None
        t = SimpleNamespace(
            count=first.t_count if first else 0,
            **{name: getattr(first, f"t_{name}") if first else ZERO for name in queries.WIP_TOTALS},
        )
    rows = [_wip_row(r) for r in found]
    percent = _ratio(min(t.cost, t.estimated_cost), t.estimated_cost) if t.estimated_cost else None
    totals = WipRow(None, "Total", "", "", t.contract, t.estimated_cost, "total", t.cost, percent, t.earned,
                    t.billed, t.over_billing, t.under_billing)  # fmt: skip
    return Wip(as_of, rows, totals, t.count, page, pages)


def _wip_totals_row(user, f: Filters, stmt):
    """The totals row over every project of `stmt` (whatever page is asked: one cache entry)."""
    key = _key(user, "wip-totals", replace(f, page=1))
    return cache.rows(key, lambda: db.session.execute(queries.wip_totals(stmt)))[0]


def wip_totals(user, f: Filters) -> WipRow:
    """WIP's totals over every visible project (the CSV's last line): one statement."""
    require(user, queries.ACTION)
    t = _wip_totals_row(user, f, queries.wip_select(user, f, f.as_of or today()))
    percent = _ratio(min(t.cost, t.estimated_cost), t.estimated_cost) if t.estimated_cost else None
    return WipRow(None, "Total", "", "", t.contract, t.estimated_cost, "total", t.cost, percent, t.earned,
                  t.billed, t.over_billing, t.under_billing)  # fmt: skip


def wip_rows(user, f: Filters):
    require(user, queries.ACTION)
    stmt = queries.wip_select(user, f, f.as_of or today())
    return (_wip_row(row) for row in db.session.execute(stmt.execution_options(yield_per=500)))


# --- AR aging ------------------------------------------------------------------------


@dataclass
class AgingRow:
    client_id: int | None
    client_name: str
    current: Decimal
    days_1_30: Decimal
    days_31_60: Decimal
    days_61_90: Decimal
    days_over_90: Decimal
    total: Decimal
    invoices: int = 0

    def bucket(self, name: str) -> Decimal:
        return getattr(self, name)


@dataclass
class Aging:
    as_of: dt.date
    rows: list[AgingRow]
    totals: AgingRow

    @property
    def as_of_arg(self) -> str:
        return self.as_of.isoformat()


def ar_aging(user, f: Filters) -> Aging:
    """What each client owes, by days past due as of `f.as_of` (default today)."""
    require(user, queries.ACTION)
    as_of = f.as_of or today()
    stmt = queries.aging_select(user, f, as_of)
    rows = [AgingRow(**row._asdict()) for row in cache.rows(_key(user, "aging", f), lambda: db.session.execute(stmt))]
    t = cache.rows(_key(user, "aging-totals", f), lambda: db.session.execute(queries.aging_totals(stmt)))[0]
    totals = AgingRow(None, "Total", *(getattr(t, b) for b in queries.BUCKETS), t.total, t.count)
    return Aging(as_of, rows, totals)


def aging_invoices(user, f: Filters, client_id: int | None, bucket: str | None) -> list:
    """The open invoices behind an aging figure (at most 500)."""
    require(user, queries.ACTION)
    as_of = f.as_of or today()
    return db.session.execute(queries.aging_invoices(user, f, as_of, client_id, bucket).limit(500)).all()


# --- the filters' choices --------------------------------------------------------------

CHOICE_LIMIT = 50


def filter_choices(user) -> dict:
    """The filter bar's lists: PMs (cached), clients (when there are few: else the filter
    is left out, and a client is chosen from a report's drill-down), statuses."""
    from sqlalchemy import select

    from app.clients.models import Client
    from app.core.labels import PROJECT_STATUS_LABELS
    from app.projects.queries import pm_choices

    require(user, queries.ACTION)
    pms = [(p.id, p.name) for p in pm_choices(limit=CHOICE_LIMIT + 1)][:CHOICE_LIMIT]
    clients = db.session.execute(select(Client.id, Client.name).order_by(Client.name).limit(CHOICE_LIMIT + 1)).all()
    return {
        "pms": pms,
        "clients": [(c.id, c.name) for c in clients] if len(clients) <= CHOICE_LIMIT else None,
        "statuses": list(PROJECT_STATUS_LABELS.items()),
    }
