"""The accountant's export (issue 13): issued invoices, payments and expenses of a period
as CSV files QuickBooks Online imports, one file per kind; a preview; and a record of what
was exported (AccountingExport + one AccountingExportItem per invoice, payment or expense)
so that nothing goes twice unless asked ("include already exported"). Admins only
(`accounting.export`). The layouts (docs/architecture.md):

- invoices — QuickBooks Online's own invoice import (Settings → Import data → Invoices),
  one row per line: InvoiceNo, Customer ("Client:Project", QBO's customer:job), InvoiceDate,
  DueDate, Terms, Memo, Item(Product/Service), ItemDescription, ItemQuantity, ItemRate,
  ItemAmount, ItemTaxCode (TAX/NON), Class (the project). Retention held on an invoice is a
  negative "Retention held" line, so QBO's balance is what is owed now; the final invoice's
  "Retention release" line bills it.
- payments — the "Receive payment" layout of QBO Advanced's spreadsheet import (and of the
  usual import tools): PaymentDate, Customer, PaymentMethod, RefNo, InvoiceNo, Amount,
  DepositToAccount ("Undeposited Funds"), Memo.
- expenses — the "Expense" layout: RefNo, PaymentDate, Payee, PaymentAccount, PaymentMethod,
  ExpenseAccount (the category's account), ExpenseDescription, ExpenseAmount,
  ExpenseCustomer ("Client:Project", for job costing), ExpenseClass, Memo. Only expenses
  that count as cost (company expenses, approved or paid claims).
Dates are MM/DD/YYYY (choose that format in QBO's import)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Integer, String, cast, exists, func, insert, literal, select, text, union_all

from app.clients.models import Client
from app.core import storage
from app.core.errors import ObjectNotFound, ValidationError
from app.core.permissions import require
from app.expenses.models import Expense
from app.extensions import db
from app.invoices.models import LINE_SOURCES, OVERDUE, PAID, PAYMENT_METHODS, SENT, Invoice, InvoiceLine, Payment
from app.projects.models import Project
from app.reports import csv_out
from app.reports.filters import EARLIEST, LATEST
from app.reports.models import KINDS, AccountingExport, AccountingExportItem

ACTION = "accounting.export"
ISSUED = (SENT, OVERDUE, PAID)
PREVIEW_ROWS = 20
TERMS = {"due_on_receipt": "Due on receipt", "net_15": "Net 15", "net_30": "Net 30", "net_45": "Net 45",
         "net_60": "Net 60"}  # fmt: skip
ITEMS = {None: "Services", **LINE_SOURCES, "task": "Services", "retention_held": "Retention held"}
ACCOUNTS = {
    "MATERIALS": "Job Expenses:Job Materials",
    "LABOR": "Job Expenses:Cost of Labor",
    "EQUIPMENT": "Job Expenses:Equipment Rental",
    "TOOLS": "Tools and Small Equipment",
    "SUBCONTRACTOR": "Job Expenses:Subcontractors",
    "PERMITS": "Job Expenses:Permits",
    "INSURANCE": "Insurance",
    "OVERHEAD": "Overhead",
}
HEADERS = {
    "invoices": ("InvoiceNo", "Customer", "InvoiceDate", "DueDate", "Terms", "Memo", "Item(Product/Service)",
                 "ItemDescription", "ItemQuantity", "ItemRate", "ItemAmount", "ItemTaxCode", "Class"),
    "payments": ("PaymentDate", "Customer", "PaymentMethod", "RefNo", "InvoiceNo", "Amount", "DepositToAccount",
                 "Memo"),
    "expenses": ("RefNo", "PaymentDate", "Payee", "PaymentAccount", "PaymentMethod", "ExpenseAccount",
                 "ExpenseDescription", "ExpenseAmount", "ExpenseCustomer", "ExpenseClass", "Memo"),
}  # fmt: skip


@dataclass(frozen=True)
class Request:
    kind: str
    date_from: dt.date
    date_to: dt.date
    include_exported: bool = False

    def args(self) -> dict:
        out = {"kind": self.kind, "date_from": self.date_from.isoformat(), "date_to": self.date_to.isoformat()}
        if self.include_exported:
            out["include_exported"] = "1"
        return out


def parse(kind, date_from, date_to, include_exported=False) -> Request:
    """The export asked for; a ValidationError naming each bad field."""
    errors: dict[str, str] = {}
    if kind not in KINDS:
        errors["kind"] = "Choose invoices, payments or expenses."
    dates = []
    for name, value in (("date_from", date_from), ("date_to", date_to)):
        if isinstance(value, dt.date):
            day = value
        else:
            try:
                day = dt.date.fromisoformat(str(value or "").strip())
            except ValueError:
                errors[name] = "Enter a date as YYYY-MM-DD."
                day = None
        if day is not None and not EARLIEST <= day <= LATEST:
            errors[name] = f"Enter a date between {EARLIEST.year} and {LATEST.year}."
            day = None
        dates.append(day)
    if all(dates) and dates[0] > dates[1]:
        errors["date_to"] = "The end of the period is before its start."
    if errors:
        raise ValidationError(errors)
    flag = include_exported in (True, "1", "true", "on", "yes")
    return Request(kind, dates[0], dates[1], flag)


def _customer(client_name, project_name):
    """QBO's customer:job, "Client:Project" (a colon inside a name would nest it: a dash)."""
    return func.replace(client_name, ":", "-").concat(":").concat(func.replace(project_name, ":", "-"))


