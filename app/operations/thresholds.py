"""Every alert rule's threshold and window, named once (docs/operations.md, "Alerts").

The capacity limits (database connections, Redis memory, queue length) are the ones
app/core/monitoring.py already checks: they are read from there, never repeated here."""

from __future__ import annotations

# -- from our own request figures (per-minute buckets in Redis, app/operations/recording.py)
ERROR_RATE_MAX = 10  # 5xx answers and unhandled errors in the last complete minute: > 10
SAME_ERROR_MAX = 100  # one error fingerprint: > 100 times …
SAME_ERROR_WINDOW_MINUTES = 60  # … over the last 60 minutes (the current one included)
RESPONSE_TIME_MAX_MS = 2000  # average response time: > 2 s …
RESPONSE_TIME_WINDOW_MINUTES = 5  # … over the last 5 complete minutes
# -- from each web process's own samples
MEMORY_RATIO_MAX = 0.90  # RSS above 90 % of the process's memory limit
CPU_PERCENT_MAX = 80.0  # CPU above 80 % of one core …
CPU_WINDOW_MINUTES = 5  # … in every one of the last 5 minutes
# -- measured by the evaluator itself
OLDEST_JOB_MAX_SECONDS = 300  # the job at the head of a queue waiting for more than 5 minutes
# /health/ failing: any of its checks false (app/health/checks.py)

# -- recording
BUCKET_SECONDS = 60
BUCKET_TTL_SECONDS = 3900  # an hour of buckets (the same-error window) and some margin
SAMPLE_EVERY_SECONDS = 10  # a process samples its memory and CPU at most this often
PROCESS_TTL_SECONDS = 120  # a process not seen for 2 minutes has gone from the page and the rules
EVENTS_KEPT = 200  # alert events (opened / cleared) kept for the page

# -- severity: critical alerts are emailed at once, whatever an admin's quiet hours or
# digest say; warnings follow each admin's notification settings (email by default).
CRITICAL = "critical"
WARNING = "warning"
SEVERITY = {
    "health": CRITICAL,
    "error_rate": CRITICAL,
    "memory": CRITICAL,
    "db_connections": CRITICAL,
    "redis_memory": CRITICAL,
    "same_error": WARNING,
    "response_time": WARNING,
    "cpu": WARNING,
    "queue_age": WARNING,
    "queue_length": WARNING,
}


def capacity():
    """The capacity limits, read from app/core/monitoring.py when asked (not copied)."""
    from app.core import monitoring

    return monitoring.DB_CONNECTIONS_MAX, monitoring.REDIS_MEMORY_RATIO_MAX, monitoring.QUEUE_LENGTH_MAX
