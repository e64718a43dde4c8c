"""/api/estimates/ (SPEC.md §4–5 "Estimate"): the shape exactly, the list's envelope and
filters, create/PUT/PATCH/DELETE with versions, bad numbers refused (400 with the field),
send, approve answering the estimate with its new project (a second one 409), decline,
and what a client's token gets."""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from sqlalchemy import func, select

from app.estimates import services
from app.estimates.models import Estimate
from app.extensions import db as _db
from app.projects.models import Project
from tests.conftest import bearer
from tests.factories import make_client, make_user
from tests.test_api_fuzz import CHECKS, example_rolled_back
from tests.test_api_fuzz import forget_audit_entries_of_the_run as forget_audit_entries_of_the_run  # noqa: F401, F811
from tests.test_api_fuzz import role_user as role_user  # noqa: F401, F811

SHAPE = {"id", "number", "client", "project", "title", "status", "subtotal", "markup_pct", "total", "valid_until",
         "lines", "version"}  # fmt: skip
LINE_SHAPE = {"surface", "description", "quantity", "unit", "coats", "labor_hours", "material_gallons", "amount",
              "is_optional", "is_selected"}  # fmt: skip
LINES = [
    {"surface": "walls", "description": "Bedrooms", "quantity": "800", "coats": 2},
    {"surface": "ceilings", "description": "Bedroom ceilings", "quantity": "300", "is_optional": True},
    {"surface": "other", "description": "Furniture moving", "quantity": "1", "unit_price": "150.00"},
]


@pytest.fixture()
def site(db, monkeypatch):
    monkeypatch.setattr(services, "today", lambda: dt.date(2026, 3, 2))
    pm, admin = make_user("project_manager_full"), make_user("admin")
    company = make_client(name="Harbor Holdings", email="ap@harbor.example")
    owner = make_user("client", client=company)
    return type("Site", (), {"pm": pm, "admin": admin, "company": company, "owner": owner})


def _create(client, site, headers, **extra):
    body = {"client_id": site.company.id, "title": "Bedrooms repaint", "address": "1 Harbor Way",
            "markup_pct": "10", "lines": LINES, **extra}  # fmt: skip
    return client.post("/api/estimates/", json=body, headers=headers)


def test_create_answers_the_shape_with_the_figures(site, client):
    pm = bearer(client, site.pm)
    made = _create(client, site, pm)
    assert made.status_code == 201, made.json
    assert made.headers["ETag"] == '"1"'
    data = made.json["data"]
    assert set(data) >= SHAPE and set(data["lines"][0]) >= LINE_SHAPE
    # walls: 1600 ÷ 150 = 10.666… → 10.67 h × 55.00 = 586.85; ⌈1600 ÷ 350⌉ = 5 × 48.00 = 240.00 → 826.85
    assert data["lines"][0]["labor_hours"] == "10.67" and data["lines"][0]["labor_amount"] == "586.85"
    assert (data["lines"][0]["material_gallons"], data["lines"][0]["amount"]) == (5, "826.85")
    assert data["lines"][1]["is_optional"] is True and data["lines"][1]["is_selected"] is False
    assert data["lines"][2]["coats"] is None and data["lines"][2]["amount"] == "150.00"
    # 826.85 + 150.00 = 976.85; 10 % = 97.685 → 97.69
    assert (data["subtotal"], data["markup_pct"], data["total"]) == ("976.85", "10", "1074.54")
    assert data["client"] == {"id": site.company.id, "name": "Harbor Holdings"} and data["project"] is None
    assert data["status"] == "draft" and data["valid_until"] == "2026-04-01" and data["version"] == 1
    assert data["number"] == "EST-2026-0001"


@pytest.mark.parametrize("quantity", ["1e9", "-3", "0.0001", "NaN", "12,5", True, {"x": 1}])
def test_bad_numbers_are_a_400_naming_the_field_and_nothing_is_written(site, client, quantity):
    pm = bearer(client, site.pm)
    refused = _create(client, site, pm, lines=[{**LINES[0], "quantity": quantity}])
    assert refused.status_code == 400 and refused.json["error"]["code"] == "VALIDATION_ERROR"
    assert any("quantity" in key or key == "lines" for key in refused.json["error"]["details"]), refused.json
    assert _db.session.scalar(select(func.count()).select_from(Estimate)) == 0


