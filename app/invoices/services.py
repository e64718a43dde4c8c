"""Invoice rules (SPEC.md §2 matrix rows invoice.*, §3 "Money", §5 "Invoice"), the same
for pages, the API and the jobs.

- Seeing: project.view_financials — admins all, PMs and trainees their projects, the
  project's client the invoices issued to them (never a draft; `Invoice.is_client_visible`)
  and never the internal notes.
- Writing: invoice.create. A PM trainee's invoice is always a draft for review
  (`is_draft_for_review`) until an admin approves it (invoice.approve_draft) or sends
  it back with a comment; only a draft is edited (a sent invoice is cancelled, never
  changed or deleted); only an admin deletes, and only a draft (invoice.delete).
- Sending and payments: invoice.send ("send invoice / mark paid"). Sending issues the
  invoice: it takes the next INV-YYYY-NNNN of its issue year (core.numbering: gap-free
  among issued invoices, never reused) and the PDF and email go by a worker.
- Figures: core.money (one rounding a line; tax per rate on the subtotal; retention ≤
  total). A deposit invoice's payments can be applied to later invoices of the project
  as a credit line; a final invoice releases the retention held on earlier ones.
- Payments: several, each > 0 and ≤ what is still owed, checked under the invoice's
  row lock (two clerks at once cannot overpay); the status follows the balance; a
  payment is voided with a reason, never edited.
"""

from __future__ import annotations

import datetime as dt
from collections import namedtuple
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.clients.models import Client
from app.core.audit import note_reason
from app.core.errors import ConflictError, ObjectNotFound, ValidationError
from app.core.events import entitled, project_audience, publish
from app.core.models import utcnow
from app.core.money import (
    MAX_AMOUNT,
    ZERO,
    Line,
    parse_price,
    parse_quantity,
    parse_rate,
    retention_problem,
    totals,
)
from app.core.numbering import next_number
from app.core.numbers import to_int
from app.core.permissions import Viewer, can, require, scope_query
from app.core.roles import ADMIN, CLIENT
from app.core.statements import inline
from app.core.text import LONG_TEXT, check_lengths, declare_limits
from app.core.versioning import bump, checks_version, expect_version
from app.extensions import db
from app.invoices.models import (
    CANCELLED,
    DEPOSIT,
    DRAFT,
    FINAL,
    INVOICE_TYPES,
    OVERDUE,
    PAID,
    PAYABLE,
    PAYMENT_METHODS,
    SENT,
    STANDARD,
    STATUSES,
    Invoice,
    InvoiceLine,
    Payment,
)
from app.projects.models import Project

VIEW = "project.view_financials"
LIMITS = declare_limits(
    "invoice",
    {"client_message": LONG_TEXT, "internal_notes": LONG_TEXT, "reason": 500, "comment": 2000, "reference": 120},
)
MAX_LINES = 200
MAX_DESCRIPTION = 500
EARLIEST = dt.date(2000, 1, 1)
TERMS_DAYS = {"due_on_receipt": 0, "net_15": 15, "net_30": 30, "net_45": 45, "net_60": 60}
EDITABLE = ("invoice_type", "issue_date", "due_date", "tax_rate", "retention_amount", "payment_terms",
            "client_message", "internal_notes")  # fmt: skip


def today() -> dt.date:
    """Today in the company's time zone."""
    from app.timeclock.queries import today as company_today

    return company_today()


def for_client(user) -> bool:
    return getattr(user, "role", None) == CLIENT


# --- reading -------------------------------------------------------------------------


def visible_invoices(user, stmt=None):
    """A select of the invoices `user` may see: the one visibility rule of pages, the
    API, the portal, PDFs and live events."""
    return scope_query(stmt if stmt is not None else select(Invoice), user, VIEW, Invoice)


def get_invoice(user, invoice_id, action: str = VIEW) -> Invoice:
    """The invoice if `user` may see it (404 otherwise) and may do `action` on it (403)."""
    require(user, VIEW)
    invoice_id = to_int(invoice_id)
    invoice = db.session.get(Invoice, invoice_id) if invoice_id is not None else None
    if invoice is None or not can(user, VIEW, invoice):
        raise ObjectNotFound("That invoice does not exist or you cannot see it.")
    require(user, action, invoice)
    return invoice


def invoice_list(user, project_id=None, status=None, invoice_type=None, is_overdue=None):
    """The invoices `user` sees, newest first, optionally filtered (the API's filters)."""
    require(user, VIEW)
    stmt = visible_invoices(user)
    if project_id is not None:
        stmt = stmt.where(Invoice.project_id == project_id)
    if status is not None:
        stmt = stmt.where(Invoice.status == status)
    if invoice_type is not None:
        stmt = stmt.where(Invoice.invoice_type == invoice_type)
    if is_overdue is not None:
        stmt = stmt.where((Invoice.status == OVERDUE) if is_overdue else (Invoice.status != OVERDUE))
    # a page's payments and creators read at once, not an invoice at a time
    return stmt.options(selectinload(Invoice.payments)).order_by(Invoice.issue_date.desc(), Invoice.id.desc())


# What a row of the invoice list shows (and its checkboxes decide on): these columns only,
# read as plain rows — not 25 Invoices with their projects, clients, teams, lines and
# payments (the list shows none of those). The project's name is a correlated subquery
# added to the page's select only (PostgreSQL evaluates it for the 25 rows after the sort).
LIST_COLUMNS = (
    Invoice.id,
    Invoice.number,
    Invoice.project_id,
    Invoice.invoice_type,
    Invoice.status,
    Invoice.issue_date,
    Invoice.due_date,
    Invoice.total_amount,
    Invoice.retention_amount,
    Invoice.amount_paid,
    Invoice.is_draft_for_review,
)
PROJECT_NAME = (
    select(Project.name)
    .where(Project.id == Invoice.project_id)
    .correlate(Invoice)
    .scalar_subquery()
    .label("project_name")
)
LIST_EXTRA = (PROJECT_NAME,)


