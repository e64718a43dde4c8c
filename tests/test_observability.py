"""Observability (issue 14): JSON log lines per request and per job, the request id on
error pages, in API error bodies and in the jobs a request enqueues (run by a real RQ
worker on Redis)."""

from __future__ import annotations

import json
import logging

import pytest
from rq import SimpleWorker

from app.core.jobs import enqueue, get_queue
from app.core.logs import JsonFormatter
from tests.conftest import bearer
from workers.base import job


class Lines(logging.Handler):
    """The JSON objects the app's formatter makes of every record (formatted as they are
    logged, in their request's or job's context, as the stdout handler does)."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.entries: list[dict] = []
        self.formatter = JsonFormatter()

    def emit(self, record):
        text = self.formatter.format(record)
        assert "\n" not in text  # one line per record, tracebacks included
        self.entries.append(json.loads(text))

    def of(self, logger: str) -> list[dict]:
        return [entry for entry in self.entries if entry["logger"] == logger]


@pytest.fixture()
def lines():
    handler = Lines()
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield handler
    root.removeHandler(handler)
    root.setLevel(level)


@job
def actor_request_id() -> str:
    """A job that says which request its audit actor names."""
    from app.core.audit import current_actor

    logging.getLogger("tests.job").info("actor %s", current_actor()["request_id"])
    return current_actor()["request_id"]


@job
def explode() -> None:
    raise RuntimeError("the job broke")


def _enqueuing_view(func, monkeypatch, app):
    """POST /logout becomes a view that queues `func` (the request's hooks stay real)."""

    def view():
        enqueue(func)
        return "queued"

    monkeypatch.setitem(app.view_functions, "auth.logout", view)


def _work():
    queue = get_queue("default")
    SimpleWorker([queue], connection=queue.connection).work(burst=True)


def test_a_request_is_one_json_line_with_its_figures(app, client, login_as, lines):
    pm = login_as("project_manager_full")
    response = client.get("/projects", headers={"X-Request-ID": "req-projects-1"})
    assert response.status_code == 200
    assert response.headers["X-Request-ID"] == "req-projects-1"
    (line,) = [entry for entry in lines.of("kibray.request") if entry["path"] == "/projects"]
    assert line["request_id"] == "req-projects-1"
    assert line["level"] == "INFO"
    assert line["method"] == "GET" and line["status"] == 200 and line["endpoint"] == "projects.index"
    assert line["user_id"] == pm.id
    assert line["sql_count"] >= 1  # the page read its projects
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] > 0
    assert line["time"].endswith("+00:00")


def test_an_anonymous_request_and_a_refused_id(client, lines):
    response = client.get("/health/", headers={"X-Request-ID": "forged id; level=ERROR"})
    rid = response.headers["X-Request-ID"]
    assert len(rid) == 32 and " " not in rid  # a fresh one instead
    (line,) = lines.of("kibray.request")
    assert line["request_id"] == rid and line["user_id"] is None and line["status"] == 200


def test_a_secret_token_in_the_url_never_reaches_the_log(client, lines):
    """A calendar feed's or an invitation's token is the key itself: the line masks it."""
    secret = "s3cr3t-feed-token-0123456789abcdef"
    client.get(f"/calendar/feed/{secret}.ics")
    client.get(f"/invite/{secret}")
    logged = lines.of("kibray.request")
    assert {line["path"] for line in logged} >= {"/calendar/feed/[token].ics", "/invite/[token]"}
    assert all(secret not in line["path"] and secret not in line["message"] for line in logged)


def test_other_records_are_json_with_their_traceback(app, lines):
    with app.test_request_context():
        from flask import g

        g.request_id = "req-exc"
        try:
            raise ValueError("broken on purpose")
        except ValueError:
            logging.getLogger("tests.here").exception("it failed")
    (entry,) = lines.of("tests.here")
    assert entry["level"] == "ERROR" and entry["message"] == "it failed"
    assert entry["request_id"] == "req-exc"
    assert "Traceback" in entry["exc"] and "ValueError: broken on purpose" in entry["exc"]