def test_missing_fields_are_named(site, client):
    refused = client.post("/api/estimates/", json={"client_id": site.company.id}, headers=bearer(client, site.pm))
    assert refused.status_code == 400 and {"title", "address"} <= set(refused.json["error"]["details"])
    unknown = client.post("/api/estimates/", json={"client_id": 999999, "title": "X", "address": "Y"},
                          headers=bearer(client, site.pm))  # fmt: skip
    assert unknown.status_code == 400 and "client_id" in unknown.json["error"]["details"]


def test_the_list_envelope_and_filters(site, client):
    pm = bearer(client, site.pm)
    first = _create(client, site, pm).json["data"]
    other = make_client(name="Birch Row LLC", email="ap@birch.example")
    second = _create(client, site, pm, client_id=other.id).json["data"]
    listed = client.get("/api/estimates/?page_size=1", headers=pm).json
    assert listed["success"] is True
    assert listed["data"]["pagination"]["total_count"] == 2 and listed["data"]["pagination"]["total_pages"] == 2
    assert [r["id"] for r in listed["data"]["results"]] == [second["id"]]  # newest first
    mine = client.get(f"/api/estimates/?client_id={site.company.id}&status=draft", headers=pm).json["data"]
    assert [r["id"] for r in mine["results"]] == [first["id"]]
    assert client.get("/api/estimates/?status=lost", headers=pm).status_code == 400
    assert client.get("/api/estimates/?clientid=1", headers=pm).status_code == 400


def test_updates_need_a_draft_and_the_current_version(site, client):
    pm = bearer(client, site.pm)
    data = _create(client, site, pm).json["data"]
    url = f"/api/estimates/{data['id']}/"
    patched = client.patch(url, json={"markup_pct": "0", "version": 1}, headers=pm)
    assert patched.status_code == 200 and patched.json["data"]["total"] == "976.85"
    stale = client.patch(url, json={"title": "Old", "version": 1}, headers=pm)
    assert stale.status_code == 409 and stale.json["error"]["details"]["version"] == patched.json["data"]["version"]
    put = client.put(
        url, json={"lines": [LINES[2]]}, headers={**pm, "If-Match": f'"{patched.json["data"]["version"]}"'}
    )
    assert put.status_code == 200 and put.json["data"]["total"] == "150.00" and len(put.json["data"]["lines"]) == 1
    sent = client.post(url + "send/", headers=pm)
    assert sent.status_code == 200 and sent.json["data"]["status"] == "sent" and sent.json["data"]["sent_at"]
    assert client.patch(url, json={"title": "Too late"}, headers=pm).status_code == 409
    gone = client.delete(url, headers=pm)
    assert gone.status_code == 200 and gone.json["data"] == {"id": data["id"], "deleted": True}
    assert client.get(url, headers=pm).status_code == 404


def test_approve_answers_the_estimate_with_its_new_project(site, client):
    pm = bearer(client, site.pm)
    data = _create(client, site, pm).json["data"]
    url = f"/api/estimates/{data['id']}/"
    owner = bearer(client, site.owner)
    assert client.get(url, headers=owner).status_code == 404  # a draft: not the client's yet
    assert client.post(url + "send/", headers=pm).status_code == 200
    seen = client.get(url, headers=owner).json["data"]
    assert seen["lines"][0]["labor_hours"] is None and seen["lines"][0]["material_gallons"] is None
    assert "internal_notes" not in seen and "sent_at" not in seen
    # the client reads prices (826.85 + 10 % = 909.54) and no margin
    assert seen["lines"][0]["amount"] == "909.54" and set(seen["lines"][0]) == LINE_SHAPE  # the shape, nothing more
    assert seen["markup_pct"] is None and seen["markup_amount"] is None and seen["subtotal"] == seen["total"]
    stranger = bearer(client, make_user("client", client=make_client()))
    assert client.get(url, headers=stranger).status_code == 404
    assert client.post(url + "approve/", json={"signature_name": "X"}, headers=stranger).status_code == 404
    unsigned = client.post(url + "approve/", json={}, headers=owner)
    assert unsigned.status_code == 400 and "signature_name" in unsigned.json["error"]["details"]
    not_optional = client.post(url + "approve/", json={"signature_name": "Dana", "selected_lines": [0]}, headers=owner)
    assert not_optional.status_code == 400 and "selected_lines" in not_optional.json["error"]["details"]
    approved = client.post(url + "approve/", json={"signature_name": "Dana Owner", "selected_lines": [1]},
                           headers={**owner, "User-Agent": "curl/8"})  # fmt: skip
    assert approved.status_code == 200, approved.json
    result = approved.json["data"]
    # the ceilings chosen: 300 ÷ 120 = 2.50 h × 55 = 137.50; ⌈300 ÷ 350⌉ = 1 × 48 = 48.00 → 185.50
    assert result["status"] == "approved" and result["lines"][1]["is_selected"] is True
    assert result["total"] == "1278.59"  # (the client's answer: prices, the subtotal is the total)
    assert client.get(url, headers=pm).json["data"]["subtotal"] == "1162.35"  # the cost side, for staff
    assert result["signature_name"] == "Dana Owner" and result["approved_at"]
    project = _db.session.get(Project, result["project"]["id"])
    assert result["project"] == {"id": project.id, "name": "Bedrooms repaint"}
    assert project.contract_value == Decimal("1278.59") and project.budget == Decimal("1162.35")
    assert project.estimate_id == data["id"]
    again = client.post(url + "approve/", json={"signature_name": "Dana Owner"}, headers=owner)
    assert again.status_code == 409 and again.json["error"]["code"] == "CONFLICT"
    assert client.post(url + "decline/", json={"decline_reason": "No"}, headers=owner).status_code == 409
    assert client.delete(url, headers=pm).status_code == 409
    staff_view = client.get(f"/api/projects/{project.id}/", headers=pm).json["data"]
    assert staff_view["contract_value"] == "1278.59"


