"""An invoice's PDF and its email (SPEC.md §3: "Invoice PDF generation and emailing run
in an RQ worker").

- The PDF is drawn by WeasyPrint from `invoices/print.html`, stored in media storage
  (core.storage, private) and remembered with the invoice version it shows
  (`InvoicePdf`); a PDF of another version is stale and is drawn again before it is
  sent or downloaded — a stale PDF is never sent.
- "Send" queues an `InvoiceDelivery` (recipient and Message-ID chosen at once) and a job
  on the `invoices` queue; the job locks the delivery, draws the PDF if needed, emails it
  through SMTP and marks the delivery sent. A delivery already sent is skipped, so a job
  that runs again after its worker died does not email twice; a failure is recorded and
  raised, and RQ retries it with backoff (core.jobs.RETRY).
"""

from __future__ import annotations

import hashlib
import smtplib
import time
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from flask import current_app, render_template
from sqlalchemy import select

from app.core import storage
from app.core.jobs import enqueue
from app.core.models import utcnow
from app.extensions import db
from app.invoices.models import Invoice, InvoiceDelivery, InvoicePdf

PDF_TYPE = "application/pdf"


def _no_fetch():
    """Printing fetches nothing from a URL: the logo comes inline (a data: URL). WeasyPrint
    70 takes a `URLFetcher` (a bare function and `default_url_fetcher` are gone): one that
    reads data: URLs only; any other address is refused (left out with a warning)."""
    from weasyprint.urls import URLFetcher

    return URLFetcher(allowed_protocols={"data"})


def render_html(invoice: Invoice) -> str:
    from app.company.services import company, logo_data_url
    from app.invoices.services import deposit_lines_of

    return render_template(
        "invoices/print.html",
        invoice=invoice,
        company=company(),
        logo=logo_data_url(),
        credits=deposit_lines_of(invoice),
    )


def render_pdf(invoice: Invoice) -> bytes:
    return _pdf_of(render_html(invoice))


def _pdf_of(html: str) -> bytes:
    from weasyprint import HTML

    return HTML(string=html, base_url=None, url_fetcher=_no_fetch()).write_pdf()


def filename(invoice: Invoice) -> str:
    return storage.safe_filename(f"{invoice.label}.pdf", "invoice.pdf")


def fingerprint(html: str) -> str:
    """What a PDF shows, as a SHA-256 of the HTML it is drawn from: the invoice and also
    the company's details and logo, the client's billing address, the project's name."""
    return hashlib.sha256(html.encode("utf-8")).hexdigest()


def _draw(invoice: Invoice) -> tuple[str, str]:
    with current_app.test_request_context("/"):  # url_for and the filters work in a job too
        html = render_html(invoice)
    return html, fingerprint(html)


def current_pdf(invoice: Invoice) -> InvoicePdf:
    """The stored PDF of the invoice as it is now, drawn and stored first when missing or
    stale — when anything it shows changed (the fingerprint of its HTML differs), not only
    the invoice. The old object is deleted once the new one is stored."""
    stored = db.session.get(InvoicePdf, invoice.id)
    html, mark = _draw(invoice)
    if stored is not None and stored.fingerprint == mark:
        return stored
    data = _pdf_of(html)
    key = storage.save(storage.new_key(f"invoices/{invoice.project_id}", "pdf"), data, PDF_TYPE)
    old_key = stored.storage_key if stored is not None else None
    if stored is None:
        stored = InvoicePdf(invoice_id=invoice.id)
        db.session.add(stored)
    stored.invoice_version, stored.fingerprint, stored.storage_key = invoice.version, mark, key
    stored.size, stored.created_at = len(data), utcnow()
    db.session.flush()
    if old_key:
        from app.core.transaction import after_commit

        after_commit(lambda: storage.delete(old_key))
    return stored


def pdf_bytes(invoice: Invoice) -> bytes:
    """The PDF of the invoice as it is now: the stored copy when current, else drawn."""
    stored = db.session.get(InvoicePdf, invoice.id)
    html, mark = _draw(invoice)
    if stored is not None and stored.fingerprint == mark:
        return storage.read(stored.storage_key)
    return _pdf_of(html)


