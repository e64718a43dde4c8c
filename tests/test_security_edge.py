"""The edge of the app attacked as an outsider would (issue 6): forged client addresses,
hostile input that used to reach a 500, state changes on GET in rq-dashboard, forged
request ids in the logs. Outages have their own file (tests/test_outages.py)."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from app.core.audit import AuditLog
from app.projects.models import Project
from tests.conftest import bearer
from tests.factories import make_client, make_user

PEER = "198.51.100.23"
PROXY = "10.0.0.2"


def failed_sign_in(client, n, forwarded, peer=PEER):
    return client.post(
        "/login",
        data={"username": f"guess-{n}", "password": "x"},
        headers={"X-Forwarded-For": forwarded},
        environ_base={"REMOTE_ADDR": peer},
    )


# --- 1. the client's address cannot be forged -----------------------------------------------


def test_rotating_x_forwarded_for_does_not_reset_the_ip_lockout(client, app, db, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES_ACCOUNT", 100)
    monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES_IP", 3)
    assert app.config["PROXY_HOPS"] == 0 and app.config["FORWARDED_ALLOW_IPS"] == ""  # the defaults
    for n in range(3):
        assert failed_sign_in(client, n, f"203.0.113.{n}").status_code == 401
    blocked = failed_sign_in(client, 99, "203.0.113.99")
    assert blocked.status_code == 429 and "Too many sign-in attempts" in blocked.get_data(as_text=True)


def test_rotating_x_forwarded_for_does_not_reset_the_anonymous_api_limit(client, app, db, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_ANONYMOUS", 2)
    for n in range(2):
        assert client.get("/api/auth/me/", headers={"X-Forwarded-For": f"203.0.113.{n}"}).status_code == 401
    refused = client.get("/api/auth/me/", headers={"X-Forwarded-For": "203.0.113.77"})
    assert refused.status_code == 429 and refused.json["error"]["code"] == "RATE_LIMIT_EXCEEDED"


def create_project(client, company, pm, forwarded, peer):
    return client.post(
        "/projects",
        data={"name": f"Forged {forwarded}", "client_id": company.id, "address": "1 A St", "pm_ids": [str(pm.id)]},
        headers={"X-Forwarded-For": forwarded},
        environ_overrides={"REMOTE_ADDR": peer},
    )


def audited_ip(db, name):
    db.session.expire_all()
    project = db.session.scalar(select(Project).where(Project.name == name))
    row = db.session.scalar(
        select(AuditLog).where(AuditLog.object_type == "Project", AuditLog.object_id == str(project.id))
    )
    return row.ip


def test_the_audit_log_records_the_peer_not_the_header(client, login_as, db):
    pm = login_as("project_manager_full")
    company = make_client()
    assert create_project(client, company, pm, "1.2.3.4", PEER).status_code == 303
    assert audited_ip(db, "Forged 1.2.3.4") == PEER


def test_a_configured_proxy_is_believed_and_only_it(client, app, login_as, db, monkeypatch):
    monkeypatch.setitem(app.config, "FORWARDED_ALLOW_IPS", "10.0.0.0/24")
    monkeypatch.setitem(app.config, "PROXY_HOPS", 1)
    pm = login_as("project_manager_full")
    company = make_client()
    # through the proxy: the address it saw (the last hop), not what the client prepended
    assert create_project(client, company, pm, "6.6.6.6, 203.0.113.8", PROXY).status_code == 303
    assert audited_ip(db, "Forged 6.6.6.6, 203.0.113.8") == "203.0.113.8"
    # straight from a peer that is not the proxy: the header is ignored
    assert create_project(client, company, pm, "203.0.113.9", PEER).status_code == 303
    assert audited_ip(db, "Forged 203.0.113.9") == PEER


def test_behind_a_trusted_proxy_the_lockout_keys_on_the_forwarded_client(client, app, db, monkeypatch):
    monkeypatch.setitem(app.config, "FORWARDED_ALLOW_IPS", PROXY)
    monkeypatch.setitem(app.config, "PROXY_HOPS", 1)
    monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES_ACCOUNT", 100)
    monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES_IP", 2)
    for n in range(2):
        assert failed_sign_in(client, n, "203.0.113.50", peer=PROXY).status_code == 401
    assert failed_sign_in(client, 5, "203.0.113.50", peer=PROXY).status_code == 429
    # another client behind the same proxy is not locked out with it
    assert failed_sign_in(client, 6, "203.0.113.51", peer=PROXY).status_code == 401


def test_gunicorn_trusts_no_proxy_by_default(monkeypatch):
    import gunicorn.config

    monkeypatch.delenv("FORWARDED_ALLOW_IPS", raising=False)
    namespace: dict = {}
    with open("gunicorn.conf.py") as f:
        exec(compile(f.read(), "gunicorn.conf.py", "exec"), namespace)  # noqa: S102 - our own config file
    assert namespace["forwarded_allow_ips"] == ""
    assert gunicorn.config.validate_string_to_addr_list(namespace["forwarded_allow_ips"]) == []


def test_a_malformed_proxy_setting_fails_at_start_up():
    from app import create_app

    with pytest.raises(ValueError):
        create_app({"FORWARDED_ALLOW_IPS": "10.0.0.300"}, env_name="test")


# --- 2. hostile input is a 400, logged in one line ------------------------------------------


def assert_one_line_refusal(caplog, needle):
    records = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(records) == 1, [r.getMessage()[:200] for r in records]
    [record] = records
    assert record.exc_info is None and "\n" not in record.getMessage()
    assert needle in record.getMessage()


@pytest.mark.parametrize("depth", [40, 400, 100_000])
def test_deeply_nested_json_is_a_400_logged_in_one_line(client, db, caplog, depth):
    caplog.set_level(logging.INFO)
    body = "[" * depth + "]" * depth
    response = client.post("/api/auth/login/", data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.json["error"]["code"] == "VALIDATION_ERROR"
    assert "nested deeper than" in response.json["error"]["details"]["body"]
    assert_one_line_refusal(caplog, "nested deeper than")


def test_deep_json_inside_strings_is_only_text(client, db):
    """Brackets inside strings (and escaped quotes) do not count as nesting."""
    name = '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\"{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{'
    response = client.post(
        "/api/auth/login/", data='{"username": "' + name + '", "password": "x"}', content_type="application/json"
    )
    assert response.status_code == 401  # parsed and refused as a wrong sign-in, not as hostile


def test_deep_json_on_a_signed_in_api_write_is_refused(client, db, caplog):
    headers = bearer(client, make_user("admin"))
    caplog.set_level(logging.INFO)
    body = '{"name": ' + "[" * 400 + "]" * 400 + "}"
    response = client.post("/api/projects/", data=body, content_type="application/json", headers=headers)
    assert response.status_code == 400
    assert_one_line_refusal(caplog, "nested deeper than")


@pytest.mark.parametrize("text", ['"\\ud800"', '"a\\udfffb"', '"\\udc80\\ud800"'])
def test_lone_surrogates_in_json_are_a_400(client, db, caplog, text):
    caplog.set_level(logging.INFO)
    response = client.post(
        "/api/auth/login/", data='{"username": ' + text + ', "password": "x"}', content_type="application/json"
    )
    assert response.status_code == 400 and response.json["error"]["code"] == "VALIDATION_ERROR"
    assert "surrogate" in response.json["error"]["details"]["request"]
    assert_one_line_refusal(caplog, "surrogate")


def test_a_lone_surrogate_as_a_json_key_is_a_400(client, db):
    headers = bearer(client, make_user("admin"))
    response = client.post(
        "/api/projects/", data='{"\\ud800": 1, "name": "x"}', content_type="application/json", headers=headers
    )
    assert response.status_code == 400


def test_surrogates_in_forms_and_query_strings_never_reach_a_500(client, login_as, db):
    """A form or query string cannot carry a lone surrogate (UTF-8 cannot encode one; its
    CESU-8 bytes decode to replacement characters): never a 500, and nothing stored."""
    login_as("admin")
    for path in ("/projects?q=%ED%A0%80", "/clients?q=%ED%A0%80", "/api/projects/?search=%ED%A0%80"):
        assert client.get(path).status_code < 500, path
    response = client.post("/clients/new", data=b"name=%ED%A0%80", content_type="application/x-www-form-urlencoded")
    assert response.status_code < 500


def test_bad_text_names_nul_and_surrogates_wherever_they_hide():
    from app.core.api import bad_text

    assert bad_text({"a": ["ok", {"b": "x\ud800"}]}) and "surrogate" in bad_text({"a": ["x\ud800"]})
    assert "NUL" in bad_text([("q", "a\x00")])
    assert bad_text({"\udfff": 1})
    assert bad_text({"name": "Zoë — ok", "n": [1, 2.5, None, True]}) is None


@pytest.fixture()
def trusted_hosts(app, monkeypatch):
    monkeypatch.setitem(app.config, "TRUSTED_HOSTS", ["localhost", "kibray.test"])


@pytest.mark.parametrize("path", ["/health/", "/login", "/", "/projects", "/no-such-page"])
def test_an_untrusted_host_on_pages_is_a_plain_400(client, db, caplog, trusted_hosts, path):
    caplog.set_level(logging.INFO)
    response = client.get(path, headers={"Host": "evil.example"})
    assert response.status_code == 400
    assert "does not answer to that host name" in response.get_data(as_text=True)
    assert_one_line_refusal(caplog, "evil.example")


def test_an_untrusted_host_on_the_api_is_the_envelope(client, db, trusted_hosts):
    response = client.get("/api/projects/", headers={"Host": "evil.example"})
    assert response.status_code == 400 and response.json["error"]["code"] == "VALIDATION_ERROR"


def test_an_untrusted_x_forwarded_host_from_the_proxy_is_a_400(client, app, db, caplog, trusted_hosts, monkeypatch):
    monkeypatch.setitem(app.config, "FORWARDED_ALLOW_IPS", PROXY)
    monkeypatch.setitem(app.config, "PROXY_HOPS", 1)
    caplog.set_level(logging.INFO)
    for path in ("/health/", "/login"):
        response = client.get(path, headers={"X-Forwarded-Host": "evil.example"}, environ_base={"REMOTE_ADDR": PROXY})
        assert response.status_code == 400, path
    # the header from anyone else is ignored: the page answers for its real host
    assert client.get("/login", headers={"X-Forwarded-Host": "evil.example"}).status_code == 200
    assert (
        client.get(
            "/login", headers={"X-Forwarded-Host": "kibray.test"}, environ_base={"REMOTE_ADDR": PROXY}
        ).status_code
        == 200
    )


# --- 4. rq-dashboard never changes state on GET ----------------------------------------------


def test_rq_dashboard_state_changes_refuse_get(client, login_as, db):
    from app.core.jobs import get_queue

    login_as("admin")
    queue = get_queue("default")
    job = queue.enqueue("workers.maintenance.purge_expired_tokens")
    job_id = job.id
    for path in (
        "/admin/rq/requeue/default",
        f"/admin/rq/job/{job_id}/delete",
        f"/admin/rq/job/{job_id}/requeue",
        "/admin/rq/queue/default/queued/empty",
        "/admin/rq/queue/default/compact",
    ):
        assert client.get(path).status_code == 405, path
    assert queue.count == 1  # still there
    assert client.get("/admin/rq/").status_code == 200  # reading is fine


def test_rq_dashboard_requeue_all_by_post_needs_csrf(app, db):
    admin = make_user("admin")
    browser = app.test_client()
    with browser.session_transaction() as session:
        session["_user_id"] = admin.get_id()
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        browser.get("/admin/rq/")
        token = browser.get_cookie("_csrf_token", path="/admin/rq").value
        assert browser.post("/admin/rq/requeue/default").status_code == 400
        assert browser.post("/admin/rq/requeue/default", headers={"X-CSRFToken": token}).status_code == 200
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


# --- 5. X-Request-ID is a short safe token or a new one -------------------------------------


@pytest.mark.parametrize("value", ["abc\nts=forged level=INFO msg=admin-login", "x" * 10_240, "a b", "é", "a;b", ""])
def test_a_hostile_request_id_is_replaced(client, db, value):
    # straight into the environ: the test client itself refuses a newline in a header
    response = client.get("/login", environ_base={"HTTP_X_REQUEST_ID": value})
    rid = response.headers["X-Request-ID"]
    assert rid != value and len(rid) == 32 and rid.isalnum()


@pytest.mark.parametrize("value", ["req-audit-1", "A.b_c-9", "x" * 64])
def test_a_safe_request_id_is_kept(client, db, value):
    assert client.get("/login", headers={"X-Request-ID": value}).headers["X-Request-ID"] == value


def test_a_hostile_request_id_never_reaches_the_audit_log(client, login_as, db):
    pm = login_as("project_manager_full")
    company = make_client()
    response = client.post(
        "/projects",
        data={"name": "Rid tower", "client_id": company.id, "address": "1 A St", "pm_ids": [str(pm.id)]},
        environ_base={"HTTP_X_REQUEST_ID": "evil\r\nline"},
    )
    assert response.status_code == 303
    row = db.session.scalar(select(AuditLog).where(AuditLog.object_type == "Project").order_by(AuditLog.id.desc()))
    assert row.request_id == response.headers["X-Request-ID"] and "\n" not in row.request_id


def test_the_parsed_body_belongs_to_its_request(app):
    """request_json() caches per request, not in `g` (which one app context can share)."""
    from app.core.api import request_json

    with app.app_context():
        for body in ({"a": 1}, {"b": 2}):
            with app.test_request_context("/api/x/", method="POST", json=body):
                assert request_json() == body
