"""The reports as SQL: each report is one statement per project (or client) row plus one
for its totals — never a Python loop over invoices or expenses. Cost to date comes only
from app/budgets/actuals.py. Every statement is restricted to the projects the viewer may
see with `report.view` (scope_query) and to the filters (app/reports/filters.py).

Definitions (docs/architecture.md, "Reports and the accountant's export"):
- invoiced: Σ total of issued invoices (SENT, OVERDUE, PAID) — by issue date in a period;
- collected: Σ paid on them (all time), or Σ payments not voided dated in the period;
- expenses (cost): expenses that count (`is_cost`) + approved hours × cost rate (labour,
  shown under LABOR); profit = collected − expenses; ROI = profit ÷ expenses;
- WIP: estimated total cost = the project's budget (which approved change orders move), else
  its budget lines' sum; percent complete = cost to date ÷ estimated cost, capped at 100 %
  (without an estimate: the project's progress); earned = contract × percent; billed = Σ
  issued invoices, or for a project with a certified pay application the latest one's line 4
  (retainage included) + the issued invoices that are neither an application's nor a
  retainage release's; over-billing = max(billed − earned, 0); under-billing = max(earned −
  billed, 0);
- AR aging: total − retention − paid of SENT/OVERDUE invoices, by days past due as of a day.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Numeric, and_, case, cast, func, literal, literal_column, not_, or_, select, true, union_all
from sqlalchemy.sql import ColumnElement

from app.budgets import actuals
from app.budgets.models import BudgetLine
from app.change_orders.models import APPROVED as CO_APPROVED
from app.change_orders.models import ChangeOrder
from app.clients.models import Client
from app.core.money import ZERO
from app.core.permissions import ALL, scope_of, scope_query
from app.expenses.models import CATEGORIES, Expense
from app.extensions import db
from app.invoices.models import OVERDUE, PAID, SENT, Invoice, Payment
from app.projects.models import Project, ProjectMembership
from app.reports.filters import Filters
from app.timeclock.models import TimesheetApproval

ISSUED = (SENT, OVERDUE, PAID)
OPEN = (SENT, OVERDUE)
ACTION = "report.view"
BUCKETS = ("current", "days_1_30", "days_31_60", "days_61_90", "days_over_90")
BUCKET_LABELS = {
    "current": "Current",
    "days_1_30": "1–30 days",
    "days_31_60": "31–60 days",
    "days_61_90": "61–90 days",
    "days_over_90": "90+ days",
}


def _z(column) -> ColumnElement:
    return func.coalesce(column, ZERO)


def month_of(column) -> ColumnElement:
    """ "YYYY-MM" of a date column (PostgreSQL, or SQLite when embedded)."""
    if db.engine.dialect.name == "postgresql":  # the month's first day (services.trend names it)
        return func.date_trunc(literal_column("'month'"), column)  # inline: GROUP BY must match it
    return func.strftime(literal_column("'%Y-%m'"), column)


def _between(column, start: dt.date | None, end: dt.date | None) -> list:
    return [c for c in ((column >= start) if start else None, (column <= end) if end else None) if c is not None]


def project_ids(user, f: Filters):
    """visible_projects(user, f), or None when that is every project (an admin without a
    PM, client or status filter): the reports then read each table without joining the
    projects (every row has a project)."""
    if scope_of(user, ACTION) == ALL and f.pm_id is None and f.client_id is None and f.status is None:
        return None
    return visible_projects(user, f)


def _in(column, ids) -> ColumnElement:
    """`column` is one of `ids` (a select of project ids; None: any project)."""
    return true() if ids is None else column.in_(ids)


def visible_projects(user, f: Filters):
    """select(Project.id) of the projects the report covers for `user`: report.view's scope
    (an admin all, a PM or trainee their team's projects, anyone else nothing) and the
    PM, client and status filters."""
    stmt = scope_query(select(Project.id), user, ACTION, Project)
    if f.pm_id is not None:
        stmt = stmt.where(
            Project.id.in_(select(ProjectMembership.project_id).where(ProjectMembership.user_id == f.pm_id))
        )
    if f.client_id is not None:
        stmt = stmt.where(Project.client_id == f.client_id)
    if f.status is not None:
        stmt = stmt.where(Project.status == f.status)
    return stmt


# --- profitability -------------------------------------------------------------------


def _profit_parts(ids, f: Filters):
    """The per-project subqueries of profitability: invoiced, collected, expenses pivoted by
    category, labour, approved change orders."""
    invoiced = (
        select(
            Invoice.project_id.label("project_id"),
            func.sum(Invoice.total_amount).label("invoiced"),
            func.sum(Invoice.amount_paid).label("paid"),
        )
        .where(
            Invoice.status.in_(ISSUED),
            _in(Invoice.project_id, ids),
            *_between(Invoice.issue_date, f.date_from, f.date_to),
        )
        .group_by(Invoice.project_id)
        .subquery("invoiced")
    )
    if f.has_period:
        collected = (
            select(Invoice.project_id.label("project_id"), func.sum(Payment.amount).label("collected"))
            .join(Invoice, Invoice.id == Payment.invoice_id)
            .where(
                Invoice.status.in_(ISSUED),
                Payment.voided_at.is_(None),
                _in(Invoice.project_id, ids),
                *_between(Payment.payment_date, f.date_from, f.date_to),
            )
            .group_by(Invoice.project_id)
            .subquery("collected")
        )
        collected_col = collected.c.collected
    else:
        collected = None
        collected_col = invoiced.c.paid
    expenses = actuals.expenses_pivot(
        _in(Expense.project_id, ids), *_between(Expense.expense_date, f.date_from, f.date_to)
    ).subquery("expenses")
    labour = actuals.labour_by_project(
        _in(TimesheetApproval.project_id, ids), *_between(TimesheetApproval.week_start, f.date_from, f.date_to)
    ).subquery("labour")
    changes = (
        select(ChangeOrder.project_id.label("project_id"), func.sum(ChangeOrder.amount).label("amount"))
        .where(ChangeOrder.status == CO_APPROVED, _in(ChangeOrder.project_id, ids))
        .group_by(ChangeOrder.project_id)
        .subquery("changes")
    )
    return invoiced, collected, collected_col, expenses, labour, changes


def page_of_projects(user, f: Filters, limit: int, offset: int):
    """select(Project.id) of one page of the visible projects by name (then id): the
    projects a report page aggregates — a page's rows cost 50 projects' rows, not 2,000."""
    return visible_projects(user, f).order_by(Project.name, Project.id).limit(limit).offset(offset)


def profitability_select(user, f: Filters, project_id: int | None = None, ids=None):
    """One row per project: id, name, client_id, client_name, status, budget,
    contract_value, progress_percent, invoiced, collected, expenses (incl. labour), labour,
    labour_hours, unpriced_hours, the eight categories (LABOR incl. labour), change_orders,
    profit. With `project_id`, that project's row only; with `ids` (a select of project ids,
    e.g. page_of_projects), those projects' rows only (every subquery restricted to them)."""
    if ids is None:
        ids = project_ids(user, f)
    if project_id is not None:
        ids = (select(Project.id) if ids is None else ids).where(Project.id == project_id)
    invoiced, collected, collected_col, expenses, labour, changes = _profit_parts(ids, f)
    cost = _z(expenses.c.expenses) + _z(labour.c.labour_cost)
    received = _z(collected_col)
    categories = [
        (_z(expenses.c[c]) + _z(labour.c.labour_cost) if c == "LABOR" else _z(expenses.c[c])).label(c)
        for c in CATEGORIES
    ]
    stmt = (
        select(
            Project.id,
            Project.name,
            Project.client_id,
            Client.name.label("client_name"),
            Project.status,
            Project.budget,
            Project.contract_value,
            Project.progress_percent,
            _z(invoiced.c.invoiced).label("invoiced"),
            received.label("collected"),
            cost.label("expenses"),
            _z(labour.c.labour_cost).label("labour"),
            _z(labour.c.hours).label("labour_hours"),
            _z(labour.c.unpriced_hours).label("unpriced_hours"),
            *categories,
            _z(changes.c.amount).label("change_orders"),
            (received - cost).label("profit"),
        )
        .join(Client, Client.id == Project.client_id)
        .outerjoin(invoiced, invoiced.c.project_id == Project.id)
        .outerjoin(expenses, expenses.c.project_id == Project.id)
        .outerjoin(labour, labour.c.project_id == Project.id)
        .outerjoin(changes, changes.c.project_id == Project.id)
        .where(_in(Project.id, ids))
    )
    if collected is not None:
        stmt = stmt.outerjoin(collected, collected.c.project_id == Project.id)
    return stmt


