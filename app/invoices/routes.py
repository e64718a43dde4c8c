"""Invoice pages: the list (filters, live), an invoice (lines, totals, payments,
deliveries, and the actions its viewer may take), the draft form (new and edit; lines
as rows, problems inline, "changed meanwhile" on a stale save), the admin's review
queue, payments and voids, sending, cancelling, deleting, and the PDF. Thin: parse,
call the service, render."""

from __future__ import annotations

from flask import flash, make_response, request, url_for
from flask_login import current_user, login_required

from app.core import storage
from app.core.errors import ConflictError, ValidationError
from app.core.htmx import redirect_to, render_for
from app.core.numbers import id_list, page_number, to_int
from app.core.pagination import paginate
from app.core.permissions import can, permission_required
from app.core.rows import line_rows
from app.core.transaction import attempt
from app.core.versioning import StaleObject, meanwhile
from app.invoices import batch as batch_rules
from app.invoices import bp, delivery, services
from app.invoices.models import INVOICE_TYPES, PAYMENT_METHODS, STATUSES, Invoice

PER_PAGE = 25
VIEW = services.VIEW
FIELDS = services.EDITABLE
LINE_FIELDS = ("description", "quantity", "unit_price", "tax_rate", "source", "source_id")
BLANK_ROWS = 3
TERMS = {
    "due_on_receipt": "Due on receipt",
    "net_15": "Net 15",
    "net_30": "Net 30",
    "net_45": "Net 45",
    "net_60": "Net 60",
}


@bp.get("/invoices")
@login_required
@permission_required(VIEW)
def index():
    status = request.args.get("status") or None
    kind = request.args.get("type") or None
    project_id = to_int(request.args.get("project_id"))
    stmt = services.invoice_rows(
        current_user,
        project_id=project_id,
        status=status if status in STATUSES else None,
        invoice_type=kind if kind in INVOICE_TYPES else None,
    )
    page = paginate(stmt, page_number(request.args.get("page")), PER_PAGE, rows=True, columns=services.LIST_EXTRA)
    page.items = [services.ListedInvoice(*row) for row in page.items]
    return render_for(
        {"invoice-list": "invoices/_list.html"},
        "invoices/list.html",
        page=page,
        args={"status": status or "", "type": kind or "", "project_id": project_id or ""},
        statuses=list(STATUSES.items()),
        types=list(INVOICE_TYPES.items()),
        client_view=services.for_client(current_user),
        may_create=services.may_create_any(current_user),
        may_review=services.may_review_any(current_user),
        may_send=services.may_send_any(current_user),
    )


@bp.get("/projects/<int:project_id>/money")
@login_required
@permission_required(VIEW)
def project_money(project_id):
    """The project page's money card (loaded with the page, redrawn live): contract
    value, invoiced, collected, still owed, retention held, and its latest invoices."""
    from app.projects.services import get_project

    project = get_project(current_user, project_id, VIEW)
    return render_for(
        {},
        "invoices/_project_money.html",
        project=project,
        money=services.project_money(project.id),
        invoices=services.recent_invoices(current_user, project.id),
        client_view=services.for_client(current_user),
        may_invoice=not project.is_closed and can(current_user, "invoice.create", project),
    )


def _context(invoice: Invoice) -> dict:
    client_view = services.for_client(current_user)
    return {
        "invoice": invoice,
        "client_view": client_view,
        "payments": services.payments_of(invoice),
        "deliveries": [] if client_view else delivery.deliveries_of(invoice),
        "methods": list(PAYMENT_METHODS.items()),
        "today": services.today(),
        "may_edit": services.may_edit(current_user, invoice),
        "may_delete": services.may_delete(current_user, invoice),
        "may_review": services.may_review(current_user, invoice),
        "may_send": services.may_send(current_user, invoice),
        "may_pay": services.may_record_payment(current_user, invoice),
        "may_void": not client_view and services.may_void(current_user, invoice),
        "may_cancel": services.may_cancel(current_user, invoice),
    }


def _detail(invoice: Invoice, status: int = 200, **extra):
    return render_for(
        {"invoice": "invoices/_invoice.html"}, "invoices/detail.html", status, **_context(invoice) | extra
    )


@bp.get("/invoices/<int:invoice_id>")
@login_required
@permission_required(VIEW)
def detail(invoice_id):
    return _detail(services.get_invoice(current_user, invoice_id))


@bp.get("/invoices/<int:invoice_id>.pdf")
@login_required
@permission_required(VIEW)
def pdf(invoice_id):
    """The invoice as PDF: the stored one when it shows this version, else drawn now (a
    draft's preview, or an invoice changed since its email; a page view stores nothing —
    the worker stores what it sends). The client gets only issued invoices (the rule)."""
    invoice = services.get_invoice(current_user, invoice_id)
    response = make_response(delivery.pdf_bytes(invoice))
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = storage.disposition(delivery.filename(invoice), inline=True)
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- the draft form ------------------------------------------------------------------


