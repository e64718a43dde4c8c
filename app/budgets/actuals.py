"""What a project has cost, as SQL: the one definition of "cost to date" that budgets,
profitability, WIP and the forecast all read (never a Python loop over rows).

- Expenses count when `expenses.is_cost` (a company expense, or a claim approved or paid).
- Labour counts as approved timesheet hours × the person's cost rate in force at the
  start of that week (budgets.models.CostRate); hours of a person without a rate cost 0
  and are counted in `unpriced_hours` so a page can say so.

Each function returns a select() whose rows are grouped by project (and by what the name
says); callers add their own WHERE on the project ids they may see, or join it as a
subquery."""

from __future__ import annotations

from sqlalchemy import func, select

from app.budgets.models import CostRate
from app.core.money import ZERO
from app.expenses.models import Expense
from app.timeclock.models import TimesheetApproval


def rate_in_force():
    """The cost rate of a timesheet approval's person in force at the start of its week
    (a correlated scalar subquery; NULL when none is set)."""
    return (
        select(CostRate.hourly_cost)
        .where(CostRate.user_id == TimesheetApproval.user_id, CostRate.effective_from <= TimesheetApproval.week_start)
        .order_by(CostRate.effective_from.desc())
        .limit(1)
        .correlate(TimesheetApproval)
        .scalar_subquery()
    )


def labour_cost_expr():
    """hours × rate of one approval, rounded to the cent (0 when no rate)."""
    return func.round(TimesheetApproval.hours * func.coalesce(rate_in_force(), ZERO), 2)


def labour_by_project(*where):
    """project_id, labour_cost, hours, unpriced_hours — over approvals matching `where`."""
    rate = rate_in_force()
    return (
        select(
            TimesheetApproval.project_id.label("project_id"),
            func.coalesce(func.sum(labour_cost_expr()), ZERO).label("labour_cost"),
            func.coalesce(func.sum(TimesheetApproval.hours), ZERO).label("hours"),
            func.coalesce(func.sum(TimesheetApproval.hours).filter(rate.is_(None)), ZERO).label("unpriced_hours"),
        )
        .where(*where)
        .group_by(TimesheetApproval.project_id)
    )


def expenses_by_project(*where):
    """project_id, expenses — the expenses that count as cost, matching `where`."""
    return (
        select(Expense.project_id.label("project_id"), func.coalesce(func.sum(Expense.amount), ZERO).label("expenses"))
        .where(Expense.is_cost.is_(True), *where)
        .group_by(Expense.project_id)
    )


def expenses_by_project_category(*where):
    """project_id, category, expenses — the breakdown by SPEC.md's eight categories."""
    return (
        select(
            Expense.project_id.label("project_id"),
            Expense.category.label("category"),
            func.coalesce(func.sum(Expense.amount), ZERO).label("expenses"),
        )
        .where(Expense.is_cost.is_(True), *where)
        .group_by(Expense.project_id, Expense.category)
    )
