"""Failed sign-in throttling per account and per IP address, kept in Redis.

The same message is given whether or not the account exists, so the lockout cannot
be used to discover user names.
"""

from __future__ import annotations

import math

from flask import current_app

from app.extensions import redis_store


class TooManyAttempts(Exception):
    def __init__(self, retry_after: int):
        minutes = max(1, math.ceil(retry_after / 60))
        super().__init__(
            f"Too many sign-in attempts. Please wait {minutes} minute{'s' if minutes != 1 else ''} and try again."
        )
        self.retry_after = retry_after
        self.message = str(self)


def _keys(login: str, ip: str) -> tuple[str, str]:
    return redis_store.key("login-fail", "acct", (login or "").strip().lower()), redis_store.key("login-fail", "ip", ip)


def check(login: str, ip: str) -> None:
    """Raise TooManyAttempts if this account or address is locked out."""
    cfg = current_app.config
    client = redis_store.client
    acct_key, ip_key = _keys(login, ip)
    acct, per_ip = client.mget(acct_key, ip_key)
    if acct is not None and int(acct) >= cfg["LOGIN_MAX_FAILURES_ACCOUNT"]:
        raise TooManyAttempts(max(1, client.ttl(acct_key)))
    if per_ip is not None and int(per_ip) >= cfg["LOGIN_MAX_FAILURES_IP"]:
        raise TooManyAttempts(max(1, client.ttl(ip_key)))


def record_failure(login: str, ip: str) -> None:
    window = current_app.config["LOGIN_LOCKOUT_SECONDS"]
    pipe = redis_store.client.pipeline()
    for key in _keys(login, ip):
        pipe.incr(key)
        pipe.expire(key, window)
    pipe.execute()


def record_success(login: str, ip: str) -> None:
    redis_store.client.delete(_keys(login, ip)[0])
