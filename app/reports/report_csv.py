"""Every report as CSV, with the filters of its page (csv_out: quoting and the formula
guard). The permission is checked before the first byte; the rows are streamed from the
database (yield_per), the totals row last."""

from __future__ import annotations

from app.expenses.models import CATEGORIES
from app.reports import csv_out, services
from app.reports.csv_out import money
from app.reports.filters import Filters


def _pct(value) -> csv_out.Number:
    return csv_out.Number("" if value is None else str(value))


def profitability(user, f: Filters):
    rows = services.profitability_rows(user, f)
    header = ("project", "client", "status", "budget", "contract_value", "invoiced", "collected", "expenses",
              *(c.lower() for c in CATEGORIES), "change_orders", "profit", "roi", "budget_variance",
              "budget_variance_pct")  # fmt: skip

    def cells(p, name="", client="", status=""):
        return (name or p.name, client or p.client_name, status or p.status, money(p.budget),
                money(p.contract_value), money(p.invoiced), money(p.collected), money(p.expenses),
                *(money(p.breakdown[c]) for c in CATEGORIES), money(p.change_orders), money(p.profit),
                _pct(p.roi), money(p.budget_variance), _pct(p.budget_variance_pct))  # fmt: skip

    def body():
        yield from (cells(p) for p in rows)
        totals = services.profitability_totals(user, f)[0]
        yield cells(totals, "TOTAL", "-", "-")

    return csv_out.lines(header, body())


def project_profitability(user, project_id: int, f: Filters):
    p = services.project_profitability(user, project_id, f, with_forecast=True)
    months = services.trend(user, f, project_id)
    rows = [("total_invoiced", money(p.invoiced)), ("total_paid", money(p.collected)),
            ("total_expenses", money(p.expenses)), ("profit", money(p.profit)), ("roi", _pct(p.roi)),
            ("budget", money(p.budget)), ("budget_variance", money(p.budget_variance)),
            ("budget_variance_pct", _pct(p.budget_variance_pct)),
            *((f"expenses_{c.lower()}", money(p.breakdown[c])) for c in CATEGORIES),
            ("change_order_impact", money(p.change_orders)), ("contract_value", money(p.contract_value)),
            ("forecast_cost_at_completion", money(p.forecast_cost)),
            ("forecast_profit_at_completion", money(p.forecast_profit)),
            *((f"{m.month} invoiced / collected / costs",
               csv_out.Number(f"{m.invoiced:.2f} / {m.collected:.2f} / {m.costs:.2f}")) for m in months)]  # fmt: skip
    return csv_out.lines((p.name, "amount"), [*rows, *_phase_rows(p.phases)])


def _phase_rows(phases):
    """After the project's figures, a blank row and a table of its phases (to date, the
    budget page's figures): a header row, one row per phase, the unallocated rows, the total."""
    if phases is None or not phases.all:
        return []
    header = ("phase", "budget", "cost", "variance", "variance_pct", "share_pct", "forecast",
              *(f"cost_{c.lower()}" for c in CATEGORIES))  # fmt: skip
    body = [(ph.label, money(ph.budget), money(ph.cost), money(ph.variance), _pct(ph.variance_pct),
             _pct(ph.share_pct), money(ph.forecast), *(money(ph.breakdown[c]) for c in CATEGORIES))
            for ph in phases.all]  # fmt: skip
    total = ("TOTAL", money(phases.lines_total), money(phases.cost_to_date), "", "", "", money(phases.forecast),
             *(money(phases.breakdown[c]) for c in CATEGORIES))  # fmt: skip
    return [(), header, *body, total]


def wip(user, f: Filters):
    rows = services.wip_rows(user, f)
    header = ("project", "client", "status", "contract_value", "estimated_total_cost", "estimate_from",
              "cost_to_date", "percent_complete", "earned_revenue", "billed_to_date", "over_billing",
              "under_billing")  # fmt: skip

    def cells(r):
        return (r.name, r.client_name, r.status, money(r.contract), money(r.estimated_cost),
                r.estimate_source or "progress", money(r.cost), _pct(r.percent_complete), money(r.earned),
                money(r.billed), money(r.over_billing), money(r.under_billing))  # fmt: skip

    def body():
        yield from (cells(r) for r in rows)
        t = services.wip_totals(user, f)
        yield ("TOTAL", "-", "-", *cells(t)[3:5], "-", *cells(t)[6:])

    return csv_out.lines(header, body())


def ar_aging(user, f: Filters):
    report = services.ar_aging(user, f)
    header = ("client", "current", "days_1_30", "days_31_60", "days_61_90", "days_over_90", "total", "invoices")
    rows = [(r.client_name, *(money(getattr(r, b)) for b in header[1:7]), r.invoices)
            for r in (*report.rows, report.totals)]  # fmt: skip
    return csv_out.lines(header, rows)