class ListedInvoice(namedtuple("ListedInvoice", [c.key for c in LIST_COLUMNS] + ["project_name"])):
    """A row of the invoice list with what its template asks of an Invoice (label,
    status and type labels, still owed, the project's name as `project.name`)."""

    __slots__ = ()

    @property
    def label(self) -> str:
        return self.number or f"Draft invoice #{self.id}"

    @property
    def project(self) -> ListedProject:
        return ListedProject(self.project_id, self.project_name)

    @property
    def net_payable(self) -> Decimal:
        return max(self.total_amount - self.retention_amount - self.amount_paid, ZERO)

    @property
    def is_draft(self) -> bool:
        return self.status == DRAFT

    @property
    def is_payable(self) -> bool:
        return self.status in PAYABLE

    @property
    def status_label(self) -> str:
        return STATUSES[self.status]

    @property
    def type_label(self) -> str:
        return INVOICE_TYPES[self.invoice_type]


ListedProject = namedtuple("ListedProject", "id name")


def invoice_rows(user, project_id=None, status=None, invoice_type=None):
    """`invoice_list` for the list page: a select of LIST_COLUMNS (page it with
    `paginate(…, rows=True, columns=LIST_EXTRA)` and wrap the rows in ListedInvoice),
    built once per viewer and filters and remembered (core.statements pages it for free)."""
    require(user, VIEW)
    return _invoice_rows(Viewer.of(user), project_id, status, invoice_type)


@lru_cache(maxsize=128)
def _invoice_rows(viewer: Viewer, project_id, status, invoice_type, is_overdue=None, columns=LIST_COLUMNS):
    stmt = visible_invoices(viewer, select(*columns))
    if project_id is not None:
        stmt = stmt.where(Invoice.project_id == inline(project_id))
    if status is not None:
        stmt = stmt.where(Invoice.status == inline(status))
    if invoice_type is not None:
        stmt = stmt.where(Invoice.invoice_type == inline(invoice_type))
    if is_overdue is not None:
        stmt = stmt.where((Invoice.status == inline(OVERDUE)) if is_overdue else (Invoice.status != inline(OVERDUE)))
    return stmt.order_by(Invoice.issue_date.desc(), Invoice.id.desc())


# …and what /api/financials/invoices/ answers (serialize.invoice_json), read as plain rows
# too: the page, then its lines and its payments in one statement each.
API_COLUMNS = (
    *LIST_COLUMNS,
    Invoice.client_id,
    Invoice.subtotal,
    Invoice.tax_rate,
    Invoice.tax_amount,
    Invoice.payment_terms,
    Invoice.client_message,
    Invoice.sent_at,
    Invoice.version,
    Invoice.internal_notes,
    Invoice.review_comment,
)
CLIENT_NAME = (
    select(Client.name).where(Client.id == Invoice.client_id).correlate(Invoice).scalar_subquery().label("client_name")
)
API_EXTRA = (PROJECT_NAME, CLIENT_NAME)
_LINE_COLUMNS = (InvoiceLine.invoice_id, InvoiceLine.description, InvoiceLine.quantity, InvoiceLine.unit_price,
                 InvoiceLine.tax_rate, InvoiceLine.line_total, InvoiceLine.source, InvoiceLine.source_id)  # fmt: skip
_PAYMENT_COLUMNS = (Payment.invoice_id, Payment.id, Payment.amount, Payment.payment_date, Payment.method,
                    Payment.reference, Payment.voided_at, Payment.void_reason)  # fmt: skip


class ListedPayment(namedtuple("ListedPayment", [c.key for c in _PAYMENT_COLUMNS])):
    __slots__ = ()

    @property
    def is_void(self) -> bool:
        return self.voided_at is not None


class ApiInvoice:
    """A row of the API's page with what serialize.invoice_json reads of an Invoice."""

    __slots__ = ("row", "lines", "payments")

    def __init__(self, row, lines, payments):
        self.row, self.lines, self.payments = row, lines, payments

    def __getattr__(self, name):
        return getattr(self.row, name)

    @property
    def project(self) -> ListedProject:
        return ListedProject(self.row.project_id, self.row.project_name)

    @property
    def client(self) -> ListedProject:
        return ListedProject(self.row.client_id, self.row.client_name)

    @property
    def net_payable(self) -> Decimal:
        row = self.row
        return max(row.total_amount - row.retention_amount - row.amount_paid, ZERO)

    @property
    def is_overdue(self) -> bool:
        return self.row.status == OVERDUE


def invoice_api_rows(user, project_id=None, status=None, invoice_type=None, is_overdue=None):
    """`invoice_list` for the API: a select of API_COLUMNS (page it with `rows=True,
    columns=API_EXTRA`, then `api_page`), built once per viewer and filters."""
    require(user, VIEW)
    return _invoice_rows(Viewer.of(user), project_id, status, invoice_type, is_overdue, API_COLUMNS)


def api_page(rows) -> list[ApiInvoice]:
    """The page's invoices with their lines (in order) and payments: two statements."""
    from app.core.transaction import read_connection

    ids = [row.id for row in rows]
    lines: dict[int, list] = {i: [] for i in ids}
    payments: dict[int, list] = {i: [] for i in ids}
    if ids:
        connection = read_connection(db.session)
        for line in connection.execute(_page_lines(), {"ids": ids}):
            lines[line.invoice_id].append(line)
        for payment in connection.execute(_page_payments(), {"ids": ids}):
            payments[payment.invoice_id].append(ListedPayment(*payment))
    return [ApiInvoice(row, lines[row.id], payments[row.id]) for row in rows]


@lru_cache(maxsize=1)
def _page_lines():
    from sqlalchemy import bindparam

    return (
        select(*_LINE_COLUMNS)
        .where(InvoiceLine.invoice_id.in_(bindparam("ids", expanding=True)))
        .order_by(InvoiceLine.invoice_id, InvoiceLine.position, InvoiceLine.id)
    )


@lru_cache(maxsize=1)
def _page_payments():
    from sqlalchemy import bindparam

    return (
        select(*_PAYMENT_COLUMNS).where(Payment.invoice_id.in_(bindparam("ids", expanding=True))).order_by(Payment.id)
    )


def review_queue(user):
    """Drafts waiting for an admin's review (PM trainees' invoices)."""
    require(user, "invoice.approve_draft")
    return (
        select(Invoice)
        .where(Invoice.status == DRAFT, Invoice.is_draft_for_review.is_(True))
        .options(selectinload(Invoice.created_by))
        .order_by(Invoice.updated_at)
    )


