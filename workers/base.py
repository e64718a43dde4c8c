"""Run job functions inside the app: a context, one commit per job, a named actor."""

from __future__ import annotations

import functools
import logging
import os

from flask import has_app_context

log = logging.getLogger(__name__)
_app = None
_pid = None


def job_app():
    """The app for jobs in this process, built on first use (never at import)."""
    global _app
    if _app is None:
        from app import create_app

        _app = create_app()
    return _app


def retries_left() -> int:
    """How many retries RQ has left for the running job (0 outside a job): a job's last
    failure is recorded as final."""
    from rq import get_current_job

    current = get_current_job()
    return int(getattr(current, "retries_left", 0) or 0) if current is not None else 0


def job(func):
    """Decorator for job functions: app context, commit on success, rollback on error."""

    @functools.wraps(func)
    def run(*args, **kwargs):
        if has_app_context():
            return _run(func, args, kwargs)
        with job_app().app_context():
            return _run(func, args, kwargs)

    return run


def _run(func, args, kwargs):
    global _pid
    from app.core.audit import acting_as
    from app.extensions import db

    if _pid is not None and _pid != os.getpid():
        db.engine.dispose(close=False)  # forked work-horse: never share the parent's connections
    _pid = os.getpid()
    from flask import g
    from rq import get_current_job

    from app.core.logs import current_request_id, job_line

    # One log line per job (core/logs.py), carrying the id of the request that queued it
    # (its meta, core/jobs.py; inline in the embedded app: already bound)
    current = get_current_job()
    meta = (getattr(current, "meta", None) or {}) if current is not None else {}
    request_id = meta.get("request_id") or current_request_id()
    g.sql_count = 0
    line = job_line(
        func.__name__,
        current.id if current is not None else None,
        current.origin if current is not None else "inline",
        request_id,
        will_retry=lambda: retries_left() > 0,
    )
    with line, acting_as(f"job:{func.__name__}", "system", request_id=request_id):
        try:
            result = func(*args, **kwargs)
            db.session.commit()
            return result
        except Exception:
            db.session.rollback()
            log.exception("job %s failed", func.__name__)
            raise
