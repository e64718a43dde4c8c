"""The alert rules and their state, shared by every worker through Redis.

`evaluate()` (the periodic job `operations-alerts`, every minute; `flask operations
evaluate`) reads the figures (recording.py's buckets, each process's sample, the health
checks, the queues, the capacity figures of app/core/monitoring.py), turns them into the
conditions that hold now (`conditions()`, pure), then:

- a condition that holds and is not open yet is opened with HSETNX on the hash
  `ops:alerts:open` (the hash form of SET NX: one field per condition) — of two
  evaluators at once only the one whose HSETNX answered 1 tells anyone;
- while it holds nothing more happens;
- an open condition that no longer holds is cleared with HDEL — only the evaluator whose
  HDEL answered 1 says "cleared"; one whose figure could not be read this time
  (`figures["unreadable"]`, RULE_FIGURE) stays open: unknown is not cleared.

Each opening and clearing is kept in a capped list (`ops:alerts:events`, newest first)
and sent to the channels (channels.py). The page's live event goes out after every
evaluation."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from app.operations import recording
from app.operations import thresholds as t

log = logging.getLogger("kibray.monitoring")


@dataclass
class Condition:
    key: str  # one per thing that can be wrong: "error_rate", "memory:web-1:42"
    rule: str  # thresholds.SEVERITY's key
    message: str
    figures: dict = field(default_factory=dict)

    @property
    def severity(self) -> str:
        return t.SEVERITY[self.rule]


# --- reading the figures --------------------------------------------------------------


def _int(value) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def _float(value) -> float | None:
    try:
        return float(value) if value not in (None, "", b"") else None
    except (TypeError, ValueError):
        return None


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def request_figures(now: float | None = None) -> dict:
    """The request buckets the rules read, in one round trip."""
    from app.extensions import redis_store

    minute = recording.minute_of(now)
    window = range(minute - t.SAME_ERROR_WINDOW_MINUTES + 1, minute + 1)
    pipe = redis_store.client.pipeline(transaction=False)
    for m in window:
        pipe.hgetall(recording.key("m", m))
    for m in window:
        pipe.hgetall(recording.key("e", m))
    cpu_minutes = range(minute - t.CPU_WINDOW_MINUTES, minute)
    for m in cpu_minutes:
        pipe.hgetall(recording.key("cpu", m))
    answers = pipe.execute()
    size = len(window)
    buckets = {m: {_text(k): _int(v) for k, v in a.items()} for m, a in zip(window, answers[:size], strict=True)}
    errors: dict[str, int] = {}
    for a in answers[size : 2 * size]:
        for k, v in a.items():
            errors[_text(k)] = errors.get(_text(k), 0) + _int(v)
    cpu = [{_text(k): _float(v) for k, v in a.items()} for a in answers[2 * size :]]
    last = buckets.get(minute - 1, {})
    recent = [buckets.get(m, {}) for m in range(minute - t.RESPONSE_TIME_WINDOW_MINUTES, minute)]
    requests_5 = sum(b.get("requests", 0) for b in recent)
    ms_5 = sum(b.get("ms", 0) for b in recent)
    return {
        "minute": minute,
        "last_minute": {"requests": last.get("requests", 0), "errors": last.get("errors", 0)},
        "requests_5min": requests_5,
        "avg_ms_5min": round(ms_5 / requests_5) if requests_5 else None,
        "errors_window": errors,
        "cpu_minutes": cpu,  # the last CPU_WINDOW_MINUTES complete minutes, oldest first
        "per_minute": [
            {
                "minute": m,
                "requests": buckets.get(m, {}).get("requests", 0),
                "errors": buckets.get(m, {}).get("errors", 0),
            }
            for m in range(minute - 9, minute + 1)
        ],
    }


def processes() -> list[dict]:
    """Every process seen in the last PROCESS_TTL_SECONDS (their samples expire)."""
    from app.extensions import redis_store

    client = redis_store.client
    keys = sorted(client.scan_iter(match=recording.key("proc", "*"), count=500))
    if not keys:
        return []
    pipe = client.pipeline(transaction=False)
    for k in keys:
        pipe.hgetall(k)
    found = []
    for raw in pipe.execute():
        row = {_text(k): _text(v) for k, v in raw.items()}
        if not row.get("instance"):
            continue
        rss, limit = _int(row.get("rss")), _int(row.get("limit"))
        found.append(
            {
                "instance": row["instance"],
                "rss": rss,
                "limit": limit,
                "limit_source": row.get("limit_source", ""),
                "memory_ratio": round(rss / limit, 4) if limit else None,
                "cpu": _float(row.get("cpu")),
                "at": _float(row.get("at")),
            }
        )
    return sorted(found, key=lambda p: p["instance"])


def health() -> dict[str, bool]:
    """/health/'s own checks (app/health/checks.py)."""
    from app.health.checks import check_database, check_redis, migrations_ok, storage_ok

    return {
        "database": check_database(),
        "redis": check_redis(),
        "storage": storage_ok(),
        "migrations": migrations_ok(),
    }