def profitability_totals(user, f: Filters):
    """One row over every visible project: count, budget, invoiced, collected, expenses
    (incl. labour), labour, the eight categories (LABOR incl. labour), change_orders — each
    source table aggregated once, not grouped by project (the same sums as adding up
    profitability_select's rows), the single-row aggregates cross-joined."""
    ids = project_ids(user, f)
    projects = (
        select(func.count().label("count"), _z(func.sum(Project.budget)).label("budget"))
        .where(_in(Project.id, ids))
        .subquery("projects_total")
    )
    invoiced = (
        select(_z(func.sum(Invoice.total_amount)).label("invoiced"), _z(func.sum(Invoice.amount_paid)).label("paid"))
        .where(
            Invoice.status.in_(ISSUED),
            _in(Invoice.project_id, ids),
            *_between(Invoice.issue_date, f.date_from, f.date_to),
        )
        .subquery("invoiced_total")
    )
    parts = [invoiced]
    if f.has_period:
        collected = (
            select(_z(func.sum(Payment.amount)).label("collected"))
            .join(Invoice, Invoice.id == Payment.invoice_id)
            .where(
                Invoice.status.in_(ISSUED),
                Payment.voided_at.is_(None),
                _in(Invoice.project_id, ids),
                *_between(Payment.payment_date, f.date_from, f.date_to),
            )
            .subquery("collected_total")
        )
        parts.append(collected)
        collected_col = collected.c.collected
    else:
        collected_col = invoiced.c.paid
    expenses = actuals.expenses_pivot(
        _in(Expense.project_id, ids), *_between(Expense.expense_date, f.date_from, f.date_to), by_project=False
    ).subquery("expenses_total")
    labour = actuals.labour_total(
        _in(TimesheetApproval.project_id, ids), *_between(TimesheetApproval.week_start, f.date_from, f.date_to)
    ).subquery("labour_total")
    changes = (
        select(_z(func.sum(ChangeOrder.amount)).label("amount"))
        .where(ChangeOrder.status == CO_APPROVED, _in(ChangeOrder.project_id, ids))
        .subquery("changes_total")
    )
    stmt = select(
        projects.c.count,
        projects.c.budget,
        invoiced.c.invoiced,
        collected_col.label("collected"),
        (expenses.c.expenses + labour.c.labour_cost).label("expenses"),
        labour.c.labour_cost.label("labour"),
        *((expenses.c[c] + labour.c.labour_cost if c == "LABOR" else expenses.c[c]).label(c) for c in CATEGORIES),
        changes.c.amount.label("change_orders"),
    ).select_from(projects)
    for part in (*parts, expenses, labour, changes):  # each one row: a cross join
        stmt = stmt.join(part, true())
    return stmt


