"""Retainage released (retainage.release: admins, the project's PMs).

Held = the latest certified application's line 5 (what the certificates withhold);
released = Σ releases whose invoice is not cancelled (a draft invoice deleted takes its
release with it: the foreign key cascades). A release is an invoice of its own — a
partial one a *standard* invoice, the full one at completion (the last certificate at
100 %) a *final* invoice — whose one line has source "retainage" (the release's id), so
the invoices' own "retention" lines and figures are untouched. Checked under the
project's row lock: two releases at once cannot together pass what is held."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from app.core.errors import ConflictError, ValidationError
from app.core.money import ZERO, parse_price
from app.core.permissions import require
from app.extensions import db
from app.progress_billing import schedule, services
from app.progress_billing.models import RetainageRelease

RELEASE = "retainage.release"
NOTE_LIMIT = 500


def released(project_id: int) -> Decimal:
    from app.invoices.models import CANCELLED, Invoice

    return Decimal(
        db.session.scalar(
            select(func.coalesce(func.sum(RetainageRelease.amount), 0))
            .outerjoin(Invoice, Invoice.id == RetainageRelease.invoice_id)
            .where(
                RetainageRelease.project_id == project_id, (Invoice.status.is_(None)) | (Invoice.status != CANCELLED)
            )
        )
    )


def released_for(user, project_id: int) -> Decimal:
    """What `user` is shown as released (the one rule of pages and fragments): staff every
    release whose invoice is not cancelled; a client only those whose invoice was issued
    to them (sent, overdue or paid) — a draft's figure never reaches the client."""
    from app.invoices.models import OVERDUE, PAID, SENT, Invoice

    if not services.for_client(user):
        return released(project_id)
    return Decimal(
        db.session.scalar(
            select(func.coalesce(func.sum(RetainageRelease.amount), 0))
            .join(Invoice, Invoice.id == RetainageRelease.invoice_id)
            .where(RetainageRelease.project_id == project_id, Invoice.status.in_((SENT, OVERDUE, PAID)))
        )
    )


def available(project_id: int) -> Decimal:
    return max(services.retainage_held(project_id) - released(project_id), ZERO)


def is_complete(project_id: int) -> bool:
    latest = services.latest_certified(project_id)
    return latest is not None and latest.g702_total_completed_and_stored == latest.g702_contract_sum_to_date


def release_problem(held: Decimal, already: Decimal, amount: Decimal, final: bool, complete: bool) -> str | None:
    """Why `amount` cannot be released (pure: the property test drives it), or None."""
    left = held - already
    if amount <= 0:
        return "Enter an amount above zero."
    if amount > left:
        return f"Only {max(left, ZERO):,.2f} of retainage is held and not yet released."
    if final and not complete:
        return "The full release is at completion: the last certified application is not at 100 %."
    if final and amount != left:
        return f"The full release at completion is all that is held: {left:,.2f}."
    return None


def releases_of(project_id: int) -> list[RetainageRelease]:
    return list(
        db.session.scalars(
            select(RetainageRelease).where(RetainageRelease.project_id == project_id).order_by(RetainageRelease.id)
        )
    )


def release(actor, project, amount, final: bool = False, note: str = "") -> RetainageRelease:
    """Release retainage through an invoice (a DRAFT sent with the normal invoice flow)."""
    require(actor, RELEASE, project)
    if project.is_closed:
        raise ConflictError("This project is closed: nothing more is invoiced.")
    schedule._lock(project)
    held, already = services.retainage_held(project.id), released(project.id)
    if final and amount in (None, ""):
        amount = held - already
    try:
        value = parse_price(amount, "amount")
    except ValueError as exc:
        raise ValidationError({"amount": str(exc)}) from None
    problem = release_problem(held, already, value, final, is_complete(project.id))
    if problem:
        raise ValidationError({"amount": problem})
    note = str(note or "").strip()
    if len(note) > NOTE_LIMIT:
        raise ValidationError({"note": f"The note is too long: at most {NOTE_LIMIT} characters, please "
                                       f"(this has {len(note):,})."})  # fmt: skip
    from app.invoices.services import create_invoice, today

    label = "Retainage release at completion" if final else "Partial release of retainage"
    invoice = create_invoice(
        actor,
        project,
        {"invoice_type": "final" if final else "standard", "issue_date": today(), "retention_amount": "0",
         "internal_notes": note},
        [{"description": label, "quantity": "1", "unit_price": str(value)}],
    )  # fmt: skip
    row = RetainageRelease(project_id=project.id, amount=value, is_final=final, invoice_id=invoice.id, note=note,
                           created_by_id=actor.id)  # fmt: skip
    db.session.add(row)
    db.session.flush()
    line = invoice.lines[0]
    line.source, line.source_id = "retainage", row.id
    db.session.flush()
    services.publish_project_billing(project)
    return row


def check_invoice_line(invoice, source_id, total: Decimal) -> str | None:
    """The invoices' check of a "retainage" line when its draft is edited: it must be
    this invoice's own release, at its amount."""
    row = db.session.get(RetainageRelease, source_id) if source_id is not None else None
    if row is None or invoice is None or row.invoice_id != invoice.id:
        return "a retainage release comes from the project's progress billing page."
    if total != row.amount:
        return f"the retainage released is {row.amount}."
    return None
