"""One commit per request, and side effects released only after it succeeds.

Services never commit. They queue side effects (live events, jobs, mail) with
`after_commit(fn)`; the callbacks run once the session's transaction commits and are
dropped if it rolls back, so nobody is told about a change that did not happen.
"""

from __future__ import annotations

import logging

from sqlalchemy import event

log = logging.getLogger(__name__)
_KEY = "kibray_after_commit"


def after_commit(callback) -> None:
    from app.extensions import db

    session = db.session()
    if not session.in_transaction():
        session.begin()  # so a later rollback() really ends it and drops the callback
    db.session.info.setdefault(_KEY, []).append(callback)


def install(session_class) -> None:
    @event.listens_for(session_class, "after_commit")
    def _run(session):
        callbacks = session.info.pop(_KEY, [])
        for callback in callbacks:
            try:
                callback()
            except Exception:  # one failed side effect must not hide the others
                log.exception("after-commit side effect failed")

    @event.listens_for(session_class, "after_soft_rollback")
    def _drop(session, previous_transaction):
        # Fires for every rollback(), even one that had no SQL to undo; only the
        # outermost transaction's rollback discards the queued side effects.
        if previous_transaction.parent is None:
            session.info.pop(_KEY, None)