def test_a_job_carries_the_request_id_of_the_request_that_queued_it(app, client, login_as, lines, monkeypatch):
    login_as("admin")
    _enqueuing_view(actor_request_id, monkeypatch, app)
    response = client.post("/logout", headers={"X-Request-ID": "req-job-1"})
    assert response.status_code == 200
    queued = get_queue("default").jobs
    assert [j.meta.get("request_id") for j in queued] == ["req-job-1"]
    _work()
    (line,) = lines.of("kibray.job")
    assert line["request_id"] == "req-job-1"
    assert line["func"] == "actor_request_id" and line["queue"] == "default" and line["outcome"] == "ok"
    assert line["job_id"] == queued[0].id and line["duration_ms"] >= 0
    (inside,) = lines.of("tests.job")  # a record logged by the job carries it too
    assert inside["request_id"] == "req-job-1" and inside["message"] == "actor req-job-1"  # (the audit's actor)


def test_a_failing_job_says_retried_then_failed(app, db, lines):
    from app.core.jobs import send
    from app.core.logs import bound

    with bound(request_id="req-fail"):
        retried = send(explode)  # the app's retry policy: retried
    once = get_queue("default").enqueue(explode, meta={"request_id": "req-fail"})  # no retry: failed
    _work()
    outcomes = {line["job_id"]: line["outcome"] for line in lines.of("kibray.job")}
    assert outcomes == {retried.id: "retried", once.id: "failed"}
    assert {line["request_id"] for line in lines.of("kibray.job")} == {"req-fail"}
    failures = [e for e in lines.of("workers.base") if e["level"] == "ERROR"]
    assert failures and all("RuntimeError: the job broke" in e["exc"] for e in failures)


def test_error_pages_show_the_reference(app, client, login_as, monkeypatch):
    login_as("employee")
    not_found = client.get("/no-such-page", headers={"X-Request-ID": "req-404"})
    assert not_found.status_code == 404
    assert "Reference: <code>req-404</code>" in not_found.text
    forbidden = client.get("/admin/users", headers={"X-Request-ID": "req-403"})
    assert forbidden.status_code == 403
    assert "Reference: <code>req-403</code>" in forbidden.text

    def boom():
        raise RuntimeError("a bug")

    monkeypatch.setitem(app.view_functions, "home.index", boom)
    crashed = client.get("/", headers={"X-Request-ID": "req-500"})
    assert crashed.status_code == 500
    assert "Reference: <code>req-500</code>" in crashed.text and "a bug" not in crashed.text


def test_the_outage_page_shows_the_reference(app, client, login_as, monkeypatch):
    import redis

    login_as("employee")

    def down():
        raise redis.exceptions.ConnectionError("Redis is gone")

    monkeypatch.setitem(app.view_functions, "home.index", down)
    response = client.get("/", headers={"X-Request-ID": "req-503"})
    assert response.status_code == 503
    assert "Reference: <code>req-503</code>" in response.text


def test_api_error_bodies_carry_the_request_id(app, client, login_as):
    from tests.factories import make_user

    anonymous = client.get("/api/projects/", headers={"X-Request-ID": "req-401"})
    assert anonymous.status_code == 401
    assert anonymous.json["error"]["request_id"] == "req-401"
    headers = bearer(client, make_user("employee"))
    missing = client.get("/api/projects/2147483000/", headers={**headers, "X-Request-ID": "req-api-404"})
    assert missing.status_code in (403, 404)
    assert missing.json["error"]["request_id"] == "req-api-404"
    assert missing.json["error"]["code"] in ("NOT_FOUND", "PERMISSION_DENIED")
    generated = client.get("/api/no-such-thing/", headers=headers)
    assert generated.json["error"]["request_id"] == generated.headers["X-Request-ID"]


def test_the_openapi_error_schema_names_the_request_id(client):
    schema = client.get("/api/openapi.json").json["components"]["schemas"]
    body = next(value for name, value in schema.items() if name == "ErrorBody")
    assert "request_id" in body["properties"]
