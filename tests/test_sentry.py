"""Sentry (issue 14): an exception in a request and one in a job (run by a real RQ worker
on Redis) reach a local stand-in for Sentry's ingest endpoint, with the release, the
environment and the request id as a tag, and nothing personal."""

from __future__ import annotations

import gzip
import json
import re
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from rq import SimpleWorker

from workers.base import job


@job
def explode_for_sentry() -> None:
    raise LookupError("the job broke for Sentry")


class FakeSentry(BaseHTTPRequestHandler):
    received: list[bytes]

    def do_POST(self):  # noqa: N802 - http.server's name
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        encoding = self.headers.get("Content-Encoding", "")
        if encoding == "gzip":
            raw = gzip.decompress(raw)
        elif encoding == "br":
            import brotli

            raw = brotli.decompress(raw)
        elif encoding == "deflate":
            raw = zlib.decompress(raw)
        self.server.received.append(raw)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


def _events(envelopes: list[bytes]) -> list[dict]:
    """The `event` items of Sentry envelopes (header line, then item header + payload)."""
    found = []
    for raw in envelopes:
        rest = raw.split(b"\n", 1)[1] if b"\n" in raw else b""
        while rest.strip():
            header_line, _, rest = rest.partition(b"\n")
            header = json.loads(header_line)
            if "length" in header:
                payload, rest = rest[: header["length"]], rest[header["length"] :].lstrip(b"\n")
            else:
                payload, _, rest = rest.partition(b"\n")
            if header.get("type") == "event":
                found.append(json.loads(payload))
    return found


@pytest.fixture()
def fake_sentry():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeSentry)
    server.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture()
def sentry_app(app, fake_sentry, monkeypatch):
    """An app of its own with Sentry on (init is process-wide: switched off afterwards)."""
    import sentry_sdk

    from app import create_app
    from app.core.jobs import enqueue
    from app.extensions import db

    monkeypatch.setenv("GIT_COMMIT", "abc123release")
    from app.core import logs

    logs.release.cache_clear()
    dsn = f"http://public@127.0.0.1:{fake_sentry.server_port}/1"
    built = create_app(
        {"SENTRY_DSN": dsn, "WTF_CSRF_ENABLED": False, "REDIS_KEY_PREFIX": app.config["REDIS_KEY_PREFIX"]},
        env_name="test",
    )

    def boom():
        raise KeyError("the request broke for Sentry")

    def queue_boom():
        enqueue(explode_for_sentry)
        return "queued"

    def feed_boom(token):
        raise ValueError("a secret URL broke")

    built.add_url_rule("/sentry-boom", "sentry_boom", boom)
    built.add_url_rule("/sentry-feed/<token>.ics", "sentry_feed", feed_boom)
    built.add_url_rule("/sentry-job", "sentry_job", queue_boom, methods=["POST"])
    try:
        yield built
    finally:
        sentry_sdk.flush(timeout=5)
        sentry_sdk.get_client().close()
        sentry_sdk.init(dsn=None, default_integrations=False)
        logs.release.cache_clear()
        with built.app_context():
            db.engine.dispose()


def test_request_and_job_exceptions_reach_sentry_with_the_request_id(sentry_app, fake_sentry, committed_pm):
    import sentry_sdk

    from app.auth.models import User
    from app.core.jobs import get_queue
    from app.extensions import db

    with sentry_app.app_context():
        email = db.session.get(User, committed_pm).email
    client = sentry_app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(committed_pm)
        session["_fresh"] = True
    who = {"REMOTE_ADDR": "203.0.113.77"}
    crashed = client.get("/sentry-boom", headers={"X-Request-ID": "req-sentry-page"}, environ_base=who)
    assert crashed.status_code == 500
    queued = client.post("/sentry-job", headers={"X-Request-ID": "req-sentry-job"}, environ_base=who)
    assert queued.status_code == 200
    secret = "feed-secret-0123456789abcdef"
    assert client.get(f"/sentry-feed/{secret}.ics").status_code == 500
    with sentry_app.app_context():
        queue = get_queue("default")
        SimpleWorker([queue], connection=queue.connection).work(burst=True)
    sentry_sdk.flush(timeout=5)

    events = _events(fake_sentry.received)
    by_type = {}
    for event in events:
        for exc in (event.get("exception") or {}).get("values", []):
            by_type.setdefault(exc["type"], []).append(event)
    assert set(by_type) >= {"KeyError", "LookupError"}, [e.get("message") for e in events]
    page, job_event = by_type["KeyError"][0], by_type["LookupError"][0]
    assert len(by_type["KeyError"]) == 1  # once, not again for the request's ERROR line
    assert not [e for e in events if e.get("logger") in ("kibray.request", "kibray.job")]
    assert page["tags"]["request_id"] == "req-sentry-page"
    assert job_event["tags"]["request_id"] == "req-sentry-job"
    for event in (page, job_event):
        assert event["release"] == "abc123release"
        assert event["environment"] == "test"
    assert page["request"]["url"].endswith("/sentry-boom")
    # no personal data by default: neither the user's email nor the caller's address
    raw = b"".join(fake_sentry.received)
    assert email.encode() not in raw
    assert b"203.0.113.77" not in raw
    assert "ip_address" not in (page.get("user") or {})
    # a route's <token> is the key itself: masked in the event's URL, as in the log line
    (feed,) = by_type["ValueError"]
    assert feed["request"]["url"].endswith("/sentry-feed/[token].ics")
    found = [raw[max(0, m.start() - 150) : m.start() + 40] for m in re.finditer(re.escape(secret.encode()), raw)]
    assert not found, found


def test_sentry_dsn_disabled_means_off(app):
    from app.core.logs import sentry_enabled

    app_like = type("A", (), {"config": {"SENTRY_DSN": "disabled"}})
    assert not sentry_enabled(app_like)
    app_like.config = {"SENTRY_DSN": "http://public@127.0.0.1:9/1"}
    assert sentry_enabled(app_like)
    app_like.config = {"SENTRY_DSN": None}
    assert not sentry_enabled(app_like)


def test_release_comes_from_the_platform_or_git(monkeypatch):
    from app.core import logs

    for name in ("RAILWAY_GIT_COMMIT_SHA", "SOURCE_VERSION", "GIT_COMMIT"):
        monkeypatch.delenv(name, raising=False)
    logs.release.cache_clear()
    try:
        monkeypatch.setenv("SOURCE_VERSION", "from-the-builder")
        assert logs.release() == "from-the-builder"
        logs.release.cache_clear()
        monkeypatch.delenv("SOURCE_VERSION")
        found = logs.release()
        assert found == "unknown" or len(found) == 40  # the checkout's HEAD
    finally:
        logs.release.cache_clear()