@dataclass(frozen=True)
class ProjectMoney:
    """What a project has billed and collected (issued invoices, cancelled ones aside)."""

    invoiced: Decimal
    paid: Decimal
    outstanding: Decimal
    retention_held: Decimal
    overdue: Decimal


def project_money(project_id: int) -> ProjectMoney:
    """One statement: the project's invoiced total, collected, still owed, retention
    held (not yet released) and overdue. Drafts and cancelled invoices count for nothing."""
    issued = Invoice.status.in_((SENT, OVERDUE, PAID))
    owed = Invoice.total_amount - Invoice.retention_amount - Invoice.amount_paid
    row = db.session.execute(
        select(
            func.coalesce(func.sum(Invoice.total_amount), 0),
            func.coalesce(func.sum(Invoice.amount_paid), 0),
            func.coalesce(func.sum(owed), 0),
            func.coalesce(func.sum(Invoice.retention_amount), 0),
            func.coalesce(func.sum(owed).filter(Invoice.status == OVERDUE), 0),
        ).where(Invoice.project_id == project_id, issued)
    ).one()
    released = db.session.scalar(
        select(func.coalesce(func.sum(InvoiceLine.line_total), 0))
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(Invoice.project_id == project_id, issued, InvoiceLine.source == "retention")
    )
    invoiced, paid, outstanding, retention, overdue = (Decimal(v) for v in row)
    return ProjectMoney(invoiced, paid, outstanding, max(retention - Decimal(released), ZERO), overdue)


def issued_count(project_id: int) -> int:
    """How many invoices of the project were issued (a project with any is never deleted)."""
    return db.session.scalar(
        select(func.count()).select_from(Invoice).where(Invoice.project_id == project_id, Invoice.status != DRAFT)
    )


def drop_drafts_of(project_id: int) -> None:
    """A deleted project's draft invoices go with it (they were never issued)."""
    for draft in db.session.scalars(select(Invoice).where(Invoice.project_id == project_id, Invoice.status == DRAFT)):
        db.session.delete(draft)
    db.session.flush()


def recent_invoices(user, project_id: int, limit: int = 10) -> list[Invoice]:
    return list(db.session.scalars(invoice_list(user, project_id=project_id).limit(limit)))


def payments_of(invoice: Invoice) -> list[Payment]:
    return list(invoice.payments)


def deposit_lines_of(invoice: Invoice) -> list[InvoiceLine]:
    """The invoice's credit lines (deposits applied), for the print's summary."""
    return [line for line in invoice.lines if line.source == "deposit"]


def deposit_credit(deposit: Invoice, excluding: Invoice | None = None) -> Decimal:
    """What is left of a deposit invoice's payments to apply to later invoices: its
    payments less the credit lines already applied on invoices that are not cancelled."""
    applied = db.session.scalar(
        select(func.coalesce(func.sum(InvoiceLine.line_total), 0))
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(
            InvoiceLine.source == "deposit",
            InvoiceLine.source_id == deposit.id,
            Invoice.status != CANCELLED,
            *([Invoice.id != excluding.id] if excluding is not None and excluding.id else []),
        )
    )
    return max(deposit.amount_paid + Decimal(applied), ZERO)  # applied lines are negative


def open_deposits(project: Project, excluding: Invoice | None = None) -> list[tuple[Invoice, Decimal]]:
    """The project's deposit invoices with credit left to apply, and how much."""
    deposits = db.session.scalars(
        select(Invoice)
        .where(Invoice.project_id == project.id, Invoice.invoice_type == DEPOSIT, Invoice.amount_paid > 0)
        .order_by(Invoice.id)
    ).all()
    return [(d, credit) for d in deposits if (credit := deposit_credit(d, excluding)) > 0]


def held_retention(project: Project, excluding: Invoice | None = None) -> list[Invoice]:
    """The project's issued invoices holding retention that no final invoice (not
    cancelled) has released yet."""
    released = (
        select(InvoiceLine.source_id)
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(
            InvoiceLine.source == "retention",
            Invoice.status != CANCELLED,
            *([Invoice.id != excluding.id] if excluding is not None and excluding.id else []),
        )
    )
    return list(
        db.session.scalars(
            select(Invoice)
            .where(
                Invoice.project_id == project.id,
                Invoice.retention_amount > 0,
                Invoice.status.in_((SENT, OVERDUE, PAID)),
                Invoice.id.not_in(released),
            )
            .order_by(Invoice.id)
        )
    )


# --- may (the templates' and the API's questions) ------------------------------------


def may_create_any(user) -> bool:
    from app.core.permissions import NONE, scope_of

    return scope_of(user, "invoice.create") != NONE


def may_send_any(user) -> bool:
    from app.core.permissions import NONE, scope_of

    return scope_of(user, "invoice.send") != NONE


def may_review_any(user) -> bool:
    return can(user, "invoice.approve_draft")


def may_void(user, invoice: Invoice) -> bool:
    return not invoice.is_cancelled and can(user, "invoice.send", invoice)


def may_edit(user, invoice: Invoice) -> bool:
    return invoice.is_draft and can(user, "invoice.create", invoice)


def may_delete(user, invoice: Invoice) -> bool:
    return invoice.is_draft and can(user, "invoice.delete", invoice)


def may_review(user, invoice: Invoice) -> bool:
    return invoice.is_draft and invoice.is_draft_for_review and can(user, "invoice.approve_draft", invoice)


def may_send(user, invoice: Invoice) -> bool:
    if not can(user, "invoice.send", invoice):
        return False
    return (invoice.is_draft and not invoice.is_draft_for_review) or invoice.is_payable


def may_record_payment(user, invoice: Invoice) -> bool:
    return invoice.is_payable and invoice.net_payable > 0 and can(user, "invoice.send", invoice)


def may_cancel(user, invoice: Invoice) -> bool:
    return invoice.is_issued and not invoice.is_paid and can(user, "invoice.send", invoice)


# --- the form's defaults and prefilled lines -------------------------------------------


def new_defaults(project: Project, invoice_type: str = "standard") -> dict:
    """A new invoice's fields: today, the client's terms, the company's tax rate."""
    from app.company.services import company

    issued = today()
    terms = project.client.payment_terms if project.client else "net_30"
    return {
        "invoice_type": invoice_type if invoice_type in INVOICE_TYPES else "standard",
        "issue_date": issued.isoformat(),
        "due_date": (issued + dt.timedelta(days=TERMS_DAYS.get(terms, 30))).isoformat(),
        "tax_rate": format(company().default_tax_rate.normalize(), "f"),
        "retention_amount": "0.00",
        "payment_terms": terms,
        "client_message": "",
        "internal_notes": "",
    }


