"""When a CalDAV sync runs, and what it is doing (issue 11).

- On every relevant change: a live event about an event or a task (core.events: its
  audience is who may see it) marks its people — and the admins, when they are in it —
  as changed, in a Redis set; the first such change starts a short wait (DEBOUNCE
  seconds), after which one job (`workers.calendar_sync.sync_changed`) queues a sync of
  the accounts of everyone marked. A burst of moves makes one run per account.
- Every PERIOD seconds (the scheduler: Feature.periodic), every account not failing —
  changes made in the calendar apps come in at least that often.
- On demand: "Sync now" and the API.

Each account has one job id (`calendar-sync-<id>`), queued only while none is waiting
(core.jobs.enqueue(once=True)): the debounce per account. The run itself holds a Redis
lock (workers/calendar_sync.py) and reports its progress here, for the page's bar.
In embedded mode (no Redis server, no worker) a sync runs in a thread of the web
process on demand only; nothing is scheduled.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from flask import current_app
from sqlalchemy import select

from app.auth.models import User
from app.calendar_sync.models import CalendarAccount
from app.core.roles import ADMIN
from app.core.transaction import after_commit
from app.extensions import db, redis_store

JOB = "workers.calendar_sync.sync_account"
JOB_TIMEOUT = 900  # seconds a run may take (RQ's default of 180 is short for a first sync)
DEBOUNCE = 20  # seconds between a change and the syncs it starts
PERIOD = 300  # seconds between two periodic runs
WATCHED = ("calendar-event-", "task-")
ADMINS = "admins"  # the marker for "every admin's account" in the changed set


def job_id(account_id: int) -> str:
    return f"calendar-sync-{account_id}"


def queue_sync(account_ids, delay: int = 0) -> None:
    """Queue a sync of each account once the transaction commits (skipped for one
    whose sync is already waiting); its page shows it as starting from then on."""
    from app.core.jobs import enqueue

    ids = list(account_ids)
    app = current_app._get_current_object()

    def _starting():
        with app.app_context():
            for account_id in ids:
                report(account_id, 0, 0)

    after_commit(_starting)  # (before the jobs are sent: a quick run clears it when done)
    for account_id in ids:
        enqueue(
            JOB, account_id, queue="sync", job_id=job_id(account_id), delay=delay, once=True, job_timeout=JOB_TIMEOUT
        )


def send_sync(account_ids, delay: int = 0) -> int:
    """Queue now (in a job): how many were queued."""
    from app.core.jobs import send

    queued = 0
    for account_id in account_ids:
        if send(
            JOB, account_id, queue="sync", job_id=job_id(account_id), once=True, delay=delay, job_timeout=JOB_TIMEOUT
        ):
            queued += 1
    return queued


# --- progress ---------------------------------------------------------------------------------


def _progress_key(account_id: int) -> str:
    return redis_store.key("calendar-sync", "progress", account_id)


def report(account_id: int, done: int, total: int) -> None:
    key = _progress_key(account_id)
    pipe = redis_store.client.pipeline()
    pipe.hset(key, mapping={"done": done, "total": total, "at": int(time.time())})
    pipe.expire(key, 3600)
    pipe.execute()


STALE = 600  # seconds without a report after which a run is taken for dead (or never started)


def progress(account_id: int) -> tuple[int, int] | None:
    """(items done, items in all) of the run queued or going on, if one is."""
    found = redis_store.client.hgetall(_progress_key(account_id))
    if not found or int(found.get(b"at", 0)) < time.time() - STALE:
        return None
    return int(found.get(b"done", 0)), int(found.get(b"total", 0))


def finished(account_id: int) -> None:
    redis_store.client.delete(_progress_key(account_id))


# --- on changes ---------------------------------------------------------------------------------


def _changed_key() -> str:
    return redis_store.key("calendar-sync", "changed")


def changed(message: dict) -> None:
    """A live-event listener (Feature.live_listeners): an event's or a task's change
    marks whoever may see it, once the change is committed."""
    if not message["event"].startswith(WATCHED):
        return
    people = [str(u) for u in message["users"]] + ([ADMINS] if ADMIN in message["roles"] else [])
    if not people:
        return
    app = current_app._get_current_object()
    if app.config["EMBEDDED"]:
        return
    after_commit(lambda: _mark(app, people))


def _mark(app, people: list[str]) -> None:
    from app.core.jobs import send

    with app.app_context():
        client = redis_store.client
        pipe = client.pipeline()
        pipe.sadd(_changed_key(), *people)
        pipe.set(redis_store.key("calendar-sync", "waiting"), 1, nx=True, ex=DEBOUNCE)
        _, first = pipe.execute()
        if first:
            send("workers.calendar_sync.sync_changed", queue="sync", delay=DEBOUNCE)


def changed_accounts() -> list[int]:
    """The accounts of everyone marked since the last call (the marks are taken)."""
    client = redis_store.client
    pipe = client.pipeline()  # (MULTI: a change marked meanwhile starts the next wait)
    pipe.smembers(_changed_key())
    pipe.delete(_changed_key(), redis_store.key("calendar-sync", "waiting"))
    members, _ = pipe.execute()
    people = {m.decode() for m in members}
    if not people:
        return []
    ids = [int(p) for p in people if p.isdigit()]
    who = CalendarAccount.user_id.in_(ids)
    if ADMINS in people:
        who = who | CalendarAccount.user_id.in_(select(User.id).where(User.role == ADMIN))
    return list(
        db.session.scalars(
            select(CalendarAccount.id).where(who, CalendarAccount.status != "failing").order_by(CalendarAccount.id)
        )
    )


def due_accounts() -> list[int]:
    return list(
        db.session.scalars(
            select(CalendarAccount.id).where(CalendarAccount.status != "failing").order_by(CalendarAccount.id)
        )
    )


def next_run(account: CalendarAccount, now: datetime | None = None) -> datetime | None:
    """When the scheduler will next sync it (None: it will not — failing, or embedded)."""
    if account.status == "failing" or current_app.config["EMBEDDED"]:
        return None
    now = now or datetime.now(UTC)
    slot = int(now.timestamp() // PERIOD) + 1
    return datetime.fromtimestamp(slot * PERIOD, tz=UTC)
