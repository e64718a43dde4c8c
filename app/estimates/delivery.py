"""An estimate's PDF and its email (the pattern of invoices/delivery.py).

- The PDF is drawn by WeasyPrint from `estimates/print.html` when asked (a download, an
  email): an estimate changes only while a draft, so nothing is stored.
- "Send" queues an `EstimateDelivery` (recipient, Message-ID and the link's hash chosen
  at once) and a job on the `invoices` queue carrying the link's token (the database
  keeps only its hash); the job locks the delivery, skips it once sent or when a newer
  send replaced the link, draws the PDF, emails it with the link through SMTP and marks
  it sent. A failure is recorded and raised, and RQ retries it (core.jobs.RETRY); a
  re-run after its worker died does not email twice.
"""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from flask import current_app, render_template
from sqlalchemy import select

from app.core import storage
from app.core.crypto import decrypt, encrypt
from app.core.jobs import enqueue
from app.core.models import utcnow
from app.estimates.models import Estimate, EstimateDelivery
from app.extensions import db

PDF_TYPE = "application/pdf"


def render_html(estimate: Estimate) -> str:
    from app.company.services import company, logo_data_url

    counted = [line for line in estimate.lines if line.counts]
    options = [line for line in estimate.lines if line.is_optional and not line.is_selected]
    return render_template(
        "estimates/print.html", estimate=estimate, company=company(), logo=logo_data_url(), counted=counted,
        options=options,
    )  # fmt: skip


def render_pdf(estimate: Estimate) -> bytes:
    from weasyprint import HTML

    from app.invoices.delivery import _no_fetch

    return HTML(string=render_html(estimate), base_url=None, url_fetcher=_no_fetch()).write_pdf()


def pdf_bytes(estimate: Estimate) -> bytes:
    with current_app.test_request_context("/"):  # url_for and the filters work in a job too
        return render_pdf(estimate)


def filename(estimate: Estimate) -> str:
    return storage.safe_filename(f"{estimate.number}.pdf", "estimate.pdf")


def queue_send(estimate: Estimate, token: str, who: tuple[str, str], actor=None) -> EstimateDelivery:
    """A delivery of the review link `token` to `who` (name, email), sent after the commit."""
    from app.estimates.services import token_hash

    domain = (current_app.config.get("EMAIL_FROM") or "kibray.local").rpartition("@")[2].strip("> ") or "kibray.local"
    delivery = EstimateDelivery(
        estimate_id=estimate.id,
        recipient_name=who[0],
        recipient_email=who[1],
        message_id=make_msgid("estimate", domain=domain),
        token_hash=token_hash(token),
        status="pending",
        attempts=0,
        last_error="",
        requested_by_id=getattr(actor, "id", None),
    )
    db.session.add(delivery)
    db.session.flush()
    # the link's token rides in the job encrypted (core.crypto): Redis keeps job arguments,
    # failed jobs' too, and only its hash is ever stored in the clear
    enqueue("workers.estimates.deliver", delivery.id, encrypt(token), queue="invoices",
            job_id=f"estimate-delivery-{delivery.id}")  # fmt: skip
    return delivery


def _locked(delivery_id: int) -> EstimateDelivery | None:
    return db.session.scalar(
        select(EstimateDelivery)
        .where(EstimateDelivery.id == delivery_id)
        .with_for_update(skip_locked=True, of=EstimateDelivery)
    )


def deliver(delivery_id: int, sealed: str, retries_left: int = 0) -> str:
    """The job's work: lock the delivery, skip it once sent or when its link was replaced
    or decided, draw the PDF, email it with the link, record it. `sealed`: the link's
    token, encrypted (queue_send)."""
    from app.estimates.services import token_hash

    token = decrypt(sealed)

    delivery = _locked(delivery_id)
    if delivery is None or delivery.status != "pending":
        return "skipped"
    estimate = delivery.estimate
    if delivery.token_hash != token_hash(token) or estimate.review_token_hash != delivery.token_hash:
        delivery.status, delivery.last_error = "skipped", "a newer send replaced this link, or it was decided"
        return "skipped"
    data = pdf_bytes(estimate)
    try:
        _email(estimate, delivery, token, data)
    except (OSError, smtplib.SMTPException) as exc:
        delivery.attempts += 1
        delivery.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        if retries_left <= 0:
            delivery.status = "failed"
        db.session.commit()  # the attempt is recorded even though the job fails
        raise
    delivery.attempts += 1
    delivery.status = "sent"
    delivery.sent_at = utcnow()
    return "sent"


def _email(estimate: Estimate, delivery: EstimateDelivery, token: str, pdf: bytes) -> None:
    from app.company.services import company
    from app.estimates.services import review_link

    cfg = current_app.config
    firm = company()
    message = EmailMessage()
    message["From"] = cfg["EMAIL_FROM"]
    message["To"] = formataddr((delivery.recipient_name, delivery.recipient_email))
    message["Subject"] = f"Estimate {estimate.number} from {firm.name} — {estimate.title}"
    message["Message-ID"] = delivery.message_id
    with current_app.test_request_context("/"):
        message.set_content(
            render_template(
                "estimates/email.txt", estimate=estimate, company=firm, delivery=delivery, link=review_link(token)
            )  # fmt: skip
        )
    message.add_attachment(pdf, maintype="application", subtype="pdf", filename=filename(estimate))
    with smtplib.SMTP(cfg["EMAIL_HOST"], int(cfg["EMAIL_PORT"]), timeout=20) as server:
        if cfg.get("EMAIL_USE_TLS"):
            server.starttls()
        if cfg.get("EMAIL_HOST_USER"):
            server.login(cfg["EMAIL_HOST_USER"], cfg.get("EMAIL_HOST_PASSWORD") or "")
        server.send_message(message)


def deliveries_of(estimate: Estimate) -> list[EstimateDelivery]:
    return list(
        db.session.scalars(
            select(EstimateDelivery)
            .where(EstimateDelivery.estimate_id == estimate.id)
            .order_by(EstimateDelivery.id.desc())
        )
    )
