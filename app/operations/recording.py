"""What every web process records for the alert rules, in Redis (shared by all instances):

- per minute (`ops:m:<minute>`, a hash): `requests`, `errors` (5xx answers, unhandled
  errors included), `ms` (the sum of response times in milliseconds; its count is
  `requests`);
- per minute and error fingerprint (`ops:e:<minute>`): how often each error happened. A
  fingerprint is the exception's type and the innermost frame of our own code (file and
  function, no line: it survives unrelated edits), e.g. `ZeroDivisionError at
  app/reports/services.py:totals`; a 5xx answer without an exception is `HTTP 503 at
  <endpoint>`. Never a message, an argument or anything a user typed;
- per process, at most every `SAMPLE_EVERY_SECONDS` (`ops:proc:<host:pid>`, expiring after
  `PROCESS_TTL_SECONDS`, so a dead process vanishes): its resident memory, its memory
  limit and where that limit comes from, its CPU over the last minute; and that CPU figure
  in the minute's `ops:cpu:<minute>` hash under the process's name (the CPU rule reads
  five minutes of them).

Buckets expire after about an hour. One pipelined round trip per request (~0.1-0.3 ms,
tests/test_operations.py measures it). Health probes, static files, the live stream and
/metrics are not counted. A Redis failure never fails the request: recording pauses for a
few seconds and the answer goes out as usual."""

from __future__ import annotations

import logging
import os
import socket
import sys
import time
import traceback
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from time import perf_counter

from flask import Flask, g, request

from app.operations import thresholds as t

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
OURS = tuple(str(ROOT / part) + os.sep for part in ("app", "workers"))
SKIPPED_ENDPOINTS = frozenset({"static", "live.stream"})
PAUSE_AFTER_FAILURE = 5.0  # seconds without recording after Redis failed


def minute_of(now: float | None = None) -> int:
    return int((time.time() if now is None else now) // t.BUCKET_SECONDS)


def key(*parts) -> str:
    from app.extensions import redis_store

    return redis_store.key("ops", *parts)


def instance_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


# --- fingerprints -------------------------------------------------------------------


def fingerprint(exc: BaseException | None, status: int = 500, endpoint: str | None = None) -> str:
    """The exception's type and the innermost frame of our code (never its message)."""
    if exc is None:
        return f"HTTP {status} at {endpoint or 'no endpoint'}"
    ours = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename.startswith(OURS):
            ours = frame
    where = f"{Path(ours.filename).relative_to(ROOT).as_posix()}:{ours.name}" if ours else "outside our code"
    return f"{type(exc).__name__} at {where}"[:200]


# --- process figures ----------------------------------------------------------------


def rss_bytes() -> int:
    """Resident memory now (/proc/self/statm); elsewhere the peak (getrusage)."""
    try:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024


CGROUP_LIMITS = (
    ("/sys/fs/cgroup/memory.max", "cgroup v2 memory.max"),
    ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "cgroup v1 memory.limit_in_bytes"),
)
NO_LIMIT = 1 << 60  # cgroup v1 says "no limit" with a number near 2**63


def _read_int(path: str) -> int | None:
    try:
        text = Path(path).read_text().strip()
    except OSError:
        return None
    if not text or text == "max":
        return None
    try:
        value = int(text)
    except ValueError:
        return None
    return value if 0 < value < NO_LIMIT else None


def total_ram() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (OSError, ValueError):
        return 0


def memory_limit(setting_mb: int | None = None) -> tuple[int, str]:
    """(bytes, where it comes from): the container's cgroup limit (v2 memory.max, v1
    memory.limit_in_bytes), else the MEMORY_LIMIT_MB setting, else the machine's RAM."""
    for path, source in CGROUP_LIMITS:
        value = _read_int(path)
        if value:
            return value, source
    if setting_mb:
        return int(setting_mb) * 1024 * 1024, "MEMORY_LIMIT_MB"
    return total_ram(), "total RAM"


def cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


@dataclass
class ProcessState:
    """This process's own bookkeeping (reset in a forked child: its pid differs)."""

    pid: int = 0
    next_sample: float = 0.0
    paused_until: float = 0.0
    limit: tuple[int, str] | None = None
    cpu: deque = field(default_factory=lambda: deque(maxlen=16))  # (monotonic, cpu seconds)


