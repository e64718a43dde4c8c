"""/api/daily-logs/ (SPEC.md §5 "Daily log"): list with filters and pages, detail,
create (prefilled when crew or work done are left out), PATCH with versions, the
client's variant, and a schemathesis run over these endpoints alone."""

from __future__ import annotations

import os
from datetime import date, timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from sqlalchemy import func, select

from app.daily_logs import services
from app.daily_logs.models import DailyLog, DailyLogCrew
from app.extensions import db as _db
from tests.conftest import bearer
from tests.factories import make_daily_log, make_project, make_punch, make_user
from tests.test_api_fuzz import CHECKS, example_rolled_back
from tests.test_api_fuzz import forget_audit_entries_of_the_run as forget_audit_entries_of_the_run  # noqa: F401, F811
from tests.test_api_fuzz import role_user as role_user  # noqa: F401, F811

DAY = date(2026, 3, 2)


@pytest.fixture()
def site(db, monkeypatch):
    monkeypatch.setattr(services, "today", lambda: DAY)
    pm, superintendent = make_user("project_manager_full"), make_user("superintendent")
    worker = make_user("employee", full_name="Ed Worker")
    project = make_project(members=[pm, superintendent], name="Harbor lofts")
    owner = make_user("client", client=project.client)
    make_punch(worker, project, hours=6)
    return type(
        "Site", (), {"pm": pm, "superintendent": superintendent, "worker": worker, "project": project, "owner": owner}
    )


def _count():
    return _db.session.scalar(select(func.count()).select_from(DailyLog))


def test_create_detail_and_shape(site, client):
    headers = bearer(client, site.superintendent)
    response = client.post(
        "/api/daily-logs/",
        json={
            "project_id": site.project.id,
            "date": DAY.isoformat(),
            "weather": {"conditions": "rain", "temperature_f": 48, "humidity": 90},
            "problems": "Rain stopped the exterior",
            "is_client_visible": True,
            "internal_notes": "Ed late",
        },
        headers=headers,
    )
    assert response.status_code == 201, response.json
    data = response.json["data"]
    assert response.headers["ETag"] == '"1"'
    assert data["project"] == {"id": site.project.id, "name": "Harbor lofts"}
    assert data["crew"] == [{"id": site.worker.id, "name": "Ed Worker"}]  # from the punches
    assert data["weather"]["conditions"] == "rain" and data["weather"]["temperature_f"] == 48
    assert "below 50 °F" in data["weather"]["paint_warning"] and "above 85 %" in data["weather"]["paint_warning"]
    assert data["locked"] is False and data["is_client_visible"] is True and data["internal_notes"] == "Ed late"
    detail = client.get(f"/api/daily-logs/{data['id']}/", headers=headers).json["data"]
    assert detail == data


def test_second_log_of_the_day_is_a_conflict_naming_the_first(site, client):
    headers = bearer(client, site.pm)
    first = client.post("/api/daily-logs/", json={"project_id": site.project.id, "date": "2026-03-02"}, headers=headers)
    again = client.post("/api/daily-logs/", json={"project_id": site.project.id, "date": "2026-03-02"}, headers=headers)
    assert again.status_code == 409 and again.json["error"]["code"] == "CONFLICT"
    assert again.json["error"]["details"]["id"] == first.json["data"]["id"]
    assert _count() == 1


def test_bad_input_and_rules(site, client):
    headers = bearer(client, site.pm)
    cases = [
        ({"project_id": site.project.id, "date": "2026-03-03"}, 400, "date"),
        ({"project_id": site.project.id}, 400, "date"),
        ({"date": "2026-03-02"}, 400, "project_id"),
        ({"project_id": site.project.id, "date": "2026-03-02", "weather": {"humidity": 101}}, 400, "humidity"),
        ({"project_id": site.project.id, "date": "2026-03-02", "weather": {"conditions": "hail"}}, 400, None),
        ({"project_id": site.project.id, "date": "2026-03-02", "crew_ids": [site.owner.id]}, 400, "crew_ids"),
        ({"project_id": make_project().id, "date": "2026-03-02"}, 400, "project_id"),
    ]
    for body, status, field in cases:
        response = client.post("/api/daily-logs/", json=body, headers=headers)
        assert response.status_code == status, (body, response.json)
        assert response.json["error"]["code"] == "VALIDATION_ERROR"
        if field:
            assert field in response.json["error"]["details"], response.json
    site.project.status = "closed"
    _db.session.flush()
    closed = client.post(
        "/api/daily-logs/", json={"project_id": site.project.id, "date": "2026-03-02"}, headers=headers
    )
    assert closed.status_code == 409 and "closed" in closed.json["error"]["message"]
    assert _count() == 0


def test_superintendent_cannot_backdate_and_pm_can(site, client):
    body = {"project_id": site.project.id, "date": "2026-02-20", "crew_ids": []}
    refused = client.post("/api/daily-logs/", json=body, headers=bearer(client, site.superintendent))
    assert refused.status_code == 403 and _count() == 0
    made = client.post("/api/daily-logs/", json=body, headers=bearer(client, site.pm))
    assert made.status_code == 201 and made.json["data"]["locked"] is False and made.json["data"]["crew"] == []


