"""An invoice's PDF and its email (app/invoices/delivery.py): the PDF (WeasyPrint) read back
with pypdf; the email through a real SMTP server (aiosmtpd) sent by a real RQ worker on
Redis (queue "invoices"): one message to the billing contact with the PDF attached,
failures recorded and retried, a sent delivery never sent again — even when the worker
is killed (SIGKILL) in the middle of the job."""

from __future__ import annotations

import email
import email.policy
import io
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from pypdf import PdfReader
from rq import SimpleWorker
from rq.job import Job
from rq.registry import StartedJobRegistry
from sqlalchemy import delete, func, select, text

from app.clients.models import ClientContact
from app.company.services import set_logo, update_company
from app.core import storage
from app.core.audit import AuditLog
from app.core.jobs import get_queue
from app.extensions import db as _db
from app.invoices import delivery, services
from app.invoices.models import Invoice, InvoiceDelivery, InvoicePdf
from tests.factories import make_client, make_invoice, make_project, make_user
from tests.test_notification_channels import _free_port, inbox  # noqa: F401 - the SMTP fixture, used by name

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIRM = "Harbor Painting Co"
PAY = "ACH to First Lakes Bank, routing 111000025, account 99887766"
SECRET = "Margin is thin: never discount this client"
LINES = (("Walls, two coats", "1", "1000.00"), ("Trim and doors", "12.5", "120.00"))


# --- helpers ---------------------------------------------------------------------------------


def pdf_text(data: bytes) -> str:
    """The PDF's text, whitespace collapsed (pypdf's line breaks are layout, not content)."""
    assert data.startswith(b"%PDF-")
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages).split())


def parsed(content: str) -> email.message.EmailMessage:
    return email.message_from_string(content, policy=email.policy.default)


def attachment(message) -> tuple[str, str, bytes]:
    [part] = list(message.iter_attachments())
    return part.get_content_type(), part.get_filename(), part.get_content()


def work(with_scheduler: bool = False):
    """A real RQ worker on Redis, in this process (so the job runs in the test's context)."""
    queue = get_queue("invoices")
    SimpleWorker([queue], connection=queue.connection).work(burst=True, with_scheduler=with_scheduler)
    return queue


def run_due_retries(queue) -> list[str]:
    """What RQ's scheduler does when a retry's backoff is over, now instead of in 10 s."""
    registry = queue.scheduled_job_registry
    ids = registry.get_job_ids()
    for job_id in ids:
        registry.schedule(Job.fetch(job_id, connection=queue.connection), datetime.now(UTC) - timedelta(seconds=1))
    work(with_scheduler=True)
    return ids


def deliveries(db, invoice) -> list[InvoiceDelivery]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(InvoiceDelivery).where(InvoiceDelivery.invoice_id == invoice.id).order_by(InvoiceDelivery.id)
        )
    )


@pytest.fixture()
def firm(app, db):
    """An admin, and the company's details as an admin saved them."""
    admin = make_user("admin")
    started = datetime.now(UTC)
    with app.test_request_context():
        update_company(
            admin,
            {"name": FIRM, "address": "1 Dock St", "city": "Austin", "state": "TX", "zip": "78701",
             "phone": "512-555-0100", "payment_instructions": PAY, "default_tax_rate": "8.25"},
        )  # fmt: skip
    yield admin
    # the test's rows are rolled back; its stored PDFs (and a logo) are files: delete them
    db.session.rollback()
    for key in db.session.scalars(select(InvoicePdf.storage_key).where(InvoicePdf.created_at >= started)):
        storage.delete(key)


@pytest.fixture()
def project(db):
    """Birchwood Homes: a primary contact (not billing) and a billing contact, and its project."""
    client = make_client(name="Birchwood Homes LLC", email="office@birchwood.example")
    db.session.add_all(
        [
            ClientContact(client_id=client.id, name="Pat Harbor", email="pat@birchwood.example", is_primary=True,
                          roles="decision_maker"),
            ClientContact(client_id=client.id, name="Sam Quay", email="sam@birchwood.example", roles="billing"),
        ]
    )  # fmt: skip
    db.session.flush()
    return make_project(client=client, name="Lakeview Lofts")