def _order(columns, sort: str):
    return {
        "name": (columns.name, columns.id),
        "profit": (columns.profit, columns.id),
        "-profit": (columns.profit.desc(), columns.id),
        "invoiced": (columns.invoiced.desc(), columns.id),
        "expenses": (columns.expenses.desc(), columns.id),
    }[sort]


def profitability_order(stmt, sort: str):
    return stmt.order_by(*_order(stmt.selected_columns, sort))


def profitability_page(user, f: Filters, limit: int, offset: int):
    """A page of the visible projects' rows in `f.sort` order. By name (the default), the
    page's projects are chosen first and only they are aggregated; by a figure, every
    project is (the order needs them all)."""
    if f.sort == "name":
        return profitability_order(profitability_select(user, f, ids=page_of_projects(user, f, limit, offset)), "name")
    return profitability_order(profitability_select(user, f), f.sort).limit(limit).offset(offset)


def trend_select(user, f: Filters, start: dt.date, end: dt.date, project_id: int | None = None):
    """month ("YYYY-MM"), invoiced, collected, costs — per month from `start` to `end`
    (issue dates, payment dates, expense dates, the weeks' Mondays). One statement."""
    ids = project_ids(user, f)
    if project_id is not None:
        ids = (select(Project.id) if ids is None else ids).where(Project.id == project_id)
    zero = cast(literal(0), Numeric(14, 2))
    invoiced = (
        select(
            month_of(Invoice.issue_date).label("month"),
            func.sum(Invoice.total_amount).label("invoiced"),
            zero.label("collected"),
            zero.label("costs"),
        )  # fmt: skip
        .where(Invoice.status.in_(ISSUED), _in(Invoice.project_id, ids), *_between(Invoice.issue_date, start, end))
        .group_by(month_of(Invoice.issue_date))
    )
    collected = (
        select(
            month_of(Payment.payment_date).label("month"),
            zero.label("invoiced"),
            func.sum(Payment.amount).label("collected"),
            zero.label("costs"),
        )  # fmt: skip
        .join(Invoice, Invoice.id == Payment.invoice_id)
        .where(
            Invoice.status.in_(ISSUED),
            Payment.voided_at.is_(None),
            _in(Invoice.project_id, ids),
            *_between(Payment.payment_date, start, end),
        )
        .group_by(month_of(Payment.payment_date))
    )
    spent, worked = actuals.cost_by_month(
        month_of,
        _in(Expense.project_id, ids),
        *_between(Expense.expense_date, start, end),
        where_labour=(_in(TimesheetApproval.project_id, ids), *_between(TimesheetApproval.week_start, start, end)),
    )
    costs = [
        select(s.c.month, zero.label("invoiced"), zero.label("collected"), s.c.cost.label("costs"))
        for s in (spent.subquery(), worked.subquery())
    ]
    parts = union_all(invoiced, collected, *costs).subquery("parts")
    return (
        select(
            parts.c.month,
            _z(func.sum(parts.c.invoiced)).label("invoiced"),
            _z(func.sum(parts.c.collected)).label("collected"),
            _z(func.sum(parts.c.costs)).label("costs"),
        )
        .group_by(parts.c.month)
        .order_by(parts.c.month)
    )