def test_patch_with_versions_and_the_lock(site, client, monkeypatch):
    log = services.create_log(site.superintendent, site.project, {"date": DAY})
    headers = bearer(client, site.superintendent)
    ok = client.patch(
        f"/api/daily-logs/{log.id}/",
        json={"problems": "Delivery late", "crew_ids": [], "weather": {"conditions": "clear"}, "version": 1},
        headers=headers,
    )
    assert ok.status_code == 200 and ok.json["data"]["crew"] == [] and ok.json["data"]["version"] == 2
    assert ok.json["data"]["weather"]["conditions"] == "clear"
    stale = client.patch(f"/api/daily-logs/{log.id}/", json={"problems": "x"}, headers=headers | {"If-Match": '"1"'})
    assert stale.status_code == 409 and stale.json["error"]["details"]["problems"] == "Delivery late"
    monkeypatch.setattr(services, "today", lambda: DAY + timedelta(days=1))
    locked = client.patch(f"/api/daily-logs/{log.id}/", json={"problems": "y"}, headers=headers)
    assert locked.status_code == 409 and "locked" in locked.json["error"]["message"]
    assert client.get(f"/api/daily-logs/{log.id}/", headers=headers).json["data"]["locked"] is True


def test_list_filters_and_pages(site, client):
    for n in range(5):
        make_daily_log(site.project, DAY - timedelta(days=n))
    make_daily_log(make_project(members=[site.pm]), DAY)
    headers = bearer(client, site.pm)
    everything = client.get("/api/daily-logs/", headers=headers).json["data"]
    assert everything["pagination"]["total_count"] == 6
    mine = client.get(f"/api/daily-logs/?project_id={site.project.id}&page_size=2", headers=headers).json["data"]
    assert mine["pagination"]["total_count"] == 5 and mine["pagination"]["total_pages"] == 3
    assert [r["date"] for r in mine["results"]] == ["2026-03-02", "2026-03-01"]
    window = client.get(
        f"/api/daily-logs/?project_id={site.project.id}&date_from=2026-02-26&date_to=2026-02-27", headers=headers
    ).json["data"]
    assert [r["date"] for r in window["results"]] == ["2026-02-27", "2026-02-26"]
    bad = client.get("/api/daily-logs/?date_from=yesterday", headers=headers)
    assert bad.status_code == 400 and bad.json["error"]["code"] == "VALIDATION_ERROR"


def test_client_variant(site, client):
    shared = make_daily_log(site.project, DAY, is_client_visible=True, internal_notes="Thin margin")
    shared.crew_links.append(DailyLogCrew(user_id=site.worker.id))
    hidden = make_daily_log(site.project, DAY - timedelta(days=1))
    make_daily_log(make_project(), DAY, is_client_visible=True)
    _db.session.flush()
    headers = bearer(client, site.owner)
    listing = client.get("/api/daily-logs/", headers=headers).json["data"]["results"]
    assert [r["id"] for r in listing] == [shared.id]
    assert listing[0]["crew"] == [] and "internal_notes" not in listing[0] and "created_by" not in listing[0]
    detail = client.get(f"/api/daily-logs/{shared.id}/", headers=headers)
    assert "Ed Worker" not in detail.text and "Thin margin" not in detail.text
    assert client.get(f"/api/daily-logs/{hidden.id}/", headers=headers).status_code == 404
    refused = client.patch(f"/api/daily-logs/{shared.id}/", json={"problems": "x"}, headers=headers)
    assert refused.status_code == 403
    made = client.post("/api/daily-logs/", json={"project_id": site.project.id, "date": "2026-03-02"}, headers=headers)
    assert made.status_code == 403


@pytest.mark.parametrize("role", ["designer", "employee"])
def test_roles_without_daily_logs(site, client, role):
    headers = bearer(client, make_user(role))
    assert client.get("/api/daily-logs/", headers=headers).status_code == 403


# --- fuzzing these endpoints (tests/test_api_fuzz.py runs the whole document) ---------


@pytest.fixture()
def daily_log_schema(app, forget_audit_entries_of_the_run, db):  # noqa: F811
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app).include(path_regex="^/api/daily-logs/")
    schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
    return schema


schema = schemathesis.pytest.from_fixture("daily_log_schema")


@pytest.mark.skipif(
    not os.environ.get("FUZZ_DAILY_LOGS"),
    reason="tests/test_api_fuzz.py fuzzes these endpoints in the suite; FUZZ_DAILY_LOGS=1 runs them alone",
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
def test_daily_log_api_keeps_to_its_document(case, role_user, client, db):  # noqa: F811
    if not hasattr(role_user, "headers"):
        role_user.headers = bearer(client, role_user)
    with example_rolled_back(db):
        case.call_and_validate(session=client, headers=role_user.headers, checks=CHECKS)
