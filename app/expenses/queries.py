"""Expenses: what each viewer may read (SPEC.md §2 expense.view, reimbursement.*) — the
one visibility rule (`visible_expenses`) of the pages, the API, receipts and live events;
lists and their filters, totals by category in SQL; where a person may claim."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.budgets import actuals
from app.budgets.models import BudgetLine
from app.core.errors import ObjectNotFound, ValidationError
from app.core.numbers import to_int
from app.core.permissions import PermissionDenied, can, member_project_ids, require, scope_query
from app.core.roles import ADMIN
from app.expenses.models import (
    APPROVED,
    CATEGORIES,
    REIMBURSEMENT_METHODS,
    REIMBURSEMENT_STATUSES,
    SUBMITTED,
    UNDER_REVIEW,
    Expense,
)
from app.extensions import db
from app.projects.models import Project

VIEW = "expense.view"
OPEN_CLAIMS = (SUBMITTED, UNDER_REVIEW, APPROVED)


def today() -> dt.date:
    from app.timeclock.queries import today as company_today

    return company_today()


# --- reading -------------------------------------------------------------------------


def visible_expenses(user, stmt=None):
    """The one visibility rule of the pages, the API, receipts and live events."""
    return scope_query(stmt if stmt is not None else select(Expense), user, VIEW, Expense)


def get_expense(user, expense_id, action: str = VIEW) -> Expense:
    require(user, VIEW)
    expense_id = to_int(expense_id)
    found = db.session.get(Expense, expense_id) if expense_id is not None else None
    if found is None or not can(user, VIEW, found):
        raise ObjectNotFound("That expense does not exist or you cannot see it.")
    if action != VIEW:
        require(user, action, found)
    return found


@dataclass
class Filters:
    project_id: int | None = None
    category: str | None = None
    reimbursement_status: str | None = None  # a status, "company" (not a claim) or "open"
    paid_by_employee: int | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    budget_line_id: int | None = None
    # the drill-downs' exact rows: `cost` = only those counting as cost (expenses.is_cost);
    # `unallocated` (with a category) = those of the category on no budget line
    costs_only: bool = False
    unallocated: bool = False


def _filtered(stmt, f: Filters):
    if f.project_id is not None:
        stmt = stmt.where(Expense.project_id == f.project_id)
    if f.category is not None:
        stmt = stmt.where(Expense.category == f.category)
    if f.reimbursement_status == "company":
        stmt = stmt.where(Expense.paid_by_employee_id.is_(None))
    elif f.reimbursement_status == "open":
        stmt = stmt.where(Expense.reimbursement_status.in_(OPEN_CLAIMS))
    elif f.reimbursement_status is not None:
        stmt = stmt.where(Expense.reimbursement_status == f.reimbursement_status)
    if f.paid_by_employee is not None:
        stmt = stmt.where(Expense.paid_by_employee_id == f.paid_by_employee)
    if f.date_from is not None:
        stmt = stmt.where(Expense.expense_date >= f.date_from)
    if f.date_to is not None:
        stmt = stmt.where(Expense.expense_date <= f.date_to)
    if f.budget_line_id is not None:
        # what the budget counts on the line: its own expenses and, on a category's first
        # line, those of the category naming no line (budgets.actuals, the one rule)
        stmt = stmt.where(actuals.falls_on_line(f.budget_line_id))
    if f.unallocated and f.category is not None:
        stmt = stmt.where(actuals.unallocated(f.category))
    if f.costs_only:
        stmt = stmt.where(Expense.is_cost.is_(True))
    return stmt


def check_filters(f: Filters) -> None:
    errors = {}
    if f.category is not None and f.category not in CATEGORIES:
        errors["category"] = "Choose one of the eight categories."
    if f.reimbursement_status is not None and f.reimbursement_status not in (
        *REIMBURSEMENT_STATUSES,
        "company",
        "open",
    ):
        errors["reimbursement_status"] = "Choose a claim status."
    if f.date_from and f.date_to and f.date_from > f.date_to:
        errors["date_to"] = "The end of the period is before its start."
    if errors:
        raise ValidationError(errors)


def expense_list(user, f: Filters | None = None, ordering=None):
    """Visible expenses matching `f`, newest first (or `ordering`)."""
    require(user, VIEW)
    f = f or Filters()
    check_filters(f)
    stmt = _filtered(visible_expenses(user), f).options(selectinload(Expense.budget_line))
    return stmt.order_by(*(ordering or DEFAULT_ORDER))


ORDERING = {
    "expense_date": Expense.expense_date,
    "amount": Expense.amount,
    "category": Expense.category,
    "id": Expense.id,
    "reimbursement_status": Expense.reimbursement_status,
}
DEFAULT_ORDER = (Expense.expense_date.desc(), Expense.id.desc())


def totals_by_category(user, f: Filters) -> list[tuple[str, str, object, int]]:
    """(category, label, total, count) of the visible expenses matching `f`, in SQL."""
    require(user, VIEW)
    check_filters(f)
    stmt = _filtered(
        visible_expenses(user, select(Expense.category, func.sum(Expense.amount), func.count(Expense.id))), f
    ).group_by(Expense.category)
    found = {category: (total, count) for category, total, count in db.session.execute(stmt)}
    return [(key, label, *found[key]) for key, label in CATEGORIES.items() if key in found]


def project_expenses(user, project: Project) -> Project:
    """The project of an expenses page: 404 unless it is seen, 403 without expense.view on it."""
    require(user, VIEW)
    if not can(user, VIEW, project):
        raise PermissionDenied()
    return project


def budget_line_choices(project_id: int) -> list[tuple[str, str]]:
    lines = db.session.scalars(
        select(BudgetLine).where(BudgetLine.project_id == project_id).order_by(BudgetLine.position, BudgetLine.id)
    )
    return [(str(line.id), line.audit_name()) for line in lines]


def claimable_projects(user) -> list[Project]:
    """The open projects `user` may claim an expense on: admins any; everyone else a
    project they are on the team of, have a task on, or clocked in on."""
    if not can(user, "reimbursement.submit"):
        return []
    stmt = select(Project).where(Project.status != "closed").order_by(Project.name, Project.id)
    if user.role != ADMIN:
        stmt = stmt.where(Project.id.in_(_worked_on(user)))
    return list(db.session.scalars(stmt))


def _worked_on(user):
    from app.projects.models import ProjectMembership
    from app.tasks.models import Task, TaskAssignment
    from app.timeclock.models import Punch

    return (
        select(ProjectMembership.project_id)
        .where(ProjectMembership.user_id == user.id)
        .union(
            select(Task.project_id)
            .join(TaskAssignment, TaskAssignment.task_id == Task.id)
            .where(TaskAssignment.user_id == user.id),
            select(Punch.project_id).where(Punch.user_id == user.id),
        )
    )


def may_claim_on(user, project: Project) -> bool:
    if not can(user, "reimbursement.submit") or project.is_closed:
        return False
    if user.role == ADMIN or project.id in member_project_ids(user):
        return True
    return project.id in set(db.session.scalars(_worked_on(user)))


def claim_project(user, project_id) -> Project:
    """The project of a new claim, or a field error (never says whether others exist)."""
    project_id = to_int(project_id)
    project = db.session.get(Project, project_id) if project_id is not None else None
    if project is None or not may_claim_on(user, project):
        raise ValidationError({"project_id": "Choose a project you work on."})
    return project


def expense_project(user, project_id) -> Project:
    """The project of a new company expense: 404 unless seen, 403 without expense.create."""
    from app.projects.services import get_project

    project_id = to_int(project_id)
    if project_id is None:
        raise ValidationError({"project_id": "Choose a project."})
    project = get_project(user, project_id)
    require(user, "expense.create", project)
    return project


def my_claims(user, status: str | None = None):
    require(user, "reimbursement.submit")
    stmt = select(Expense).where(Expense.paid_by_employee_id == user.id)
    if status:
        stmt = stmt.where(Expense.reimbursement_status == status)
    return stmt.order_by(Expense.created_at.desc(), Expense.id.desc())


def claims_queue(user, status: str | None = "open"):
    """The claims a reviewer may act on (reimbursement.review): open ones by default."""
    require(user, "reimbursement.review")
    stmt = scope_query(select(Expense), user, "reimbursement.review", Expense).where(
        Expense.paid_by_employee_id.is_not(None)
    )
    f = Filters(reimbursement_status=status or None)
    check_filters(f)
    stmt = _filtered(stmt, f)
    return stmt.order_by(Expense.created_at.asc(), Expense.id.asc())


def category_choices() -> list[tuple[str, str]]:
    return list(CATEGORIES.items())


def status_choices() -> list[tuple[str, str]]:
    return [("company", "Company expense"), *REIMBURSEMENT_STATUSES.items()]


def method_choices() -> list[tuple[str, str]]:
    return list(REIMBURSEMENT_METHODS.items())


def filters_from(args, project_id: int | None = None) -> tuple[Filters, dict[str, str]]:
    """A page's filters from its query string (`category`, `date_from`, `date_to`,
    `budget_line`, `status` — the names the reports link with), and the problems."""
    errors: dict[str, str] = {}
    f = Filters(project_id=project_id)
    category = (args.get("category") or "").strip().upper()
    if category:
        if category in CATEGORIES:
            f.category = category
        else:
            errors["category"] = "Choose one of the eight categories."
    status = (args.get("status") or "").strip()
    if status:
        if status in (*REIMBURSEMENT_STATUSES, "company", "open"):
            f.reimbursement_status = status
        else:
            errors["status"] = "Choose a claim status."
    for key in ("date_from", "date_to"):
        text = (args.get(key) or "").strip()
        if text:
            try:
                setattr(f, key, dt.date.fromisoformat(text) if len(text) == 10 else None)
            except ValueError:
                pass
            if getattr(f, key) is None:
                errors[key] = "Enter the date as YYYY-MM-DD."
    line = (args.get("budget_line") or "").strip()
    if line:
        f.budget_line_id = to_int(line)
        if f.budget_line_id is None:
            errors["budget_line"] = "Choose a budget line."
    f.costs_only = args.get("cost") == "1"
    f.unallocated = args.get("unallocated") == "1"
    if f.date_from and f.date_to and f.date_from > f.date_to:
        errors["date_to"] = "The end of the period is before its start."
    return f, errors
