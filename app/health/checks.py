"""The health checks themselves: database, Redis, migrations (the routes only answer)."""

from __future__ import annotations

import logging
import time

from sqlalchemy import Engine, text

from app.extensions import db, redis_store

log = logging.getLogger(__name__)


def check_database() -> bool:
    """One round trip. By default (DB_LIVENESS_CHECK=socket, core/pool_check.py) the pool
    hands out a connection after looking at its socket only, so the check is `SELECT 1` in
    autocommit; a pool that pings each connection it hands out (`ping`: `SELECT 1`, or a
    fresh connection's handshake) makes taking one out and putting it back the check.
    No ORM session is made. Inside a test's transaction (the bind is its connection),
    `SELECT 1` on that transaction."""
    bind = db.engine
    try:
        if isinstance(bind, Engine):
            if getattr(bind.pool, "_pre_ping", False):
                bind.raw_connection().close()  # checked out (pinged), back to the pool: no BEGIN, no ROLLBACK
            elif bind.dialect.name == "postgresql":
                _select_one(bind)
            else:  # SQLite (embedded mode)
                with bind.connect() as connection:
                    connection.exec_driver_sql("SELECT 1")
        else:
            db.session.execute(text("SELECT 1"))
        return True
    except Exception:
        log.exception("health: database check failed")
        if not isinstance(bind, Engine):
            db.session.rollback()
        return False


def _select_one(engine) -> None:
    """`SELECT 1` on a pooled connection in autocommit (no BEGIN, no ROLLBACK): the driver
    connection is switched to autocommit for the one statement — cheaper than SQLAlchemy's
    isolation-level option (~0.2 ms) — and handed back to the pool transactional, as it
    came, whatever happens. The statement still goes through SQLAlchemy (its events)."""
    with engine.connect() as connection:
        driver = connection.connection.driver_connection
        driver.autocommit = True
        try:
            connection.exec_driver_sql("SELECT 1")
        finally:
            driver.autocommit = False


def check_redis() -> bool:
    try:
        return bool(redis_store.client.ping())
    except Exception:
        log.exception("health: redis check failed")
        return False


class Remembered:
    """A check's last passing answer, kept `HEALTH_CACHE_SECONDS` per app and process: the
    platform probes every few seconds, and writing to S3 or reading the migration table on
    each probe costs more than the probe is worth. A failing answer is never kept (the next
    probe looks again); the database and Redis are checked on every probe."""

    def __init__(self, name: str, check):
        self.name, self.check = name, check

    def __call__(self) -> bool:
        from flask import current_app

        seconds = current_app.config["HEALTH_CACHE_SECONDS"]
        passed_until = current_app.extensions.setdefault("kibray.health", {})
        now = time.monotonic()
        if seconds > 0 and passed_until.get(self.name, 0.0) > now:
            return True
        ok = bool(self.check())
        passed_until[self.name] = now + seconds if ok else 0.0
        return ok


def check_migrations() -> bool:
    """The database is at the newest Alembic revision of migrations/."""
    try:
        current = set(db.session.scalars(text("SELECT version_num FROM alembic_version")))
        return bool(current) and current == migration_heads()
    except Exception:
        log.exception("health: migration check failed")
        db.session.rollback()
        return False


def migration_heads() -> set[str]:
    from app.core.migrations import heads

    return set(heads())


def _storage_writable() -> bool:
    from app.core import storage

    return storage.writable()


storage_ok = Remembered("storage", _storage_writable)
migrations_ok = Remembered("migrations", check_migrations)