def _submitted() -> tuple[dict, list[dict]]:
    form = request.form
    data = {key: form.get(key, "") for key in FIELDS}
    return data, line_rows(form, LINE_FIELDS, ("description", "quantity", "unit_price"))


def _rows_of(invoice: Invoice) -> list[dict]:
    return [
        {
            "description": line.description,
            "quantity": format(line.quantity.normalize(), "f"),
            "unit_price": str(line.unit_price),
            "tax_rate": format(line.tax_rate.normalize(), "f"),
            "source": line.source or "",
            "source_id": line.source_id or "",
        }
        for line in invoice.lines
    ]


def _shown(invoice: Invoice) -> dict:
    values = {key: getattr(invoice, key) for key in FIELDS}
    values["tax_rate"] = format(invoice.tax_rate.normalize(), "f")
    values["retention_amount"] = str(invoice.retention_amount)
    values["issue_date"] = invoice.issue_date.isoformat()
    values["due_date"] = invoice.due_date.isoformat()
    return values | {"version": invoice.version}


def _render_form(project, invoice, data, rows, errors, status=200, changed=None):
    return render_for(
        {"invoice-form": "invoices/_form.html"},
        "invoices/form.html",
        status,
        project=project,
        invoice=invoice,
        data=data,
        rows=list(rows) + [{}] * BLANK_ROWS,
        errors=errors,
        meanwhile=changed,
        types=list(INVOICE_TYPES.items()),
        terms=list(TERMS.items()),
    )


@bp.get("/invoices/new")
@login_required
@permission_required("invoice.create")
def new():
    project = services.project_to_invoice(current_user, to_int(request.args.get("project_id")) or 0)
    kind = request.args.get("type") or "standard"
    defaults = services.new_defaults(project, kind)
    return _render_form(project, None, defaults, services.prefilled_lines(project, defaults["invoice_type"]), {})


@bp.post("/invoices/new")
@login_required
@permission_required("invoice.create")
def create():
    project = services.project_to_invoice(current_user, to_int(request.form.get("project_id")) or 0)
    data, rows = _submitted()
    try:
        with attempt():
            invoice = services.create_invoice(current_user, project, data, rows)
    except ValidationError as exc:
        return _render_form(project, None, data, rows, exc.fields or {"form": exc.message}, 422)
    flash(
        "Draft saved: an administrator reviews it before it is sent."
        if invoice.is_draft_for_review
        else "Draft saved. Check it, then send it.",
        "success",
    )
    return redirect_to(url_for("invoices.detail", invoice_id=invoice.id))


@bp.get("/invoices/<int:invoice_id>/edit")
@login_required
@permission_required("invoice.create")
def edit(invoice_id):
    invoice = services.get_invoice(current_user, invoice_id, "invoice.create")
    if not invoice.is_draft:
        raise ConflictError(f"{invoice.label} has been issued: only a draft is changed.")
    return _render_form(invoice.project, invoice, _shown(invoice), _rows_of(invoice), {})


@bp.post("/invoices/<int:invoice_id>/edit")
@login_required
@permission_required("invoice.create")
def update(invoice_id):
    invoice = services.get_invoice(current_user, invoice_id, "invoice.create")
    data, rows = _submitted()
    version = request.form.get("version")
    try:
        with attempt():
            services.update_invoice(current_user, invoice, data, rows, version=version)
    except StaleObject as exc:
        changed = meanwhile(exc.obj, data, FIELDS)
        return _render_form(invoice.project, exc.obj, data | {"version": exc.obj.version}, rows, {}, 409, changed)
    except ValidationError as exc:
        return _render_form(invoice.project, invoice, data | {"version": version}, rows,
                            exc.fields or {"form": exc.message}, 422)  # fmt: skip
    except ConflictError as exc:
        return _render_form(invoice.project, invoice, data | {"version": version}, rows, {"form": exc.message}, 409)
    flash("Draft saved.", "success")
    return redirect_to(url_for("invoices.detail", invoice_id=invoice.id))


# --- actions ---------------------------------------------------------------------------


def _act(invoice: Invoice, do, done: str):
    """Run an action on the invoice's page: problems shown on it (422/409), else back to it."""
    try:
        with attempt():
            do()
    except ValidationError as exc:
        return _detail(invoice, 422, problem=" ".join(exc.fields.values()) if exc.fields else exc.message,
                       problem_fields=exc.fields or {})  # fmt: skip
    except ConflictError as exc:
        db_invoice = exc.obj if isinstance(exc, StaleObject) else invoice
        return _detail(db_invoice, 409, problem=exc.message, problem_fields={})
    flash(done, "success")
    return redirect_to(url_for("invoices.detail", invoice_id=invoice.id))


