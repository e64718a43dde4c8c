"""GET /health/ → {"status", "checks": {database, redis, storage, migrations}, "timestamp"}."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from flask import Blueprint, jsonify
from sqlalchemy import text

from app.core import storage
from app.core.api import probe
from app.extensions import db, redis_store
from app.health import bp

# Under the one /api blueprint (app/api); the probes are public and never rate-limited.
api = Blueprint("health", __name__)

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


def _stamp() -> str:
    return datetime.now(UTC).isoformat()


@bp.get("/health/")
@probe
def health():
    checks = {
        "database": check_database(),
        "redis": check_redis(),
        "storage": storage.writable(),
        "migrations": check_migrations(),
    }
    healthy = all(checks.values())
    body = {"status": "healthy" if healthy else "unhealthy", "checks": checks, "timestamp": _stamp()}
    return jsonify(body), 200 if healthy else 503


def _single(name: str, ok: bool):
    body = {"status": "healthy" if ok else "unhealthy", "checks": {name: ok}, "timestamp": _stamp()}
    return jsonify(body), 200 if ok else 503


@api.get("/health/db/")
@probe
def health_db():
    return _single("database", check_database())


@api.get("/health/redis/")
@probe
def health_redis():
    return _single("redis", check_redis())
