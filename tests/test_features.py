"""Features register themselves: a feature added to FEATURES (here a minimal one under
tests/) shows up in the navigation, the live stream's event list, the permission walk,
the CLI, the periodic jobs, the notification kinds, the home page and the API — with no
edit anywhere else. And the real features' declarations are whole."""

from __future__ import annotations

import json
import re

import pytest

from app.core import features
from app.features import FEATURES
from tests.factories import PASSWORD, make_user
from tests.test_permissions_http import _walk_rows, missing_from_walk


@pytest.fixture()
def demo_app(db):
    from app import create_app

    connection = db.engines[None]
    app = create_app(
        {
            "WTF_CSRF_ENABLED": False,
            "REDIS_KEY_PREFIX": "kibray-test-demo",
            "FEATURES": (*FEATURES, "tests.demo_feature"),
        },
        env_name="test",
    )
    with app.app_context():
        db.engines[None] = connection  # the test's connection, rolled back afterwards
    return app


def _signed_in(app, user):
    web = app.test_client()
    with web.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True
    return web


def test_a_new_feature_appears_in_nav_live_events_walk_and_cli(demo_app, db):
    pm, employee = make_user("project_manager_full"), make_user("employee")
    html = _signed_in(demo_app, pm).get("/notifications").text
    assert 'data-nav="demo"' in html  # navigation, with its permission…
    assert 'data-nav="demo"' not in _signed_in(demo_app, employee).get("/notifications").text  # …applied
    live = json.loads(re.search(r'data-live-events="([^"]*)"', html).group(1).replace("&#34;", '"'))
    assert "demo-updated" in live and "project-updated" in live  # the stream subscribes to it

    rows = {(r.method, r.path) for r in _walk_rows(features.installed(demo_app))}
    assert {("GET", "/demo"), ("GET", "/api/demo/")} <= rows  # in the permission walk…
    assert missing_from_walk(demo_app) == []  # …which still covers every route

    result = demo_app.test_cli_runner().invoke(args=["demo", "hello"])
    assert result.exit_code == 0 and "hello from the demo feature" in result.output

    with demo_app.app_context():
        assert features.periodic_jobs()["demo-ping"].every == 300
        assert "demo_done" in features.notification_kinds()
    home = _signed_in(demo_app, pm).get("/").text
    assert 'data-testid="demo-widget"' in home and pm.name in home
    assert 'data-testid="demo-widget"' not in _signed_in(demo_app, employee).get("/").text


def test_a_new_features_refused_requests_read_in_its_own_words(demo_app, db):
    """The audit log phrases a refusal as the feature declared it, by full endpoint —
    `demo.create` is not guessed into "tried to create a project"."""
    employee, admin = make_user("employee", full_name="Eve Ployee"), make_user("admin")
    assert _signed_in(demo_app, employee).post("/demo").status_code == 403
    page = _signed_in(demo_app, admin).get("/admin/audit?result=denied").text
    assert "Eve Ployee was refused: tried to start a demo (POST demo.create)" in page


def test_a_new_features_api_hangs_off_the_one_api_blueprint(demo_app, db):
    web = demo_app.test_client()
    anonymous = web.get("/api/demo/")
    assert anonymous.status_code == 401 and anonymous.json["error"]["code"] == "AUTHENTICATION_REQUIRED"
    user = make_user("employee")
    login = web.post("/api/auth/login/", json={"username": user.username, "password": PASSWORD})
    token = login.json["data"]["access_token"]
    answer = web.get("/api/demo/", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200 and answer.json == {"success": True, "data": {"demo": True}}
    assert "X-RateLimit-Limit" in answer.headers
    assert "api.demo.api_index" in demo_app.view_functions
    # …and joins the API's description, with the shape it declared
    document = web.get("/api/openapi.json").json
    answer_schema = document["paths"]["/api/demo/"]["get"]["responses"]["200"]["content"]["application/json"]
    assert answer_schema["schema"] == {"$ref": "#/components/schemas/DemoOutEnvelope"}
    assert document["components"]["schemas"]["DemoOut"]["properties"] == {"demo": {"type": "boolean"}}


def test_the_default_app_does_not_have_the_demo_feature(app):
    assert "demo" not in {f.name for f in features.installed(app)}
    assert not any(rule.rule.startswith("/demo") for rule in app.url_map.iter_rules())


def test_every_feature_of_FEATURES_declares_itself(app):
    names = [f.name for f in features.installed(app)]
    assert len(names) == len(set(names)) == len(FEATURES)
    for entry in features.nav_entries(app):
        assert entry.endpoint in app.view_functions or entry.url, entry
    for job in features.periodic_jobs(app).values():
        module, func = job.func.rsplit(".", 1)
        assert callable(getattr(__import__(module, fromlist=[func]), func)), job


def test_no_api_route_lives_outside_the_api_blueprint(app):
    """Everything under /api/ is a child of the one `api` blueprint (shared auth, limits)."""
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/"):
            assert rule.endpoint.startswith("api."), rule.rule


def test_public_api_endpoints_are_declared_on_the_endpoints(app):
    public = sorted(
        rule.rule
        for rule in app.url_map.iter_rules()
        if getattr(app.view_functions[rule.endpoint], "public_endpoint", False)
    )
    assert public == [
        "/api/auth/login/",
        "/api/auth/refresh/",
        "/api/health/db/",
        "/api/health/redis/",
        "/api/openapi.json",
        "/health/",
    ]
