"""Sending many invoices at once (issue 12): one batch, a live progress bar, a failure of
one never stopping the rest.

"Send selected" issues each chosen invoice in its own savepoint (one that cannot be sent
— waiting for review, cancelled, no billing email — is left out with its reason, the
others go on) and queues one delivery per invoice under a batch id; each delivery is its
own job on the `invoices` queue (app/invoices/delivery.py), so a failing email is retried
alone. The batch page counts the deliveries sent and failed out of all, and redraws on
`batch-progress`, published to whoever started the batch as each delivery ends."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy import func, select

from app.core.errors import ConflictError, ObjectNotFound, ValidationError
from app.core.events import publish
from app.core.permissions import can
from app.core.transaction import attempt
from app.extensions import db
from app.invoices import services
from app.invoices.models import Invoice, InvoiceDelivery

MAX_BATCH = 500


@dataclass
class Started:
    batch_id: str
    queued: int = 0
    left_out: list[tuple[str, str]] = field(default_factory=list)  # (invoice label, why)


def send_many(actor, invoice_ids: list[int]) -> Started:
    """Issue and queue each invoice `actor` may send; the others are left out with why."""
    started = Started(uuid.uuid4().hex)
    invoices = db.session.scalars(
        services.visible_invoices(actor).where(Invoice.id.in_(invoice_ids)).order_by(Invoice.id)
    ).all()
    found = {i.id for i in invoices}
    for missing in sorted(set(invoice_ids) - found):
        started.left_out.append((f"#{missing}", "does not exist or you cannot see it"))
    for invoice in invoices:
        if not can(actor, "invoice.send", invoice):
            started.left_out.append((invoice.label, "you may not send it"))
            continue
        try:
            with attempt():
                services.send_invoice(actor, invoice, batch_id=started.batch_id)
            started.queued += 1
        except ValidationError as exc:
            started.left_out.append((invoice.label, " ".join(exc.fields.values()) or exc.message))
        except ConflictError as exc:
            started.left_out.append((invoice.label, exc.message))
    return started


@dataclass(frozen=True)
class Progress:
    batch_id: str
    total: int
    sent: int
    failed: int

    @property
    def done(self) -> int:
        return self.sent + self.failed

    @property
    def percent(self) -> int:
        return 100 if not self.total else int(self.done * 100 / self.total)

    @property
    def finished(self) -> bool:
        return self.done >= self.total


def progress(user, batch_id: str) -> Progress:
    """The batch's counts; only for whoever started it (or an admin)."""
    stmt = select(
        func.count(),
        func.count().filter(InvoiceDelivery.status == "sent"),
        func.count().filter(InvoiceDelivery.status == "failed"),
        func.min(InvoiceDelivery.requested_by_id),
    ).where(InvoiceDelivery.batch_id == batch_id[:40])
    total, sent, failed, owner = db.session.execute(stmt).one()
    if not total or (owner != user.id and not can(user, "invoice.approve_draft")):
        raise ObjectNotFound("That batch does not exist or is not yours.")
    return Progress(batch_id, total, sent, failed)


def failures(batch_id: str) -> list[InvoiceDelivery]:
    return list(
        db.session.scalars(
            select(InvoiceDelivery)
            .where(InvoiceDelivery.batch_id == batch_id, InvoiceDelivery.status == "failed")
            .order_by(InvoiceDelivery.id)
        )
    )


def announce(delivery: InvoiceDelivery) -> None:
    """A delivery of a batch ended: its starter's progress bar redraws."""
    if delivery.batch_id and delivery.requested_by_id:
        publish("batch-progress", {"id": delivery.batch_id}, users=[delivery.requested_by_id])