def an_invoice(project, **kwargs) -> Invoice:
    """$1,000.00 + 12.5 × $120.00 = $2,500.00; tax 8.25 % = $206.25; total $2,706.25."""
    invoice = make_invoice(project, lines=LINES, tax_rate="8.25", **kwargs)
    invoice.client_message = "Thank you for choosing us for Lakeview Lofts."
    invoice.internal_notes = SECRET
    _db.session.flush()
    return invoice


# --- the PDF ---------------------------------------------------------------------------------


def test_the_pdf_shows_the_invoice_the_client_and_the_company(app, db, firm, project):
    from PIL import Image

    logo = io.BytesIO()
    Image.new("RGB", (300, 120), (31, 58, 95)).save(logo, "PNG")
    invoice = an_invoice(project, status="SENT", number="INV-2026-0042")
    with app.test_request_context():
        settings = set_logo(firm, logo.getvalue())
        try:
            data = delivery.render_pdf(invoice)
        finally:
            storage.delete(settings.logo_key)  # a file: the test's rollback does not remove it
    words = pdf_text(data)
    reader = PdfReader(io.BytesIO(data))
    for expected in (
        "INVOICE",
        "INV-2026-0042",
        "Birchwood Homes LLC",
        "Lakeview Lofts",
        "Walls, two coats",
        "Trim and doors",
        "$1,000.00",
        "$120.00",
        "$1,500.00",
        "Subtotal $2,500.00",
        "Tax $206.25",
        "Total $2,706.25",
        "Amount due $2,706.25",
        FIRM,
        "1 Dock St",
        "Austin, TX 78701",
        "How to pay",
        PAY,
        "Thank you for choosing us for Lakeview Lofts.",
        "Issued Mar 2, 2026",
        "Due Apr 1, 2026",
        "Please quote INV-2026-0042 with your payment",
    ):
        assert expected in words, expected
    assert SECRET not in words  # the invoice's internal notes
    assert project.internal_notes not in words  # nor the project's
    assert sum(len(page.images) for page in reader.pages) == 1  # the logo, inline (nothing fetched)


def test_the_pdf_shows_retention_and_payments_and_what_is_still_due(app, db, firm, project):
    invoice = an_invoice(project, status="SENT", number="INV-2026-0043", retention="100.00", paid="500.00")
    with app.test_request_context():
        words = pdf_text(delivery.render_pdf(invoice))
    assert "Total $2,706.25" in words
    assert "Retention held (due with the final invoice) −$100.00" in words
    assert "Paid −$500.00" in words
    assert "Amount due $2,106.25" in words


def test_a_drafts_pdf_says_it_is_not_issued(app, db, firm, project):
    invoice = an_invoice(project)
    with app.test_request_context():
        words = pdf_text(delivery.render_pdf(invoice))
    assert "DRAFT — not issued" in words and "INV-" not in words
    assert "Total $2,706.25" in words


def test_the_client_downloads_only_issued_invoices_and_never_the_internal_notes(
    app, db, firm, project, client, login_as
):
    issued = an_invoice(project, status="SENT", number="INV-2026-0044")
    draft = an_invoice(project)
    login_as(make_user("client", client=project.client))
    response = client.get(f"/invoices/{issued.id}.pdf")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    assert "INV-2026-0044.pdf" in response.headers["Content-Disposition"]
    words = pdf_text(response.data)
    assert "INV-2026-0044" in words and "Total $2,706.25" in words and PAY in words
    assert SECRET not in words and project.internal_notes not in words
    assert client.get(f"/invoices/{draft.id}.pdf").status_code == 404
    # the project manager's copy is the same document: internal notes are never printed
    login_as(make_user("admin"))
    words = pdf_text(client.get(f"/invoices/{issued.id}.pdf").data)
    assert "INV-2026-0044" in words and SECRET not in words


