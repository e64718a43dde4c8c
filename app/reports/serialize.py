"""The reports' JSON shapes (SPEC.md §5 "Profitability", "Reports"): money as 2-place
strings, ROI and percentages as decimal strings or null."""

from __future__ import annotations

from app.core.money import money_str
from app.expenses.models import CATEGORIES


def _s(value) -> str | None:
    return None if value is None else str(value)


def month_json(m) -> dict:
    return {
        "month": m.month,
        "invoiced": money_str(m.invoiced),
        "collected": money_str(m.collected),
        "costs": money_str(m.costs),
    }


def profitability_json(p, trend=None) -> dict:
    data = {
        "project": {"id": p.id, "name": p.name},
        "total_invoiced": money_str(p.invoiced),
        "total_paid": money_str(p.collected),
        "total_expenses": money_str(p.expenses),
        "profit": money_str(p.profit),
        "roi": _s(p.roi),
        "budget": money_str(p.budget),
        "budget_variance": money_str(p.budget_variance),
        "budget_variance_pct": _s(p.budget_variance_pct),
        "expense_breakdown": {c: money_str(p.breakdown[c]) for c in CATEGORIES},
        "change_order_impact": money_str(p.change_orders),
        "contract_value": money_str(p.contract_value),
        "original_contract_value": money_str(p.original_contract),
        "labour_hours": money_str(p.labour_hours),
        "unpriced_hours": money_str(p.unpriced_hours),
        "forecast": {
            "cost_at_completion": money_str(p.forecast_cost),
            "profit_at_completion": money_str(p.forecast_profit),
        },
    }
    if p.phases is not None:
        data["phases"] = [phase_json(ph) for ph in p.phases.lines]
        data["unallocated"] = unallocated_json(p.phases)
    if trend is not None:
        data["trend"] = [month_json(m) for m in trend]
    return data


def _breakdown(amounts: dict) -> dict:
    return {c: money_str(amounts[c]) for c in CATEGORIES}


def phase_json(ph) -> dict:
    """One phase (budget line): costs only, labour a total (never a rate)."""
    line = ph.line
    return {
        "id": line.id,
        "code": line.code,
        "name": line.name,
        "category": line.category,
        "budget": money_str(ph.budget),
        "cost": money_str(ph.cost),
        "variance": money_str(ph.variance),
        "variance_pct": _s(ph.variance_pct),
        "share_pct": _s(ph.share_pct),
        "forecast": money_str(ph.forecast),
        "expense_breakdown": _breakdown(ph.breakdown),
    }


def unallocated_json(phases) -> dict:
    return {
        "cost": money_str(phases.unallocated_cost),
        "share_pct": _s(phases.unallocated_share_pct),
        "forecast": money_str(phases.unallocated_forecast),
        "expense_breakdown": _breakdown(phases.unallocated_breakdown),
    }


def totals_json(t, count: int) -> dict:
    return {
        "projects": count,
        "total_invoiced": money_str(t.invoiced),
        "total_paid": money_str(t.collected),
        "total_expenses": money_str(t.expenses),
        "profit": money_str(t.profit),
        "roi": _s(t.roi),
        "budget": money_str(t.budget),
        "expense_breakdown": {c: money_str(t.breakdown[c]) for c in CATEGORIES},
        "change_order_impact": money_str(t.change_orders),
    }


def company_json(report) -> dict:
    return {
        "results": [profitability_json(p) for p in report.rows],
        "totals": totals_json(report.totals, report.count),
        "page": report.page,
        "total_pages": report.pages,
        "trend": [month_json(m) for m in report.months],
    }


def wip_row_json(r) -> dict:
    return {
        "project": None if r.id is None else {"id": r.id, "name": r.name},
        "client": r.client_name,
        "status": r.status,
        "contract_value": money_str(r.contract),
        "estimated_total_cost": money_str(r.estimated_cost),
        "estimate_source": r.estimate_source if r.id is not None else None,
        "cost_to_date": money_str(r.cost),
        "percent_complete": _s(r.percent_complete),
        "earned_revenue": money_str(r.earned),
        "billed_to_date": money_str(r.billed),
        "over_billing": money_str(r.over_billing),
        "under_billing": money_str(r.under_billing),
    }


def wip_json(report, pagination: dict | None = None) -> dict:
    data = {
        "as_of": report.as_of.isoformat(),
        "results": [wip_row_json(r) for r in report.rows],
        "totals": wip_row_json(report.totals),
    }
    if pagination is not None:
        data["pagination"] = pagination
    return data


def aging_row_json(r) -> dict:
    return {
        "client": None if r.client_id is None else {"id": r.client_id, "name": r.client_name},
        "current": money_str(r.current),
        "days_1_30": money_str(r.days_1_30),
        "days_31_60": money_str(r.days_31_60),
        "days_61_90": money_str(r.days_61_90),
        "days_over_90": money_str(r.days_over_90),
        "total": money_str(r.total),
        "invoices": r.invoices,
    }


def aging_json(report) -> dict:
    return {
        "as_of": report.as_of.isoformat(),
        "results": [aging_row_json(r) for r in report.rows],
        "totals": aging_row_json(report.totals),
    }


def export_json(export) -> dict:
    return {
        "id": export.id,
        "kind": export.kind,
        "period_from": export.period_from.isoformat(),
        "period_to": export.period_to.isoformat(),
        "include_exported": export.include_exported,
        "row_count": export.row_count,
        "created_at": export.created_at.isoformat(),
    }
