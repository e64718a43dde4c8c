"""GET /metrics (issue 14): Prometheus figures behind a bearer token — METRICS_TOKEN or an
admin's API token, whatever the caller's address — and prometheus_client's multiprocess
mode adding up the figures of several processes (gunicorn's workers)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from app.core.roles import ROLES
from tests.conftest import bearer
from tests.factories import make_user

TOKEN = "metrics-token-0123456789abcdef0123456789"


@pytest.fixture()
def metrics_token(app, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_TOKEN", TOKEN)
    return {"Authorization": f"Bearer {TOKEN}"}


def _samples(text: str) -> dict[str, list]:
    found: dict[str, list] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append(sample)
    return found


def _value(samples, name, **labels) -> float:
    return sum(s.value for s in samples.get(name, []) if all(s.labels.get(k) == v for k, v in labels.items()))


def test_no_token_is_401_in_the_api_envelope_whatever_the_address(client):
    for address in ("127.0.0.1", "10.0.0.5"):
        response = client.get("/metrics", environ_base={"REMOTE_ADDR": address})
        assert response.status_code == 401
        assert response.json["success"] is False
        assert response.json["error"]["code"] == "AUTHENTICATION_REQUIRED"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    wrong = client.get("/metrics", headers={"Authorization": "Bearer not-the-token"})
    assert wrong.status_code == 401 and wrong.json["error"]["code"] == "AUTHENTICATION_REQUIRED"


def test_a_session_is_not_enough(client, login_as):
    login_as("admin")
    assert client.get("/metrics").status_code == 401  # bearer tokens only


def test_every_roles_api_token(client, metrics_token):
    """The walk of /metrics: an admin's token reads it, every other role's is refused."""
    for role in ROLES:
        response = client.get("/metrics", headers=bearer(client, make_user(role)))
        if role == "admin":
            assert response.status_code == 200, role
            assert response.headers["Content-Type"].startswith("text/plain; version=")
        else:
            assert response.status_code == 403, role
            assert response.json["error"]["code"] == "PERMISSION_DENIED"


def test_metrics_token_reads_the_figures(app, client, login_as, metrics_token):
    from app.core.jobs import get_queue

    before = _samples(client.get("/metrics", headers=metrics_token).text)
    login_as("project_manager_full")
    assert client.get("/projects").status_code == 200
    assert client.get("/health/").status_code == 200
    first = get_queue("notifications").enqueue("workers.maintenance.purge_expired_tokens")
    first.enqueued_at = datetime.now(UTC) - timedelta(seconds=120)  # waiting for two minutes
    first.save()
    get_queue("notifications").enqueue("workers.maintenance.purge_expired_tokens")
    response = client.get("/metrics", headers=metrics_token)
    assert response.status_code == 200
    after = _samples(response.text)

    counted = {"endpoint": "projects.index", "method": "GET", "status": "200"}
    made = _value(after, "kibray_http_requests_total", **counted) - _value(
        before, "kibray_http_requests_total", **counted
    )
    assert made == 1
    assert _value(after, "kibray_http_request_duration_seconds_count", endpoint="projects.index") >= 1
    assert _value(after, "kibray_sql_queries_per_request_count", endpoint="projects.index") >= 1
    # the probes and the scrapes are not counted as traffic
    endpoints = {s.labels["endpoint"] for s in after["kibray_http_requests_total"]}
    assert "health.health" not in endpoints and "health.metrics" not in endpoints
    assert "kibray_sse_streams_open" in after
    assert _value(after, "kibray_queue_length", queue="notifications") == 2
    assert _value(after, "kibray_queue_length", queue="default") == 0
    assert {s.labels["queue"] for s in after["kibray_queue_failed_jobs"]} == {
        "invoices",
        "sync",
        "notifications",
        "default",
    }
    assert 115 <= _value(after, "kibray_queue_oldest_job_age_seconds", queue="notifications") < 300
    assert _value(after, "kibray_queue_oldest_job_age_seconds", queue="default") == 0  # empty
    assert _value(after, "kibray_db_connections") >= 1
    assert _value(after, "kibray_redis_memory_used_bytes") > 0
    assert after["kibray_build_info"][0].labels["environment"] == "test"


def test_open_streams_are_a_gauge(app, client, login_as, metrics_token):
    from app.core.metrics import snapshot

    login_as("employee")

    def open_now():
        with app.app_context():
            return sum(value for _, value in snapshot()["kibray_sse_streams_open"])

    base = open_now()
    stream = client.get("/events", buffered=False)
    assert stream.status_code == 200
    assert open_now() == base + 1
    stream.close()
    assert open_now() == base


def test_labels_are_bounded(app, client, metrics_token):
    from app.core.metrics import REQUESTS

    client.get("/no/such/page/12345")
    client.open("/projects", method="PROPFIND")
    samples = _samples(client.get("/metrics", headers=metrics_token).text)["kibray_http_requests_total"]
    labels = {(s.labels["endpoint"], s.labels["method"]) for s in samples}
    assert ("unmatched", "GET") in labels
    assert all("/" not in endpoint for endpoint, _ in labels)  # endpoint names, never paths
    assert {method for _, method in labels} <= {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other"}
    assert REQUESTS._labelnames == ("endpoint", "method", "status")


# As under gunicorn: the module imported once (the master), then two forked processes (the
# workers) record. Loaded from its file, without the app package (a fast start).
WRITERS = textwrap.dedent(
    """
    import importlib.util, os, sys
    spec = importlib.util.spec_from_file_location("kibray_metrics", sys.argv[1])
    metrics = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(metrics)
    for n in (3, 4):
        pid = os.fork()
        if pid == 0:
            metrics.REQUESTS.labels("projects.index", "GET", "200").inc(n)
            metrics.DURATION.labels("projects.index").observe(0.2)
            metrics.sse_opened()
            os._exit(0)
        os.waitpid(pid, 0)
        print(pid)
    """
)


def test_multiprocess_mode_adds_up_the_processes(tmp_path):
    """Two processes (as two gunicorn workers) write to one PROMETHEUS_MULTIPROC_DIR; a
    scrape sees their sum, and a dead process's open streams stop counting."""
    from prometheus_client import CollectorRegistry, multiprocess

    from app.core import metrics

    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    run = [sys.executable, "-c", WRITERS, metrics.__file__]
    pids = [int(pid) for pid in subprocess.run(run, env=env, capture_output=True, text=True, check=True).stdout.split()]
    assert len(set(pids)) == 2

    def scrape():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=str(tmp_path))
        return {s.name + str(sorted(s.labels.items())): s.value for f in registry.collect() for s in f.samples}

    figures = scrape()
    requests = "kibray_http_requests_total[('endpoint', 'projects.index'), ('method', 'GET'), ('status', '200')]"
    assert figures[requests] == 7
    assert figures["kibray_http_request_duration_seconds_count[('endpoint', 'projects.index')]"] == 2
    assert figures["kibray_sse_streams_open[]"] == 2
    multiprocess.mark_process_dead(pids[0], str(tmp_path))  # gunicorn.conf.py's child_exit
    figures = scrape()
    assert figures["kibray_sse_streams_open[]"] == 1
    assert figures[requests] == 7  # counts outlive their process
