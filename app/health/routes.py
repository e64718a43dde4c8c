"""GET /health/ → {"status", "checks": {database, redis, storage, migrations}, "timestamp"}."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from flask import Blueprint, jsonify
from pydantic import Field

from app.core.api import probe
from app.core.openapi import operation
from app.core.schemas import Output
from app.health import bp
from app.health.checks import check_database, check_redis, migrations_ok, storage_ok

# Under the one /api blueprint (app/api); the probes are public and never rate-limited.
api = Blueprint("health", __name__)


def _stamp() -> str:
    return datetime.now(UTC).isoformat()


@bp.get("/health/")
@probe
def health():
    checks = {
        "database": check_database(),
        "redis": check_redis(),
        "storage": storage_ok(),
        "migrations": migrations_ok(),
    }
    healthy = all(checks.values())
    body = {"status": "healthy" if healthy else "unhealthy", "checks": checks, "timestamp": _stamp()}
    return jsonify(body), 200 if healthy else 503


def _single(name: str, ok: bool):
    body = {"status": "healthy" if ok else "unhealthy", "checks": {name: ok}, "timestamp": _stamp()}
    return jsonify(body), 200 if ok else 503


class HealthOut(Output):
    status: Literal["healthy", "unhealthy"]
    checks: dict[str, bool]
    timestamp: str = Field(json_schema_extra={"format": "date-time"})


@api.get("/health/db/")
@probe
@operation("Is the database reachable? (503 when not)", returns=HealthOut, raw=True)
def health_db():
    return _single("database", check_database())


@api.get("/health/redis/")
@probe
@operation("Is Redis reachable? (503 when not)", returns=HealthOut, raw=True)
def health_redis():
    return _single("redis", check_redis())
