"""The account lockout under real concurrency: simultaneous sign-ins against gunicorn
(gevent worker) on PostgreSQL and Redis. Before the fix the check-then-count throttle
let a burst of 100 through 6 password checks instead of LOGIN_MAX_FAILURES_ACCOUNT (5)."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest
import redis
import requests
from sqlalchemy import create_engine, text

from tests.e2e.helpers import E2E_DATABASE_URL, E2E_PREFIX, E2E_REDIS_URL

pytestmark = pytest.mark.e2e

BURST = 100
MAX_FAILURES = 5  # LOGIN_MAX_FAILURES_ACCOUNT's default, which the server runs with


def test_a_burst_of_wrong_passwords_gets_exactly_five_checks(server):
    name = f"burst-{uuid.uuid4().hex[:8]}"
    start = Barrier(BURST)

    def attempt() -> int:
        start.wait()
        response = requests.post(
            f"{server}/api/auth/login/", json={"username": name, "password": "Wrong-pass1!"}, timeout=30
        )
        return response.status_code

    try:
        with ThreadPoolExecutor(BURST) as pool:
            statuses = [f.result() for f in [pool.submit(attempt) for _ in range(BURST)]]
        assert statuses.count(401) == MAX_FAILURES, statuses  # a password check each
        assert statuses.count(429) == BURST - MAX_FAILURES, statuses  # refused before any check
        engine = create_engine(E2E_DATABASE_URL)
        try:
            with engine.connect() as conn:
                rows = conn.execute(
                    text(
                        "SELECT result, count(*) FROM audit_log WHERE action = 'sign_in' AND username = :n GROUP BY result"
                    ),
                    {"n": name},
                ).all()
        finally:
            engine.dispose()
        assert dict(rows) == {"failed": MAX_FAILURES, "denied": BURST - MAX_FAILURES}
    finally:
        # leave the shared address's allowance to the other browser tests
        store = redis.Redis.from_url(E2E_REDIS_URL)
        store.delete(f"{E2E_PREFIX}:login-fail:acct:{name}", f"{E2E_PREFIX}:login-fail:ip:127.0.0.1")
        store.close()
