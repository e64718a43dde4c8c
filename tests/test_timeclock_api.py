"""/api/timeclock/ (SPEC.md §5 "Punch", the envelope and errors of §4): clock in and out,
breaks, the punch list with its filters and who sees which punches; every refusal a clear
message with nothing stored."""

# ruff: noqa: F811 - the fixtures of tests/test_timeclock.py, imported by name
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.timeclock.models import Punch
from tests.conftest import bearer
from tests.factories import make_punch
from tests.test_timeclock import MONDAY_7_02, clock, site  # noqa: F401 - fixtures, used by name


def _count() -> int:
    return db.session.scalar(select(func.count(Punch.id)))


def test_clock_in_and_out_answer_the_punch(site, clock, client):
    headers = bearer(client, site.worker)
    body = {"project_id": site.project.id, "task_id": site.task.id, "latitude": 39.7392, "longitude": "-104.9903"}
    answer = client.post("/api/timeclock/clock-in/", json=body, headers=headers)
    assert answer.status_code == 201, answer.json
    punch = answer.json["data"]
    assert answer.json["success"] is True
    assert punch["user"] == {"id": site.worker.id, "name": "Walt Worker"}
    assert punch["project"] == {"id": site.project.id, "name": "Harbor lofts"}
    assert punch["task_id"] == site.task.id and punch["clock_out"] is None
    assert punch["clock_in"] == "2026-03-02T14:02:00+00:00"
    assert punch["latitude"] == "39.739200" and punch["longitude"] == "-104.990300"
    assert punch["hours"] == "0.00"
    assert client.post("/api/timeclock/break/start/", headers=headers).json["data"]["on_break"] is True
    clock.now += timedelta(minutes=30)
    assert client.post("/api/timeclock/break/end/", json={}, headers=headers).json["data"]["on_break"] is False
    clock.now += timedelta(hours=7, minutes=45)
    done = client.post("/api/timeclock/clock-out/", headers=headers)
    assert done.status_code == 200
    assert done.json["data"]["clock_out"] == "2026-03-02T22:17:00+00:00" and done.json["data"]["hours"] == "7.75"


def _refused(client, headers, body, status, code):
    before = _count()
    answer = client.post("/api/timeclock/clock-in/", json=body, headers=headers)
    assert answer.status_code == status, answer.json
    assert answer.json["success"] is False and answer.json["error"]["code"] == code
    assert _count() == before
    return answer.json["error"]


def test_bad_clock_ins_are_clear_and_store_nothing(site, clock, client):
    headers = bearer(client, site.worker)
    error = _refused(
        client, headers, {"project_id": site.project.id, "latitude": 200, "longitude": 1}, 400, "VALIDATION_ERROR"
    )
    assert error["details"]["latitude"] == "The latitude must be between -90 and 90."
    error = _refused(client, headers, {"project_id": site.other.id}, 400, "VALIDATION_ERROR")
    assert "project_id" in error["details"]
    error = _refused(
        client, headers, {"project_id": site.project.id, "task_id": site.other_task.id}, 400, "VALIDATION_ERROR"
    )
    assert error["details"]["task_id"] == "Choose a task of Harbor lofts."
    error = _refused(client, headers, {"project_id": site.closed.id}, 409, "CONFLICT")
    assert error["message"] == "Harbor boathouse is closed."
    error = _refused(client, headers, {}, 400, "VALIDATION_ERROR")
    assert error["details"]["project_id"] == "Choose a project."
    error = _refused(
        client, headers, {"project_id": site.project.id, "latitude": "north", "longitude": 1}, 400, "VALIDATION_ERROR"
    )
    assert "latitude" in error["details"]
    assert (
        client.post("/api/timeclock/clock-in/", json={"project_id": site.project.id}, headers=headers).status_code
        == 201
    )
    error = _refused(client, headers, {"project_id": site.project.id}, 409, "CONFLICT")
    assert error["message"].startswith("You are already clocked in on Harbor lofts since 7:02 AM")


def test_clock_out_with_nothing_open_is_a_conflict(site, clock, client):
    headers = bearer(client, site.worker)
    answer = client.post("/api/timeclock/clock-out/", headers=headers)
    assert answer.status_code == 409 and answer.json["error"]["message"] == "You are not clocked in."


def test_clients_never_punch(site, clock, client):
    headers = bearer(client, site.client_user)
    answer = client.post("/api/timeclock/clock-in/", json={"project_id": site.project.id}, headers=headers)
    assert answer.status_code == 403 and answer.json["error"]["code"] == "PERMISSION_DENIED"
    assert client.get("/api/timeclock/punches/", headers=headers).status_code == 403


