"""One commit per request, and side effects released only after it succeeds.

Services never commit. They queue side effects (live events, jobs, mail) with
`after_commit(fn)`; the callbacks run once the session's transaction commits and are
dropped if it rolls back, so nobody is told about a change that did not happen.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager

from sqlalchemy import event

log = logging.getLogger(__name__)
_KEY = "kibray_after_commit"


def after_commit(callback) -> None:
    from app.extensions import db

    session = db.session()
    if not session.in_transaction():
        session.begin()  # so a later rollback() really ends it and drops the callback
    db.session.info.setdefault(_KEY, []).append(callback)


_UNDO = "kibray_after_rollback"


def after_rollback(callback) -> None:
    """Undo a side effect made outside the database (an object written to storage) if
    this request's transaction rolls back, so a failed write leaves nothing behind.
    Dropped at the commit."""
    from app.extensions import db

    session = db.session()
    if not session.in_transaction():
        session.begin()
    db.session.info.setdefault(_UNDO, []).append(callback)


_KEEP = "kibray_keep_on_error"


def keep_on_error() -> None:
    """Commit this transaction even though the request ends in an error — for the rare
    write that must outlive the refusal it causes (revoking a stolen token's family)."""
    from app.extensions import db

    db.session.info[_KEEP] = True


def should_commit(status_code: int) -> bool:
    """The request boundary's rule: keep the work of successful requests, and of
    failed ones only when a service asked for it with keep_on_error()."""
    from app.extensions import db

    return status_code < 400 or bool(db.session.info.pop(_KEEP, False))


_WROTE = "kibray_wrote"


def release_connection() -> bool:
    """If this request's transaction has only read so far, end it now so its database
    connection goes back to the pool during slow work that needs none (checking a
    password: ~100 ms of CPU, and a sign-in burst would otherwise hold the whole pool
    while it waits for the hashing threads, starving `/health/` and every page). Ending a
    transaction that wrote nothing and queued nothing changes nothing; one that did is
    left alone (False). Loaded objects stay loaded (`expire_on_commit=False`)."""
    from app.extensions import db

    session = db.session()
    if not session.in_transaction():
        return True
    if (
        session.in_nested_transaction()
        or session.new
        or session.dirty
        or session.deleted
        or session.info.get(_WROTE)
        or session.info.get(_KEY)
        or session.info.get(_KEEP)
    ):
        return False
    session.commit()
    return True


_READS = "kibray_reads_in_autocommit"


def reads_in_autocommit() -> None:
    """This request only reads (GET, HEAD): run its statements without a transaction, as
    the floor page does — no BEGIN and no COMMIT round trips (two of a small page's four
    or five). Each SELECT of a transaction in PostgreSQL's default READ COMMITTED level
    sees its own snapshot anyway, so the page reads exactly what it read before. The
    moment it writes (a flush with changes, or an UPDATE/INSERT/DELETE statement) the
    connection leaves autocommit before that statement, so the writes are one
    transaction, committed or rolled back at the request's end as always. A session bound
    to a connection (the tests' outer transaction) is left alone."""
    from app.extensions import db

    db.session.info[_READS] = True


def read_connection(session):
    """The session's connection for a Core select (no ORM execution): in autocommit when
    this read-only request has not yet taken one, exactly as its first ORM select would;
    pending changes are flushed first, as the ORM's autoflush would.
    `session`: a Session, or the scoped session (db.session)."""
    from sqlalchemy.orm import scoped_session

    session = session() if isinstance(session, scoped_session) else session
    if session.autoflush and (session.new or session.dirty or session.deleted):
        session.flush()  # as the ORM's own execution would: the read sees this request's changes
    if session.info.get(_READS) is True:
        _begin_reading(session)
    return session.connection()


def _begin_reading(session) -> None:
    """First statement of a read-only request: take the connection in autocommit."""
    from sqlalchemy.engine import Engine

    transaction = session.get_transaction()
    if transaction is not None and getattr(transaction, "_connections", None):
        return  # a connection is already in use (begun by something else): leave it
    if not isinstance(session.get_bind(), Engine):
        return
    session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    session.info[_READS] = "on"


def only_read(session) -> bool:
    """Has this read-only request's session done nothing but read? Then there is nothing
    to commit (its connection is in autocommit, or it never took one): the request's end
    just returns the connection, skipping the commit's machinery."""
    reads = session.info.get(_READS)
    if reads is True:  # no ORM statement yet: only if no connection was taken either
        transaction = session.get_transaction()  # (one taken by hand is transactional)
        reads = not (transaction is not None and getattr(transaction, "_connections", None))
    return (
        reads in (True, "on")
        and not session.info.get(_KEY)
        and not session.info.get(_WROTE)
        and not session.info.get(_KEEP)
        and not (session.new or session.dirty or session.deleted)
    )


def _leave_autocommit(session) -> None:
    """About to write in a read-only request: everything from here on is one transaction."""
    if session.info.get(_READS) != "on":
        return
    session.info[_READS] = "writing"
    connection = session.connection()
    driver = connection.connection.driver_connection
    # (the pool resets the isolation level when it takes the connection back)
    if connection.dialect.name == "sqlite":
        # pysqlite's autocommit is isolation_level None (SQLAlchemy's AUTOCOMMIT); "" is
        # its own transactions, begun before a write
        if driver.isolation_level is None:
            driver.isolation_level = ""
    elif driver.autocommit:  # psycopg
        driver.autocommit = False


def install(session_class) -> None:
    @event.listens_for(session_class, "after_flush")
    def _flushed(session, flush_context):
        session.info[_WROTE] = True

    @event.listens_for(session_class, "before_flush")
    def _writing(session, flush_context, instances):
        if session.new or session.dirty or session.deleted:
            _leave_autocommit(session)

    @event.listens_for(session_class, "do_orm_execute")
    def _executed(state):
        reads = state.session.info.get(_READS)
        if reads is True and state.is_select:
            _begin_reading(state.session)
        elif reads == "on" and not state.is_select:
            _leave_autocommit(state.session)
        if not state.is_select:  # UPDATE/INSERT/DELETE statements, raw SQL: a write, to be safe
            state.session.info[_WROTE] = True

    @event.listens_for(session_class, "after_commit")
    def _run(session):
        # SQLAlchemy also dispatches after_commit when a savepoint is released (attempt()):
        # the request's own commit is still to come, and a live event sent now would let a
        # listener read the data before it is committed (or after it is rolled back).
        if session.get_nested_transaction() is not None:
            return
        session.info.pop(_WROTE, None)
        session.info.pop(_READS, None)
        session.info.pop(_UNDO, None)
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
            session.info.pop(_READS, None)
            session.info.pop(_WROTE, None)
            session.info.pop(_KEY, None)
            session.info.pop(_KEEP, None)
            for undo in session.info.pop(_UNDO, []):
                try:
                    undo()
                except Exception:  # storage unreachable: log; an orphan object is harmless
                    log.exception("after-rollback undo failed")


@contextmanager
def attempt():
    """Try a service call inside a savepoint: if it raises, its writes (and the side
    effects it queued) are undone and the exception goes on, while the rest of the
    request's transaction stays usable — e.g. to re-render a form with its errors."""
    from app.extensions import db

    session = db.session()
    queued = len(session.info.get(_KEY, []))
    savepoint = session.begin_nested()
    try:
        yield savepoint
    except BaseException:
        if _open(session, savepoint):  # also after a failed flush (then it is inactive)
            savepoint.rollback()
        del session.info.get(_KEY, [])[queued:]
        raise
    else:
        if savepoint.is_active:
            savepoint.commit()


def _open(session, savepoint) -> bool:
    """Is `savepoint` still one of the session's open transactions? A flush that failed
    inside it leaves it inactive but open (the session refuses every query until it is
    rolled back); a full rollback() inside it has already closed it."""
    transaction = session.get_nested_transaction()
    while transaction is not None:
        if transaction is savepoint:
            return True
        transaction = transaction.parent
    return False
