"""Periodic jobs on RQ's scheduler. Each run schedules the next run of every periodic job
(schedule_all); the next job's id is its time slot, so several workers starting at once
schedule each slot only once."""

from __future__ import annotations

import importlib
import logging
import time
from datetime import UTC, datetime

from rq.job import Job

log = logging.getLogger(__name__)


def periodic_jobs() -> dict:
    """name → PeriodicJob, as the features declared them (`Feature(periodic=…)`)."""
    from flask import has_app_context

    from app.core.features import periodic_jobs as declared

    if has_app_context():
        return declared()
    from workers.base import job_app

    return declared(job_app())


def schedule_next(queue, name: str, now: float | None = None) -> str:
    """Schedule the next run of `name` (idempotent for its time slot); returns the job id."""
    every = periodic_jobs()[name].every
    now = time.time() if now is None else now
    slot = int(now // every) + 1
    job_id = f"periodic-{name}-{slot}"
    if not Job.exists(job_id, connection=queue.connection):
        at = datetime.fromtimestamp(slot * every, tz=UTC)
        queue.enqueue_at(at, "workers.periodic.tick", name, job_id=job_id)
    return job_id


def schedule_all(queue) -> list[str]:
    return [schedule_next(queue, name) for name in periodic_jobs()]


def tick(name: str):
    """Run one periodic job, then make sure every periodic job this release knows has its
    next run (schedule_all: idempotent per slot) — whatever happened, even for a tick this
    release does not know (a worker of another release, a retired job), so no chain dies."""
    from rq import get_current_job

    current = get_current_job()
    try:
        known = periodic_jobs().get(name)
        if known is None:  # a job a previous release scheduled and this one retired: ends quietly
            log.info("periodic job %s no longer exists; not rescheduled", name)
            return None
        module, func = known.func.rsplit(".", 1)
        return getattr(importlib.import_module(module), func)()
    finally:
        if current is not None:
            schedule_all(_queue_of(current))


def _queue_of(job):
    from rq import Queue

    return Queue(job.origin, connection=job.connection)