def test_staff_approve_for_the_client_with_a_reason_and_decline(site, client):
    pm = bearer(client, site.pm)
    first = _create(client, site, pm).json["data"]
    url = f"/api/estimates/{first['id']}/"
    no_reason = client.post(url + "approve/", json={"signature_name": "Dana Owner"}, headers=pm)
    assert no_reason.status_code == 400 and "on_behalf_reason" in no_reason.json["error"]["details"]
    done = client.post(url + "approve/", json={"on_behalf_reason": "Signed on paper on site"}, headers=pm)
    assert done.status_code == 200 and done.json["data"]["project"] is not None
    assert done.json["data"]["on_behalf_reason"] == "Signed on paper on site"
    second = _create(client, site, pm, title="Porch").json["data"]
    url = f"/api/estimates/{second['id']}/"
    client.post(url + "send/", headers=pm)
    owner = bearer(client, site.owner)
    declined = client.post(url + "decline/", json={"decline_reason": "Too dear"}, headers=owner)
    assert declined.status_code == 200 and declined.json["data"]["status"] == "declined"
    assert declined.json["data"]["decline_reason"] == "Too dear" and declined.json["data"]["project"] is None


def test_roles_without_estimates_are_refused(site, client):
    pm = bearer(client, site.pm)
    data = _create(client, site, pm).json["data"]
    for role in ("designer", "superintendent", "employee"):
        headers = bearer(client, make_user(role))
        assert client.get("/api/estimates/", headers=headers).status_code == 403
        assert client.get(f"/api/estimates/{data['id']}/", headers=headers).status_code == 403
    trainee = bearer(client, make_user("pm_trainee"))
    assert client.post(f"/api/estimates/{data['id']}/send/", headers=trainee).status_code == 403
    assert client.get(f"/api/estimates/{data['id']}/", headers=trainee).status_code == 200
    assert _create(client, site, bearer(client, site.owner)).status_code == 403


def test_the_estimate_is_in_the_openapi_document(client):
    document = client.get("/api/openapi.json").json
    for path in ("/api/estimates/", "/api/estimates/{estimate_id}/", "/api/estimates/{estimate_id}/approve/",
                 "/api/estimates/{estimate_id}/send/", "/api/estimates/{estimate_id}/decline/"):  # fmt: skip
        assert path in document["paths"], path


# --- fuzzing these endpoints (tests/test_api_fuzz.py runs the whole document) ---------


@pytest.fixture()
def estimate_schema(app, forget_audit_entries_of_the_run, db):  # noqa: F811
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app).include(path_regex="^/api/estimates/")
    schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
    return schema


schema = schemathesis.pytest.from_fixture("estimate_schema")


@pytest.mark.skipif(
    not os.environ.get("FUZZ_ESTIMATES"),
    reason="tests/test_api_fuzz.py fuzzes these endpoints in the suite; FUZZ_ESTIMATES=1 runs them alone",
)
@pytest.mark.usefixtures("role_user")
@settings(
    max_examples=30,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@schema.parametrize()
def test_estimate_api_keeps_to_its_document(case, role_user, client, db):  # noqa: F811
    if not hasattr(role_user, "headers"):
        role_user.headers = bearer(client, role_user)
    with example_rolled_back(db):
        case.call_and_validate(session=client, headers=role_user.headers, checks=CHECKS)
