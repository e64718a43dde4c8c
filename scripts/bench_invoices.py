"""`make bench-invoices`: an invoice's PDF in the worker, and invoices per minute for a
batch send (issue 12).

On the bench database (seeded with the money of scripts/bench_money_seed.py):

1. **PDF.** `delivery.render_pdf` (WeasyPrint, `invoices/print.html`) of --renders
   issued invoices of 10 lines each, one after another in one process, after two
   warm-up renders (fonts, the template): median and p95 ms per invoice, and the size.
2. **Batch.** The demo PM writes --batch draft invoices of 10 lines through
   `services.create_invoice` (not timed), then sends them as one batch as the "Send the
   chosen invoices" button does (`batch.send_many`: each issued in its own savepoint,
   numbered, a delivery queued on the `invoices` RQ queue after the commit), and a real
   RQ worker (`rq.Worker`, as `python -m workers` runs it: the app built once, a forked
   work-horse per job) works the queue in burst mode: each job draws the PDF, stores it
   (local disk, a scratch folder) and emails it with the PDF attached through SMTP to a
   local aiosmtpd server run by this script. Timed end to end, from the send to the last
   message received: invoices per minute; the issuing and the worker's share reported too.

The batch's invoices, their deliveries and PDFs, the notifications and audit rows they
made are deleted afterwards and the invoice counter set back, so the bench data stays as
seeded. Redis db 8 (the bench's) holds the queue; other jobs the send queued (the
notifications' emails) are left there for `redis-cli -n 8 flushdb`.

    .venv/bin/python scripts/bench_invoices.py [--renders 20] [--batch 50]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parent.parent)]

import bench_common as bc  # noqa: E402

JOB = r"""
import json, os, sys, time
from datetime import UTC, datetime, timedelta
from sqlalchemy import select, text

renders, batch_size = int(sys.argv[1]), int(sys.argv[2])
from workers.base import job_app

app = job_app()
from app.auth.models import User
from app.core.audit import acting_as
from app.core.jobs import get_queue
from app.extensions import db, redis_store
from app.invoices import batch, delivery, services
from app.invoices.models import Invoice, InvoiceDelivery
from app.projects.models import Project

