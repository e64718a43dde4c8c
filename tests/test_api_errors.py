"""The JSON API's error envelope and codes (SPEC.md §4), Bearer-only authentication,
CSRF (the API is exempt, HTML posts are not) and the rate limits."""

from __future__ import annotations

import re
import time

import pytest
from flask_login import current_user
from werkzeug.routing.converters import NumberConverter

from app.projects.models import Project
from tests.conftest import bearer
from tests.factories import PASSWORD, make_project, make_user

STACK_MARKERS = ("Traceback", 'File "', "RuntimeError", "secret-detail")


def assert_envelope(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.json
    assert set(body) == {"success", "error", "timestamp"}
    assert body["success"] is False
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert "T" in body["timestamp"] and ("+00:00" in body["timestamp"] or body["timestamp"].endswith("Z"))
    return body["error"]


# --- every /api/ route needs a Bearer token ------------------------------------------

PROTECTED = [
    ("get", "/api/projects/"),
    ("post", "/api/projects/"),
    ("get", "/api/projects/1/"),
    ("put", "/api/projects/1/"),
    ("patch", "/api/projects/1/"),
    ("delete", "/api/projects/1/"),
    ("get", "/api/clients/"),
    ("get", "/api/clients/1/"),
    ("get", "/api/auth/me/"),
    ("post", "/api/auth/logout/"),
]


@pytest.mark.parametrize(("method", "url"), PROTECTED)
def test_every_api_route_needs_a_bearer_token(client, db, method, url):
    error = assert_envelope(getattr(client, method)(url, json={}), 401, "AUTHENTICATION_REQUIRED")
    assert "details" not in error


def test_every_registered_api_route_needs_a_bearer_token(app, client, db):
    """Walks the URL map, so routes added by later modules are covered too."""
    public = {"/api/auth/login/", "/api/auth/refresh/", "/api/health/db/", "/api/health/redis/", "/api/openapi.json"}
    checked = 0
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/") or rule.rule in public:
            continue
        url = rule.rule
        for arg in rule.arguments:
            numeric = isinstance(rule._converters[arg], NumberConverter)  # incl. our DatabaseId
            url = re.sub(rf"<[^>]*\b{arg}>", "1" if numeric else "x", url)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method, json={})
            assert response.status_code == 401, (method, url, response.status_code)
            assert response.json["error"]["code"] == "AUTHENTICATION_REQUIRED"
            checked += 1
    assert checked >= len(PROTECTED)


@pytest.mark.parametrize("role", ["admin", "project_manager_full", "client"])
def test_session_cookie_alone_does_not_authenticate_the_api(client, login_as, db, role):
    user = login_as(role)
    make_project(
        name="Cookie project",
        client=user.client if role == "client" else None,
        members=[user] if role != "admin" else [],
    )
    # the cookie does sign the user in on the pages…
    assert client.get("/projects").status_code == 200
    # …but never on the API (a cross-site request would carry it)
    for method, url in (
        ("get", "/api/projects/"),
        ("get", "/api/auth/me/"),
        ("post", "/api/projects/"),
        ("post", "/api/auth/logout/"),
    ):
        assert_envelope(getattr(client, method)(url, json={}), 401, "AUTHENTICATION_REQUIRED")


def test_cookie_session_writes_nothing_through_the_api(client, login_as, db):
    login_as("admin")
    other = make_user("admin")
    target = make_project(name="Keep me")
    before = db.session.query(Project).count()
    assert client.delete(f"/api/projects/{target.id}/").status_code == 401
    assert (
        client.post(
            "/api/projects/", json={"name": "Sneaky", "client_id": target.client_id, "location": {"address": "1 St"}}
        ).status_code
        == 401
    )
    assert db.session.query(Project).count() == before
    assert db.session.get(Project, target.id) is not None
    # the Bearer token of a real API sign-in does work
    assert client.get("/api/projects/", headers=bearer(client, other)).status_code == 200


def test_api_requests_set_no_session_cookie(client, db):
    user = make_user("admin")
    headers = bearer(client, user)
    response = client.get("/api/projects/", headers=headers)
    assert "Set-Cookie" not in response.headers
    assert client.get_cookie("kibray_session") is None


