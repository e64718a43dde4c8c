"""The API describes itself: /api/openapi.json is built from the endpoints' own
declarations, covers every API route, and the staff reference page reads it."""

from __future__ import annotations

import re

import pytest

from app.core.api import API_PREFIX
from app.core.openapi import check_declarations, operation
from app.core.permissions import PermissionConfigError
from app.projects.schemas import ProjectCreate, ProjectPatch


@pytest.fixture()
def document(client, db):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    return response.json


def _api_routes(app):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(API_PREFIX + "/"):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                yield path, method.lower()


def test_the_document_is_openapi_3_1_and_public(document):
    assert document["openapi"] == "3.1.0"
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert document["paths"]["/api/auth/login/"]["post"]["security"] == []
    assert "security" not in document["paths"]["/api/projects/"]["get"]  # the default: a bearer token


def test_every_api_route_and_method_is_in_the_document(app, document):
    routes = set(_api_routes(app))
    documented = {(path, method) for path, methods in document["paths"].items() for method in methods}
    assert routes == documented


def test_bodies_are_the_models_the_endpoints_parse_with(document):
    schemas = document["components"]["schemas"]
    create = document["paths"]["/api/projects/"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert create == {"$ref": "#/components/schemas/ProjectCreate"}
    assert schemas["ProjectCreate"]["required"] == list(ProjectCreate.__required__)
    assert set(schemas["ProjectCreate"]["properties"]) == set(ProjectCreate.model_fields)
    patch = document["paths"]["/api/projects/{project_id}/"]["patch"]["requestBody"]["content"]["application/json"]
    assert patch["schema"] == {"$ref": "#/components/schemas/ProjectPatch"}
    assert "required" not in schemas["ProjectPatch"] and not ProjectPatch.__required__
    budget = schemas["ProjectCreate"]["properties"]["budget"]["anyOf"][0]
    assert budget["type"] == "string" and re.fullmatch(budget["pattern"].strip("^$"), "1234.56")
    assert schemas["ProjectCreate"]["properties"]["start_date"]["anyOf"][0] == {"type": "string", "format": "date"}


def test_answers_and_errors_are_described(document):
    listing = document["paths"]["/api/projects/"]["get"]
    assert listing["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "ProjectOutPageEnvelope"
    )
    for status in ("400", "401", "403", "404", "409", "429", "503"):
        assert listing["responses"][status]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ErrorEnvelope"
        }
    params = {p["name"]: p for p in listing["parameters"]}
    assert {"page", "page_size", "ordering", "status", "assigned_pm", "client", "search"} <= set(params)
    assert params["status"]["schema"]["enum"] == ["created", "active", "closed"]
    detail = document["paths"]["/api/projects/{project_id}/"]["get"]
    assert detail["parameters"] == [
        {
            "name": "project_id",
            "in": "path",
            "required": True,
            "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
        }
    ]
    project = document["components"]["schemas"]["ProjectOut"]
    assert project["additionalProperties"] is False
    assert {"id", "name", "client", "status", "budget", "location", "version"} <= set(project["required"])


def test_an_api_endpoint_without_a_declaration_stops_the_app(app):
    from flask import Flask

    from app.api import build

    bare = Flask("bare")

    child = __import__("flask").Blueprint("undeclared", __name__)

    @child.get("/undeclared/")
    def undeclared():
        return "no"

    bare.register_blueprint(build([child]))
    with pytest.raises(PermissionConfigError, match="api.undeclared.undeclared"):
        check_declarations(bare)

    @operation("declared")
    def declared():
        return "yes"

    assert declared.api_operation.summary == "declared"


def test_an_answer_that_drifts_from_its_declaration_fails_loudly(app, client, db):
    """The check the suite runs on every API answer (API_CHECK_RESPONSES)."""
    from app.core import openapi
    from app.projects.schemas import ProjectOut

    original = ProjectOut.model_fields["name"].annotation
    try:
        ProjectOut.model_fields["name"].annotation = int
        ProjectOut.model_rebuild(force=True)
        openapi._ADAPTERS.clear()
        openapi._ENVELOPES.clear()
        from tests.conftest import bearer
        from tests.factories import make_project, make_user

        make_project(name="Porch")
        headers = bearer(client, make_user("admin"))
        # ProjectOut now says a name is a number; the list still answers text
        with pytest.raises(AssertionError, match="not matching"):
            client.get("/api/projects/", headers=headers)
    finally:
        ProjectOut.model_fields["name"].annotation = original
        ProjectOut.model_rebuild(force=True)
        openapi._ADAPTERS.clear()
        openapi._ENVELOPES.clear()


def test_staff_read_the_reference_and_clients_do_not(client, login_as, db, document):
    login_as("employee")
    page = client.get("/developers/api")
    assert page.status_code == 200
    for path in document["paths"]:
        assert f"<code>{path}</code>" in page.text, path
    assert "Create a project" in page.text and "location.address" in page.text
    assert 'data-testid="api-reference-link"' in client.get("/").text
    login_as("client")
    assert client.get("/developers/api").status_code == 403
    assert 'data-testid="api-reference-link"' not in client.get("/").text


