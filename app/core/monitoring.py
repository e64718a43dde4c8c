"""Capacity alerts of SPEC.md §4: database connections > 80, Redis memory > 90 % of its
limit, a job queue longer than 1000. Logged as `alert=…` lines (and sent to Sentry when
configured) by the periodic job and `flask capacity-check`."""

from __future__ import annotations

import logging

from sqlalchemy import text

from app.extensions import db, redis_store

log = logging.getLogger("kibray.monitoring")

DB_CONNECTIONS_MAX = 80
REDIS_MEMORY_RATIO_MAX = 0.90
QUEUE_LENGTH_MAX = 1000


def measure() -> dict:
    from app.core.jobs import QUEUES, get_queue

    figures: dict = {"db_connections": None, "redis_memory_ratio": None, "queues": {}}
    if db.engine.dialect.name == "postgresql":
        figures["db_connections"] = db.session.scalar(text("SELECT count(*) FROM pg_stat_activity"))
    memory = redis_store.client.info("memory")
    limit = int(memory.get("maxmemory") or 0)
    if limit:
        figures["redis_memory_ratio"] = round(int(memory.get("used_memory", 0)) / limit, 4)
    for name in QUEUES:
        figures["queues"][name] = get_queue(name).count
    return figures


def alerts(figures: dict) -> list[str]:
    found = []
    if figures["db_connections"] is not None and figures["db_connections"] > DB_CONNECTIONS_MAX:
        found.append(f"database connections {figures['db_connections']} > {DB_CONNECTIONS_MAX}")
    if figures["redis_memory_ratio"] is not None and figures["redis_memory_ratio"] > REDIS_MEMORY_RATIO_MAX:
        found.append(f"Redis memory at {figures['redis_memory_ratio']:.0%} of its limit (> 90%)")
    for name, length in figures["queues"].items():
        if length > QUEUE_LENGTH_MAX:
            found.append(f"job queue {name!r} has {length} waiting jobs (> {QUEUE_LENGTH_MAX})")
    return found


def check() -> list[str]:
    """Measure, log every alert (Sentry picks up error-level logs), return them."""
    found = alerts(measure())
    for message in found:
        log.error("alert=capacity %s", message)
    return found