# --- CSRF -----------------------------------------------------------------------------


@pytest.fixture()
def csrf_on(app, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    yield
    # monkeypatch restores the setting after the test


def test_api_is_csrf_exempt(client, db, csrf_on):
    user = make_user("admin")
    login = client.post("/api/auth/login/", json={"username": user.username, "password": PASSWORD})
    assert login.status_code == 200
    data = login.json["data"]
    headers = {"Authorization": "Bearer " + data["access_token"]}
    created = client.post(
        "/api/projects/",
        headers=headers,
        json={"name": "CSRF-free", "client_id": make_project().client_id, "location": {"address": "9 Elm"}},
    )
    assert created.status_code == 201, created.json
    pid = created.json["data"]["id"]
    assert client.patch(f"/api/projects/{pid}/", headers=headers, json={"description": "x"}).status_code == 200
    assert client.delete(f"/api/projects/{pid}/", headers=headers).status_code == 200
    refreshed = client.post("/api/auth/refresh/", json={"refresh_token": data["refresh_token"]})
    assert refreshed.status_code == 200
    assert (
        client.post(
            "/api/auth/logout/", headers={"Authorization": "Bearer " + refreshed.json["data"]["access_token"]}
        ).status_code
        == 200
    )


def test_html_posts_without_csrf_token_are_rejected(client, login_as, db, csrf_on):
    user = make_user("admin")
    response = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/projects").status_code == 302  # not signed in
    pm = login_as("project_manager_full")
    project = make_project(members=[pm], name="Guarded")
    before = db.session.query(Project).count()
    response = client.post("/projects", data={"name": "Forged", "client_id": project.client_id, "address": "1 St"})
    assert response.status_code == 400
    assert db.session.query(Project).count() == before
    assert client.post("/logout").status_code == 400
    assert client.get("/projects").status_code == 200  # still signed in: the forged logout did nothing


def test_html_login_with_csrf_token_works(client, db, csrf_on):
    import re

    user = make_user("admin")
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    response = client.post("/login", data={"username": user.username, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    assert client.get("/projects").status_code == 200


# --- the envelope for every status ------------------------------------------------------


def test_403_permission_denied(client, db):
    headers = bearer(client, make_user("employee"))
    error = assert_envelope(client.get("/api/projects/", headers=headers), 403, "PERMISSION_DENIED")
    assert "details" not in error
    assert_envelope(client.get("/api/clients/", headers=headers), 403, "PERMISSION_DENIED")


def test_404_unknown_api_route_and_missing_object(client, db):
    headers = bearer(client, make_user("admin"))
    assert_envelope(client.get("/api/no-such-thing/", headers=headers), 404, "NOT_FOUND")
    assert_envelope(client.get("/api/projects/999999/", headers=headers), 404, "NOT_FOUND")
    assert_envelope(client.get("/api/clients/999999/", headers=headers), 404, "NOT_FOUND")


def test_unknown_api_route_without_token_answers_json_not_html(client, db):
    response = client.get("/api/no-such-thing/")
    # the API asks for credentials before it says what exists
    assert response.status_code == 401
    assert response.json["success"] is False
    assert response.json["error"]["code"] == "AUTHENTICATION_REQUIRED"


def test_405_method_not_allowed(client, db):
    headers = bearer(client, make_user("admin"))
    response = client.delete("/api/auth/me/", headers=headers)
    assert response.status_code == 405
    assert response.json["success"] is False
    assert response.json["error"]["code"] == "METHOD_NOT_ALLOWED"


def test_400_validation_error_has_details(client, db):
    headers = bearer(client, make_user("admin"))
    error = assert_envelope(client.post("/api/projects/", headers=headers, json={}), 400, "VALIDATION_ERROR")
    assert {"name", "client_id", "address"} <= set(error["details"])
    error = assert_envelope(client.get("/api/projects/?page=0", headers=headers), 400, "VALIDATION_ERROR")
    assert "page" in error["details"]
    error = assert_envelope(client.get("/api/projects/?page_size=lots", headers=headers), 400, "VALIDATION_ERROR")
    assert "page_size" in error["details"]


def test_409_conflict_editing_a_closed_project(client, db):
    admin = make_user("admin")
    project = make_project(status="closed", name="Old job")
    headers = bearer(client, admin)
    error = assert_envelope(
        client.patch(f"/api/projects/{project.id}/", headers=headers, json={"description": "new"}), 409, "CONFLICT"
    )
    assert "closed" in error["message"]
    assert db.session.get(Project, project.id).description == ""


def test_429_rate_limit_with_retry_after_and_headers(client, app, db, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_AUTHENTICATED", 3)
    headers = bearer(client, make_user("admin"))  # the login counts as anonymous
    answers = [client.get("/api/auth/me/", headers=headers) for _ in range(4)]
    assert [r.status_code for r in answers] == [200, 200, 200, 429]
    first = answers[0].headers
    assert first["X-RateLimit-Limit"] == "3"
    assert first["X-RateLimit-Remaining"] == "2"
    assert int(first["X-RateLimit-Reset"]) > time.time()
    error = assert_envelope(answers[-1], 429, "RATE_LIMIT_EXCEEDED")
    assert 0 < error["retry_after"] <= 3600
    assert answers[-1].headers["X-RateLimit-Remaining"] == "0"
    assert int(answers[-1].headers["Retry-After"]) >= 1


def test_429_for_anonymous_callers_is_counted_per_address(client, app, db, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_ANONYMOUS", 2)
    for _ in range(2):
        assert client.get("/api/auth/me/").status_code == 401
    assert_envelope(client.get("/api/auth/me/"), 429, "RATE_LIMIT_EXCEEDED")
    # another address has its own budget
    other = client.get("/api/auth/me/", environ_base={"REMOTE_ADDR": "10.9.8.7"})
    assert other.status_code == 401


def test_429_counts_are_per_user(client, app, db, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_AUTHENTICATED", 1)
    alice, bob = bearer(client, make_user("admin")), bearer(client, make_user("admin"))
    assert client.get("/api/auth/me/", headers=alice).status_code == 200
    assert client.get("/api/auth/me/", headers=alice).status_code == 429
    assert client.get("/api/auth/me/", headers=bob).status_code == 200


def test_500_server_error_leaks_no_traceback(client, db, monkeypatch):
    from app.projects import queries

    def explode(user):
        raise RuntimeError("secret-detail: connection string postgres://admin:pw@db")

    monkeypatch.setattr(queries, "visible_projects", explode)
    headers = bearer(client, make_user("admin"))
    response = client.get("/api/projects/", headers=headers)
    error = assert_envelope(response, 500, "SERVER_ERROR")
    text = response.get_data(as_text=True)
    for marker in STACK_MARKERS:
        assert marker not in text
    assert "details" not in error


def test_500_on_a_crashing_route_of_a_separate_app(db):
    from app import create_app

    connection = db.engines[None]
    crashing = create_app({"WTF_CSRF_ENABLED": False, "REDIS_KEY_PREFIX": "kibray-test-crash"}, env_name="test")
    crashing.config["PROPAGATE_EXCEPTIONS"] = False

    @crashing.get("/api/crash/")
    def crash():
        raise ZeroDivisionError("secret-detail")

    @crashing.get("/crash")
    def crash_page():
        raise ZeroDivisionError("secret-detail")

    user = make_user("admin")
    with crashing.app_context():
        db.engines[None] = connection  # the test's connection, rolled back afterwards
    web = crashing.test_client()
    login = web.post("/api/auth/login/", json={"username": user.username, "password": PASSWORD})
    assert login.status_code == 200
    response = web.get("/api/crash/", headers={"Authorization": "Bearer " + login.json["data"]["access_token"]})
    error = assert_envelope(response, 500, "SERVER_ERROR")
    assert "secret-detail" not in error["message"]
    for marker in STACK_MARKERS:
        assert marker not in response.get_data(as_text=True)
    page = web.get("/crash")
    assert page.status_code == 500
    assert "secret-detail" not in page.get_data(as_text=True)


def test_current_user_is_anonymous_after_a_refused_token(client, app, db):
    with app.test_request_context("/api/auth/me/", headers={"Authorization": "Bearer nope"}):
        assert not current_user.is_authenticated