def queues(now: float | None = None) -> list[dict]:
    """Each RQ queue: length, the age of the job at its head, failed jobs."""
    from rq.job import Job

    from app.core.jobs import QUEUES, get_queue

    now = time.time() if now is None else now
    rows = []
    for name in QUEUES:
        queue = get_queue(name)
        head = queue.get_job_ids(0, 1)  # (offset, length)
        oldest = None
        if head:
            job = Job.fetch(head[0], connection=queue.connection) if Job.exists(head[0], queue.connection) else None
            if job is not None and job.enqueued_at is not None:
                enqueued = job.enqueued_at.replace(tzinfo=UTC) if job.enqueued_at.tzinfo is None else job.enqueued_at
                oldest = max(0, round(now - enqueued.timestamp()))
        rows.append(
            {
                "name": name,
                "length": queue.count,
                "oldest_seconds": oldest,
                "failed": queue.failed_job_registry.count,
            }
        )
    return rows


def capacity() -> dict:
    """app/core/monitoring.py's figures (database connections, Redis memory, queues)."""
    from app.core import monitoring

    return monitoring.measure()


def gather(now: float | None = None) -> dict:
    """Everything the rules read. A figure that cannot be read is None (and said so)."""
    figures: dict = {"at": time.time() if now is None else now, "unreadable": []}
    for name, read in (
        ("requests", lambda: request_figures(now)),
        ("processes", processes),
        ("health", health),
        ("queues", lambda: queues(now)),
        ("capacity", capacity),
    ):
        try:
            figures[name] = read()
        except Exception:  # noqa: BLE001 - one unreadable figure must not stop the others
            log.exception("operations: could not read %s", name)
            figures[name] = None
            figures["unreadable"].append(name)
            _rollback()
    return figures


def _rollback() -> None:
    from app.extensions import db

    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001
        log.debug("rollback failed", exc_info=True)


# --- the rules ------------------------------------------------------------------------


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()[:12]