# --- WIP -----------------------------------------------------------------------------


def _billed(ids, as_of: dt.date):
    """WIP's billed to date, as two per-project subqueries as of `as_of`:
    - billed: billed (Σ total of the invoices issued by then) and other (the same without
      the invoices of a pay application or of a retainage release);
    - latest: completed, the latest application certified by then (its period ended and
      certified that company-time day or before): its G702 line 4, total completed and
      stored to date — what the applications billed, retainage included (line 8's invoices
      leave the retainage out; the releases bill it later, so they are not added again).
    A project with such an application has billed = completed + other; any other project
    billed (its issued invoices)."""
    from app.progress_billing.models import CERTIFIED, PayApplication, RetainageRelease
    from app.timeclock.queries import day_bounds

    _start, end = day_bounds(as_of)
    certified = (
        select(PayApplication.project_id.label("project_id"), func.max(PayApplication.application_no).label("no"))
        .where(
            PayApplication.status == CERTIFIED,
            PayApplication.period_to <= as_of,
            PayApplication.certified_at < end,
            _in(PayApplication.project_id, ids),
        )
        .group_by(PayApplication.project_id)
        .subquery("certified")
    )
    latest = (
        select(
            PayApplication.project_id.label("project_id"),
            _z(PayApplication.g702_total_completed_and_stored).label("completed"),
        )
        .join(
            certified,
            and_(certified.c.project_id == PayApplication.project_id, certified.c.no == PayApplication.application_no),
        )
        .subquery("latest")
    )
    tied = or_(
        Invoice.id.in_(select(PayApplication.invoice_id).where(PayApplication.invoice_id.is_not(None))),
        Invoice.id.in_(select(RetainageRelease.invoice_id).where(RetainageRelease.invoice_id.is_not(None))),
    )
    billed = (
        select(
            Invoice.project_id.label("project_id"),
            func.sum(Invoice.total_amount).label("billed"),
            func.sum(Invoice.total_amount).filter(not_(tied)).label("other"),
        )
        .where(Invoice.status.in_(ISSUED), _in(Invoice.project_id, ids), Invoice.issue_date <= as_of)
        .group_by(Invoice.project_id)
        .subquery("billed")
    )
    return billed, latest