def _unbilled_tasks(project: Project, invoice: Invoice | None = None) -> list[dict]:
    """Line rows of the project's completed tasks no invoice (not cancelled; `invoice`
    itself aside) bills yet, their price left to fill in."""
    from app.tasks.models import COMPLETED, Task

    billed = (
        select(InvoiceLine.source_id)
        .join(Invoice)
        .where(InvoiceLine.source == "task", Invoice.status != CANCELLED, Invoice.project_id == project.id)
    )
    if invoice is not None and invoice.id:
        billed = billed.where(Invoice.id != invoice.id)
    tasks = db.session.execute(
        select(Task.id, Task.title)
        .where(Task.project_id == project.id, Task.status == COMPLETED, Task.id.not_in(billed))
        .order_by(Task.completed_at, Task.id)
    ).all()
    return [{"description": title, "quantity": "1", "unit_price": "", "source": "task", "source_id": task_id}
            for task_id, title in tasks]  # fmt: skip


def prefilled_lines(project: Project, invoice_type: str) -> list[dict]:
    """Lines a new invoice of `invoice_type` starts with: the project's completed tasks
    not billed yet (their price to fill in), its approved change orders not billed yet,
    the deposits' credit left to apply (not on a deposit invoice), and on a final invoice
    the retention held on earlier ones."""

    rows: list[dict] = []
    from app.progress_billing.schedule import has_schedule

    # a project with a schedule of values bills its change orders and tasks through pay applications
    if invoice_type != DEPOSIT and not has_schedule(project.id):
        rows += _unbilled_tasks(project)[:50]
        from app.change_orders.services import approved_unbilled

        for co in approved_unbilled(project.id):
            rows.append({"description": f"{co.number}: {co.title}", "quantity": "1", "unit_price": str(co.amount),
                         "source": "change_order", "source_id": co.id})  # fmt: skip
    if invoice_type != DEPOSIT:
        for deposit, credit in open_deposits(project):
            rows.append({"description": f"Deposit applied ({deposit.label})", "quantity": "1",
                         "unit_price": str(-credit), "source": "deposit", "source_id": deposit.id})  # fmt: skip
    if invoice_type == FINAL:
        for held in held_retention(project):
            rows.append({"description": f"Retention released ({held.label})", "quantity": "1",
                         "unit_price": str(held.retention_amount), "source": "retention", "source_id": held.id})  # fmt: skip
    return rows


# --- the wizard's questions -------------------------------------------------------------


def invoiceable_projects(user, limit: int = 500) -> list[tuple[int, str]]:
    """(id, "name · client") of the open projects `user` may invoice, by name."""
    from app.clients.models import Client
    from app.projects.models import CLOSED

    stmt = (
        select(Project.id, Project.name, Client.name)
        .join(Client, Client.id == Project.client_id)
        .where(Project.status != CLOSED)
        .order_by(Project.name, Project.id)
        .limit(limit)
    )
    return [
        (pid, f"{name} · {client}")
        for pid, name, client in db.session.execute(scope_query(stmt, user, "invoice.create", Project))
    ]


def tasks_done_between(project: Project, start: dt.date | None, end: dt.date | None) -> list[dict]:
    """prefilled_lines' task rows, kept to tasks completed in the period (company days)."""
    from app.core.timezones import company_zone
    from app.tasks.models import Task

    rows = [r for r in prefilled_lines(project, STANDARD) if r["source"] == "task"]
    if not rows or (start is None and end is None):
        return rows
    zone = company_zone()
    # (.all(): a Result has keys() and dict() would index it by them)
    done = dict(
        db.session.execute(select(Task.id, Task.completed_at).where(Task.id.in_([r["source_id"] for r in rows]))).all()
    )
    kept = []
    for row in rows:
        day = done.get(row["source_id"])
        day = day.astimezone(zone).date() if day is not None else None
        if day is not None and (start is None or day >= start) and (end is None or day <= end):
            kept.append(row)
    return kept


@dataclass(frozen=True)
class Preview:
    lines: list
    subtotal: Decimal
    tax_amount: Decimal
    total: Decimal
    retention: Decimal
    net_payable: Decimal


def preview(actor, project: Project, data: dict, raw_lines) -> Preview:
    """What the invoice would be, checked like create_invoice but written nowhere: the
    wizard's review step. A ValidationError names every problem."""
    require(actor, "invoice.create", project)
    base = new_defaults(project)
    values = clean(data, base)
    errors: dict[str, str] = {}
    lines = clean_lines(raw_lines, values["tax_rate"], errors)
    if not errors:
        _check_sources(project, values["invoice_type"], lines, None, errors)
    if errors:
        raise ValidationError(errors)
    figures = totals([Line(li.quantity, li.unit_price, li.tax_rate) for li in lines])
    if any(abs(li.total) >= MAX_AMOUNT for li in lines) or max(abs(figures.subtotal), figures.total) >= MAX_AMOUNT:
        raise ValidationError({"line_items": "The total is too large (at most 9,999,999,999.99)."})
    if figures.total < 0:
        raise ValidationError({"line_items": "The total cannot be below zero (credits are larger than the charges)."})
    problem = retention_problem(values["retention_amount"], figures.total)
    if problem:
        raise ValidationError({"retention_amount": problem})
    return Preview(lines, figures.subtotal, figures.tax_amount, figures.total, values["retention_amount"],
                   figures.total - values["retention_amount"])  # fmt: skip


# --- input ---------------------------------------------------------------------------


def project_to_invoice(actor, project_id) -> Project:
    """The project of a new invoice's page: 404 unless `actor` sees it, 403 unless they
    may invoice it."""
    from app.projects.services import get_project

    project = get_project(actor, project_id)
    require(actor, "invoice.create", project)
    return project


def project_for_invoice(actor, project_id) -> Project:
    """The project a new invoice is for: one `actor` may see (404) and invoice (403)."""
    require(actor, "invoice.create")
    project_id = to_int(project_id)
    project = db.session.get(Project, project_id) if project_id is not None else None
    if project is None or not can(actor, "project.view", project):
        raise ValidationError({"project_id": "Choose a project you work on."})
    require(actor, "invoice.create", project)
    return project