def conditions(figures: dict) -> list[Condition]:
    """The conditions that hold for `figures` (gather()'s shape). Pure."""
    found: list[Condition] = []
    req = figures.get("requests")
    if req:
        errors = req["last_minute"]["errors"]
        if errors > t.ERROR_RATE_MAX:
            found.append(
                Condition(
                    "error_rate",
                    "error_rate",
                    f"{errors} errors in the last minute (more than {t.ERROR_RATE_MAX} a minute)",
                    {"errors": errors, "requests": req["last_minute"]["requests"]},
                )
            )
        for fp, count in sorted(req["errors_window"].items()):
            if count > t.SAME_ERROR_MAX:
                found.append(
                    Condition(
                        f"same_error:{_digest(fp)}",
                        "same_error",
                        f"the same error {count} times in the last {t.SAME_ERROR_WINDOW_MINUTES} minutes "
                        f"(more than {t.SAME_ERROR_MAX}): {fp}",
                        {"fingerprint": fp, "count": count},
                    )
                )
        average = req["avg_ms_5min"]
        if average is not None and average > t.RESPONSE_TIME_MAX_MS:
            found.append(
                Condition(
                    "response_time",
                    "response_time",
                    f"average response time {average / 1000:.1f} s over the last "
                    f"{t.RESPONSE_TIME_WINDOW_MINUTES} minutes (more than {t.RESPONSE_TIME_MAX_MS / 1000:g} s)",
                    {"avg_ms": average, "requests": req["requests_5min"]},
                )
            )
        minutes = req["cpu_minutes"]
        if len(minutes) >= t.CPU_WINDOW_MINUTES:
            for instance in sorted(minutes[-1]):
                values = [m.get(instance) for m in minutes[-t.CPU_WINDOW_MINUTES :]]
                if all(v is not None and v > t.CPU_PERCENT_MAX for v in values):
                    found.append(
                        Condition(
                            f"cpu:{instance}",
                            "cpu",
                            f"CPU of {instance} above {t.CPU_PERCENT_MAX:g} % for {t.CPU_WINDOW_MINUTES} minutes "
                            f"(lowest {min(values):g} %)",
                            {"instance": instance, "cpu": values},
                        )
                    )
    for proc in figures.get("processes") or ():
        ratio = proc["memory_ratio"]
        if ratio is not None and ratio > t.MEMORY_RATIO_MAX:
            found.append(
                Condition(
                    f"memory:{proc['instance']}",
                    "memory",
                    f"memory of {proc['instance']} at {ratio:.0%} of its limit ({proc['limit_source']}; "
                    f"more than {t.MEMORY_RATIO_MAX:.0%})",
                    {"instance": proc["instance"], "rss": proc["rss"], "limit": proc["limit"]},
                )
            )
    checks = figures.get("health")
    if checks is not None and not all(checks.values()):
        failing = sorted(name for name, ok in checks.items() if not ok)
        found.append(Condition("health", "health", f"/health/ failing: {', '.join(failing)}", {"failing": failing}))
    for queue in figures.get("queues") or ():
        age = queue["oldest_seconds"]
        if age is not None and age > t.OLDEST_JOB_MAX_SECONDS:
            found.append(
                Condition(
                    f"queue_age:{queue['name']}",
                    "queue_age",
                    f"the oldest job in queue {queue['name']!r} has waited {age // 60} min {age % 60} s "
                    f"(more than {t.OLDEST_JOB_MAX_SECONDS // 60} minutes)",
                    {"queue": queue["name"], "seconds": age},
                )
            )
    cap = figures.get("capacity")
    if cap:
        db_max, redis_max, queue_max = t.capacity()
        if cap["db_connections"] is not None and cap["db_connections"] > db_max:
            found.append(
                Condition(
                    "db_connections",
                    "db_connections",
                    f"database connections {cap['db_connections']} (more than {db_max})",
                    {"connections": cap["db_connections"]},
                )
            )
        if cap["redis_memory_ratio"] is not None and cap["redis_memory_ratio"] > redis_max:
            found.append(
                Condition(
                    "redis_memory",
                    "redis_memory",
                    f"Redis memory at {cap['redis_memory_ratio']:.0%} of its limit (more than {redis_max:.0%})",
                    {"ratio": cap["redis_memory_ratio"]},
                )
            )
        for name, length in sorted(cap["queues"].items()):
            if length > queue_max:
                found.append(
                    Condition(
                        f"queue_length:{name}",
                        "queue_length",
                        f"job queue {name!r} has {length} waiting jobs (more than {queue_max})",
                        {"queue": name, "length": length},
                    )
                )
    return found


# --- the state ------------------------------------------------------------------------


def _open_key() -> str:
    return recording.key("alerts", "open")


def _events_key() -> str:
    return recording.key("alerts", "events")


def _snapshot_key() -> str:
    return recording.key("alerts", "snapshot")


def _stamp(now: float) -> str:
    return datetime.fromtimestamp(now, UTC).isoformat(timespec="seconds")


def open_alerts() -> dict[str, dict]:
    from app.extensions import redis_store

    raw = redis_store.client.hgetall(_open_key())
    return {_text(k): json.loads(v) for k, v in raw.items()}


def recent_events(limit: int = 50) -> list[dict]:
    from app.extensions import redis_store

    return [json.loads(v) for v in redis_store.client.lrange(_events_key(), 0, limit - 1)]


def last_snapshot() -> dict | None:
    from app.extensions import redis_store

    raw = redis_store.client.get(_snapshot_key())
    return json.loads(raw) if raw else None


@dataclass
class Outcome:
    holding: list[Condition]
    opened: list[dict]
    cleared: list[dict]
    figures: dict


