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

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import aliased

from app.budgets.models import BudgetLine, CostRate
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


def rate_periods():
    """Each cost rate with the day it ends (the next rate's start, NULL for the current
    one): user_id, hourly_cost, effective_from, until — so approvals find their rate by a
    range join (a hash join over all approvals) rather than one lookup per approval. The
    same rate as rate_in_force(): the latest with effective_from ≤ the week's Monday."""
    return select(
        CostRate.user_id,
        CostRate.hourly_cost,
        CostRate.effective_from,
        func.lead(CostRate.effective_from)
        .over(partition_by=CostRate.user_id, order_by=CostRate.effective_from)
        .label("until"),
    ).subquery("rate_periods")


def _priced_approvals(*where):
    """Approvals matching `where` with their rate in force (NULL when none): a subquery of
    project_id, week_start, hours, rate."""
    periods = rate_periods()
    return (
        select(
            TimesheetApproval.project_id.label("project_id"),
            TimesheetApproval.week_start.label("week_start"),
            TimesheetApproval.hours.label("hours"),
            periods.c.hourly_cost.label("rate"),
        )
        .outerjoin(
            periods,
            and_(
                periods.c.user_id == TimesheetApproval.user_id,
                periods.c.effective_from <= TimesheetApproval.week_start,
                (periods.c.until.is_(None)) | (periods.c.until > TimesheetApproval.week_start),
            ),
        )
        .where(*where)
        .subquery("priced")
    )


def labour_by_project(*where):
    """project_id, labour_cost, hours, unpriced_hours — over approvals matching `where`
    (each approval's cost: hours × its rate in force, rounded to the cent; 0 without one)."""
    priced = _priced_approvals(*where)
    return select(
        priced.c.project_id.label("project_id"),
        func.coalesce(func.sum(func.round(priced.c.hours * func.coalesce(priced.c.rate, ZERO), 2)), ZERO).label(
            "labour_cost"
        ),
        func.coalesce(func.sum(priced.c.hours), ZERO).label("hours"),
        func.coalesce(func.sum(priced.c.hours).filter(priced.c.rate.is_(None)), ZERO).label("unpriced_hours"),
    ).group_by(priced.c.project_id)