def test_a_stale_stored_pdf_is_drawn_again(app, db, firm, project):
    invoice = an_invoice(project, status="SENT", number="INV-2026-0045")
    with app.test_request_context():
        first = delivery.current_pdf(invoice)
        first_key, first_version = first.storage_key, first.invoice_version
        db.session.commit()
        assert first_version == invoice.version
        assert "Amount due $2,706.25" in pdf_text(storage.read(first_key))
        assert delivery.current_pdf(invoice).storage_key == first_key  # current: not drawn again
        assert delivery.pdf_bytes(invoice) == storage.read(first_key)

        services.record_payment(firm, invoice, "500.00", method="check", reference="1001")
        db.session.commit()
        assert invoice.version != first_version  # the invoice changed: its stored PDF is stale
        assert "Amount due $2,206.25" in pdf_text(delivery.pdf_bytes(invoice))  # a page view draws it afresh…
        stored = db.session.get(InvoicePdf, invoice.id)
        assert (stored.storage_key, stored.invoice_version) == (first_key, first_version)  # …and stores nothing
        second = delivery.current_pdf(invoice)
        db.session.commit()
    assert second.storage_key != first_key
    assert second.invoice_version == invoice.version
    assert (
        db.session.scalar(select(func.count()).select_from(InvoicePdf).where(InvoicePdf.invoice_id == invoice.id)) == 1
    )
    words = pdf_text(storage.read(second.storage_key))
    assert "Paid −$500.00" in words and "Amount due $2,206.25" in words
    assert not storage.exists(first_key)  # the stale copy is deleted once the new one is committed


def test_a_change_of_the_companys_details_makes_the_stored_pdf_stale_too(app, db, firm, project):
    """Not only the invoice: new payment instructions must never be left off a PDF sent
    again (the stored one's fingerprint is of everything it shows)."""
    from app.company.services import company

    invoice = an_invoice(project, status="SENT", number="INV-2026-0046")
    with app.test_request_context():
        first = delivery.current_pdf(invoice).storage_key
        db.session.commit()
        company().payment_instructions = "ACH to Mountain Bank, routing 102000021"
        db.session.commit()
        again = delivery.current_pdf(invoice).storage_key
        db.session.commit()
        assert again != first and invoice.version == db.session.get(InvoicePdf, invoice.id).invoice_version
        assert "routing 102000021" in pdf_text(storage.read(again))


def test_printing_fetches_nothing_but_inline_data():
    fetcher = delivery._no_fetch()
    assert fetcher("data:text/plain;base64,aGk=").read() == b"hi"
    for url in ("file:///etc/hostname", "http://127.0.0.1:9/logo.png", "https://example.com/logo.png"):
        with pytest.raises(ValueError, match="disallowed protocol"):
            fetcher(url)


# --- the email -------------------------------------------------------------------------------


