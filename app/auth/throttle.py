"""Throttling of every check of a secret (sign-in password, current password, two-factor
code, invitation token) per account and per client address, kept in Redis.

The same message is given whether or not the account exists, so the lockout cannot
be used to discover user names.

Counting is atomic: `reserve()` checks the limits and counts the attempt in one MULTI/EXEC
transaction *before* the secret is checked, so N concurrent requests can never all pass a
"4 failures so far" check — exactly LOGIN_MAX_FAILURES_ACCOUNT checks happen, then the
account is locked. A successful check gives its reservation back (`release()`).
"""

from __future__ import annotations

import math
from collections.abc import Callable

from flask import current_app, has_request_context

from app.extensions import redis_store


class TooManyAttempts(Exception):
    def __init__(self, retry_after: int):
        minutes = max(1, math.ceil(retry_after / 60))
        super().__init__(
            f"Too many sign-in attempts. Please wait {minutes} minute{'s' if minutes != 1 else ''} and try again."
        )
        self.retry_after = retry_after
        self.message = str(self)


def client_ip() -> str:
    """The client address (core.net.client_ip), or "" outside a request (CLI, jobs)."""
    from app.core import net

    return net.client_ip() if has_request_context() else ""


def _keys(login: str, ip: str) -> tuple[str, str]:
    return redis_store.key("login-fail", "acct", (login or "").strip().lower()), redis_store.key("login-fail", "ip", ip)


def reserve(login: str, ip: str) -> None:
    """Count an attempt at `login` from `ip`, or raise TooManyAttempts if either is locked.

    One MULTI/EXEC: both counters go up first, so concurrent attempts get distinct
    numbers and only those within the limits go on; a refused attempt gives its count
    back. `EXPIRE … NX` there guarantees a lifetime even if the process dies right after;
    an admitted attempt then restarts the window (as each failure always has)."""
    cfg = current_app.config
    window = int(cfg["LOGIN_LOCKOUT_SECONDS"])
    acct_key, ip_key = _keys(login, ip)
    client = redis_store.client
    pipe = client.pipeline(transaction=True)
    pipe.incr(acct_key)
    pipe.incr(ip_key)
    pipe.expire(acct_key, window, nx=True)
    pipe.expire(ip_key, window, nx=True)
    acct, per_ip, *_ = pipe.execute()
    over_acct = acct > int(cfg["LOGIN_MAX_FAILURES_ACCOUNT"])
    over_ip = per_ip > int(cfg["LOGIN_MAX_FAILURES_IP"])
    if over_acct or over_ip:
        pipe = client.pipeline(transaction=True)
        pipe.decr(acct_key)
        pipe.decr(ip_key)
        pipe.ttl(acct_key if over_acct else ip_key)
        ttl = pipe.execute()[-1]
        raise TooManyAttempts(max(1, int(ttl)))
    pipe = client.pipeline(transaction=True)
    pipe.expire(acct_key, window)
    pipe.expire(ip_key, window)
    pipe.execute()


def release(login: str, ip: str) -> None:
    """The secret was right: the account's failures are forgotten and the address's
    reserved attempt is given back."""
    acct_key, ip_key = _keys(login, ip)
    pipe = redis_store.client.pipeline(transaction=True)
    pipe.delete(acct_key)
    pipe.decr(ip_key)
    if pipe.execute()[-1] <= 0:
        redis_store.client.delete(ip_key)  # never a negative (or TTL-less) counter


def guarded(login: str, ip: str, check: Callable[[], bool]) -> bool:
    """Run `check()` (does the secret match?) under the throttle: raises TooManyAttempts
    when locked (without running it), counts a failure when it answers False."""
    reserve(login, ip)
    ok = check()
    if ok:
        release(login, ip)
    return ok