def _date(value, field: str, errors: dict) -> dt.date | None:
    from app.core.dates import parse_date

    return parse_date(value, field, errors, earliest=EARLIEST, latest=dt.date(2100, 12, 31))


def clean(data: dict, base: dict) -> dict:
    """The invoice's own fields from `data` over `base` (the current values): each
    checked, a ValidationError naming every bad one. Money and rates never go through
    a float (core.money)."""
    merged = {**base, **{k: v for k, v in data.items() if k in EDITABLE}}
    errors: dict[str, str] = {}
    values: dict = {}
    kind = merged.get("invoice_type") or "standard"
    if kind not in INVOICE_TYPES:
        errors["invoice_type"] = "Choose standard, deposit or final."
    values["invoice_type"] = kind
    for field in ("issue_date", "due_date"):
        values[field] = _date(merged.get(field), field, errors)
        if values[field] is None and field not in errors:
            errors[field] = "Enter a date."
    if values.get("issue_date") and values.get("due_date") and values["due_date"] < values["issue_date"]:
        errors["due_date"] = "The due date cannot be before the issue date."
    try:
        values["tax_rate"] = parse_rate(merged.get("tax_rate") if merged.get("tax_rate") not in (None, "") else 0,
                                        "tax rate")  # fmt: skip
    except ValueError as exc:
        errors["tax_rate"] = str(exc)
    try:
        raw = merged.get("retention_amount")
        values["retention_amount"] = parse_price(raw if raw not in (None, "") else 0, "retention")
    except ValueError as exc:
        errors["retention_amount"] = str(exc)
    terms = merged.get("payment_terms") or "net_30"
    if terms not in TERMS_DAYS:
        errors["payment_terms"] = "Choose the payment terms from the list."
    values["payment_terms"] = terms
    for field in ("client_message", "internal_notes"):
        value = merged.get(field)
        values[field] = "" if value is None else str(value).strip()
    check_lengths(values, LIMITS, errors)
    if errors:
        raise ValidationError(errors)
    return values


@dataclass
class LineIn:
    description: str
    quantity: Decimal
    unit_price: Decimal
    tax_rate: Decimal
    source: str | None = None
    source_id: int | None = None

    @property
    def total(self) -> Decimal:
        return Line(self.quantity, self.unit_price, self.tax_rate).total


def clean_lines(raw, tax_rate: Decimal, errors: dict) -> list[LineIn]:
    """The lines from a form or JSON: a list of {description, quantity, unit_price,
    tax_rate?, source?, source_id?}. A line's tax rate defaults to the invoice's.
    Problems are reported per line ("Line 2: …") under `line_items`."""
    if not isinstance(raw, list | tuple):
        errors["line_items"] = "Send the lines as a list."
        return []
    if not raw:
        errors["line_items"] = "Add at least one line."
        return []
    if len(raw) > MAX_LINES:
        errors["line_items"] = f"At most {MAX_LINES} lines."
        return []
    lines: list[LineIn] = []
    problems: list[str] = []
    for number, item in enumerate(raw, start=1):
        if not isinstance(item, dict):
            problems.append(f"Line {number}: send an object.")
            continue
        description = str(item.get("description") or "").strip()
        source = item.get("source") or None
        source_id = to_int(item.get("source_id")) if item.get("source_id") not in (None, "") else None
        try:
            if not description:
                raise ValueError("enter a description.")
            if len(description) > MAX_DESCRIPTION:
                raise ValueError(f"the description is too long (at most {MAX_DESCRIPTION} characters).")
            quantity = parse_quantity(item.get("quantity", 1) if item.get("quantity") not in (None, "") else 1)
            price = parse_price(item.get("unit_price"), "unit price", signed=source == "deposit")
            raw_rate = item.get("tax_rate")
            rate = tax_rate if raw_rate in (None, "") else parse_rate(raw_rate, "tax rate")
            if source is not None and source not in ("task", "change_order", "deposit", "retention", "extra",
                                                     "retainage", "pay_application"):  # fmt: skip
                raise ValueError("unknown source.")
            if source in ("task", "change_order", "deposit", "retention", "retainage",
                          "pay_application") and source_id is None:  # fmt: skip
                raise ValueError("say which item it comes from (source_id).")
        except ValueError as exc:
            message = str(exc)
            problems.append(f"Line {number}: {message[0].lower() + message[1:]}")
            continue
        if source in ("deposit", "retention", "retainage", "pay_application"):
            rate = ZERO  # a credit, a release or a certificate's payment due carries no new tax
        lines.append(LineIn(description, quantity, price, rate, source, source_id))
    if problems:
        errors["line_items"] = " ".join(problems[:5]) + (" …" if len(problems) > 5 else "")
    return lines