def test_sending_emails_one_message_with_the_pdf_to_the_billing_contact(app, db, firm, project, inbox):  # noqa: F811
    invoice = an_invoice(project)
    with app.test_request_context():
        services.send_invoice(firm, invoice)
        db.session.commit()
    number = invoice.number
    assert re.fullmatch(r"INV-2026-\d{4}", number) and invoice.status in ("SENT", "OVERDUE")  # due Apr 1
    [queued] = deliveries(db, invoice)
    assert (queued.status, queued.attempts, queued.recipient_name, queued.recipient_email) == (
        "pending", 0, "Sam Quay", "sam@birchwood.example")  # fmt: skip
    assert inbox.messages == []  # nothing leaves before the worker runs

    queue = work()
    [(to, content)] = inbox.messages
    assert to == ["sam@birchwood.example"]  # the billing contact, not the primary one nor the office
    message = parsed(content)
    assert message["To"] == "Sam Quay <sam@birchwood.example>"
    assert message["Subject"] == f"Invoice {number} from {FIRM} — Lakeview Lofts"
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert "Hello Sam Quay," in body
    assert f"Please find attached invoice {number} for Lakeview Lofts." in body
    assert "Amount due: $2,706.25 by Apr 1, 2026" in body and PAY in body
    assert SECRET not in body and SECRET not in content
    kind, name, data = attachment(message)
    assert (kind, name) == ("application/pdf", f"{number}.pdf")
    words = pdf_text(data)
    assert number in words and "Birchwood Homes LLC" in words and "Total $2,706.25" in words
    assert SECRET not in words

    [sent] = deliveries(db, invoice)
    assert (sent.status, sent.attempts, sent.last_error) == ("sent", 1, "")
    assert sent.sent_at is not None and message["Message-ID"] == sent.message_id
    stored = db.session.get(InvoicePdf, invoice.id)
    assert stored.invoice_version == invoice.version
    assert storage.read(stored.storage_key) == data  # the PDF sent is the one kept
    assert f"invoice-delivery-{sent.id}" in queue.finished_job_registry.get_job_ids()

    # the job again (RQ runs a job at least once): the delivery is sent, so it is skipped
    again = queue.enqueue("workers.invoices.deliver", sent.id)
    work()
    assert again.return_value() == "skipped"
    assert len(inbox.messages) == 1
    assert deliveries(db, invoice)[0].attempts == 1


def test_the_pdf_sent_again_shows_the_invoice_as_it_is_now(app, db, firm, project, inbox):  # noqa: F811
    invoice = an_invoice(project)
    with app.test_request_context():
        services.send_invoice(firm, invoice)
        db.session.commit()
    work()
    first_key = db.session.get(InvoicePdf, invoice.id).storage_key
    with app.test_request_context():
        services.record_payment(firm, invoice, "500.00")
        services.send_invoice(firm, invoice)  # "send again" after a payment: the stored PDF is stale
        db.session.commit()
    work()
    assert len(inbox.messages) == 2
    before, after = (pdf_text(attachment(parsed(content))[2]) for _, content in inbox.messages)
    assert "Amount due $2,706.25" in before and "Paid" not in before
    assert "Paid −$500.00" in after and "Amount due $2,206.25" in after
    assert "Amount due: $2,206.25" in parsed(inbox.messages[1][1]).get_body(("plain",)).get_content()
    assert [d.status for d in deliveries(db, invoice)] == ["sent", "sent"]
    assert not storage.exists(first_key)


def test_an_smtp_failure_is_recorded_and_the_job_retried(app, db, firm, project, inbox):  # noqa: F811
    invoice = an_invoice(project)
    port = app.config["EMAIL_PORT"]
    app.config["EMAIL_PORT"] = _free_port()  # nothing listens there: the connection is refused
    try:
        with app.test_request_context():
            services.send_invoice(firm, invoice)
            db.session.commit()
        queue = work()
    finally:
        app.config["EMAIL_PORT"] = port
    assert inbox.messages == []
    [failed] = deliveries(db, invoice)
    assert (failed.status, failed.attempts) == ("pending", 1)  # recorded, and left for the retry
    assert failed.last_error.startswith("ConnectionRefusedError")
    job = Job.fetch(f"invoice-delivery-{failed.id}", connection=queue.connection)
    assert job.get_status() == "scheduled" and job.retries_left == 2  # RQ retries it with backoff
    assert db.session.get(InvoicePdf, invoice.id) is not None  # the PDF was kept though the email failed

    assert run_due_retries(queue) == [job.id]  # the SMTP server is reachable again
    [(to, content)] = inbox.messages
    assert to == ["sam@birchwood.example"] and parsed(content)["Message-ID"] == failed.message_id
    [sent] = deliveries(db, invoice)
    assert (sent.status, sent.attempts) == ("sent", 2)


