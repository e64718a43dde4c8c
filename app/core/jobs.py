"""Background jobs on RQ, one queue per concern, enqueued only after the commit.

Embedded mode (no REDIS_URL) has no worker process: jobs run in a thread of the web
process with their own app context, right after the commit — the same code path,
just not durable.
"""

from __future__ import annotations

import threading

from flask import current_app
from rq import Queue, Retry

from app.core.transaction import after_commit
from app.extensions import redis_store

QUEUES = ("invoices", "sync", "notifications", "default")


def get_queue(name: str = "default") -> Queue:
    if name not in QUEUES:
        raise ValueError(f"unknown queue {name!r}")
    return Queue(name, connection=redis_store.client)


def enqueue(func, *args, queue: str = "default", job_id: str | None = None, **kwargs) -> None:
    """Queue `func(*args, **kwargs)` to run once the current transaction commits."""
    app = current_app._get_current_object()

    def _send():
        if app.config["EMBEDDED"]:
            threading.Thread(target=_run_inline, args=(app, func, args, kwargs), daemon=True).start()
        else:
            with app.app_context():
                get_queue(queue).enqueue(
                    func, *args, job_id=job_id, retry=Retry(max=3, interval=[10, 60, 300]), **kwargs
                )

    after_commit(_send)


def _run_inline(app, func, args, kwargs):
    with app.app_context():
        func(*args, **kwargs)
