"""Prometheus metrics (`GET /metrics`, app/health/metrics.py) and a reader of them.

Recorded as they happen, per process:
- `kibray_http_requests_total{endpoint,method,status}` — every request but the
  platform's probes and the scrapes themselves (`/health/`, `/api/health/*`, `/metrics`
  are left out, so a scraper or a load balancer does not drown the real traffic);
- `kibray_http_request_duration_seconds{endpoint}` (histogram);
- `kibray_sql_queries_per_request{endpoint}` (histogram);
- `kibray_sse_streams_open` (gauge; the live streams, app/live).
`endpoint` is Flask's endpoint name (`projects.detail`), never the raw path: a URL with
an id or a probing bot cannot grow the label set (an unmatched URL is `unmatched`; an
unknown method `other`).

Read at scrape time, never stored (`ScrapeCollector`): `kibray_queue_length{queue}`,
`kibray_queue_failed_jobs{queue}`, `kibray_queue_oldest_job_age_seconds{queue}`,
`kibray_rq_workers`, and the capacity figures of core/monitoring.py
(`kibray_db_connections`, `kibray_redis_memory_used_bytes`, `kibray_redis_memory_ratio`),
plus `kibray_build_info{release,environment}`.

Under gunicorn (PROMETHEUS_MULTIPROC_DIR set by gunicorn.conf.py before the workers fork)
each worker writes its figures to files in that directory and a scrape adds them up
(prometheus_client's multiprocess mode; the SSE gauge is the live sum of the live
workers). Without it (tests, the embedded app, `python -m workers`) one plain registry.
"""

from __future__ import annotations

import logging
import os
import time
from datetime import UTC

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client import generate_latest as _generate
from prometheus_client.core import GaugeMetricFamily

log = logging.getLogger(__name__)

CONTENT_TYPE = CONTENT_TYPE_LATEST
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
NOT_COUNTED = frozenset({"health.metrics"})  # and every @probe endpoint

REQUESTS = Counter("kibray_http_requests", "HTTP requests answered", ["endpoint", "method", "status"])
DURATION = Histogram(
    "kibray_http_request_duration_seconds",
    "Time to answer a request (to its headers; a stream's life is not counted)",
    ["endpoint"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0),
)
SQL = Histogram(
    "kibray_sql_queries_per_request",
    "SQL statements a request ran",
    ["endpoint"],
    buckets=(0, 1, 2, 5, 10, 20, 50, 100, 200, 500),
)
SSE_OPEN = Gauge("kibray_sse_streams_open", "Live event streams (/events) open now", multiprocess_mode="livesum")


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def observe_request(endpoint: str | None, method: str, status: int, seconds: float, sql_count: int) -> None:
    """One answered request (called by the request's log line, core/logs.py)."""
    if endpoint in NOT_COUNTED or _is_probe(endpoint):
        return
    name = endpoint or "unmatched"
    REQUESTS.labels(name, method if method in METHODS else "other", str(status)).inc()
    DURATION.labels(name).observe(seconds)
    SQL.labels(name).observe(sql_count)


def _is_probe(endpoint: str | None) -> bool:
    if not endpoint:
        return False
    from flask import current_app

    view = current_app.view_functions.get(endpoint)
    return bool(getattr(view, "health_probe", False))


def sse_opened() -> None:
    SSE_OPEN.inc()


def sse_closed() -> None:
    SSE_OPEN.dec()


class ScrapeCollector:
    """Figures read when scraped (an app context is needed: /metrics has one)."""

    def collect(self):
        from flask import current_app

        from app.core.logs import release

        info = GaugeMetricFamily("kibray_build_info", "The running release", labels=["release", "environment"])
        info.add_metric([release(), current_app.config.get("APP_ENV", "")], 1)
        yield info
        if current_app.config.get("EMBEDDED"):
            return  # no RQ, no PostgreSQL: nothing more to read
        yield from _guarded("queues", _queue_figures)
        yield from _guarded("capacity", _capacity_figures)

    def describe(self):
        return []  # scrape-time only: never collected at registration