def test_the_last_failure_is_final_and_never_sent_later(app, db, firm, project, inbox):  # noqa: F811
    invoice = an_invoice(project)
    with app.test_request_context():
        services.send_invoice(firm, invoice)
        db.session.commit()
    get_queue("invoices").empty()
    [queued] = deliveries(db, invoice)
    port = app.config["EMAIL_PORT"]
    app.config["EMAIL_PORT"] = _free_port()
    try:
        with pytest.raises(ConnectionRefusedError):  # raised, so RQ marks the job failed
            delivery.deliver(queued.id, retries_left=0)
    finally:
        app.config["EMAIL_PORT"] = port
    [failed] = deliveries(db, invoice)
    assert (failed.status, failed.attempts) == ("failed", 1)
    assert delivery.deliver(queued.id) == "skipped"  # a failed delivery is not sent by a stray job
    assert inbox.messages == []


def test_a_cancelled_invoice_is_not_emailed(app, db, firm, project, inbox):  # noqa: F811
    invoice = an_invoice(project)
    with app.test_request_context():
        services.send_invoice(firm, invoice)
        db.session.commit()
        services.cancel_invoice(firm, invoice, "Billed to the wrong project")
        db.session.commit()
    work()
    assert inbox.messages == []
    [cancelled] = deliveries(db, invoice)
    assert (cancelled.status, cancelled.last_error) == ("failed", "the invoice is cancelled")


# --- a worker killed in the middle of the job ------------------------------------------------

WORKER = """
import sys
import workers.base as base
from app import create_app
from rq import Worker
from app.core.jobs import get_queue
app = create_app({"EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": int(sys.argv[1]), "EMAIL_USE_TLS": False,
                  "EMAIL_HOST_USER": None, "INVOICE_SEND_PAUSE_SECONDS": float(sys.argv[2])}, env_name="test")
base._app = app  # the jobs' app: this one, with the pause
with app.app_context():
    queue = get_queue("invoices")
    Worker([queue], connection=queue.connection).work(burst=True)
"""


