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


RETRY = Retry(max=3, interval=[10, 60, 300])  # transient failures: backoff of 10 s, 1 min, 5 min
WAITING = ("queued", "scheduled", "deferred")


def enqueue(
    func, *args, queue: str = "default", job_id: str | None = None, delay: int = 0, once: bool = False, **kwargs
) -> None:
    """Queue `func(*args, **kwargs)` (a function or its dotted path) to run once the
    current transaction commits (after `delay` seconds). With `once` and a `job_id`,
    nothing is queued while a job of that id is still waiting to run: a burst of changes
    makes one run (a debounce); while one of that id is running, the next is queued
    under `<job_id>:next` (a running job's record is never replaced). The job carries
    the request id of the request that queued it (its meta; core/logs.py)."""
    from app.core.logs import bound, current_request_id

    app = current_app._get_current_object()
    request_id = current_request_id()

    def _send():
        if app.config["EMBEDDED"]:
            threading.Thread(target=_run_inline, args=(app, func, args, kwargs, request_id), daemon=True).start()
        else:
            with app.app_context(), bound(request_id=request_id):
                send(func, *args, queue=queue, job_id=job_id, delay=delay, once=once, **kwargs)

    after_commit(_send)


def send(func, *args, queue: str = "default", job_id: str | None = None, delay: int = 0, once: bool = False, **kwargs):
    """Queue now (no transaction to wait for: in a job, the CLI). A job queued by a
    request or by another job carries that request id in its meta."""
    from datetime import timedelta

    from app.core.logs import current_request_id

    request_id = current_request_id()
    if request_id:
        kwargs["meta"] = {**kwargs.get("meta", {}), "request_id": request_id}
    target = get_queue(queue)
    if once and job_id:
        job_id = _free_id(target, job_id)
        if job_id is None:
            return None
    if delay:
        return target.enqueue_in(timedelta(seconds=delay), func, *args, job_id=job_id, retry=RETRY, **kwargs)
    return target.enqueue(func, *args, job_id=job_id, retry=RETRY, **kwargs)


def _free_id(target, job_id: str) -> str | None:
    """The id to queue under for `once`: None while one is waiting; `<job_id>:next` while
    `job_id` is running (its record is not replaced)."""
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    for ident in (job_id, f"{job_id}:next"):
        try:
            status = Job.fetch(ident, connection=target.connection).get_status()
        except NoSuchJobError:
            return ident
        if status in WAITING:
            return None
        if status != "started":
            return ident
    return f"{job_id}:next"


def _run_inline(app, func, args, kwargs, request_id=""):
    from app.core.logs import bound

    if isinstance(func, str):
        from werkzeug.utils import import_string

        func = import_string(func)
    kwargs = {k: v for k, v in kwargs.items() if k not in ("job_timeout", "meta")}  # (RQ's own options)
    with app.app_context(), bound(request_id=request_id):
        func(*args, **kwargs)