@pytest.mark.parametrize("who", ["admin", "pm", "trainee", "designer", "superintendent", "worker"])
def test_clock_out_and_breaks_for_every_role(site, clock, client, who):
    """The walk rows these endpoints skip (app/timeclock/walk.py)."""
    person = getattr(site, who)
    make_punch(person, site.project, clock_in=clock.now - timedelta(hours=1), hours=None)
    headers = bearer(client, person)
    for path in ("break/start/", "break/end/", "clock-out/"):
        assert client.post(f"/api/timeclock/{path}", headers=headers).status_code == 200


def _ids(client, headers, query="") -> set[int]:
    answer = client.get(f"/api/timeclock/punches/{query}", headers=headers)
    assert answer.status_code == 200, answer.json
    return {p["id"] for p in answer.json["data"]["results"]}


def test_who_sees_which_punches(site, clock, client):
    worker = make_punch(site.worker, site.project, clock_in=MONDAY_7_02, hours=8)
    mate = make_punch(site.mate, site.project, clock_in=MONDAY_7_02, hours=8)
    loner = make_punch(site.loner, site.other, clock_in=MONDAY_7_02, hours=8)
    boss = make_punch(site.superintendent, site.other, clock_in=MONDAY_7_02 + timedelta(days=1), hours=2)
    designer = make_punch(site.designer, site.project, clock_in=MONDAY_7_02 + timedelta(days=1), hours=2)
    assert _ids(client, bearer(client, site.worker)) == {worker.id}
    assert _ids(client, bearer(client, site.worker), f"?user_id={site.mate.id}") == set()
    assert _ids(client, bearer(client, site.designer)) == {designer.id}
    expected = {worker.id, mate.id, boss.id, designer.id}
    assert _ids(client, bearer(client, site.superintendent)) == expected  # the project's, and their own
    assert _ids(client, bearer(client, site.trainee)) == {worker.id, mate.id, designer.id}
    assert _ids(client, bearer(client, site.admin)) == {*expected, loner.id}


def test_the_punch_list_filters_and_pages(site, clock, client):
    for day in range(5):
        make_punch(site.worker, site.project, clock_in=MONDAY_7_02 + timedelta(days=day), hours=8)
    make_punch(site.mate, site.project, clock_in=MONDAY_7_02, hours=8)
    headers = bearer(client, site.pm)
    assert len(_ids(client, headers, f"?user_id={site.worker.id}")) == 5
    assert len(_ids(client, headers, "?date_from=2026-03-03&date_to=2026-03-04")) == 2
    assert len(_ids(client, headers, f"?project_id={site.other.id}")) == 0
    page = client.get("/api/timeclock/punches/?page_size=2&page=2", headers=headers).json["data"]
    assert page["pagination"]["total_count"] == 6 and len(page["results"]) == 2
    first = client.get("/api/timeclock/punches/", headers=headers).json["data"]["results"][0]
    assert first["clock_in"] == (MONDAY_7_02 + timedelta(days=4)).isoformat()  # newest first
    assert first["hours"] == "8.00" and set(first) >= {
        "id",
        "user",
        "project",
        "task_id",
        "clock_in",
        "clock_out",
        "hours",
        "latitude",
        "longitude",
    }
    bad = client.get("/api/timeclock/punches/?date_from=someday", headers=headers)
    assert bad.status_code == 400 and bad.json["error"]["code"] == "VALIDATION_ERROR"
    assert len(_ids(client, headers, "?date_from=0001-01-01&date_to=9999-12-31")) == 6


def test_no_wages_or_rates_in_answers(site, clock, client):
    make_punch(site.worker, site.project, clock_in=MONDAY_7_02, hours=8)
    text = client.get("/api/timeclock/punches/", headers=bearer(client, site.admin)).text.lower()
    assert "rate" not in text and "wage" not in text and "cost" not in text


def test_the_openapi_document_lists_the_endpoints(client):
    paths = client.get("/api/openapi.json").json["paths"]
    for path in (
        "/api/timeclock/clock-in/",
        "/api/timeclock/clock-out/",
        "/api/timeclock/punches/",
        "/api/timeclock/break/start/",
        "/api/timeclock/break/end/",
    ):
        assert path in paths


def test_api_times_are_utc_iso(site, clock, client):
    punch = make_punch(site.worker, site.project, clock_in=datetime(2026, 3, 2, 15, 0, tzinfo=UTC), hours=1)
    found = client.get("/api/timeclock/punches/", headers=bearer(client, site.worker)).json["data"]["results"]
    assert found[0]["id"] == punch.id and found[0]["clock_out"] == "2026-03-02T16:00:00+00:00"
