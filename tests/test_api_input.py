"""The API's input layer (app/core/schemas.py): strings are strings, ids whole numbers,
money one canonical decimal form, dates YYYY-MM-DD — anything else is a field error
and nothing is written. The cases are the loose conversions a security test found."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.projects.models import Project
from tests.conftest import bearer
from tests.factories import make_client, make_project, make_user

LIST = "/api/projects/"


@pytest.fixture()
def admin_headers(client, db):
    return bearer(client, make_user("admin"))


@pytest.fixture()
def company(db):
    return make_client()


def _body(company, **change):
    body = {"name": "Deck stain", "client_id": company.id, "location": {"address": "1 Main St"}}
    body.update(change)
    return body


def _count(db) -> int:
    return db.session.scalar(select(func.count()).select_from(Project))


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": {"x": 1}}, "name"),
        ({"name": True}, "name"),
        ({"name": 42}, "name"),
        ({"name": ["Deck"]}, "name"),
        ({"description": False}, "description"),
        ({"budget": "12,34"}, "budget"),
        ({"budget": "1e-7"}, "budget"),
        ({"budget": 1e-7}, "budget"),
        ({"budget": "1234.567"}, "budget"),
        ({"budget": "$1234.56"}, "budget"),
        ({"budget": " 1234.56"}, "budget"),
        ({"budget": "-5.00"}, "budget"),
        ({"budget": "NaN"}, "budget"),
        ({"budget": "Infinity"}, "budget"),
        ({"budget": "12345678901.00"}, "budget"),
        ({"budget": True}, "budget"),
        ({"budget": {"amount": "5"}}, "budget"),
        ({"start_date": "20240101"}, "start_date"),
        ({"start_date": "2024-W01-1"}, "start_date"),
        ({"start_date": 20240101}, "start_date"),
        ({"start_date": "2024-02-30"}, "start_date"),
        ({"start_date": "2024-01-01T00:00:00"}, "start_date"),
        ({"end_date": "01/02/2024"}, "end_date"),
        ({"client_id": "5"}, "client_id"),
        ({"client_id": True}, "client_id"),
        ({"client_id": 1.0}, "client_id"),
        ({"client_id": 2**31}, "client_id"),
        ({"client_id": 0}, "client_id"),
        ({"assigned_pm_ids": "3"}, "assigned_pm_ids"),
        ({"assigned_pm_ids": [True]}, "assigned_pm_ids"),
        ({"assigned_pm_ids": ["3"]}, "assigned_pm_ids"),
        ({"assigned_pm_ids": list(range(1, 102))}, "assigned_pm_ids"),
        ({"location": "1 Main St"}, "location"),
        ({"location": {"address": "1 Main St", "city": 5}}, "location.city"),
        ({"location": {"address": ["1 Main St"]}}, "location.address"),
        ({"version": "abc"}, "version"),
    ],
)
def test_a_loosely_typed_value_is_a_field_error_and_nothing_is_stored(
    client, db, admin_headers, company, change, field
):
    before = _count(db)
    response = client.post(LIST, headers=admin_headers, json=_body(company, **change))
    assert response.status_code == 400, response.json
    error = response.json["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert field in error["details"], error["details"]
    assert isinstance(error["details"][field], str) and error["details"][field]
    assert _count(db) == before


@pytest.mark.parametrize(
    ("budget", "stored"),
    [("1234.56", "1234.56"), ("1234.5", "1234.50"), ("1234", "1234.00"), (1234, "1234.00"), (1234.5, "1234.50")],
)
def test_money_in_the_canonical_form_is_accepted_as_given(client, db, admin_headers, company, budget, stored):
    response = client.post(LIST, headers=admin_headers, json=_body(company, budget=budget))
    assert response.status_code == 201, response.json
    assert response.json["data"]["budget"] == stored
    assert db.session.get(Project, response.json["data"]["id"]).budget == Decimal(stored)


def test_dates_and_text_are_stored_as_sent(client, db, admin_headers, company):
    body = _body(company, start_date="2024-02-29", end_date="2024-03-01", description="Two coats")
    data = client.post(LIST, headers=admin_headers, json=body).json["data"]
    assert (data["start_date"], data["end_date"], data["description"]) == ("2024-02-29", "2024-03-01", "Two coats")


def test_several_bad_fields_are_reported_together(client, db, admin_headers, company):
    response = client.post(LIST, headers=admin_headers, json=_body(company, name=1, budget="1,0", start_date="x"))
    assert set(response.json["error"]["details"]) == {"name", "budget", "start_date"}


def test_a_patch_is_checked_the_same_way_and_changes_nothing(client, db, admin_headers):
    project = make_project(name="Porch", budget=Decimal("100.00"))
    url = f"/api/projects/{project.id}/"
    for change in ({"budget": "1e3"}, {"name": None, "budget": "12,00"}, {"end_date": 20250101}):
        response = client.patch(url, headers=admin_headers, json=change)
        assert response.status_code == 400, (change, response.json)
    db.session.refresh(project)
    assert (project.name, project.budget, project.version) == ("Porch", Decimal("100.00"), 1)


def test_unknown_fields_are_ignored_so_what_was_read_can_be_put_back(client, db, admin_headers):
    project = make_project(name="Porch")
    url = f"/api/projects/{project.id}/"
    current = client.get(url, headers=admin_headers).json["data"]
    body = {**current, "client_id": current["client"]["id"], "name": "Porch and deck"}
    response = client.put(url, headers=admin_headers, json=body)
    assert response.status_code == 200, response.json
    assert response.json["data"]["name"] == "Porch and deck"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("client=abc", "client"),
        ("client=1.5", "client"),
        ("client=-3", "client"),
        ("assigned_pm=%C2%B2", "assigned_pm"),
        ("status=bogus", "status"),
        ("page=0", "page"),
        ("page_size=lots", "page_size"),
    ],
)
def test_query_parameters_are_parsed_by_their_types(client, db, admin_headers, query, field):
    response = client.get(f"{LIST}?{query}", headers=admin_headers)
    assert response.status_code == 400
    assert field in response.json["error"]["details"]


def test_an_empty_text_parameter_is_empty_and_an_empty_number_is_an_error(client, db, admin_headers):
    assert client.get(f"{LIST}?search=&ordering=", headers=admin_headers).status_code == 200
    for query in ("client=", "assigned_pm=", "page_size=", "status="):
        response = client.get(f"{LIST}?{query}", headers=admin_headers)
        assert response.status_code == 400 and query[:-1] in response.json["error"]["details"], query


@pytest.mark.parametrize(
    "body",
    [
        {"username": 5, "password": "x"},
        {"username": "a", "password": ["x"]},
        {"username": {"$ne": ""}, "password": True},
    ],
)
def test_sign_in_fields_must_be_text(client, db, body):
    response = client.post("/api/auth/login/", json=body)
    assert response.status_code == 400
    assert set(response.json["error"]["details"]) & {"username", "password"}


def test_refresh_token_must_be_text(client, db):
    response = client.post("/api/auth/refresh/", json={"refresh_token": 12345})
    assert response.status_code == 400 and "refresh_token" in response.json["error"]["details"]


def test_an_unknown_query_parameter_is_named_not_ignored(client, db, admin_headers):
    response = client.get(f"{LIST}?asigned_pm=4", headers=admin_headers)
    assert response.status_code == 400
    assert response.json["error"]["details"] == {"asigned_pm": "Unknown parameter."}