def _guarded(part: str, read):
    """A part that cannot be read (Redis down) is left out and said so; the rest goes on."""
    try:
        return list(read())
    except Exception as exc:  # noqa: BLE001 - a scrape must answer whatever is down
        log.warning("metrics: could not read %s: %s: %s", part, type(exc).__name__, exc)
        failed = GaugeMetricFamily("kibray_scrape_error", "A part of the scrape could not be read", labels=["part"])
        failed.add_metric([part], 1)
        return [failed]


def _queue_figures():
    from rq import Worker

    from app.core.jobs import QUEUES, get_queue

    length = GaugeMetricFamily("kibray_queue_length", "Jobs waiting in each RQ queue", labels=["queue"])
    failed = GaugeMetricFamily("kibray_queue_failed_jobs", "Jobs in each queue's failed registry", labels=["queue"])
    oldest = GaugeMetricFamily(
        "kibray_queue_oldest_job_age_seconds", "Age of the oldest waiting job (0: none)", labels=["queue"]
    )
    now = time.time()
    connection = None
    for name in QUEUES:
        queue = get_queue(name)
        connection = queue.connection
        length.add_metric([name], queue.count)
        failed.add_metric([name], queue.failed_job_registry.count)
        oldest.add_metric([name], _oldest_age(queue, now))
    workers = GaugeMetricFamily("kibray_rq_workers", "RQ workers registered")
    workers.add_metric([], Worker.count(connection=connection))
    return [length, failed, oldest, workers]


def _oldest_age(queue, now: float) -> float:
    ids = queue.get_job_ids(0, 1)  # (offset, length): rq 3 answers [] for a length of 0
    if not ids:
        return 0.0
    job = queue.fetch_job(ids[0])
    stamp = getattr(job, "enqueued_at", None) if job is not None else None
    if stamp is None:
        return 0.0
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)  # rq stores UTC and reads it back naive
    return max(0.0, now - stamp.timestamp())


def _capacity_figures():
    from app.core.monitoring import measure
    from app.extensions import redis_store

    figures = measure()
    found = []
    if figures["db_connections"] is not None:
        connections = GaugeMetricFamily("kibray_db_connections", "PostgreSQL connections (pg_stat_activity)")
        connections.add_metric([], figures["db_connections"])
        found.append(connections)
    used = GaugeMetricFamily("kibray_redis_memory_used_bytes", "Redis used_memory")
    used.add_metric([], int(redis_store.client.info("memory").get("used_memory", 0)))
    found.append(used)
    if figures["redis_memory_ratio"] is not None:
        ratio = GaugeMetricFamily("kibray_redis_memory_ratio", "Redis used_memory / maxmemory")
        ratio.add_metric([], figures["redis_memory_ratio"])
        found.append(ratio)
    return found


def registry() -> CollectorRegistry:
    """The registry a scrape reads: every process's figures (multiprocess) or this
    process's, and the scrape-time figures."""
    path = multiprocess_dir()
    if path:
        from prometheus_client import multiprocess

        scraped = CollectorRegistry()
        multiprocess.MultiProcessCollector(scraped, path=path)
    else:
        scraped = CollectorRegistry(auto_describe=False)
        scraped.register(_Forward(REGISTRY))
    scraped.register(ScrapeCollector())
    return scraped


class _Forward:
    """The default registry's collectors (ours, and the process/GC figures) as one."""

    def __init__(self, source: CollectorRegistry):
        self.source = source

    def collect(self):
        return self.source.collect()

    def describe(self):
        return []


def exposition() -> bytes:
    """The text a scrape answers."""
    return _generate(registry())


def snapshot() -> dict[str, list[tuple[dict[str, str], float]]]:
    """Every sample a scrape would show, as {sample name: [(labels, value), …]} — e.g.
    snapshot()["kibray_http_requests_total"], snapshot()["kibray_queue_length"]. Needs an
    app context (the scrape-time figures read Redis and the database)."""
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in registry().collect():
        for sample in family.samples:
            found.setdefault(sample.name, []).append((dict(sample.labels), sample.value))
    return found


def mark_process_dead(pid: int) -> None:
    """gunicorn's child_exit: a dead worker's live gauges (the SSE streams) stop counting."""
    path = multiprocess_dir()
    if path:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid, path)