_state = ProcessState()


def state() -> ProcessState:
    global _state
    if _state.pid != os.getpid():
        _state = ProcessState(pid=os.getpid())
    return _state


def cpu_percent(samples, now: float, used: float) -> float | None:
    """CPU of one core in % between the oldest sample of the last minute and now."""
    while samples and now - samples[0][0] > 65:
        samples.popleft()
    if not samples or now - samples[0][0] < 5:
        return None
    began, was = samples[0]
    return round(max(0.0, (used - was) / (now - began) * 100), 1)


def sample(pipe, now_wall: float, setting_mb: int | None = None) -> dict:
    """Add this process's figures to `pipe`; returns them."""
    own = state()
    now = time.monotonic()
    used = cpu_seconds()
    if own.limit is None:
        own.limit = memory_limit(setting_mb)
    cpu = cpu_percent(own.cpu, now, used)
    own.cpu.append((now, used))
    limit, source = own.limit
    name = instance_name()
    figures = {
        "instance": name,
        "rss": rss_bytes(),
        "limit": limit,
        "limit_source": source,
        "cpu": "" if cpu is None else cpu,
        "at": round(now_wall, 1),
    }
    proc_key = key("proc", name)
    pipe.hset(proc_key, mapping=figures)
    pipe.expire(proc_key, t.PROCESS_TTL_SECONDS)
    if cpu is not None:
        cpu_key = key("cpu", minute_of(now_wall))
        pipe.hset(cpu_key, name, cpu)
        pipe.expire(cpu_key, t.BUCKET_TTL_SECONDS)
    return figures


# --- the request hooks --------------------------------------------------------------


def record(status: int, elapsed_ms: float, error: str | None, now: float | None = None, pipe=None) -> None:
    """Count one answer in this minute's bucket (and its error, if any)."""
    from app.extensions import redis_store

    now = time.time() if now is None else now
    minute = minute_of(now)
    own_pipe = pipe is None
    if own_pipe:
        pipe = redis_store.client.pipeline(transaction=False)
    bucket = key("m", minute)
    pipe.hincrby(bucket, "requests", 1)
    pipe.hincrby(bucket, "ms", int(round(elapsed_ms)))
    if error is not None:
        pipe.hincrby(bucket, "errors", 1)
        errors = key("e", minute)
        pipe.hincrby(errors, error, 1)
        pipe.expire(errors, t.BUCKET_TTL_SECONDS)
    pipe.expire(bucket, t.BUCKET_TTL_SECONDS)
    if own_pipe:
        pipe.execute()


def _counted() -> bool:
    from app.core.api import endpoint_is

    endpoint = request.endpoint or ""
    return not (endpoint in SKIPPED_ENDPOINTS or request.path == "/metrics" or endpoint_is("health_probe"))


def _began(sender, **extra):
    g.ops_began = perf_counter()


def _finished(sender, response, **extra):
    began = g.get("ops_began")
    if began is None or not _counted():
        return
    own = state()
    now_mono = time.monotonic()
    if own.paused_until > now_mono:
        return
    status = response.status_code
    exc = g.get("unhandled_error")
    error = fingerprint(exc, status, request.endpoint) if (status >= 500 or exc is not None) else None
    try:
        from app.extensions import redis_store

        pipe = redis_store.client.pipeline(transaction=False)
        now = time.time()
        record(status, (perf_counter() - began) * 1000, error, now, pipe)
        if own.next_sample <= now_mono:
            own.next_sample = now_mono + t.SAMPLE_EVERY_SECONDS
            sample(pipe, now, sender.config.get("MEMORY_LIMIT_MB"))
        pipe.execute()
    except Exception:  # noqa: BLE001 - recording must never fail the answer
        own.paused_until = now_mono + PAUSE_AFTER_FAILURE
        log.warning("operations: could not record request figures (paused %ss)", PAUSE_AFTER_FAILURE, exc_info=True)


def init_app(app: Flask) -> None:
    """Signals, not hooks: `request_started` comes before every before_request (a 503 from
    the first hook is timed too), `request_finished` after the error handlers."""
    from flask import request_finished, request_started

    request_started.connect(_began, app)
    request_finished.connect(_finished, app)