out = {}
with app.app_context():
    pm = db.session.scalar(select(User).where(User.username == "pm"))
    ten = db.session.scalars(text(
        "SELECT i.id FROM invoices i JOIN project_memberships m ON m.project_id = i.project_id "
        "WHERE m.user_id = :pm AND i.status IN ('SENT', 'PAID', 'OVERDUE') AND i.invoice_type = 'standard' "
        "AND (SELECT count(*) FROM invoice_lines l WHERE l.invoice_id = i.id) = 10 ORDER BY i.id LIMIT :n"
    ), {"pm": pm.id, "n": renders + 2}).all()
    import gc

    if len(sys.argv) > 3 and sys.argv[3] == "freeze":  # experiment: the app's objects out of the GC's walks
        gc.collect()
        gc.freeze()
    times, sizes, full = [], [], []
    for n, invoice_id in enumerate(ten):
        before = gc.get_stats()[2]["collections"]
        invoice = db.session.get(Invoice, invoice_id)
        with app.test_request_context("/"):
            started = time.perf_counter()
            data = delivery.render_pdf(invoice)
            took = (time.perf_counter() - started) * 1000
        if n >= 2:  # the first two: fonts and the template loaded
            times.append(took)
            sizes.append(len(data))
            full.append(gc.get_stats()[2]["collections"] - before)
        db.session.rollback()
    out["pdf"] = {"renders": len(times), "ms": times, "bytes": sorted(sizes)[len(sizes) // 2], "full_gc": full}

    # the batch: drafts of 10 lines written by the PM on their open projects (not timed)
    started_at = datetime.now(UTC)
    counter = db.session.execute(text(
        "SELECT year, last_value FROM document_counters WHERE kind = 'invoice'")).all()
    projects = db.session.scalars(
        select(Project).join(Project.memberships).where(
            Project.memberships.any(user_id=pm.id), Project.status == "active"
        ).order_by(Project.id).limit(batch_size)
    ).unique().all()
    lines_of = db.session.execute(text(
        "SELECT description, quantity, unit_price FROM invoice_lines WHERE invoice_id = :i ORDER BY position"
    ), {"i": ten[0]}).all()
    today = services.today()
    ids = []
    with acting_as("bench", "system"):
        for n in range(batch_size):
            project = projects[n % len(projects)]
            data = {"invoice_type": "standard", "issue_date": today.isoformat(),
                    "due_date": (today + timedelta(days=30)).isoformat(), "tax_rate": "8.25",
                    "retention_amount": "0", "payment_terms": "net_30",
                    "client_message": "Thank you for your business.", "internal_notes": ""}
            lines = [{"description": d, "quantity": str(q), "unit_price": str(p)} for d, q, p in lines_of]
            ids.append(services.create_invoice(pm, project, data, lines).id)
        db.session.commit()
    queue = get_queue("invoices")
    queue.empty()
    # the send, as the batch button does, and a real RQ worker emptying the queue
    from rq import Worker

    began = time.perf_counter()
    with app.test_request_context("/"):
        started = batch.send_many(pm, ids)
        db.session.commit()  # the deliveries' jobs are queued after the commit
    # as in `python -m workers`, whose parent holds no database connection: a forked
    # work-horse must not inherit (and share) this process's pooled connections
    db.session.remove()
    db.engine.dispose()
    issued = time.perf_counter()
    worker = Worker([queue], connection=redis_store.client)
    worker.work(burst=True, logging_level=os.environ.get("BENCH_RQ_LOG", "WARNING"))
    ended = time.perf_counter()
    states = dict(db.session.execute(text(
        "SELECT status, count(*) FROM invoice_deliveries WHERE batch_id = :b GROUP BY status"
    ), {"b": started.batch_id}).all())
    errors = []
    if states.get("sent", 0) < batch_size:  # why: the jobs' last results (a retry is scheduled)
        from rq.job import Job

        for job_id in db.session.scalars(text(
            "SELECT 'invoice-delivery-' || id FROM invoice_deliveries WHERE batch_id = :b AND status <> 'sent' LIMIT 3"
        ), {"b": started.batch_id}):
            result = Job.fetch(job_id, connection=redis_store.client).latest_result()
            errors.append(getattr(result, "exc_string", None) or str(result))
    out["batch"] = {"errors": [e[-1500:] for e in errors if e], "invoices": batch_size, "queued": started.queued, "left_out": started.left_out,
                    "deliveries": states, "issue_s": issued - began, "worker_s": ended - issued,
                    "total_s": ended - began, "ended_at": time.time()}

    # leave the bench data as it was seeded
    db.session.execute(text("DELETE FROM invoices WHERE id = ANY(:ids)"), {"ids": ids})
    for year, last in counter:
        db.session.execute(text(
            "UPDATE document_counters SET last_value = :v WHERE kind = 'invoice' AND year = :y"), {"v": last, "y": year})
    db.session.execute(text("DELETE FROM notifications WHERE created_at >= :t"), {"t": started_at})
    db.session.execute(text("DELETE FROM audit_log WHERE created_at >= :t"), {"t": started_at})
    db.session.commit()
print(json.dumps(out))
"""


class Inbox:
    """A local SMTP server (aiosmtpd) that counts the messages and when the last came."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        self.count = 0
        self.last = 0.0
        self.with_pdf = 0
        self.lock = threading.Lock()
        inbox = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
                with inbox.lock:
                    inbox.count += 1
                    inbox.last = time.time()
                    if b"application/pdf" in envelope.content:
                        inbox.with_pdf += 1
                return "250 OK"

        self.port = bc.free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> Inbox:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--renders", type=int, default=20, help="timed PDF renders (after 2 warm-up)")
    parser.add_argument("--batch", type=int, default=50, help="invoices sent as one batch")
    parser.add_argument(
        "--gc-freeze", action="store_true", help="experiment: gc.freeze() the loaded app before the PDF renders"
    )
    args = parser.parse_args()
    if not bc.database_seeded():
        print("Seeding the bench database first …")
        bc.prepare_database()
    else:
        bc.run([str(bc.BIN / "flask"), "db", "upgrade"], bc.app_env())
        if bc.seed_money().get("money_seed_s"):
            bc._analyze()
    with tempfile.TemporaryDirectory(prefix="kibray-bench-invoices-") as media, Inbox() as inbox:
        env = bc.app_env(
            MEDIA_ROOT=media,
            AWS_STORAGE_BUCKET_NAME="",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=str(inbox.port),
            EMAIL_USE_TLS="0",
            EMAIL_HOST_USER="",
        )
        answer = subprocess.run(  # noqa: S603 - our own interpreter and code
            [sys.executable, "-c", JOB, str(args.renders), str(args.batch), "freeze" if args.gc_freeze else ""],
            env=env,
            cwd=bc.ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        if os.environ.get("BENCH_RQ_LOG"):
            sys.stderr.write(answer.stderr[-6000:])
        if answer.returncode:
            sys.stderr.write(answer.stdout[-4000:] + answer.stderr[-4000:])
            raise SystemExit("the invoice job failed")
        found = json.loads(answer.stdout.strip().splitlines()[-1])
        received, with_pdf = inbox.count, inbox.with_pdf
    pdf, sent = found["pdf"], found["batch"]
    per_minute = 60 * received / sent["total_s"] if sent["total_s"] else None
    result = {
        "pdf": {
            "renders": pdf["renders"],
            "p50_ms": round(bc.percentile(pdf["ms"], 50), 1),
            "p95_ms": round(bc.percentile(pdf["ms"], 95), 1),
            "max_ms": round(max(pdf["ms"]), 1),
            "median_bytes": pdf["bytes"],
            "each_ms": [round(ms, 1) for ms in pdf["ms"]],
            # full (generation 2) garbage collections during each render: the slow ones
            "full_gc": pdf["full_gc"],
            "gc_freeze": args.gc_freeze,
        },
        "batch": {
            "invoices": sent["invoices"],
            "queued": sent["queued"],
            "left_out": sent["left_out"],
            "deliveries": sent["deliveries"],
            "emails_received": received,
            "emails_with_pdf": with_pdf,
            "issue_s": round(sent["issue_s"], 2),
            "worker_s": round(sent["worker_s"], 2),
            "total_s": round(sent["total_s"], 2),
            "invoices_per_minute": round(per_minute) if per_minute else None,
            "worker_ms_per_invoice": round(1000 * sent["worker_s"] / max(received, 1)),
        },
        "load_average": bc.load_average(),
    }
    p = result["pdf"]
    b = result["batch"]
    quiet = [ms for ms, n in zip(p["each_ms"], p["full_gc"], strict=True) if not n] or [0.0]
    print(
        f"PDF of a 10-line invoice (delivery.render_pdf, {p['renders']} renders): p50 {p['p50_ms']} ms,"
        f" p95 {p['p95_ms']} ms, max {p['max_ms']} ms, {p['median_bytes'] / 1024:.0f} KB;"
        f" {sum(1 for n in p['full_gc'] if n)} renders ran a full garbage collection"
        f" (median of the others {statistics.median(quiet):.1f} ms)" + (" [gc.freeze()]" if args.gc_freeze else "")
    )
    print(
        f"Batch of {b['invoices']}: issued and queued in {b['issue_s']} s, the RQ worker drew, stored and emailed"
        f" them in {b['worker_s']} s ({b['worker_ms_per_invoice']} ms each); {b['emails_received']} emails received"
        f" ({b['emails_with_pdf']} with the PDF), deliveries {b['deliveries']}:"
        f" {b['invoices_per_minute']} invoices per minute end to end"
    )
    ok = b["emails_received"] == b["invoices"] == b["emails_with_pdf"] and not b["left_out"]
    result["machine"] = bc.machine()
    path = bc.write_results("bench-invoices", result)
    print(f"(load average {result['load_average']}; results in {path.relative_to(bc.ROOT)})")
    if not ok:
        for error in sent["errors"]:
            print(error)
        print("FAIL: not every invoice of the batch was emailed with its PDF")
        return 1
    return 0


if __name__ == "__main__":
    os.chdir(bc.ROOT)
    sys.exit(main())