def _check_sources(project: Project, invoice_type: str, lines: list[LineIn], invoice: Invoice | None, errors):
    """Every line naming where it comes from must be this project's and still open: a
    completed task or an approved change order not billed yet, a deposit's credit left,
    retention held. The project's row is locked first, so two invoices written at once
    cannot both bill the same thing (the second waits and then sees it billed)."""
    problems = []
    if any(line.source for line in lines):
        db.session.execute(select(Project.id).where(Project.id == project.id).with_for_update())
    if any(line.source in ("task", "change_order") for line in lines):
        from app.progress_billing.schedule import has_schedule

        if has_schedule(project.id):  # its change orders and tasks are on its schedule of values
            problems += [f"Line {number}: this project is billed by pay applications (it has a schedule of values): "
                         f"bill it through a pay application." for number, line in enumerate(lines, start=1)
                         if line.source in ("task", "change_order")]  # fmt: skip
    if any(line.source == "task" for line in lines):
        open_tasks = {r["source_id"] for r in _unbilled_tasks(project, invoice)}
        seen: set[int] = set()
        for number, line in enumerate(lines, start=1):
            if line.source == "task":
                if line.source_id not in open_tasks or line.source_id in seen:
                    problems.append(f"Line {number}: that task is not a completed one of this project left to bill.")
                seen.add(line.source_id)
    deposits = {d.id: credit for d, credit in open_deposits(project, invoice)}
    asked: dict[int, Decimal] = {}
    held = {i.id: i for i in held_retention(project, invoice)}
    released: set[int] = set()
    from app.change_orders.services import approved_unbilled

    unbilled = (
        {co.id for co in approved_unbilled(project.id)} if any(li.source == "change_order" for li in lines) else set()
    )
    if invoice is not None and invoice.id:  # its own change orders count as not billed yet
        unbilled |= {li.source_id for li in invoice.lines if li.source == "change_order"}
    for number, line in enumerate(lines, start=1):
        if line.source == "change_order":
            if line.source_id not in unbilled:
                problems.append(
                    f"Line {number}: that change order is not an approved one of this project left to bill."
                )
            else:
                unbilled.discard(line.source_id)
        if line.source == "deposit":
            if invoice_type == DEPOSIT:
                problems.append(f"Line {number}: a deposit cannot be applied to a deposit invoice.")
            elif line.source_id not in deposits:
                problems.append(f"Line {number}: that deposit has no payment left to apply on this project.")
            elif line.total >= 0:
                problems.append(f"Line {number}: a deposit applied is a credit (a negative unit price).")
            else:
                asked[line.source_id] = asked.get(line.source_id, ZERO) - line.total
                if asked[line.source_id] > deposits[line.source_id]:
                    problems.append(f"Line {number}: only {deposits[line.source_id]} of that deposit is left to apply.")
        elif line.source == "retention":
            if invoice_type != FINAL:
                problems.append(f"Line {number}: only a final invoice releases retention.")
            elif line.source_id not in held or line.source_id in released:
                problems.append(f"Line {number}: that invoice holds no retention to release.")
            elif line.total != held[line.source_id].retention_amount:
                problems.append(
                    f"Line {number}: the retention held on {held[line.source_id].label} is "
                    f"{held[line.source_id].retention_amount}."
                )
            else:
                released.add(line.source_id)
        elif line.source == "retainage":  # a pay applications' retainage release (progress_billing.releases)
            from app.progress_billing.releases import check_invoice_line

            if problem := check_invoice_line(invoice, line.source_id, line.total):
                problems.append(f"Line {number}: {problem}")
    if (invoice is not None and invoice.id) or any(li.source == "pay_application" for li in lines):
        from app.progress_billing.services import invoice_problems  # its pay application or release

        problems += invoice_problems(invoice, invoice_type, lines)
    if problems:
        errors["line_items"] = " ".join(problems[:5])


def _write_lines(invoice: Invoice, lines: list[LineIn]) -> None:
    invoice.lines.clear()
    db.session.flush()  # old lines gone before the new are numbered
    for position, line in enumerate(lines):
        invoice.lines.append(
            InvoiceLine(
                position=position,
                description=line.description,
                quantity=line.quantity,
                unit_price=line.unit_price,
                tax_rate=line.tax_rate,
                line_total=line.total,
                source=line.source,
                source_id=line.source_id,
            )
        )


def _apply_totals(invoice: Invoice, lines: list[LineIn], errors: dict) -> None:
    """The invoice's figures from its lines (core.money), the retention checked against them."""
    figures = totals([Line(li.quantity, li.unit_price, li.tax_rate) for li in lines], paid=invoice.amount_paid or ZERO)
    too_large = next((n for n, li in enumerate(lines, start=1) if abs(li.total) >= MAX_AMOUNT), None)
    if too_large is not None or max(abs(figures.subtotal), figures.total) >= MAX_AMOUNT:
        where = f"Line {too_large}: the amount" if too_large else "The total"
        errors["line_items"] = f"{where} is too large (at most 9,999,999,999.99)."
        return
    if figures.total < 0:
        errors["line_items"] = "The total cannot be below zero (credits are larger than the charges)."
        return
    problem = retention_problem(invoice.retention_amount, figures.total)
    if problem:
        errors["retention_amount"] = problem
        return
    invoice.subtotal = figures.subtotal
    invoice.tax_amount = figures.tax_amount
    invoice.total_amount = figures.total


# --- writing -------------------------------------------------------------------------


def create_invoice(actor, project: Project, data: dict, raw_lines) -> Invoice:
    """A new draft for `project`. A trainee's is a draft for review."""
    require(actor, "invoice.create", project)
    if project.is_closed:
        raise ValidationError({"project_id": "This project is closed: it can no longer be invoiced."})
    base = {"issue_date": today(), "tax_rate": ZERO, "retention_amount": ZERO,
            "payment_terms": project.client.payment_terms if project.client else "net_30"}  # fmt: skip
    if data.get("due_date") in (None, ""):  # from the issue date and the terms
        data = {k: v for k, v in data.items() if k != "due_date"}
        issue = _date(data.get("issue_date") or base["issue_date"], "issue_date", {}) or base["issue_date"]
        terms = data.get("payment_terms") or base["payment_terms"]
        base["due_date"] = issue + dt.timedelta(days=TERMS_DAYS.get(terms, 30))
    values = clean(data, base)
    errors: dict[str, str] = {}
    lines = clean_lines(raw_lines, values["tax_rate"], errors)
    if not errors:
        _check_sources(project, values["invoice_type"], lines, None, errors)
    invoice = Invoice(
        project=project,
        client_id=project.client_id,
        status=DRAFT,
        created_by_id=actor.id,
        is_draft_for_review=not can(actor, "invoice.send", project),
        amount_paid=ZERO,
        **values,
    )
    if not errors:
        _apply_totals(invoice, lines, errors)
    if errors:
        raise ValidationError(errors)
    db.session.add(invoice)
    _write_lines(invoice, lines)
    db.session.flush()
    publish_invoice(invoice)
    return invoice


