"""The health checks themselves: database, Redis, migrations (the routes only answer)."""

from __future__ import annotations

import logging

from sqlalchemy import text

from app.extensions import db, redis_store

log = logging.getLogger(__name__)


def check_database() -> bool:
    try:
        db.session.execute(text("SELECT 1"))
        return True
    except Exception:
        log.exception("health: database check failed")
        db.session.rollback()
        return False


def check_redis() -> bool:
    try:
        return bool(redis_store.client.ping())
    except Exception:
        log.exception("health: redis check failed")
        return False


def check_migrations() -> bool:
    """The database is at the newest Alembic revision of migrations/."""
    try:
        current = set(db.session.scalars(text("SELECT version_num FROM alembic_version")))
        return bool(current) and current == migration_heads()
    except Exception:
        log.exception("health: migration check failed")
        db.session.rollback()
        return False


_heads: set[str] | None = None


def migration_heads() -> set[str]:
    global _heads
    if _heads is None:
        import os

        from alembic.config import Config
        from alembic.script import ScriptDirectory

        from app.config import ROOT

        cfg = Config()
        cfg.set_main_option("script_location", os.path.join(ROOT, "migrations"))
        _heads = set(ScriptDirectory.from_config(cfg).get_heads())
    return _heads