def _exported(kind: str, object_id):
    return exists(
        select(AccountingExportItem.id).where(
            AccountingExportItem.kind == kind, AccountingExportItem.object_id == object_id
        )
    )


def rows_select(req: Request):
    """object_id, exported, sort keys, then the layout's cells — of the kind and period."""
    exported_of = {
        "invoices": Invoice.id,
        "payments": Payment.id,
        "expenses": Expense.id,
    }
    object_id = exported_of[req.kind]
    done = _exported(req.kind, object_id).label("exported")
    if req.kind == "invoices":
        customer = _customer(Client.name, Project.name)
        base = (
            Invoice.status.in_(ISSUED),
            Invoice.issue_date >= req.date_from,
            Invoice.issue_date <= req.date_to,
        )
        lines = (
            select(
                Invoice.id.label("object_id"),
                done,
                Invoice.number.label("number"),
                InvoiceLine.position.label("position"),
                customer.label("customer"),
                Invoice.issue_date,
                Invoice.due_date,
                Invoice.payment_terms,
                Invoice.tax_rate,
                Invoice.tax_amount,
                InvoiceLine.source.label("item"),
                InvoiceLine.description,
                InvoiceLine.quantity,
                InvoiceLine.unit_price,
                InvoiceLine.line_total,
                InvoiceLine.tax_rate.label("line_tax"),
                Project.name.label("class_"),
            )  # fmt: skip
            .join(InvoiceLine, InvoiceLine.invoice_id == Invoice.id)
            .join(Project, Project.id == Invoice.project_id)
            .join(Client, Client.id == Invoice.client_id)
            .where(*base)
        )
        held = (
            select(
                Invoice.id,
                done,
                Invoice.number,
                literal(1_000_000).label("position"),
                customer,
                Invoice.issue_date,
                Invoice.due_date,
                Invoice.payment_terms,
                Invoice.tax_rate,
                Invoice.tax_amount,
                literal("retention_held").label("item"),
                literal("Retention held").label("description"),
                cast(literal(1), InvoiceLine.quantity.type),
                -Invoice.retention_amount,
                -Invoice.retention_amount,
                cast(literal(0), InvoiceLine.tax_rate.type),
                Project.name,
            )  # fmt: skip
            .join(Project, Project.id == Invoice.project_id)
            .join(Client, Client.id == Invoice.client_id)
            .where(*base, Invoice.retention_amount > 0)
        )
        if not req.include_exported:
            lines = lines.where(~_exported("invoices", Invoice.id))
            held = held.where(~_exported("invoices", Invoice.id))
        both = union_all(lines, held).subquery("rows")
        return select(both).order_by(both.c.issue_date, both.c.number, both.c.position)
    if req.kind == "payments":
        stmt = (
            select(
                Payment.id.label("object_id"),
                done,
                Payment.payment_date,
                _customer(Client.name, Project.name).label("customer"),
                Payment.method,
                Payment.reference,
                Invoice.number,
                Payment.amount,
            )  # fmt: skip
            .join(Invoice, Invoice.id == Payment.invoice_id)
            .join(Project, Project.id == Invoice.project_id)
            .join(Client, Client.id == Invoice.client_id)
            .where(
                Payment.voided_at.is_(None), Payment.payment_date >= req.date_from, Payment.payment_date <= req.date_to
            )
            .order_by(Payment.payment_date, Payment.id)
        )
    else:
        from app.auth.models import User

        stmt = (
            select(
                Expense.id.label("object_id"),
                done,
                Expense.expense_date,
                Expense.vendor,
                User.full_name.label("employee"),
                Expense.paid_by_employee_id,
                Expense.reimbursement_method,
                Expense.category,
                Expense.description,
                Expense.amount,
                _customer(Client.name, Project.name).label("customer"),
                Project.name.label("class_"),
            )  # fmt: skip
            .join(Project, Project.id == Expense.project_id)
            .join(Client, Client.id == Project.client_id)
            .outerjoin(User, User.id == Expense.paid_by_employee_id)
            .where(
                Expense.is_cost.is_(True), Expense.expense_date >= req.date_from, Expense.expense_date <= req.date_to
            )
            .order_by(Expense.expense_date, Expense.id)
        )
    if not req.include_exported:
        stmt = stmt.where(~_exported(req.kind, object_id))
    return stmt


