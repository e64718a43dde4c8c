"""A project's budget as the API shows it: money as two-place decimal strings, shares
used as one-place percent strings. Costs only — never a person's rate."""

from __future__ import annotations

from app.budgets.services import Budget, Row
from app.core.money import money_str


def _pct(value) -> str | None:
    return None if value is None else str(value)


def _hours(value) -> str | None:
    return None if value is None else format(value.quantize(value.__class__("0.01")), "f")


def _figures(row: Row) -> dict:
    return {
        "actual": money_str(row.actual),
        "expenses": money_str(row.expenses),
        "labour": money_str(row.labour),
        "labour_hours": _hours(row.hours),
        "variance": money_str(row.variance),
        "percent_used": _pct(row.percent_used),
        "forecast": money_str(row.forecast),
    }


def line_json(row: Row) -> dict:
    line = row.line
    return {
        "id": line.id,
        "code": line.code,
        "name": line.name,
        "category": line.category,
        "amount": money_str(line.amount),
        "estimated_hours": _hours(line.estimated_hours),
        "version": line.version,
        **_figures(row),
    }


def budget_json(budget: Budget) -> dict:
    project = budget.project
    return {
        "project": {"id": project.id, "name": project.name},
        "version": budget.version,
        "budget": money_str(budget.amount),
        "lines_total": money_str(budget.lines_total),
        "lines_differ": budget.lines_differ,
        "cost_to_date": money_str(budget.cost_to_date),
        "expenses": money_str(budget.expenses),
        "labour": money_str(budget.labour),
        "labour_hours": _hours(budget.hours),
        "unpriced_hours": _hours(budget.unpriced_hours),
        "variance": money_str(budget.variance),
        "percent_used": _pct(budget.percent_used),
        "remaining_hours": _hours(budget.remaining_hours),
        "labour_to_complete": money_str(budget.labour_to_complete),
        "open_budget": money_str(budget.open_budget),
        "forecast": money_str(budget.forecast),
        "forecast_variance": money_str(budget.forecast_variance),
        "lines": [line_json(row) for row in budget.rows],
        "unallocated": [{"category": row.category, "label": row.label, **_figures(row)} for row in budget.unallocated],
    }