@checks_version("invoice")
def update_invoice(actor, invoice: Invoice, data: dict, raw_lines=None, version=None) -> Invoice:
    """Change a draft: its fields (those sent) and, when sent, all its lines."""
    require(actor, "invoice.create", invoice)
    if not invoice.is_draft:
        raise ConflictError(f"{invoice.label} is {invoice.status_label.lower()}: only a draft is changed. "
                            "Cancel it and issue a new one.")  # fmt: skip
    expect_version(invoice, version)
    base = {key: getattr(invoice, key) for key in EDITABLE}
    values = clean(data, base)
    errors: dict[str, str] = {}
    if raw_lines is not None:
        lines = clean_lines(raw_lines, values["tax_rate"], errors)
    else:
        rate_changed = values["tax_rate"] != invoice.tax_rate
        lines = [
            LineIn(
                li.description,
                li.quantity,
                li.unit_price,
                values["tax_rate"]
                if rate_changed
                and li.tax_rate == invoice.tax_rate
                and li.source not in ("deposit", "retention", "retainage", "pay_application")
                else li.tax_rate,
                li.source,
                li.source_id,
            )  # fmt: skip
            for li in invoice.lines
        ]
    if not errors:
        _check_sources(invoice.project, values["invoice_type"], lines, invoice, errors)
    if not errors and values.get("retention_amount"):
        from app.progress_billing.services import retention_refused  # a pay application's or a release's

        if problem := retention_refused(invoice):
            errors["retention_amount"] = problem
    if errors:
        raise ValidationError(errors)
    for key, value in values.items():
        setattr(invoice, key, value)
    _apply_totals(invoice, lines, errors)
    if errors:
        raise ValidationError(errors)
    if not can(actor, "invoice.send", invoice):
        invoice.is_draft_for_review = True  # a trainee's change goes back to the queue
    _write_lines(invoice, lines)
    bump(invoice)  # the lines are part of what the editor saw
    db.session.flush()
    publish_invoice(invoice)
    return invoice


def delete_invoice(actor, invoice: Invoice) -> None:
    require(actor, "invoice.delete", invoice)
    if not invoice.is_draft:
        raise ConflictError(f"{invoice.label} has been issued: cancel it instead (it is kept for the records).")
    project_id, invoice_id, audience = invoice.project_id, invoice.id, _audience(invoice)
    db.session.delete(invoice)
    db.session.flush()
    publish("invoice-changed", {"id": invoice_id, "project_id": project_id}, users=audience, roles=[ADMIN])


@checks_version("invoice")
def approve_draft(actor, invoice: Invoice, version=None) -> Invoice:
    """An admin approves a trainee's draft: it may now be sent by a PM or admin."""
    require(actor, "invoice.approve_draft", invoice)
    if not (invoice.is_draft and invoice.is_draft_for_review):
        raise ConflictError(f"{invoice.label} is not waiting for review.")
    expect_version(invoice, version)
    invoice.is_draft_for_review = False
    invoice.review_comment = ""
    db.session.flush()
    publish_invoice(invoice)
    return invoice


@checks_version("invoice")
def send_back(actor, invoice: Invoice, comment, version=None) -> Invoice:
    """An admin returns a trainee's draft with what to change; its author is told."""
    require(actor, "invoice.approve_draft", invoice)
    if not (invoice.is_draft and invoice.is_draft_for_review):
        raise ConflictError(f"{invoice.label} is not waiting for review.")
    expect_version(invoice, version)
    comment = str(comment or "").strip()
    if not comment:
        raise ValidationError({"comment": "Say what should change."})
    errors: dict[str, str] = {}
    check_lengths({"comment": comment}, LIMITS, errors)
    if errors:
        raise ValidationError(errors)
    invoice.review_comment = comment
    db.session.flush()
    if invoice.created_by is not None and invoice.created_by.is_active:
        from app.notifications.services import notify

        notify(
            invoice.created_by,
            "invoice_review",
            f"Your draft invoice for {invoice.project.name} was sent back: {comment[:120]}",
            "invoices.detail",
            {"invoice_id": invoice.id},
            project_id=invoice.project_id,
            actor=actor,
        )
    publish_invoice(invoice)
    return invoice


@checks_version("invoice")
def send_invoice(actor, invoice: Invoice, version=None, batch_id: str | None = None) -> Invoice:
    """Issue a draft (number, SENT) or send an issued one again; the PDF is made and
    emailed to the client's billing contact by a worker (invoices queue)."""
    require(actor, "invoice.send", invoice)
    if invoice.is_cancelled:
        raise ConflictError(f"{invoice.label} is cancelled: it cannot be sent.")
    if invoice.is_paid:
        raise ConflictError(f"{invoice.label} is paid: there is nothing to send.")
    if invoice.is_draft and invoice.is_draft_for_review:
        raise ConflictError("This draft is waiting for an admin's review before it can be sent.")
    expect_version(invoice, version)
    if invoice.total_amount <= 0 and invoice.is_draft:
        raise ValidationError({"line_items": "An invoice of 0.00 cannot be sent."})
    if recipient(invoice) is None:
        raise ValidationError(
            {"client": f"{invoice.client.name} has no billing email: add a billing contact or the client's email."}
        )
    first = invoice.is_draft
    if first:
        invoice.number = next_number("invoice", invoice.issue_date)
        invoice.status = SENT
        invoice.sent_at = utcnow()
        if invoice.due_date < today():
            invoice.status = OVERDUE
    db.session.flush()
    from app.invoices import delivery

    delivery.queue_send(invoice, actor, batch_id)
    if first:
        _tell_sent(actor, invoice)
    publish_invoice(invoice)
    return invoice


def _tell_sent(actor, invoice: Invoice) -> None:
    """An issued invoice reaches the notification centre of the project's staff who see
    the money and of the client's users (invoice_sent)."""
    from app.auth.models import User
    from app.notifications.services import notify

    people = db.session.scalars(
        select(User).where(User.id.in_(_audience(invoice)), User.is_active_flag.is_(True))
    ).all()
    for person in people:
        owed = f"{invoice.net_payable:,} due {invoice.due_date.isoformat()}"
        title = (
            f"New invoice {invoice.number} for {invoice.project.name}: ${owed}"
            if person.role == CLIENT
            else f"Invoice {invoice.number} for {invoice.project.name} was sent to the client (${owed})"
        )
        notify(person, "invoice_sent", title, "invoices.detail", {"invoice_id": invoice.id},
               project_id=invoice.project_id, actor=actor)  # fmt: skip


def recipient(invoice: Invoice) -> tuple[str, str] | None:
    """(name, email) of whom the invoice goes to: the client's billing contact (the
    primary one first), else the primary contact, else the client's own email."""
    from app.clients.models import ClientContact

    contacts = db.session.scalars(
        select(ClientContact).where(ClientContact.client_id == invoice.client_id, ClientContact.email != "")
    ).all()
    billing = [c for c in contacts if "billing" in c.role_list or "accounts_payable" in c.role_list]
    for group in (sorted(billing, key=lambda c: not c.is_primary), [c for c in contacts if c.is_primary]):
        if group:
            return group[0].name, group[0].email
    if invoice.client.email:
        return invoice.client.name, invoice.client.email
    return None


