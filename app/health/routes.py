"""GET /health/ → {"status", "checks": {database, redis, storage, migrations}, "timestamp"}."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import jsonify

from app.core import storage
from app.extensions import csrf
from app.health import bp
from app.health.checks import check_database, check_migrations, check_redis


def _stamp() -> str:
    return datetime.now(UTC).isoformat()


@bp.get("/health/")
@csrf.exempt
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


@bp.get("/api/health/db/")
def health_db():
    return _single("database", check_database())


@bp.get("/api/health/redis/")
def health_redis():
    return _single("redis", check_redis())