def _us(day: dt.date) -> str:
    return day.strftime("%m/%d/%Y")


def _cells(kind: str, row) -> tuple:
    money = csv_out.money
    if kind == "invoices":
        taxed = row.line_tax and row.line_tax > 0
        memo = f"Tax {row.tax_rate.normalize():f}% = {row.tax_amount:.2f}" if row.tax_amount else ""
        return (row.number, row.customer, _us(row.issue_date), _us(row.due_date), TERMS.get(row.payment_terms, ""),
                memo, ITEMS.get(row.item, "Services"),
                row.description, csv_out.Number(f"{row.quantity.normalize():f}"), money(row.unit_price),
                money(row.line_total), "TAX" if taxed else "NON", row.class_)  # fmt: skip
    if kind == "payments":
        return (_us(row.payment_date), row.customer, PAYMENT_METHODS.get(row.method, row.method), row.reference,
                row.number, money(row.amount), "Undeposited Funds", f"Payment on {row.number}")  # fmt: skip
    claim = row.paid_by_employee_id is not None
    account = (
        "Petty Cash" if row.reimbursement_method == "petty_cash" else "Reimbursements Payable" if claim else "Checking"
    )
    payee = row.vendor or (row.employee or "")
    memo = f"Reimbursement claim of {row.employee}" if claim else ""
    return (f"EXP-{row.object_id}", _us(row.expense_date), payee, account, "Employee" if claim else "",
            ACCOUNTS[row.category], row.description, money(row.amount), row.customer, row.class_, memo)  # fmt: skip


@dataclass
class Preview:
    request: Request
    rows: list  # (exported, cells) of the first PREVIEW_ROWS
    new: int  # objects (invoices, payments, expenses) not yet exported
    already: int  # objects exported before
    lines: int  # CSV rows the export would write

    @property
    def header(self) -> tuple:
        return HEADERS[self.request.kind]