def wip_select(user, f: Filters, as_of: dt.date, ids=None):
    """One row per project: id, name, client_name, status, contract, estimated_cost,
    estimate_source ("budget", "lines" or NULL), cost, percent (0–1, NULL without an
    estimate and progress), earned, billed, by_applications (billed is a certified pay
    application's line 4 + other invoices), over_billing, under_billing — as of `as_of`.
    With `ids` (e.g. page_of_projects), those projects' rows only."""
    if ids is None:
        ids = project_ids(user, f)
    spent = actuals.expenses_by_project(_in(Expense.project_id, ids), Expense.expense_date <= as_of).subquery("spent")
    labour = actuals.labour_by_project(
        _in(TimesheetApproval.project_id, ids), TimesheetApproval.week_start <= as_of
    ).subquery("labour")
    lines = (
        select(BudgetLine.project_id.label("project_id"), func.sum(BudgetLine.amount).label("amount"))
        .where(_in(BudgetLine.project_id, ids))
        .group_by(BudgetLine.project_id)
        .subquery("lines")
    )
    billed, latest = _billed(ids, as_of)
    budget = case((Project.budget > 0, Project.budget), else_=None)
    estimate = func.coalesce(budget, case((lines.c.amount > 0, lines.c.amount), else_=None))
    source = case((Project.budget > 0, literal("budget")), (lines.c.amount > 0, literal("lines")), else_=None)
    cost = _z(spent.c.expenses) + _z(labour.c.labour_cost)
    contract = _z(Project.contract_value)
    billed_col = case(  # progress-billed: the latest certified line 4 + the invoices outside the applications
        (latest.c.project_id.is_not(None), latest.c.completed + _z(billed.c.other)),
        else_=_z(billed.c.billed),
    )
    capped = case((cost >= estimate, estimate), else_=cost)  # cost-to-cost, at most 100 %
    progress = cast(Project.progress_percent, Numeric(6, 2)) / 100
    earned = case(
        (estimate.is_not(None), func.round(contract * capped / estimate, 2)),
        else_=func.round(contract * progress, 2),
    )
    percent = case((estimate.is_not(None), capped / estimate), else_=progress)
    inner = (
        select(
            Project.id.label("id"),
            Project.name.label("name"),
            Client.name.label("client_name"),
            Project.status.label("status"),
            contract.label("contract"),
            estimate.label("estimated_cost"),
            source.label("estimate_source"),
            cost.label("cost"),
            percent.label("percent"),
            earned.label("earned"),
            billed_col.label("billed"),
            latest.c.project_id.is_not(None).label("by_applications"),
        )
        .join(Client, Client.id == Project.client_id)
        .outerjoin(spent, spent.c.project_id == Project.id)
        .outerjoin(labour, labour.c.project_id == Project.id)
        .outerjoin(lines, lines.c.project_id == Project.id)
        .outerjoin(billed, billed.c.project_id == Project.id)
        .outerjoin(latest, latest.c.project_id == Project.id)
        .where(_in(Project.id, ids))
        .subquery("wip")
    )
    over = case((inner.c.billed > inner.c.earned, inner.c.billed - inner.c.earned), else_=ZERO)
    under = case((inner.c.earned > inner.c.billed, inner.c.earned - inner.c.billed), else_=ZERO)
    return select(*inner.c, over.label("over_billing"), under.label("under_billing")).order_by(inner.c.name, inner.c.id)


