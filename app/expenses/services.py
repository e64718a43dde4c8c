"""Expense and reimbursement rules (SPEC.md §2 rows expense.* and reimbursement.*, §3
"Expenses", §5 "Expense"), the same for pages and the API.

- Seeing (expense.view, `visible_expenses`): admins all; PMs and trainees their projects'
  (company expenses and everyone's claims); whoever paid out of pocket their own claims
  (designers, superintendents, employees see nothing else); never a client.
- A company expense (expense.create: admins, PMs and trainees on their projects):
  category, amount (core.money), date, vendor, description, optional budget line of the
  same project, receipt. Edited and deleted by the same people.
- A claim (reimbursement.submit: every staff role) is an expense paid by its claimant
  (`paid_by_employee_id`), on a project they work on (`claimable_projects`: a project
  team member, or the assignee of a task on it, or someone who clocked in on it; admins
  any open project). It starts `submitted`; its claimant edits or withdraws it only
  while it is submitted. The project's PM or an admin (reimbursement.review) puts it
  `under_review`, approves or rejects it (a reason required); nobody but an admin decides
  their own claim. Only an admin (reimbursement.pay) marks an approved claim `paid`
  (direct, paycheck or petty cash, with a date and a reference) — under a row lock, so
  paying twice is a 409 and writes nothing.
- A date more than a day past today (company time: one day of slack for a phone in a
  zone ahead of the company's) or before 2000 is refused.
- Every change publishes `expense-changed` {id, project_id} after the commit to those who
  may see the expense (budgets listen to it); a submitted claim tells the project's PMs
  (or, without any, the admins), a decision tells the claimant.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.budgets.models import BudgetLine
from app.core import storage, uploads
from app.core.audit import note_reason
from app.core.errors import ConflictError, ObjectNotFound, ValidationError
from app.core.events import entitled, project_audience, publish
from app.core.models import utcnow
from app.core.money import parse_price
from app.core.numbers import to_int
from app.core.permissions import PermissionDenied, can, member_project_ids, require, scope_query
from app.core.roles import ADMIN, CLIENT, PROJECT_MANAGER
from app.core.text import check_lengths, declare_limits
from app.core.transaction import after_commit, after_rollback
from app.core.versioning import checks_version, expect_version
from app.expenses.models import (
    APPROVED,
    CATEGORIES,
    PAID,
    REIMBURSEMENT_METHODS,
    REIMBURSEMENT_STATUSES,
    REJECTED,
    SUBMITTED,
    UNDER_REVIEW,
    Expense,
)
from app.extensions import db
from app.projects.models import Project

VIEW = "expense.view"
LIMITS = declare_limits(
    "expense",
    {"description": 500, "vendor": 200, "rejection_reason": 1000, "reimbursement_reference": 120},
)
EDITABLE = ("category", "amount", "description", "vendor", "expense_date", "budget_line_id")
EARLIEST = dt.date(2000, 1, 1)
SLACK = dt.timedelta(days=1)  # a phone in a zone ahead of the company's may be a day ahead
OPEN_CLAIMS = (SUBMITTED, UNDER_REVIEW, APPROVED)
THUMB = 320


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
        stmt = stmt.where(Expense.budget_line_id == f.budget_line_id)
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


# --- may -----------------------------------------------------------------------------


def may_edit(user, e: Expense) -> bool:
    if e.is_claim:
        return e.paid_by_employee_id == user.id and e.reimbursement_status == SUBMITTED and not e.project.is_closed
    return can(user, "expense.create", e) and not e.project.is_closed


def may_delete(user, e: Expense) -> bool:
    if e.is_claim:
        if e.reimbursement_status == PAID:
            return False
        own = e.paid_by_employee_id == user.id and e.reimbursement_status == SUBMITTED
        return own or (user.role == ADMIN and e.reimbursement_status == REJECTED)
    return can(user, "expense.create", e)


def may_review(user, e: Expense) -> bool:
    return (
        e.is_claim and can(user, "reimbursement.review", e) and (e.paid_by_employee_id != user.id or user.role == ADMIN)
    )


def may_start_review(user, e: Expense) -> bool:
    return may_review(user, e) and e.reimbursement_status == SUBMITTED


def may_decide(user, e: Expense) -> bool:
    return may_review(user, e) and e.reimbursement_status in (SUBMITTED, UNDER_REVIEW)


def may_pay(user, e: Expense) -> bool:
    return e.is_claim and e.reimbursement_status == APPROVED and can(user, "reimbursement.pay", e)


# --- input ---------------------------------------------------------------------------


def _day(value, errors: dict, key: str = "expense_date") -> dt.date | None:
    if isinstance(value, dt.date):
        day = value
    else:
        text = str(value or "").strip()
        try:
            day = dt.date.fromisoformat(text) if len(text) == 10 else None
        except ValueError:
            day = None
        if day is None:
            errors[key] = "Enter the date as YYYY-MM-DD." if text else "Enter the date."
            return None
    if day > today() + SLACK:
        errors[key] = f"The date cannot be in the future (today is {today():%b %-d, %Y})."
        return None
    if day < EARLIEST:
        errors[key] = "The date cannot be before 2000."
        return None
    return day


def clean(data: dict, base: dict, project_id: int) -> dict:
    """The editable fields, merged over `base` and judged: every problem at once."""
    merged = {**base, **{k: v for k, v in data.items() if k in EDITABLE}}
    errors: dict[str, str] = {}
    values: dict = {}
    category = str(merged.get("category") or "").strip().upper()
    if category not in CATEGORIES:
        errors["category"] = "Choose a category."
    values["category"] = category
    try:
        amount = parse_price(merged.get("amount"), "amount")
        if amount <= 0:
            raise ValueError("The amount must be more than 0.00.")
        values["amount"] = amount
    except ValueError as exc:
        errors["amount"] = str(exc)
    values["expense_date"] = _day(merged.get("expense_date"), errors)
    for key in ("description", "vendor"):
        values[key] = str(merged.get(key) or "").strip()
    check_lengths(values, LIMITS, errors)
    values["budget_line_id"] = _budget_line(merged.get("budget_line_id"), project_id, errors)
    if errors:
        raise ValidationError(errors)
    return values


def _budget_line(raw, project_id: int, errors: dict) -> int | None:
    if raw in (None, ""):
        return None
    line_id = to_int(raw) if not isinstance(raw, bool) else None
    line = db.session.get(BudgetLine, line_id) if line_id is not None else None
    if line is None or line.project_id != project_id:
        errors["budget_line_id"] = "Choose a budget line of this project."
        return None
    return line.id


# --- writing -------------------------------------------------------------------------


def _ensure_open(project: Project) -> None:
    if project.is_closed:
        raise ConflictError("This project is closed: its expenses can no longer change.")


def create_expense(actor, project: Project, data: dict, receipt: tuple[str, bytes] | None = None) -> Expense:
    """A company expense (paid by the company)."""
    require(actor, "expense.create", project)
    _ensure_open(project)
    values = clean(data, {}, project.id)
    found = _judge(receipt)
    e = Expense(project=project, created_by_id=actor.id, **values)
    db.session.add(e)
    db.session.flush()
    if found is not None:
        _store(e, receipt[0], found)
    db.session.flush()
    _publish(e)
    return e


def submit_claim(actor, project: Project, data: dict, receipt: tuple[str, bytes] | None = None,
                 claimant=None) -> Expense:  # fmt: skip
    """A reimbursement claim: `claimant` (default the actor) paid it out of pocket. Staff
    with expense.create on the project may record one for someone who works on it."""
    require(actor, "reimbursement.submit")
    claimant = claimant or actor
    if claimant.id != actor.id:
        require(actor, "expense.create", project)
        if claimant.role == CLIENT or not claimant.is_active or not may_claim_on(claimant, project):
            raise ValidationError({"paid_by_employee_id": "Choose someone who works on this project."})
    elif not may_claim_on(actor, project):
        raise ValidationError({"project_id": "Choose a project you work on."})
    values = clean(data, {}, project.id)
    found = _judge(receipt)
    e = Expense(
        project=project,
        created_by_id=actor.id,
        paid_by_employee_id=claimant.id,
        reimbursement_status=SUBMITTED,
        **values,
    )
    db.session.add(e)
    db.session.flush()
    if found is not None:
        _store(e, receipt[0], found)
    db.session.flush()
    _tell_submitted(actor, e)
    _publish(e)
    return e


def create_from_api(actor, project_id, paid_by_employee_id, data: dict) -> Expense:
    """POST /api/financials/expenses/: a company expense, or a claim when someone paid it
    (`paid_by_employee_id`) or the actor may not record company expenses on the project."""
    from app.auth.models import User

    if not (can(actor, "expense.create") or can(actor, "reimbursement.submit")):
        raise PermissionDenied()
    if to_int(project_id) is None:
        raise ValidationError({"project_id": "Choose a project."})
    project = db.session.get(Project, to_int(project_id))
    records = project is not None and can(actor, "expense.create", project)
    if paid_by_employee_id is None and records:
        return create_expense(actor, project, data)
    if paid_by_employee_id in (None, actor.id):
        return submit_claim(actor, claim_project(actor, project_id), data)
    project = expense_project(actor, project_id)
    claimant = db.session.get(User, to_int(paid_by_employee_id))
    if claimant is None:
        raise ValidationError({"paid_by_employee_id": "Choose someone who works on this project."})
    return submit_claim(actor, project, data, claimant=claimant)


@checks_version("e")
def update_expense(actor, e: Expense, data: dict, receipt: tuple[str, bytes] | None = None,
                   version=None) -> Expense:  # fmt: skip
    require(actor, VIEW, e)
    if not may_edit(actor, e):
        if e.is_claim and e.paid_by_employee_id == actor.id:
            raise ConflictError(f"This claim is {e.reimbursement_label.lower()}: only a submitted claim changes.")
        raise PermissionDenied()
    expect_version(e, version)
    values = clean(data, {key: getattr(e, key) for key in EDITABLE}, e.project_id)
    found = _judge(receipt)
    for key, value in values.items():
        setattr(e, key, value)
    if found is not None:
        _store(e, receipt[0], found)
    db.session.flush()
    _publish(e)
    return e


@checks_version("e")
def attach_receipt(actor, e: Expense, filename: str, data: bytes, version=None) -> Expense:
    require(actor, VIEW, e)
    if not may_edit(actor, e):
        raise PermissionDenied("The receipt changes with the expense: by who may edit it, while it may change.")
    expect_version(e, version)
    found = _judge((filename, data))
    if found is None:
        raise ValidationError({"receipt": "Choose a photo or a PDF of the receipt."})
    _store(e, filename, found)
    db.session.flush()
    _publish(e)
    return e


def delete_expense(actor, e: Expense) -> None:
    require(actor, VIEW, e)
    if not may_delete(actor, e):
        if e.is_claim and e.paid_by_employee_id == actor.id:
            raise ConflictError(f"This claim is {e.reimbursement_label.lower()}: only a submitted claim is withdrawn.")
        if e.reimbursement_status == PAID:
            raise ConflictError("A paid claim is money paid out: it is kept.")
        raise PermissionDenied()
    audience, ids = _audience(e), {"id": e.id, "project_id": e.project_id}
    keys = [k for k in (e.receipt_key, _thumb_key(e.receipt_key)) if k]
    db.session.delete(e)
    db.session.flush()
    after_commit(lambda: [storage.delete(k) for k in keys])
    publish("expense-changed", ids, users=audience, roles=[ADMIN])


# --- the claim's states ------------------------------------------------------------------


def _locked(e: Expense) -> Expense:
    """The expense row locked for this transaction and read afresh (FOR UPDATE)."""
    return db.session.scalars(
        select(Expense).where(Expense.id == e.id).with_for_update(of=Expense).execution_options(populate_existing=True)
    ).one()


def _check_review(actor, e: Expense, version) -> Expense:
    if not e.is_claim:
        raise ConflictError("This is a company expense, not a claim to review.")
    require(actor, "reimbursement.review", e)
    if e.paid_by_employee_id == actor.id and actor.role != ADMIN:
        raise PermissionDenied("Someone else reviews your own claim.")
    e = _locked(e)
    expect_version(e, version)
    return e


@checks_version("e")
def start_review(actor, e: Expense, version=None) -> Expense:
    e = _check_review(actor, e, version)
    if e.reimbursement_status != SUBMITTED:
        raise ConflictError(f"This claim is {e.reimbursement_label.lower()} already.")
    e.reimbursement_status = UNDER_REVIEW
    e.reviewed_by_id = actor.id
    e.reviewed_at = utcnow()
    db.session.flush()
    _publish(e)
    return e


@checks_version("e")
def approve(actor, e: Expense, version=None) -> Expense:
    e = _check_review(actor, e, version)
    if e.reimbursement_status not in (SUBMITTED, UNDER_REVIEW):
        raise ConflictError(f"This claim is {e.reimbursement_label.lower()} already: a decision is final.")
    e.reimbursement_status = APPROVED
    e.reviewed_by_id = actor.id
    e.reviewed_at = utcnow()
    db.session.flush()
    _tell_decided(actor, e)
    _publish(e)
    return e


@checks_version("e")
def reject(actor, e: Expense, reason, version=None) -> Expense:
    reason = str(reason or "").strip()
    errors: dict[str, str] = {}
    if not reason:
        errors["rejection_reason"] = "Say why the claim is rejected."
    check_lengths({"rejection_reason": reason}, LIMITS, errors)
    if errors:
        raise ValidationError(errors)
    e = _check_review(actor, e, version)
    if e.reimbursement_status not in (SUBMITTED, UNDER_REVIEW):
        raise ConflictError(f"This claim is {e.reimbursement_label.lower()} already: a decision is final.")
    e.reimbursement_status = REJECTED
    e.rejection_reason = reason
    e.reviewed_by_id = actor.id
    e.reviewed_at = utcnow()
    note_reason(e, reason)
    db.session.flush()
    _tell_decided(actor, e)
    _publish(e)
    return e


@checks_version("e")
def reimburse(actor, e: Expense, method, reference="", day=None, version=None) -> Expense:
    """Mark an approved claim paid back (admins): once, under the row lock."""
    if not e.is_claim:
        raise ConflictError("This is a company expense: there is nobody to pay back.")
    require(actor, "reimbursement.pay", e)
    errors: dict[str, str] = {}
    if method not in REIMBURSEMENT_METHODS:
        errors["method"] = "Choose direct payment, next paycheck or petty cash."
    reference = str(reference or "").strip()
    check_lengths({"reimbursement_reference": reference}, LIMITS, errors)
    if "reimbursement_reference" in errors:
        errors["reference"] = errors.pop("reimbursement_reference")
    paid_on = _day(day, errors, "date") if day not in (None, "") else today()
    if errors:
        raise ValidationError(errors)
    e = _locked(e)
    if e.reimbursement_status == PAID:
        raise ConflictError(
            f"This claim was paid already on {e.reimbursement_date:%b %-d, %Y} "
            f"({REIMBURSEMENT_METHODS[e.reimbursement_method].lower()}"
            f"{', ' + e.reimbursement_reference if e.reimbursement_reference else ''}): nothing was recorded."
        )
    if e.reimbursement_status != APPROVED:
        raise ConflictError(f"This claim is {e.reimbursement_label.lower()}: only an approved claim is paid.")
    expect_version(e, version)
    if paid_on is not None and paid_on < e.expense_date:
        raise ValidationError({"date": "It cannot be paid back before the expense was made."})
    e.reimbursement_status = PAID
    e.reimbursement_method = method
    e.reimbursement_reference = reference
    e.reimbursement_date = paid_on
    e.reimbursed_by_id = actor.id
    db.session.flush()
    _tell_decided(actor, e)
    _publish(e)
    return e


# --- receipts ----------------------------------------------------------------------------


def _judge(receipt: tuple[str, bytes] | None):
    """The receipt judged by its content (a photo or a PDF, size limits), or None."""
    if receipt is None or not receipt[1] and not receipt[0]:
        return None
    return uploads.inspect(receipt[1], "receipt", accept=("photo", "pdf"))


def _thumb_key(key: str | None) -> str | None:
    if not key or key.endswith(".pdf"):
        return None
    return key.rsplit(".", 1)[0] + "-thumb.jpg"


def _store(e: Expense, filename: str, found: uploads.Upload) -> None:
    """Write the receipt (and a small copy of a photo) and point the expense at it; the
    old one goes after the commit, the new one if the transaction rolls back."""
    old = [k for k in (e.receipt_key, _thumb_key(e.receipt_key)) if k]
    key = storage.new_key(f"expenses/{e.project_id}", found.extension)
    storage.save(key, found.data, found.content_type)
    after_rollback(lambda: storage.delete(key))
    if found.kind == "photo":
        thumb = _thumb_key(key)
        storage.save(thumb, uploads.resized(found.data, THUMB), "image/jpeg")
        after_rollback(lambda: storage.delete(thumb))
    stem = storage.safe_filename(filename, "receipt").rsplit(".", 1)[0][:100] or "receipt"
    e.receipt_key = key
    e.receipt_name = f"{stem}.{found.extension}"
    e.receipt_content_type = found.content_type
    e.receipt_size = len(found.data)
    if old:
        after_commit(lambda: [storage.delete(k) for k in old])


def receipt_of(user, e: Expense, thumb: bool = False) -> tuple[str, str, str]:
    """(key, filename, content type) of the receipt for someone who may see the expense."""
    require(user, VIEW, e)
    if not e.receipt_key:
        raise ObjectNotFound("This expense has no receipt.")
    if thumb and _thumb_key(e.receipt_key):
        return _thumb_key(e.receipt_key), "receipt-thumb.jpg", "image/jpeg"
    return e.receipt_key, e.receipt_name or "receipt", e.receipt_content_type


# --- telling -----------------------------------------------------------------------------


def _audience(e: Expense) -> list[int]:
    people = [*project_audience(e.project), *([e.paid_by_employee_id] if e.paid_by_employee_id else [])]
    return entitled(people, lambda user: can(user, VIEW, e))


def _publish(e: Expense) -> None:
    publish("expense-changed", {"id": e.id, "project_id": e.project_id}, users=_audience(e), roles=[ADMIN])


def _reviewers(e: Expense) -> list:
    from app.auth.models import User
    from app.projects.models import ProjectMembership

    members = select(ProjectMembership.user_id).where(ProjectMembership.project_id == e.project_id)
    pms = list(
        db.session.scalars(
            select(User).where(User.id.in_(members), User.role == PROJECT_MANAGER, User.is_active_flag.is_(True))
        )
    )
    people = [u for u in pms if u.id != e.paid_by_employee_id]
    if people:
        return people
    return list(db.session.scalars(select(User).where(User.role == ADMIN, User.is_active_flag.is_(True))))


def _tell_submitted(actor, e: Expense) -> None:
    from app.notifications.services import notify

    who = e.paid_by_employee.name if e.paid_by_employee else "Someone"
    title = f"{who} claims {e.amount:,} ({e.category_label.lower()}) on {e.project.name}"
    for person in _reviewers(e):
        notify(person, "expense_claim_submitted", title, "expenses.detail", {"expense_id": e.id},
               project_id=e.project_id, actor=actor)  # fmt: skip


def _tell_decided(actor, e: Expense) -> None:
    from app.auth.models import User
    from app.notifications.services import notify

    claimant = db.session.get(User, e.paid_by_employee_id)
    if claimant is None or not claimant.is_active:
        return
    verdict = {APPROVED: "was approved", REJECTED: "was rejected", PAID: "was paid back"}[e.reimbursement_status]
    title = f"Your claim of {e.amount:,} on {e.project.name} {verdict}"
    body = f"Reason: {e.rejection_reason}" if e.reimbursement_status == REJECTED else ""
    if e.reimbursement_status == PAID:
        body = f"{REIMBURSEMENT_METHODS[e.reimbursement_method]} on {e.reimbursement_date:%b %-d, %Y}" + (
            f", reference {e.reimbursement_reference}" if e.reimbursement_reference else ""
        )
    notify(claimant, "expense_claim_decided", title, "expenses.detail", {"expense_id": e.id}, body=body,
           project_id=e.project_id, actor=actor)  # fmt: skip


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
    if f.date_from and f.date_to and f.date_from > f.date_to:
        errors["date_to"] = "The end of the period is before its start."
    return f, errors
