"""Bursts on ONE gunicorn gevent worker (worker_connections 1000, the production default)
on PostgreSQL and Redis: 1,000 simultaneous live-stream connects (every browser
reconnecting after a deploy) and 1,000 simultaneous bell requests. Before the fix the
worker's Redis pool ran out (`MaxConnectionsError` opening the session) and people got
gunicorn's bare 500. Now a burst waits for a connection: none fails, none is a 500."""

from __future__ import annotations

import re

import pytest
import requests

from scripts.burst import burst, summary
from tests.e2e.helpers import DEMO, PASSWORD

pytestmark = pytest.mark.e2e

BURST = 1000


@pytest.fixture(scope="module")
def cookie(server) -> str:
    """A signed-in employee's session cookie."""
    session = requests.Session()
    page = session.get(server + "/login", timeout=10)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', page.text
    )
    response = session.post(
        server + "/login",
        data={"username": DEMO["employee"], "password": PASSWORD, "csrf_token": token.group(1)},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 302, response.status_code
    return "; ".join(f"{c.name}={c.value}" for c in session.cookies)


def _assert_none_failed(attempts, expected: int) -> None:
    result = summary(attempts)
    print(result)  # the figures, for -s
    failed = [a for a in attempts if a.error is not None or a.status != expected]
    example = failed[0] if failed else None
    assert not failed, (result, example)
    assert result["statuses"] == {expected: BURST}, result


def test_a_thousand_simultaneous_stream_connects_all_get_hello(server, cookie):
    port = int(server.rsplit(":", 1)[1])
    attempts = burst(port, "/events", cookie, BURST, until=b"event: hello", timeout=50)
    _assert_none_failed(attempts, 200)
    # each stream tells its browser its own reconnect delay, 2-10 s
    delays = {int(re.search(rb"retry: (\d+)", a.head).group(1)) for a in attempts}
    assert all(2000 <= d <= 10000 for d in delays) and len(delays) > 100, sorted(delays)[:20]
    # The closed streams free their places at their next heartbeat (SSE_HEARTBEAT_SECONDS):
    # wait for that here, so the next test starts on an idle worker.
    assert requests.get(server + "/health/", timeout=40).status_code == 200


def test_a_thousand_simultaneous_bell_requests_all_answer(server, cookie):
    port = int(server.rsplit(":", 1)[1])
    attempts = burst(port, "/notifications/bell", cookie, BURST, timeout=50)
    _assert_none_failed(attempts, 200)
    # the worker is still fine afterwards
    assert requests.get(server + "/health/", timeout=10).status_code == 200
