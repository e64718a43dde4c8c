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

from sqlalchemy import func, select

from app.budgets.models import BudgetLine
from app.core import storage
from app.core.audit import note_reason
from app.core.errors import ConflictError, ValidationError
from app.core.events import entitled, project_audience, publish
from app.core.models import utcnow
from app.core.money import parse_price
from app.core.numbers import to_int
from app.core.permissions import PermissionDenied, can, require
from app.core.roles import ADMIN, CLIENT, PROJECT_MANAGER
from app.core.text import check_lengths, declare_limits
from app.core.transaction import after_commit
from app.core.versioning import checks_version, expect_version
from app.expenses import receipts
from app.expenses.models import (
    APPROVED,
    CATEGORIES,
    PAID,
    REIMBURSEMENT_METHODS,
    REJECTED,
    SUBMITTED,
    UNDER_REVIEW,
    Expense,
)
from app.expenses.queries import (  # noqa: F401 - the reads, for callers of services
    DEFAULT_ORDER,
    OPEN_CLAIMS,
    ORDERING,
    VIEW,
    Filters,
    budget_line_choices,
    category_choices,
    check_filters,
    claim_project,
    claimable_projects,
    claims_queue,
    expense_list,
    expense_project,
    filters_from,
    get_expense,
    may_claim_on,
    method_choices,
    my_claims,
    project_expenses,
    status_choices,
    today,
    totals_by_category,
    visible_expenses,
)
from app.expenses.receipts import receipt_of  # noqa: F401
from app.extensions import db
from app.projects.models import Project

LIMITS = declare_limits(
    "expense",
    {"description": 500, "vendor": 200, "rejection_reason": 1000, "reimbursement_reference": 120},
)
EDITABLE = ("category", "amount", "description", "vendor", "expense_date", "budget_line_id")
EARLIEST = dt.date(2000, 1, 1)
SLACK = dt.timedelta(days=1)  # a phone in a zone ahead of the company's may be a day ahead


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
    return can(user, "expense.create", e) and not e.project.is_closed


def _refuse_edit(actor, e: Expense) -> None:
    """Why `actor` may not change `e` now, raised (409 for a state, 403 for a person)."""
    if may_edit(actor, e):
        return
    mine = e.is_claim and e.paid_by_employee_id == actor.id
    if mine or (not e.is_claim and can(actor, "expense.create", e)):
        _ensure_open(e.project)
    if mine:
        raise ConflictError(f"This claim is {e.reimbursement_label.lower()}: only a submitted claim changes.")
    raise PermissionDenied()


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


def may_see_budget(user, obj) -> bool:
    """Budget lines are the project's internal costs (costs.view): a claimant without it
    neither sees nor picks the line their claim is put on (the project's PM does)."""
    return can(user, "costs.view", obj)


def clean(data: dict, base: dict, project_id: int, allocate: bool = True) -> dict:
    """The editable fields, merged over `base` and judged: every problem at once. Without
    `allocate` (may_see_budget) the budget line stays what it was."""
    merged = {**base, **{k: v for k, v in data.items() if k in EDITABLE and (allocate or k != "budget_line_id")}}
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
    found = receipts.judge(receipt)
    e = Expense(project=project, created_by_id=actor.id, **values)
    db.session.add(e)
    db.session.flush()
    if found is not None:
        receipts.store(e, receipt[0], found)
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
    values = clean(data, {}, project.id, allocate=may_see_budget(actor, project))
    found = receipts.judge(receipt)
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
        receipts.store(e, receipt[0], found)
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
    _refuse_edit(actor, e)
    expect_version(e, version)
    values = clean(
        data, {key: getattr(e, key) for key in EDITABLE}, e.project_id, allocate=may_see_budget(actor, e.project)
    )
    found = receipts.judge(receipt)
    for key, value in values.items():
        setattr(e, key, value)
    if found is not None:
        receipts.store(e, receipt[0], found)
    db.session.flush()
    _publish(e)
    return e


@checks_version("e")
def attach_receipt(actor, e: Expense, filename: str, data: bytes, version=None) -> Expense:
    require(actor, VIEW, e)
    _refuse_edit(actor, e)
    expect_version(e, version)
    found = receipts.judge((filename, data))
    if found is None:
        raise ValidationError({"receipt": "Choose a photo or a PDF of the receipt."})
    receipts.store(e, filename, found)
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
        if not e.is_claim and can(actor, "expense.create", e):
            _ensure_open(e.project)
        raise PermissionDenied()
    audience, ids = _audience(e), {"id": e.id, "project_id": e.project_id}
    keys = [k for k in (e.receipt_key, receipts.thumb_key(e.receipt_key)) if k]
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


def refuse_deleting_project_with_expenses(project) -> None:
    """A project that has expenses (money spent, claims owed or paid) is not deleted — they
    are kept for the accounts, as issued invoices are: close the project instead (409)."""
    count = db.session.scalar(select(func.count()).select_from(Expense).where(Expense.project_id == project.id))
    if count:
        raise ConflictError(
            f"This project has {count} expense{'' if count == 1 else 's'}, kept for the accounts: "
            "close the project instead."
        )