def _locked(invoice: Invoice) -> Invoice:
    """The invoice row locked for this transaction and read afresh (FOR UPDATE)."""
    return db.session.scalars(
        select(Invoice)
        .where(Invoice.id == invoice.id)
        .with_for_update(of=Invoice)
        .execution_options(populate_existing=True)
    ).one()


def _status_from_balance(invoice: Invoice) -> None:
    if invoice.net_payable == 0 and invoice.amount_paid > 0:
        invoice.status = PAID
    elif invoice.status == PAID or invoice.status in PAYABLE:
        invoice.status = OVERDUE if invoice.due_date < today() else SENT


def record_payment(actor, invoice: Invoice, amount, payment_date=None, method="check", reference="") -> Payment:
    """A payment received: > 0 and at most what is still owed, checked under the row lock."""
    require(actor, "invoice.send", invoice)
    errors: dict[str, str] = {}
    try:
        amount = parse_price(amount, "amount")
        if amount <= 0:
            raise ValueError("The amount must be more than 0.00.")
    except ValueError as exc:
        errors["amount_paid"] = str(exc)
    day = _date(payment_date, "payment_date", errors) if payment_date not in (None, "") else today()
    if day is not None and day > today():
        errors["payment_date"] = "A payment cannot be dated in the future."
    if method not in PAYMENT_METHODS:
        errors["payment_method"] = "Choose check, ACH, card or cash."
    reference = str(reference or "").strip()
    if len(reference) > LIMITS["reference"]:
        errors["payment_reference"] = f"At most {LIMITS['reference']} characters."
    if errors:
        raise ValidationError(errors)
    invoice = _locked(invoice)
    if not invoice.is_payable:
        raise ConflictError(
            f"{invoice.label} is {invoice.status_label.lower()}: payments are recorded on sent or overdue invoices."
        )
    if amount > invoice.net_payable:
        raise ValidationError(
            {"amount_paid": f"That is more than is still owed on {invoice.label} ({invoice.net_payable})."}
        )
    payment = Payment(
        invoice=invoice, amount=amount, payment_date=day, method=method, reference=reference, recorded_by_id=actor.id
    )
    db.session.add(payment)
    invoice.amount_paid = invoice.amount_paid + amount
    _status_from_balance(invoice)
    db.session.flush()
    publish_invoice(invoice)
    return payment


def get_payment(user, invoice: Invoice, payment_id) -> Payment:
    payment_id = to_int(payment_id)
    payment = db.session.get(Payment, payment_id) if payment_id is not None else None
    if payment is None or payment.invoice_id != invoice.id:
        raise ObjectNotFound("That payment does not exist.")
    return payment


def void_payment(actor, payment: Payment, reason) -> Payment:
    """Void a mistaken payment with a reason (kept and audited); the balance reopens."""
    invoice = payment.invoice
    require(actor, "invoice.send", invoice)
    reason = str(reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the payment is voided."})
    errors: dict[str, str] = {}
    check_lengths({"reason": reason}, LIMITS, errors)
    if errors:
        raise ValidationError(errors)
    invoice = _locked(invoice)
    db.session.refresh(payment)
    if payment.is_void:
        raise ConflictError("That payment is already void.")
    if invoice.is_cancelled:
        raise ConflictError(f"{invoice.label} is cancelled.")
    if invoice.invoice_type == DEPOSIT and deposit_credit(invoice) < payment.amount:
        raise ConflictError("This deposit has been applied to a later invoice: remove it there first.")
    payment.voided_at = utcnow()
    payment.voided_by_id = actor.id
    payment.void_reason = reason
    invoice.amount_paid = invoice.amount_paid - payment.amount
    _status_from_balance(invoice)
    db.session.flush()
    publish_invoice(invoice)
    return payment


@checks_version("invoice")
def cancel_invoice(actor, invoice: Invoice, reason, version=None) -> Invoice:
    """Cancel an issued invoice (its number stays used); payments must be voided first."""
    require(actor, "invoice.send", invoice)
    if invoice.is_draft:
        raise ConflictError("A draft is not cancelled: delete it, or leave it unsent.")
    if invoice.is_cancelled:
        raise ConflictError(f"{invoice.label} is already cancelled.")
    expect_version(invoice, version)
    if invoice.amount_paid > 0:
        raise ConflictError(f"{invoice.label} has payments: void them before cancelling it.")
    if invoice.invoice_type == DEPOSIT and deposit_credit(invoice) < invoice.amount_paid:
        raise ConflictError("This deposit has been applied to a later invoice.")
    reason = str(reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the invoice is cancelled."})
    errors: dict[str, str] = {}
    check_lengths({"reason": reason}, LIMITS, errors)
    if errors:
        raise ValidationError(errors)
    note_reason(invoice, reason)
    invoice.status = CANCELLED
    invoice.cancelled_at = utcnow()
    invoice.cancel_reason = reason
    db.session.flush()
    publish_invoice(invoice)
    return invoice


def mark_overdue(day: dt.date | None = None) -> list[int]:
    """Sent invoices past their due date become OVERDUE (the daily job)."""
    day = day or today()
    invoices = db.session.scalars(
        select(Invoice)
        .where(Invoice.status == SENT, Invoice.due_date < day)
        .with_for_update(skip_locked=True, of=Invoice)
    ).all()
    for invoice in invoices:
        invoice.status = OVERDUE
    db.session.flush()
    for invoice in invoices:
        publish_invoice(invoice)
    return [i.id for i in invoices]


def status_label(code: str) -> str:
    return STATUSES[code]


# --- events --------------------------------------------------------------------------


def _audience(invoice: Invoice) -> list[int]:
    """Who hears of a change: the project's team and its client's users who may see the
    invoice now (a client never a draft); admins by role."""
    return entitled(project_audience(invoice.project), lambda user: can(user, VIEW, invoice))


def publish_invoice(invoice: Invoice) -> None:
    publish(
        "invoice-changed",
        {"id": invoice.id, "project_id": invoice.project_id},
        users=_audience(invoice),
        roles=[ADMIN],
    )