def labour_total(*where):
    """labour_cost, hours, unpriced_hours — one row over every approval matching `where`
    (the same cost as labour_by_project, not grouped: a company's total)."""
    priced = _priced_approvals(*where)
    return select(
        func.coalesce(func.sum(func.round(priced.c.hours * func.coalesce(priced.c.rate, ZERO), 2)), ZERO).label(
            "labour_cost"
        ),
        func.coalesce(func.sum(priced.c.hours), ZERO).label("hours"),
        func.coalesce(func.sum(priced.c.hours).filter(priced.c.rate.is_(None)), ZERO).label("unpriced_hours"),
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


# --- per budget line (app/budgets/services.py; reports' profitability per phase) -------------
#
# Where an expense falls, each expense on at most one line:
#   1. its own line (`expenses.budget_line_id`, a line of the same project);
#   2. else the project's *category line* for its category: the first line (by position,
#      then id) whose `category` equals the expense's;
#   3. else nowhere: "unallocated <category>" (line_id NULL).
# Labour (approved hours × rate) falls on the project's category line for LABOR, else
# "unallocated labour".


def category_lines(*where):
    """project_id, category, line_id — each project's category line per category (the
    first line of that category by position, then id)."""
    ranked = (
        select(
            BudgetLine.project_id.label("project_id"),
            BudgetLine.category.label("category"),
            BudgetLine.id.label("line_id"),
            func.row_number()
            .over(
                partition_by=(BudgetLine.project_id, BudgetLine.category), order_by=(BudgetLine.position, BudgetLine.id)
            )
            .label("rank"),
        )
        .where(BudgetLine.category.is_not(None), *where)
        .subquery()
    )
    return select(ranked.c.project_id, ranked.c.category, ranked.c.line_id).where(ranked.c.rank == 1)


def expenses_by_line(*where):
    """project_id, line_id (NULL: unallocated), category, expenses — the expenses that
    count as cost, each on the one line it falls on (see above), matching `where`."""
    own = aliased(BudgetLine)
    by_category = category_lines().subquery()
    line_id = func.coalesce(own.id, by_category.c.line_id)
    return (
        select(
            Expense.project_id.label("project_id"),
            line_id.label("line_id"),
            Expense.category.label("category"),
            func.coalesce(func.sum(Expense.amount), ZERO).label("expenses"),
        )
        .outerjoin(own, and_(own.id == Expense.budget_line_id, own.project_id == Expense.project_id))
        .outerjoin(
            by_category,
            and_(by_category.c.project_id == Expense.project_id, by_category.c.category == Expense.category),
        )
        .where(Expense.is_cost.is_(True), *where)
        .group_by(Expense.project_id, line_id, Expense.category)
    )


def _expense_lines():
    """expense id → the line it falls on (NULL: unallocated), as a subquery."""
    own = aliased(BudgetLine)
    by_category = category_lines().subquery()
    return (
        select(Expense.id.label("id"), func.coalesce(own.id, by_category.c.line_id).label("line_id"))
        .outerjoin(own, and_(own.id == Expense.budget_line_id, own.project_id == Expense.project_id))
        .outerjoin(
            by_category,
            and_(by_category.c.project_id == Expense.project_id, by_category.c.category == Expense.category),
        )
        .subquery()
    )


def falls_on_line(line_id: int):
    """SQL condition on Expense: it falls on budget line `line_id` (its own line, or the
    line of its category) — the drill-down from a budget line's actual to its expenses."""
    lines = _expense_lines()
    return Expense.id.in_(select(lines.c.id).where(lines.c.line_id == line_id))


def unallocated(category: str):
    """SQL condition on Expense: of `category` and on no line of its project."""
    lines = _expense_lines()
    return and_(Expense.category == category, Expense.id.in_(select(lines.c.id).where(lines.c.line_id.is_(None))))


def remaining_task_hours(*where):
    """project_id, remaining_hours — Σ over open tasks of max(estimated − actual hours, 0)."""
    from app.tasks.models import Task, is_open

    left = case(
        (Task.estimated_hours > Task.actual_hours, Task.estimated_hours - Task.actual_hours),
        else_=ZERO,
    )
    return (
        select(Task.project_id.label("project_id"), func.coalesce(func.sum(left), ZERO).label("remaining_hours"))
        .where(is_open(), Task.estimated_hours.is_not(None), *where)
        .group_by(Task.project_id)
    )


def average_rate_in_force(day):
    """The average of each person's cost rate in force on `day` (one figure; NULL when
    nobody has a rate): the forecast's labour price before a project has priced hours."""
    latest = (
        select(CostRate.user_id, func.max(CostRate.effective_from).label("since"))
        .where(CostRate.effective_from <= day)
        .group_by(CostRate.user_id)
        .subquery()
    )
    return select(func.avg(CostRate.hourly_cost)).join(
        latest, and_(latest.c.user_id == CostRate.user_id, latest.c.since == CostRate.effective_from)
    )


# --- reports (app/reports): the same cost, pivoted by category and bucketed by month -------


def expenses_pivot(*where, by_project: bool = True):
    """project_id, expenses, and one column per category of SPEC.md's eight (named after it)
    — the expenses that count as cost, matching `where`, one row per project (summed per
    project and category first, then pivoted: the FILTERs run over those few sums). With
    by_project=False, one row over all of them (no project_id): a company's total."""
    from app.expenses.models import CATEGORIES

    keys = (Expense.project_id, Expense.category) if by_project else (Expense.category,)
    sums = (
        select(*(k.label(k.key) for k in keys), func.sum(Expense.amount).label("amount"))
        .where(Expense.is_cost.is_(True), *where)
        .group_by(*keys)
        .subquery("by_category")
    )
    pivot = select(
        *((sums.c.project_id.label("project_id"),) if by_project else ()),
        func.coalesce(func.sum(sums.c.amount), ZERO).label("expenses"),
        *(
            func.coalesce(func.sum(sums.c.amount).filter(sums.c.category == category), ZERO).label(category)
            for category in CATEGORIES
        ),
    )
    return pivot.group_by(sums.c.project_id) if by_project else pivot


def cost_by_month(month_of, *where_expense, where_labour=()):
    """month, cost — expenses that count (by expense date) plus priced labour (by the week's
    Monday), bucketed by `month_of(date column)`, as two selects to UNION ALL."""
    priced = _priced_approvals(*where_labour)
    return (
        select(month_of(Expense.expense_date).label("month"), func.sum(Expense.amount).label("cost"))
        .where(Expense.is_cost.is_(True), *where_expense)
        .group_by(month_of(Expense.expense_date)),
        select(
            month_of(priced.c.week_start).label("month"),
            func.sum(func.round(priced.c.hours * func.coalesce(priced.c.rate, ZERO), 2)).label("cost"),
        ).group_by(month_of(priced.c.week_start)),
    )