def queue_send(invoice: Invoice, actor=None, batch_id: str | None = None) -> InvoiceDelivery:
    """A delivery to the invoice's billing recipient, sent by a worker after the commit."""
    from app.invoices.services import recipient

    name, email = recipient(invoice)
    domain = (current_app.config.get("EMAIL_FROM") or "kibray.local").rpartition("@")[2].strip("> ") or "kibray.local"
    delivery = InvoiceDelivery(
        invoice_id=invoice.id,
        batch_id=batch_id,
        recipient_name=name,
        recipient_email=email,
        message_id=make_msgid("invoice", domain=domain),
        status="pending",
        requested_by_id=getattr(actor, "id", None),
    )
    db.session.add(delivery)
    db.session.flush()
    enqueue("workers.invoices.deliver", delivery.id, queue="invoices", job_id=f"invoice-delivery-{delivery.id}")
    return delivery


def deliver(delivery_id: int, retries_left: int = 0) -> str:
    """The job's work: lock the delivery (two workers never both send it), skip it once
    sent, draw the PDF of the invoice as it is now, email it, record it."""
    delivery = db.session.scalar(
        select(InvoiceDelivery)
        .where(InvoiceDelivery.id == delivery_id)
        .with_for_update(skip_locked=True, of=InvoiceDelivery)
    )
    if delivery is None or delivery.status != "pending":
        return "skipped"
    invoice = delivery.invoice
    if invoice.is_draft or invoice.is_cancelled:
        delivery.status, delivery.last_error = "failed", f"the invoice is {invoice.status_label.lower()}"
        _announce(delivery)  # a batch's bar still reaches its end
        return "skipped"
    pdf = current_pdf(invoice)
    data = storage.read(pdf.storage_key)
    db.session.commit()  # the PDF is kept even if the email fails; the delivery lock is released…
    delivery = db.session.scalar(  # …and taken again before sending
        select(InvoiceDelivery)
        .where(InvoiceDelivery.id == delivery_id)
        .with_for_update(skip_locked=True, of=InvoiceDelivery)
    )
    if delivery is None or delivery.status != "pending":
        return "skipped"
    invoice = delivery.invoice
    db.session.refresh(invoice)
    pdf = current_pdf(invoice)  # changed in between (a payment)? drawn again: what goes out is current
    data = storage.read(pdf.storage_key)
    pause = current_app.config.get("INVOICE_SEND_PAUSE_SECONDS") or 0
    if pause:  # tests: a window in which a worker can be killed mid-job
        time.sleep(float(pause))
    try:
        _email(invoice, delivery, data)
    except (OSError, smtplib.SMTPException) as exc:
        delivery.attempts += 1
        delivery.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        if retries_left <= 0:
            delivery.status = "failed"
            _announce(delivery)  # (published after the commit below)
        db.session.commit()  # the attempt is recorded even though the job fails
        raise
    delivery.attempts += 1
    delivery.status = "sent"
    delivery.sent_at = utcnow()
    _announce(delivery)
    return "sent"


def _email(invoice: Invoice, delivery: InvoiceDelivery, pdf: bytes) -> None:
    from app.company.services import company

    cfg = current_app.config
    firm = company()
    message = EmailMessage()
    message["From"] = cfg["EMAIL_FROM"]
    message["To"] = formataddr((delivery.recipient_name, delivery.recipient_email))
    message["Subject"] = f"Invoice {invoice.label} from {firm.name} — {invoice.project.name}"
    message["Message-ID"] = delivery.message_id
    with current_app.test_request_context("/"):
        message.set_content(render_template("invoices/email.txt", invoice=invoice, company=firm, delivery=delivery))
    message.add_attachment(pdf, maintype="application", subtype="pdf", filename=filename(invoice))
    with smtplib.SMTP(cfg["EMAIL_HOST"], int(cfg["EMAIL_PORT"]), timeout=20) as server:
        if cfg.get("EMAIL_USE_TLS"):
            server.starttls()
        if cfg.get("EMAIL_HOST_USER"):
            server.login(cfg["EMAIL_HOST_USER"], cfg.get("EMAIL_HOST_PASSWORD") or "")
        server.send_message(message)


def _announce(delivery: InvoiceDelivery) -> None:
    """The invoice's page and a batch's progress bar hear that a delivery ended."""
    from app.invoices.batch import announce
    from app.invoices.services import publish_invoice

    publish_invoice(delivery.invoice)
    announce(delivery)


def deliveries_of(invoice: Invoice) -> list[InvoiceDelivery]:
    return list(
        db.session.scalars(
            select(InvoiceDelivery).where(InvoiceDelivery.invoice_id == invoice.id).order_by(InvoiceDelivery.id.desc())
        )
    )
