"""/api/financials/invoices/ (SPEC.md §4–5 "Invoice"): list (filters project_id, status,
invoice_type, is_overdue; pagination), detail, create, PUT/PATCH (drafts), DELETE
(admins, drafts), send, mark-paid (a partial amount is a partial payment), cancel,
approve-draft and send-back (the admin's review of a trainee's draft), and voiding a
payment. Routes translate HTTP; the rules and reads are app/invoices/services.py's."""

from __future__ import annotations

from flask import Blueprint
from flask_login import current_user

from app.core.api import api_ok, conflicts_show, paginate, sent_version, with_etag
from app.core.openapi import operation
from app.core.permissions import require
from app.core.schemas import given, request_body, request_body_or_empty, request_query
from app.files.schemas import Deleted
from app.invoices import services
from app.invoices.models import Invoice
from app.invoices.schemas import (
    Comment,
    InvoiceCreate,
    InvoiceOut,
    InvoiceQuery,
    InvoiceUpdate,
    MarkPaid,
    PaymentOut,
    PaymentRecorded,
    Reason,
    VersionOnly,
)
from app.invoices.serialize import invoice_json, payment_json

bp = Blueprint("invoices", __name__)
BASE = "/financials/invoices/"


def _one(invoice: Invoice) -> dict:
    return invoice_json(invoice, services.for_client(current_user))


def _input(body) -> tuple[dict, list | None]:
    data = given(body, exclude=("project_id", "line_items", "version"))
    lines = None if body.line_items is None else [given(line) for line in body.line_items]
    return data, lines


@bp.get(BASE)
@operation("List invoices", returns=InvoiceOut, paged=True, query=InvoiceQuery)
def api_list():
    query = request_query()
    overdue = None if query.is_overdue is None else query.is_overdue == "true"
    # plain rows, not Invoices: the page, its lines and its payments, one statement each
    stmt = services.invoice_api_rows(current_user, query.project_id, query.status, query.invoice_type, overdue)
    client_view = services.for_client(current_user)
    return paginate(
        stmt,
        serialize_page=lambda rows: [invoice_json(i, client_view) for i in services.api_page(rows)],
        columns=services.API_EXTRA,
        rows=True,
    )


@bp.post(BASE)
@operation(
    "Create a draft invoice",
    body=InvoiceCreate,
    returns=InvoiceOut,
    status=201,
    description="A PM trainee's invoice is a draft for an admin's review (is_draft_for_review).",
)
def api_create():
    require(current_user, "invoice.create")
    body = request_body()
    project = services.project_for_invoice(current_user, body.project_id)
    data, lines = _input(body)
    invoice = services.create_invoice(current_user, project, data, lines)
    return with_etag(api_ok(_one(invoice), 201), invoice)


@bp.get(BASE + "<int:invoice_id>/")
@operation("An invoice", returns=InvoiceOut, headers={"ETag": 'The version, as "3".'})
def api_detail(invoice_id):
    invoice = services.get_invoice(current_user, invoice_id)
    return with_etag(api_ok(_one(invoice)), invoice)


def _update(invoice_id):
    invoice = services.get_invoice(current_user, invoice_id, "invoice.create")
    body = request_body()
    data, lines = _input(body)
    with conflicts_show(_one):
        services.update_invoice(current_user, invoice, data, lines, version=sent_version(body.version))
    return with_etag(api_ok(_one(invoice)), invoice)


@bp.put(BASE + "<int:invoice_id>/")
@operation("Change a draft invoice", body=InvoiceUpdate, returns=InvoiceOut, if_match=True)
def api_put(invoice_id):
    return _update(invoice_id)


@bp.patch(BASE + "<int:invoice_id>/")
@operation("Change some fields of a draft invoice", body=InvoiceUpdate, returns=InvoiceOut, if_match=True)
def api_patch(invoice_id):
    return _update(invoice_id)


@bp.delete(BASE + "<int:invoice_id>/")
@operation("Delete a draft invoice (administrators)", returns=Deleted)
def api_delete(invoice_id):
    invoice = services.get_invoice(current_user, invoice_id, "invoice.delete")
    invoice_id = invoice.id
    services.delete_invoice(current_user, invoice)
    return api_ok({"id": invoice_id, "deleted": True})


@bp.post(BASE + "<int:invoice_id>/send/")
@operation(
    "Send an invoice",
    body=VersionOnly,
    body_optional=True,
    returns=InvoiceOut,
    if_match=True,
    description="Issues a draft (its number, status SENT) and emails the PDF to the client's billing contact "
    "(a worker); an issued invoice is emailed again.",
)
def api_send(invoice_id):
    invoice = services.get_invoice(current_user, invoice_id, "invoice.send")
    body = request_body_or_empty()
    with conflicts_show(_one):
        services.send_invoice(current_user, invoice, version=sent_version(body.version))
    return with_etag(api_ok(_one(invoice)), invoice)


@bp.post(BASE + "<int:invoice_id>/mark-paid/")
@operation(
    "Record a payment",
    body=MarkPaid,
    returns=PaymentRecorded,
    status=201,
    description="On a SENT or OVERDUE invoice; at most what is still owed (net payable).",
)
def api_mark_paid(invoice_id):
    invoice = services.get_invoice(current_user, invoice_id, "invoice.send")
    body = request_body()
    payment = services.record_payment(
        current_user, invoice, body.amount_paid, body.payment_date, body.payment_method, body.payment_reference or ""
    )
    return api_ok({"invoice": _one(payment.invoice), "payment": payment_json(payment)}, 201)


@bp.post(BASE + "<int:invoice_id>/payments/<int:payment_id>/void/")
@operation("Void a payment", body=Reason, returns=PaymentOut, description="The reason is kept and audited.")
def api_void_payment(invoice_id, payment_id):
    invoice = services.get_invoice(current_user, invoice_id, "invoice.send")
    payment = services.get_payment(current_user, invoice, payment_id)
    body = request_body()
    services.void_payment(current_user, payment, body.reason)
    return api_ok(payment_json(payment))


@bp.post(BASE + "<int:invoice_id>/cancel/")
@operation("Cancel an issued invoice", body=Reason, returns=InvoiceOut, if_match=True)
def api_cancel(invoice_id):
    invoice = services.get_invoice(current_user, invoice_id, "invoice.send")
    body = request_body()
    with conflicts_show(_one):
        services.cancel_invoice(current_user, invoice, body.reason, version=sent_version(body.version))
    return with_etag(api_ok(_one(invoice)), invoice)


@bp.post(BASE + "<int:invoice_id>/approve-draft/")
@operation("Approve a draft for review (administrators)", body=VersionOnly, body_optional=True, returns=InvoiceOut)
def api_approve_draft(invoice_id):
    invoice = services.get_invoice(current_user, invoice_id, "invoice.approve_draft")
    body = request_body_or_empty()
    with conflicts_show(_one):
        services.approve_draft(current_user, invoice, version=sent_version(body.version))
    return with_etag(api_ok(_one(invoice)), invoice)


@bp.post(BASE + "<int:invoice_id>/send-back/")
@operation("Send a draft back to its author with a comment (administrators)", body=Comment, returns=InvoiceOut)
def api_send_back(invoice_id):
    invoice = services.get_invoice(current_user, invoice_id, "invoice.approve_draft")
    body = request_body()
    with conflicts_show(_one):
        services.send_back(current_user, invoice, body.comment, version=sent_version(body.version))
    return with_etag(api_ok(_one(invoice)), invoice)
