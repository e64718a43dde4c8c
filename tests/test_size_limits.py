"""Size limits: a request body over MAX_REQUEST_BYTES is answered 413 before it is read
(the envelope on /api/, a plain page elsewhere), and every text field has a maximum
length the service enforces (a field error, nothing stored) and the form shows."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import func, select

from app.clients.models import Client
from app.core.text import LONG_TEXT
from app.projects.models import Project
from tests.conftest import bearer
from tests.factories import make_client, make_project, make_user

TEN_MB = 10 * 1024 * 1024


@pytest.fixture()
def never_parsed(app, monkeypatch):
    """Fails the test if an oversized JSON body is parsed."""
    loads = app.json.loads

    def refuse(data, **kwargs):
        if len(data) > app.config["MAX_REQUEST_BYTES"]:
            raise AssertionError("an oversized body was parsed")
        return loads(data, **kwargs)

    monkeypatch.setattr(app.json, "loads", refuse)


def test_the_limit_is_a_setting(app):
    assert app.config["MAX_REQUEST_BYTES"] == 1024 * 1024
    assert app.config["MAX_CONTENT_LENGTH"] == app.config["MAX_REQUEST_BYTES"]


def test_an_anonymous_10_mb_login_is_refused_unread(client, db, never_parsed):
    body = json.dumps({"username": "x" * TEN_MB, "password": "y"})
    started = time.perf_counter()
    response = client.post("/api/auth/login/", data=body, content_type="application/json")
    elapsed = time.perf_counter() - started
    assert response.status_code == 413
    assert response.json["success"] is False
    assert response.json["error"]["code"] == "VALIDATION_ERROR"
    assert "too large" in response.json["error"]["message"]
    assert elapsed < 1.0, f"took {elapsed:.2f}s"


def test_an_oversized_api_write_is_refused_unread(client, db, never_parsed):
    headers = bearer(client, make_user("admin"))
    body = json.dumps({"name": "Deck", "description": "d" * (2 * 1024 * 1024)})
    response = client.post("/api/projects/", data=body, content_type="application/json", headers=headers)
    assert response.status_code == 413
    assert response.json["error"]["code"] == "VALIDATION_ERROR"


def test_an_oversized_form_gets_a_plain_page(client, login_as, db):
    login_as("admin")
    before = db.session.scalar(select(func.count()).select_from(Client))
    response = client.post("/clients/new", data={"name": "Big", "notes": "n" * TEN_MB})
    assert response.status_code == 413
    assert response.mimetype == "text/html"
    assert "too large" in response.text and "Traceback" not in response.text
    assert db.session.scalar(select(func.count()).select_from(Client)) == before


def test_a_body_just_under_the_limit_still_reaches_the_service(client, db):
    """Under the limit the request is read and answered by the rules (here: a field error)."""
    headers = bearer(client, make_user("admin"))
    company = make_client()
    body = {"name": "Deck", "client_id": company.id, "location": {"address": "1 Main St"}}
    body["description"] = "d" * (LONG_TEXT + 1)
    response = client.post("/api/projects/", json=body, headers=headers)
    assert response.status_code == 400
    assert "description" in response.json["error"]["details"]


def test_a_description_over_10000_characters_is_a_field_error_and_nothing_is_stored(client, db):
    headers = bearer(client, make_user("admin"))
    company = make_client()
    body = {"name": "Deck", "client_id": company.id, "location": {"address": "1 Main St"}}
    response = client.post("/api/projects/", json={**body, "description": "d" * (LONG_TEXT + 1)}, headers=headers)
    assert response.status_code == 400
    assert response.json["error"]["details"] == {"description": "At most 10,000 characters, please (this has 10,001)."}
    assert db.session.scalar(select(func.count()).select_from(Project).where(Project.client_id == company.id)) == 0
    ok = client.post("/api/projects/", json={**body, "description": "d" * LONG_TEXT}, headers=headers)
    assert ok.status_code == 201, ok.json


def test_the_edit_form_refuses_long_notes_inline(client, login_as, db):
    admin = login_as("admin")
    project = make_project(description="short")
    data = {
        "name": project.name,
        "client_id": project.client_id,
        "address": project.address,
        "internal_notes": "n" * (LONG_TEXT + 1),
    }
    response = client.post(f"/projects/{project.id}/edit", data=data)
    assert response.status_code == 422
    assert "At most 10,000 characters" in response.text
    db.session.refresh(project)
    assert project.internal_notes == "margin target 30%"
    assert admin.role == "admin"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "Ok", "billing_city": "c" * 121}, "billing_city"),
        ({"name": "Ok", "notes": "n" * (LONG_TEXT + 1)}, "notes"),
        ({"name": "n" * 201}, "name"),
    ],
)
def test_client_fields_over_their_limit_are_refused_not_cut(client, login_as, db, data, field):
    login_as("admin")
    before = db.session.scalar(select(func.count()).select_from(Client))
    response = client.post("/clients/new", data=data)
    assert response.status_code == 422
    assert f'data-error-for="{field}"' in response.text
    assert db.session.scalar(select(func.count()).select_from(Client)) == before


def test_users_email_over_its_limit_is_a_field_error(db):
    from app.core.errors import ValidationError
    from app.users.services import create_user

    with pytest.raises(ValidationError) as refused:
        create_user(make_user("admin"), username="longmail", email="a" * 250 + "@example.com", role="employee")
    assert set(refused.value.fields) == {"email"}


def test_the_forms_show_the_limits(client, login_as, db):
    login_as("admin")
    project_form = client.get("/projects/new").text
    assert 'name="name" type="text" value="" required maxlength="200"' in project_form
    assert 'name="description" rows="3" maxlength="10000"' in project_form
    client_form = client.get("/clients/new").text
    assert 'name="notes" rows="3" maxlength="10000"' in client_form
    assert 'name="billing_zip" type="text" value="" maxlength="20"' in client_form
    user_form = client.get("/admin/users/new").text
    assert 'maxlength="254"' in user_form and 'maxlength="80"' in user_form