def test_the_reference_is_rendered_once_and_its_reader_checked_every_time(app, client, login_as, db):
    """Its content is the same for every reader (it depends only on the code), so it is
    rendered once per process; the page around it and the permission check are per request."""
    from app.apidocs.routes import reference_body

    app.extensions.pop("kibray.apidocs.body", None)
    ana = login_as("employee", full_name="Ana Employee")
    first = client.get("/developers/api").text
    body = app.extensions["kibray.apidocs.body"]
    assert str(body) in first and "Ana Employee" in first
    assert ana.username not in body and "Ana Employee" not in body and "csrf" not in body.lower()
    login_as("project_manager_full", full_name="Paul Manager")
    second = client.get("/developers/api").text
    assert str(body) in second and "Paul Manager" in second and "Ana Employee" not in second
    with app.test_request_context():
        assert reference_body() is body  # not rendered again
    login_as("client")
    assert client.get("/developers/api").status_code == 403  # the permission, every request


def test_signed_out_visitors_are_sent_to_sign_in(client, db):
    response = client.get("/developers/api")
    assert response.status_code in (302, 303) and "/login" in response.headers["Location"]


def test_headers_are_described(document):
    update = document["paths"]["/api/projects/{project_id}/"]["put"]
    assert {"name": "If-Match", "in": "header"}.items() <= next(
        p for p in update["parameters"] if p["in"] == "header"
    ).items()
    assert {"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} <= set(
        update["responses"]["200"]["headers"]
    )
    detail = document["paths"]["/api/projects/{project_id}/"]["get"]
    assert "ETag" in detail["responses"]["200"]["headers"]
    login = document["paths"]["/api/auth/login/"]["post"]
    assert "Cache-Control" in login["responses"]["200"]["headers"]


# --- the stored copy (app/core/openapi_store.py) ------------------------------------


@pytest.fixture()
def fresh(app, tmp_path, monkeypatch):
    """The session's app as a new process would find it: no document in memory, its own
    instance directory."""
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    for key in ("kibray.openapi", "kibray.openapi.fingerprint", "kibray.apidocs.body"):
        monkeypatch.delitem(app.extensions, key, raising=False)
    return app


def test_the_stored_copy_is_the_document_and_is_read_instead_of_built(fresh, monkeypatch):
    from app.core import openapi, openapi_store

    with fresh.app_context():
        built = openapi.build_document(fresh)
        stored = openapi_store.save(fresh, built)
        assert stored is not None and stored.parent == openapi_store._directory(fresh)
        assert openapi_store.load(fresh) == built  # JSON round trip loses nothing

        def must_not_build(app):
            raise AssertionError("built although a copy for this code is stored")

        monkeypatch.setattr(openapi, "build_document", must_not_build)
        assert openapi.document(fresh) == built


def test_a_copy_for_other_code_or_a_damaged_copy_is_never_read(fresh):
    from app.core import openapi, openapi_store

    with fresh.app_context():
        directory = openapi_store._directory(fresh)
        directory.mkdir(parents=True)
        (directory / "0123456789abcdef0123456789abcdef.json").write_text('{"openapi": "stale"}')
        (directory / f"{openapi_store.fingerprint(fresh)}.json").write_text('{"openapi": "3.1')  # cut short
        doc = openapi.document(fresh)
        assert doc["openapi"] == "3.1.0" and "/api/projects/" in doc["paths"]
        # rebuilt and stored over the damaged one; the other code's copy is cleared away
        assert [p.name for p in directory.glob("*.json")] == [f"{openapi_store.fingerprint(fresh)}.json"]
        assert openapi_store.load(fresh) == doc


def test_the_fingerprint_follows_the_code_and_the_api_routes(fresh, tmp_path, monkeypatch):
    from app.core import openapi_store

    first = openapi_store.fingerprint(fresh)
    assert first == openapi_store.fingerprint(fresh) and len(first) == 32
    source = tmp_path / "src"
    source.mkdir()
    (source / "a.py").write_text("x = 1\n")
    monkeypatch.setattr(openapi_store, "APP_DIR", source)
    fresh.extensions.pop("kibray.openapi.fingerprint")
    one = openapi_store.fingerprint(fresh)
    (source / "a.py").write_text("x = 2\n")
    fresh.extensions.pop("kibray.openapi.fingerprint")
    assert openapi_store.fingerprint(fresh) not in (one, first)


def test_flask_openapi_write_stores_it_for_the_workers(fresh):
    from app.core import openapi_store

    result = fresh.test_cli_runner().invoke(args=["openapi", "write"])
    assert result.exit_code == 0, result.output
    assert "OpenAPI document written to" in result.output
    with fresh.app_context():
        assert openapi_store.load(fresh)["openapi"] == "3.1.0"
