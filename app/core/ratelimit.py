"""API rate limits (SPEC.md §4): per hour for everyone, per minute for expensive work.

Fixed windows counted in Redis, shared by every web instance. Answers carry
X-RateLimit-Limit/-Remaining/-Reset; going over answers RATE_LIMIT_EXCEEDED 429.
"""

from __future__ import annotations

import time
from functools import wraps

from flask import current_app, g
from flask_login import current_user

from app.core.api import api_error
from app.core.net import client_ip
from app.extensions import redis_store


def _queue(pipe, bucket: str, window: int) -> int:
    """Add this request's hit on `bucket` to a pipeline (its INCR answer is the count);
    the window's end."""
    now = int(time.time())
    start = now - now % window
    key = redis_store.key("rate", bucket, start)
    pipe.incr(key)
    pipe.expire(key, window + 5)
    return start + window


def _hit(bucket: str, limit: int, window: int):
    pipe = redis_store.client.pipeline()
    reset = _queue(pipe, bucket, window)
    count = pipe.execute()[0]
    return count, reset


def queue_hourly_hit(pipe, who: str) -> tuple[str, int]:
    """Count this request against `who`'s hourly limit in a pipeline the caller sends
    anyway (the bearer check, app/api): hand its INCR answer to remember_hit, and
    check_api_rate uses it instead of a round trip of its own. Two commands are queued."""
    return who, _queue(pipe, f"hour:{who}", 3600)


def remember_hit(hit: tuple[str, int], count: int) -> None:
    g.api_rate_hit = (hit[0], count, hit[1])


def _who() -> tuple[str, bool]:
    if current_user.is_authenticated:
        return f"user:{current_user.id}", True
    return f"ip:{client_ip()}", False


def check_api_rate():
    """before_request for /api/: count the request, refuse when over the hourly limit."""
    who, authenticated = _who()
    cfg = current_app.config
    limit = cfg["RATELIMIT_AUTHENTICATED"] if authenticated else cfg["RATELIMIT_ANONYMOUS"]
    counted = g.pop("api_rate_hit", None)
    if counted is not None and counted[0] == who:
        _, count, reset = counted  # counted with the bearer check's round trip
    else:
        count, reset = _hit(f"hour:{who}", limit, 3600)
    g.rate_limit = (limit, max(0, limit - count), reset)
    if count > limit:
        return api_error(
            "RATE_LIMIT_EXCEEDED",
            "Too many requests. Slow down and retry later.",
            429,
            retry_after=reset - int(time.time()),
        )
    return None


def add_headers(response):
    info = g.get("rate_limit")
    if info:
        limit, remaining, reset = info
        response.headers["X-RateLimit-Limit"] = str(limit)
        response.headers["X-RateLimit-Remaining"] = str(remaining)
        response.headers["X-RateLimit-Reset"] = str(reset)
        if response.status_code == 429:
            response.headers["Retry-After"] = str(max(1, reset - int(time.time())))
    return response


def expensive(view):
    """10 requests a minute per user for reports and AI (on top of the hourly limit)."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        who, _ = _who()
        limit = current_app.config["RATELIMIT_EXPENSIVE"]
        count, reset = _hit(f"minute:{who}", limit, 60)
        g.rate_limit = (limit, max(0, limit - count), reset)
        if count > limit:
            return api_error(
                "RATE_LIMIT_EXCEEDED",
                "This operation is limited to a few requests a minute.",
                429,
                retry_after=reset - int(time.time()),
            )
        return view(*args, **kwargs)

    return wrapped