def _children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (RQ's work-horse, which has a process group of its own)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rpartition(")")[2].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry))
    return found


def _locked(delivery_id: int) -> bool:
    """Is the delivery's row locked by someone (the worker, inside deliver())?"""
    row = _db.session.execute(
        text("SELECT id FROM invoice_deliveries WHERE id = :id FOR UPDATE SKIP LOCKED"), {"id": delivery_id}
    ).first()
    _db.session.rollback()
    return row is None


def _pdf_stored(invoice_id: int) -> bool:
    found = _db.session.scalar(select(InvoicePdf.invoice_id).where(InvoicePdf.invoice_id == invoice_id))
    _db.session.rollback()
    return found is not None


def _wait(predicate, seconds: float, what: str, worker=None):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        if worker is not None and worker.poll() is not None:
            raise AssertionError(f"the worker ended before {what}")
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_worker_killed_in_the_middle_of_sending_leaves_exactly_one_email(app, inbox):  # noqa: F811
    """Committed for real (the worker is another process): a delivery queued; a forking RQ
    worker started in a subprocess with INVOICE_SEND_PAUSE_SECONDS, killed with SIGKILL
    (it and its work-horse) while deliver() pauses with the delivery locked, just before
    the email; RQ's own clean-up of abandoned jobs retries it and a worker runs it
    again: one email, the delivery sent once."""
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("a worker in another process needs PostgreSQL and Redis")
    from app.clients.models import Client
    from app.projects.models import Project

    db = _db
    tag = uuid.uuid4().hex[:8]
    ids: dict = {}
    worker = None
    with tempfile.TemporaryFile() as log, app.app_context():
        first_audit = db.session.scalar(select(func.coalesce(func.max(AuditLog.id), 0)))
        queue = get_queue("invoices")
        queue.empty()
        try:
            client = make_client(name=f"Killdeer Homes {tag}", email=f"ap-{tag}@killdeer.example")
            project = make_project(client=client, name=f"Killdeer {tag}")
            invoice = make_invoice(project, lines=LINES, tax_rate="8.25", status="SENT", number=f"INV-K-{tag}")
            ids.update(client=client.id, project=project.id, invoice=invoice.id)
            with app.test_request_context():
                queued = delivery.queue_send(invoice)
                ids["delivery"] = queued.id
                db.session.commit()  # …and the job is queued
            job_id = f"invoice-delivery-{queued.id}"
            assert queue.job_ids == [job_id]

            worker = subprocess.Popen(
                [sys.executable, "-c", WORKER, str(app.config["EMAIL_PORT"]), "60"],
                cwd=ROOT,
                env=os.environ.copy(),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            # in the pause: the PDF is committed (the job's first part) and the delivery is locked again
            _wait(lambda: _pdf_stored(invoice.id) and _locked(queued.id), 60, "the worker to reach the pause", worker)
            horses = _children(worker.pid)
            assert len(horses) == 1, horses
            os.killpg(worker.pid, signal.SIGKILL)  # the worker…
            os.kill(horses[0], signal.SIGKILL)  # …and its work-horse, in its own process group
            worker.wait(10)
            _wait(lambda: not _locked(queued.id), 30, "PostgreSQL to release the dead worker's lock")

            assert inbox.messages == []
            db.session.expire_all()
            pending = db.session.get(InvoiceDelivery, queued.id)
            assert (pending.status, pending.attempts) == ("pending", 0)
            assert Job.fetch(job_id, connection=queue.connection).get_status() == "started"  # abandoned

            # RQ's clean-up of abandoned jobs (what a worker's maintenance does once the dead
            # one's heartbeat expires), fast-forwarded: the job has retries left, so it is retried
            StartedJobRegistry("invoices", connection=queue.connection).cleanup(time.time() + 86400)
            assert Job.fetch(job_id, connection=queue.connection).get_status() == "scheduled"
            assert run_due_retries(queue) == [job_id]

            [(to, content)] = inbox.messages
            assert to == [f"ap-{tag}@killdeer.example"]
            assert f"INV-K-{tag}" in pdf_text(attachment(parsed(content))[2])
            db.session.expire_all()
            sent = db.session.get(InvoiceDelivery, queued.id)
            assert (sent.status, sent.attempts) == ("sent", 1)
            assert parsed(content)["Message-ID"] == sent.message_id

            queue.enqueue("workers.invoices.deliver", queued.id)  # and once more: skipped
            work()
            assert len(inbox.messages) == 1
        except BaseException:
            log.seek(0)
            print(log.read().decode("utf-8", "replace")[-4000:])
            raise
        finally:
            if worker is not None and worker.poll() is None:  # the test failed before the kill
                for horse in _children(worker.pid):
                    os.kill(horse, signal.SIGKILL)
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait(10)
            db.session.rollback()
            if "invoice" in ids:
                for key in db.session.scalars(
                    select(InvoicePdf.storage_key).where(InvoicePdf.invoice_id == ids["invoice"])
                ):
                    storage.delete(key)
                db.session.execute(delete(Invoice).where(Invoice.id == ids["invoice"]))  # its lines, PDF, deliveries
            if "project" in ids:
                db.session.execute(delete(Project).where(Project.id == ids["project"]))
            if "client" in ids:
                db.session.execute(delete(Client).where(Client.id == ids["client"]))
            db.session.execute(delete(AuditLog).where(AuditLog.id > first_audit))
            db.session.commit()
            db.session.remove()
            queue.empty()


def test_the_running_footer_prints_the_companys_name_as_typed(app, db, firm, project):
    """The footer is a CSS string: "&" is printed as "&", never as the entity "&amp;", and a
    quote or "</style>" in the name neither ends the string nor the style."""
    admin = make_user("admin")
    with app.test_request_context():
        update_company(admin, {"name": 'Harbor Painting & Staining "HPS" </style>', "address": "1 Dock St"})
        invoice = an_invoice(project, status="SENT", number="INV-2026-0044")
        words = pdf_text(delivery.render_pdf(invoice))
    assert 'Harbor Painting & Staining "HPS" </style> · INV-2026-0044' in words
    assert "&amp;" not in words and "&#34;" not in words