# The figure (gather()'s key) each rule reads: an open alert whose figure could not be
# read this time is left open — its condition is unknown, not gone.
RULE_FIGURE = {
    "error_rate": "requests",
    "same_error": "requests",
    "response_time": "requests",
    "cpu": "requests",
    "memory": "processes",
    "health": "health",
    "queue_age": "queues",
    "db_connections": "capacity",
    "redis_memory": "capacity",
    "queue_length": "capacity",
}


def transition(found: list[Condition], now: float, unreadable=()) -> tuple[list[dict], list[dict]]:
    """Open what newly holds, clear what no longer does (unless its figure is among
    `unreadable`); only the winner of each HSETNX / HDEL gets the event back."""
    from app.extensions import redis_store

    client = redis_store.client
    opened, cleared = [], []
    holding = {c.key for c in found}
    for condition in found:
        record = {
            "condition": condition.key,
            "rule": condition.rule,
            "severity": condition.severity,
            "message": condition.message,
            "figures": condition.figures,
            "opened_at": _stamp(now),
        }
        if client.hsetnx(_open_key(), condition.key, json.dumps(record)):
            opened.append(dict(record, state="opened", at=record["opened_at"]))
    for key, record in open_alerts().items():
        if key in holding or RULE_FIGURE.get(record.get("rule")) in unreadable:
            continue
        if client.hdel(_open_key(), key):
            cleared.append(dict(record, state="cleared", at=_stamp(now)))
    return opened, cleared


def remember(events: list[dict]) -> None:
    from app.extensions import redis_store

    if not events:
        return
    pipe = redis_store.client.pipeline(transaction=False)
    for event in events:
        pipe.lpush(_events_key(), json.dumps(event))
    pipe.ltrim(_events_key(), 0, t.EVENTS_KEPT - 1)
    pipe.execute()


def evaluate(now: float | None = None, figures: dict | None = None) -> Outcome:
    """Measure, apply the rules, open and clear alerts, tell the channels, publish the
    page's live event, commit. Safe to run in several workers at once. If anything after
    the opening and clearing fails (the commit included), they are undone and the error
    raised: the job's retry finds the same changes to make and tells them."""
    from app.extensions import db, redis_store
    from app.operations import channels

    now = time.time() if now is None else now
    figures = gather(now) if figures is None else figures
    found = conditions(figures)
    for condition in found:
        log.error("alert=%s %s", condition.rule, condition.message)  # a line per minute it holds (Sentry)
    opened, cleared = transition(found, now, figures.get("unreadable") or ())
    restore = {e["condition"]: {k: v for k, v in e.items() if k not in ("state", "at")} for e in cleared}
    remembered: list[str] = []
    try:
        channels.deliver(opened + cleared)
        remembered = [json.dumps(event) for event in opened + cleared]
        remember(opened + cleared)
        snapshot = {"at": _stamp(now), "figures": _jsonable(figures), "holding": [c.key for c in found]}
        redis_store.client.set(_snapshot_key(), json.dumps(snapshot), ex=t.BUCKET_TTL_SECONDS)
        channels.publish_page(len(opened), len(cleared))
        db.session.commit()  # the admins' notifications; the Slack jobs and the live event follow it
    except Exception:
        _undo([e["condition"] for e in opened], restore, remembered)
        raise
    return Outcome(found, opened, cleared, figures)


def _undo(opened: list[str], restore: dict[str, dict], remembered: list[str]) -> None:
    """A failure after transition() (the commit, Redis, the live event): put the alert
    state back as it was, so the retry opens and clears again and somebody is told."""
    from app.extensions import redis_store

    try:
        pipe = redis_store.client.pipeline(transaction=False)
        if opened:
            pipe.hdel(_open_key(), *opened)
        for key, record in restore.items():
            pipe.hsetnx(_open_key(), key, json.dumps(record))
        for raw in remembered:
            pipe.lrem(_events_key(), 1, raw)
        pipe.execute()
    except Exception:  # noqa: BLE001 - the original failure is the one raised
        log.exception("operations: could not undo this evaluation's alert changes")


def _jsonable(figures: dict) -> dict:
    return json.loads(json.dumps(figures, default=str))