def preview(user, req: Request) -> Preview:
    """The first rows of the file and the counts, marking rows already exported (three
    statements)."""
    require(user, ACTION)
    everything = rows_select(Request(req.kind, req.date_from, req.date_to, True)).subquery("all_rows")
    counts = db.session.execute(
        select(
            func.count(func.distinct(everything.c.object_id)).filter(everything.c.exported.is_(False)),
            func.count(func.distinct(everything.c.object_id)).filter(everything.c.exported.is_(True)),
            func.count().filter(everything.c.exported.is_(False) | literal(req.include_exported)),
        )
    ).one()
    rows = db.session.execute(rows_select(req).limit(PREVIEW_ROWS)).all()
    return Preview(req, [(row.exported, _cells(req.kind, row)) for row in rows], counts[0], counts[1], counts[2])


def csv_lines(user, req: Request):
    """The file, streamed (a pure read: nothing is recorded)."""
    require(user, ACTION)
    rows = db.session.execute(rows_select(req).execution_options(yield_per=1000))
    return csv_out.lines(HEADERS[req.kind], (_cells(req.kind, row) for row in rows))


def filename(req: Request) -> str:
    return f"quickbooks-{req.kind}-{req.date_from.isoformat()}-to-{req.date_to.isoformat()}.csv"


def record_export(user, req: Request) -> AccountingExport:
    """Make the file and record it with the objects it carried, so the next export leaves
    them out (unless asked). Two admins exporting at once are serialised (an advisory lock
    on PostgreSQL), so no row goes out twice by accident. Nothing to export is refused."""
    require(user, ACTION)
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(hashtext('kibray.accounting_export'))"))
    body = "".join(csv_lines(user, req))
    stmt = rows_select(req).subquery("chosen")
    objects = select(stmt.c.object_id).distinct()
    count = db.session.scalar(select(func.count()).select_from(objects.subquery()))
    if not count:
        raise ValidationError(
            {
                "kind": "Nothing to export in this period"
                + ("." if req.include_exported else " that was not exported before.")
            }
        )
    export = AccountingExport(
        kind=req.kind,
        period_from=req.date_from,
        period_to=req.date_to,
        include_exported=req.include_exported,
        row_count=count,
        created_by_id=user.id,
    )
    db.session.add(export)
    db.session.flush()
    db.session.execute(
        insert(AccountingExportItem).from_select(
            ["export_id", "kind", "object_id"],
            select(literal(export.id, Integer), literal(req.kind, String), objects.subquery().c.object_id),
        )
    )
    export.file_key = storage.save(storage.new_key(f"exports/{export.id}", "csv"), body.encode(), "text/csv")
    db.session.flush()
    return export


def get_export(user, export_id: int) -> AccountingExport:
    require(user, ACTION)
    export = db.session.get(AccountingExport, export_id)
    if export is None:
        raise ObjectNotFound("No such export.")
    return export


def export_file(user, export: AccountingExport):
    """The file as it was made; without a stored copy, its recorded objects written again."""
    require(user, ACTION)
    if export.file_key and storage.exists(export.file_key):
        return [storage.read(export.file_key).decode()]
    req = Request(export.kind, export.period_from, export.period_to, True)
    chosen = rows_select(req).subquery("chosen")
    mine = select(AccountingExportItem.object_id).where(AccountingExportItem.export_id == export.id)
    rows = db.session.execute(
        select(chosen).where(chosen.c.object_id.in_(mine)).order_by(*(chosen.c[k] for k in _ORDER[export.kind]))
    )
    return csv_out.lines(HEADERS[export.kind], (_cells(export.kind, row) for row in rows))


_ORDER = {
    "invoices": ("issue_date", "number", "position"),
    "payments": ("payment_date", "object_id"),
    "expenses": ("expense_date", "object_id"),
}


def export_filename(export: AccountingExport) -> str:
    return f"quickbooks-{export.kind}-export-{export.id}.csv"


def recent_exports(user, limit: int = 20) -> list[AccountingExport]:
    require(user, ACTION)
    return list(db.session.scalars(select(AccountingExport).order_by(AccountingExport.id.desc()).limit(limit)))
