"""Invoice jobs (queue `invoices`): an invoice's PDF and email (app/invoices/delivery.py),
the hourly overdue marking and payment reminders (app/invoices/reminders.py)."""

from __future__ import annotations

from workers.base import job, retries_left


@job
def deliver(delivery_id: int) -> str:
    """Draw the invoice's PDF if stale, email it, record it; never twice (delivery.deliver)."""
    from app.invoices.delivery import deliver as run

    return run(delivery_id, retries_left())


@job
def reminders() -> dict:
    """Hourly: sent invoices past due become OVERDUE; each reminder stage told once."""
    from app.invoices.reminders import run

    return run()


@job
def remind_client(invoice_id: int, text: str) -> str:
    from app.invoices.reminders import email_client

    return email_client(invoice_id, text)
