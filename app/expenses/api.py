"""/api/financials/expenses/ (SPEC.md §4–5 "Expense"): list (filters project_id, category,
reimbursement_status, paid_by_employee, date_from, date_to, budget_line_id), create,
detail, PUT/PATCH, DELETE, the receipt (multipart upload, authorised download) and a
claim's states: review/, approve/, reject/ (`reason`), reimburse/ (`method`,
`reference`, optional `date`). Routes translate HTTP; the rules are
app/expenses/services.py's."""

from __future__ import annotations

from flask import Blueprint
from flask_login import current_user

from app.core import storage, uploads
from app.core.api import api_ok, conflicts_show, ordering_clauses, paginate, sent_version, with_etag
from app.core.openapi import operation
from app.core.schemas import given, request_body, request_body_or_empty, request_form, request_query
from app.core.uploads import accepts_uploads
from app.expenses import services
from app.expenses.schemas import (
    ExpenseCreate,
    ExpenseOut,
    ExpenseQuery,
    ExpenseUpdate,
    ReceiptUpload,
    Reimbursement,
    Rejection,
    VersionOnly,
)
from app.expenses.serialize import expense_json
from app.files.schemas import Deleted

bp = Blueprint("expenses", __name__)
BASE = "/financials/expenses/"
ONE = BASE + "<int:expense_id>/"


@bp.get(BASE)
@operation("List expenses and reimbursement claims", returns=ExpenseOut, paged=True, query=ExpenseQuery)
def api_list():
    q = request_query()
    filters = services.Filters(
        project_id=q.project_id,
        category=q.category,
        reimbursement_status=q.reimbursement_status,
        paid_by_employee=q.paid_by_employee,
        date_from=q.date_from,
        date_to=q.date_to,
        budget_line_id=q.budget_line_id,
    )
    ordering = ordering_clauses(services.ORDERING, services.DEFAULT_ORDER)
    return paginate(services.expense_list(current_user, filters, ordering), expense_json)


@bp.post(BASE)
@operation(
    "Record an expense or submit a reimbursement claim",
    body=ExpenseCreate,
    returns=ExpenseOut,
    status=201,
    description="With `paid_by_employee_id` (or by someone who may not record company expenses on the project) "
    "it is a reimbursement claim, `submitted`; else a company expense. Add the receipt with POST …/{id}/receipt/.",
)
def api_create():
    body = request_body()
    data = given(body, exclude=("project_id", "paid_by_employee_id", "version"))
    e = services.create_from_api(current_user, body.project_id, body.paid_by_employee_id, data)
    return with_etag(api_ok(expense_json(e), 201), e)


@bp.get(ONE)
@operation("An expense", returns=ExpenseOut, headers={"ETag": 'The version, as "3".'})
def api_detail(expense_id):
    e = services.get_expense(current_user, expense_id)
    return with_etag(api_ok(expense_json(e)), e)


def _update(expense_id):
    e = services.get_expense(current_user, expense_id)
    body = request_body()
    data = given(body, exclude=("project_id", "version"))
    with conflicts_show(expense_json):
        services.update_expense(current_user, e, data, version=sent_version(body.version))
    return with_etag(api_ok(expense_json(e)), e)


@bp.put(ONE)
@operation("Change an expense", body=ExpenseUpdate, returns=ExpenseOut, if_match=True)
def api_put(expense_id):
    return _update(expense_id)


@bp.patch(ONE)
@operation("Change some fields of an expense", body=ExpenseUpdate, returns=ExpenseOut, if_match=True)
def api_patch(expense_id):
    return _update(expense_id)


@bp.delete(ONE)
@operation("Delete a company expense, or withdraw one's submitted claim", returns=Deleted)
def api_delete(expense_id):
    e = services.get_expense(current_user, expense_id)
    expense_id = e.id
    services.delete_expense(current_user, e)
    return api_ok({"id": expense_id, "deleted": True})


@bp.post(ONE + "receipt/")
@accepts_uploads(1)
@operation(
    "Attach the receipt",
    body=ReceiptUpload,
    multipart=True,
    returns=ExpenseOut,
    description="`file`: a photo (JPEG, PNG, WebP, HEIC) or a PDF, judged by its content; replaces any earlier one.",
)
def api_attach_receipt(expense_id):
    e = services.get_expense(current_user, expense_id)
    form, upload = request_form()
    data = upload.read(uploads.largest_upload() + 1)
    with conflicts_show(expense_json):
        services.attach_receipt(current_user, e, upload.filename or "", data, version=form.version)
    return with_etag(api_ok(expense_json(e)), e)


@bp.get(ONE + "receipt/")
@operation(
    "Download the receipt",
    description="A 302 to a presigned URL valid for a few minutes (S3) or the bytes themselves (local storage).",
)
def api_receipt(expense_id):
    e = services.get_expense(current_user, expense_id)
    key, name, content_type = services.receipt_of(current_user, e)
    return storage.send(key, name, content_type, inline=content_type.startswith("image/"))


@bp.post(ONE + "review/")
@operation("Put a claim under review", body=VersionOnly, body_optional=True, returns=ExpenseOut)
def api_review(expense_id):
    e = services.get_expense(current_user, expense_id)
    body = request_body_or_empty()
    with conflicts_show(expense_json):
        services.start_review(current_user, e, version=sent_version(body.version))
    return with_etag(api_ok(expense_json(e)), e)


@bp.post(ONE + "approve/")
@operation("Approve a claim (it then counts as the project's cost)", body=VersionOnly, body_optional=True,
           returns=ExpenseOut)  # fmt: skip
def api_approve(expense_id):
    e = services.get_expense(current_user, expense_id)
    body = request_body_or_empty()
    with conflicts_show(expense_json):
        services.approve(current_user, e, version=sent_version(body.version))
    return with_etag(api_ok(expense_json(e)), e)


@bp.post(ONE + "reject/")
@operation("Reject a claim (a reason is required)", body=Rejection, returns=ExpenseOut)
def api_reject(expense_id):
    e = services.get_expense(current_user, expense_id)
    body = request_body()
    with conflicts_show(expense_json):
        services.reject(current_user, e, body.reason, version=sent_version(body.version))
    return with_etag(api_ok(expense_json(e)), e)


@bp.post(ONE + "reimburse/")
@operation(
    "Mark an approved claim paid back (administrators)",
    body=Reimbursement,
    returns=ExpenseOut,
    description="`method`: direct, paycheck or petty_cash; `reference`; optional `date` (default today). A claim "
    "paid already answers 409 CONFLICT and nothing is recorded.",
)
def api_reimburse(expense_id):
    e = services.get_expense(current_user, expense_id)
    body = request_body()
    with conflicts_show(expense_json):
        services.reimburse(current_user, e, body.method, body.reference or "", body.date,
                           version=sent_version(body.version))  # fmt: skip
    return with_etag(api_ok(expense_json(e)), e)