@bp.post("/invoices/<int:invoice_id>/send")
@login_required
@permission_required("invoice.send")
def send(invoice_id):
    invoice = services.get_invoice(current_user, invoice_id, "invoice.send")
    first = invoice.is_draft
    return _act(
        invoice,
        lambda: services.send_invoice(current_user, invoice, version=request.form.get("version")),
        "Invoice issued: the PDF is being emailed to the client." if first else "The invoice is being emailed again.",
    )


@bp.post("/invoices/<int:invoice_id>/payments")
@login_required
@permission_required("invoice.send")
def pay(invoice_id):
    invoice = services.get_invoice(current_user, invoice_id, "invoice.send")
    form = request.form
    return _act(
        invoice,
        lambda: services.record_payment(
            current_user,
            invoice,
            form.get("amount_paid", ""),
            form.get("payment_date", ""),
            form.get("payment_method") or "check",
            form.get("payment_reference", ""),
        ),
        "Payment recorded.",
    )


@bp.post("/invoices/<int:invoice_id>/payments/<int:payment_id>/void")
@login_required
@permission_required("invoice.send")
def void(invoice_id, payment_id):
    invoice = services.get_invoice(current_user, invoice_id, "invoice.send")
    payment = services.get_payment(current_user, invoice, payment_id)
    return _act(
        invoice, lambda: services.void_payment(current_user, payment, request.form.get("reason")), "Payment voided."
    )


@bp.post("/invoices/<int:invoice_id>/cancel")
@login_required
@permission_required("invoice.send")
def cancel(invoice_id):
    invoice = services.get_invoice(current_user, invoice_id, "invoice.send")
    return _act(
        invoice,
        lambda: services.cancel_invoice(
            current_user, invoice, request.form.get("reason"), version=request.form.get("version")
        ),
        "Invoice cancelled: its number stays used.",
    )


@bp.post("/invoices/<int:invoice_id>/delete")
@login_required
@permission_required("invoice.delete")
def delete(invoice_id):
    invoice = services.get_invoice(current_user, invoice_id, "invoice.delete")
    try:
        with attempt():
            services.delete_invoice(current_user, invoice)
    except ConflictError as exc:
        return _detail(invoice, 409, problem=exc.message, problem_fields={})
    flash("Draft deleted.", "success")
    return redirect_to(url_for("invoices.index"))


@bp.post("/invoices/<int:invoice_id>/approve")
@login_required
@permission_required("invoice.approve_draft")
def approve(invoice_id):
    invoice = services.get_invoice(current_user, invoice_id, "invoice.approve_draft")
    return _act(
        invoice,
        lambda: services.approve_draft(current_user, invoice, version=request.form.get("version")),
        "Draft approved: it can be sent.",
    )


@bp.post("/invoices/<int:invoice_id>/send-back")
@login_required
@permission_required("invoice.approve_draft")
def send_back(invoice_id):
    invoice = services.get_invoice(current_user, invoice_id, "invoice.approve_draft")
    return _act(
        invoice,
        lambda: services.send_back(
            current_user, invoice, request.form.get("comment"), version=request.form.get("version")
        ),
        "Draft sent back to its author with your comment.",
    )


@bp.get("/invoices/review")
@login_required
@permission_required("invoice.approve_draft")
def review():
    page = paginate(services.review_queue(current_user), page_number(request.args.get("page")), PER_PAGE)
    return render_for({"invoice-review": "invoices/_review.html"}, "invoices/review.html", page=page)


# --- batches (their rules: invoices/batch.py) ---------------------------------------------------------------------------


@bp.post("/invoices/send-batch")
@login_required
@permission_required("invoice.send")
def send_batch():
    errors: dict = {}
    ids = id_list(request.form.getlist("invoice_ids"), "invoice_ids", errors, batch_rules.MAX_BATCH) or []
    if errors or not ids:
        flash(errors.get("invoice_ids") or "Tick the invoices to send first.", "error")
        return redirect_to(url_for("invoices.index"))
    started = batch_rules.send_many(current_user, ids)
    for label, why in started.left_out[:20]:
        flash(f"{label} was not sent: {why}", "warning")
    if not started.queued:
        return redirect_to(url_for("invoices.index"))
    return redirect_to(url_for("invoices.batch", batch_id=started.batch_id))


@bp.get("/invoices/batches/<batch_id>")
@login_required
@permission_required("invoice.send")
def batch(batch_id):
    state = batch_rules.progress(current_user, batch_id)
    return render_for(
        {"invoice-batch": "invoices/_batch.html"},
        "invoices/batch.html",
        progress=state,
        failed=batch_rules.failures(batch_id) if state.failed else [],
    )
