"""Overdue invoices and payment reminders (the periodic job, SPEC.md §3 "Invoices past
due and unpaid become overdue").

Hourly (so a restart never skips a day), idempotent: sent invoices past their due date
become OVERDUE; each unpaid issued invoice reaches, as days pass, the reminder stages
"due in 3 days", "due today", "7 days overdue", "30 days overdue" — at each stage, once,
the project's PMs are notified (invoice_due) and the client's billing contact gets an
email. The stage told is kept on the invoice (`reminder_stage`), so nobody is told twice.
"""

from __future__ import annotations

import datetime as dt
import smtplib

from flask import current_app, render_template
from sqlalchemy import select, update
from sqlalchemy.orm.attributes import set_committed_value

from app.extensions import db
from app.invoices.models import PAYABLE, Invoice

# (code, first day relative to the due date, what the PMs read)
STAGES = (
    ("due_soon", -3, "is due in 3 days"),
    ("due", 0, "is due today"),
    ("overdue_7", 7, "is 7 days overdue"),
    ("overdue_30", 30, "is 30 days overdue"),
)
_RANK = {code: rank for rank, (code, _days, _text) in enumerate(STAGES, start=1)}


def stage_for(due: dt.date, today: dt.date) -> tuple[str, str] | None:
    """The latest stage an invoice due on `due` has reached on `today`, or None."""
    reached = None
    for code, days, text in STAGES:
        if today >= due + dt.timedelta(days=days):
            reached = (code, text)
    return reached


def run(today: dt.date | None = None) -> dict:
    from app.invoices import services

    today = today or services.today()
    overdue = services.mark_overdue(today)
    told = 0
    invoices = db.session.scalars(
        select(Invoice)
        .where(Invoice.status.in_(PAYABLE), Invoice.due_date <= today + dt.timedelta(days=3))
        .order_by(Invoice.id)
        .with_for_update(skip_locked=True, of=Invoice)
    ).all()
    for invoice in invoices:
        reached = stage_for(invoice.due_date, today)
        if reached is None or invoice.net_payable <= 0:
            continue
        code, text = reached
        if _RANK[code] <= _RANK.get(invoice.reminder_stage, 0):
            continue
        # bookkeeping, written past the ORM: not a change of the invoice (its version, which
        # an open page sends back, stays)
        db.session.execute(update(Invoice).where(Invoice.id == invoice.id).values(reminder_stage=code))
        set_committed_value(invoice, "reminder_stage", code)
        _tell(invoice, text)
        told += 1
    db.session.flush()
    return {"overdue": len(overdue), "reminded": told}


def _tell(invoice: Invoice, text: str) -> None:
    from app.core.events import project_audience
    from app.core.permissions import can
    from app.invoices.services import recipient
    from app.notifications.services import notify

    title = f"Invoice {invoice.label} for {invoice.project.name} {text} ({invoice.net_payable} owed)"
    from app.auth.models import User

    for user_id in project_audience(invoice.project):
        user = db.session.get(User, user_id)
        if user is not None and user.role != "client" and can(user, "invoice.send", invoice):
            notify(user, "invoice_due", title, "invoices.detail", {"invoice_id": invoice.id},
                   project_id=invoice.project_id)  # fmt: skip
    to = recipient(invoice)
    if to is not None and current_app.config.get("EMAIL_HOST"):
        from app.core.transaction import after_commit

        invoice_id, stage_text = invoice.id, text
        app = current_app._get_current_object()
        after_commit(lambda: _email_later(app, invoice_id, stage_text))


def _email_later(app, invoice_id: int, text: str) -> None:
    from app.core.jobs import send

    with app.app_context():
        send("workers.invoices.remind_client", invoice_id, text, queue="invoices")


def email_client(invoice_id: int, text: str) -> str:
    """The reminder email to the client's billing contact (a job; RQ retries failures)."""
    from app.company.services import company
    from app.invoices.services import recipient
    from app.notifications.channels import smtp_send

    invoice = db.session.get(Invoice, invoice_id)
    if invoice is None or invoice.status not in PAYABLE:
        return "skipped"
    to = recipient(invoice)
    if to is None:
        return "skipped"
    with current_app.test_request_context("/"):
        body = render_template("invoices/reminder.txt", invoice=invoice, company=company(), stage=text)
    try:
        smtp_send(to[1], f"Reminder: invoice {invoice.label} {text}", body)
    except (OSError, smtplib.SMTPException):
        raise
    return "sent"