WIP_TOTALS = ("contract", "estimated_cost", "cost", "earned", "billed", "over_billing", "under_billing")


def wip_totals(stmt):
    sub = stmt.order_by(None).subquery("rows")
    return select(func.count().label("count"), *(_z(func.sum(sub.c[name])).label(name) for name in WIP_TOTALS))


def wip_with_totals(stmt):
    """Every row of `stmt`, each carrying the totals over all of them (t_count, t_<figure>:
    window sums) — the rows and the totals of one aggregation (the API and the CSV)."""
    sub = stmt.order_by(None).subquery("rows")
    totals = [
        func.count().over().label("t_count"),
        *(_z(func.sum(sub.c[name]).over()).label(f"t_{name}") for name in WIP_TOTALS),
    ]
    return select(sub, *totals).order_by(sub.c.name, sub.c.id)


# --- AR aging ------------------------------------------------------------------------


def _bucket_conditions(as_of: dt.date) -> dict[str, ColumnElement]:
    """Days past due as of `as_of` (due today is current): compared as dates, so the
    (status, due_date) index serves them and SQLite reads them the same."""
    due = Invoice.due_date
    d30, d60, d90 = (as_of - dt.timedelta(days=n) for n in (30, 60, 90))
    return {
        "current": due >= as_of,
        "days_1_30": and_(due < as_of, due >= d30),
        "days_31_60": and_(due < d30, due >= d60),
        "days_61_90": and_(due < d60, due >= d90),
        "days_over_90": due < d90,
    }


def owed_expr():
    return Invoice.total_amount - Invoice.retention_amount - Invoice.amount_paid


def open_invoices_where(user, f: Filters):
    ids = project_ids(user, f)
    return (Invoice.status.in_(OPEN), _in(Invoice.project_id, ids), owed_expr() > 0)


def aging_select(user, f: Filters, as_of: dt.date):
    """One row per client: client_id, client_name, the five buckets, total, invoices."""
    owed = owed_expr()
    buckets = _bucket_conditions(as_of)
    return (
        select(
            Client.id.label("client_id"),
            Client.name.label("client_name"),
            *(_z(func.sum(owed).filter(condition)).label(name) for name, condition in buckets.items()),
            _z(func.sum(owed)).label("total"),
            func.count().label("invoices"),
        )
        .join(Client, Client.id == Invoice.client_id)
        .where(*open_invoices_where(user, f))
        .group_by(Client.id, Client.name)
        .order_by(Client.name, Client.id)
    )


def aging_totals(stmt):
    sub = stmt.order_by(None).subquery("rows")
    return select(
        func.count().label("count"),
        *(_z(func.sum(sub.c[name])).label(name) for name in (*BUCKETS, "total")),
    )


def aging_invoices(user, f: Filters, as_of: dt.date, client_id: int | None, bucket: str | None):
    """The open invoices behind an aging figure (a client's, a bucket's, or both)."""
    stmt = (
        select(
            Invoice.id,
            Invoice.number,
            Invoice.issue_date,
            Invoice.due_date,
            Invoice.status,
            Invoice.total_amount,
            owed_expr().label("owed"),
            Project.id.label("project_id"),
            Project.name.label("project_name"),
            Client.name.label("client_name"),
        )
        .join(Project, Project.id == Invoice.project_id)
        .join(Client, Client.id == Invoice.client_id)
        .where(*open_invoices_where(user, f))
        .order_by(Invoice.due_date, Invoice.id)
    )
    if client_id is not None:
        stmt = stmt.where(Invoice.client_id == client_id)
    if bucket in BUCKETS:
        stmt = stmt.where(_bucket_conditions(as_of)[bucket])
    return stmt
