"""GET /api/calendar/conflicts/ (SPEC.md §5 "Conflicts answer {"conflicts": [...]}") and
the conflicts panel: the answer's shape, filters and paging, and what each of the seven
roles sees — only conflicts of items they may see, another client's job never named."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from app.calendar.models import CalendarEvent
from app.tasks.models import Task, TaskAssignment
from tests.conftest import bearer
from tests.factories import make_client, make_project, make_user

DENVER = ZoneInfo("America/Denver")


@pytest.fixture()
def world(db):
    company = make_client(name="Hollis family")
    users = {
        "admin": make_user("admin"),
        "pm": make_user("project_manager_full"),
        "trainee": make_user("pm_trainee"),
        "designer": make_user("designer"),
        "super": make_user("superintendent"),
        "employee": make_user("employee", full_name="Eve Easel"),
        "client": make_user("client", client=company),
    }
    mine = make_project(
        client=company,
        name="Hollis kitchen",
        members=[users[r] for r in ("pm", "trainee", "designer", "super")],
    )
    theirs = make_project(name="Birch Row")
    ours = Task(
        project_id=mine.id,
        title="Paint walls",
        start_date=date(2026, 3, 2),
        due_date=date(2026, 3, 4),
        estimated_hours=Decimal("6"),
    )
    ours.assignments = [TaskAssignment(user_id=users["employee"].id)]
    other = Task(
        project_id=theirs.id,
        title="Prime hallway",
        start_date=date(2026, 3, 3),
        due_date=date(2026, 3, 3),
        estimated_hours=Decimal("2"),
    )
    other.assignments = [TaskAssignment(user_id=users["employee"].id)]
    handover = CalendarEvent(
        project_id=mine.id,
        title="Handover",
        start_at=datetime.combine(date(2026, 3, 7), time(9), tzinfo=DENVER),  # a Saturday
        end_at=datetime.combine(date(2026, 3, 7), time(10), tzinfo=DENVER),
        event_type="milestone",
        visibility="client_visible",
    )
    db.session.add_all([ours, other, handover])
    db.session.flush()
    return users, mine, theirs, ours, other, handover


def _get(client, user, query=""):
    return client.get(f"/api/calendar/conflicts/{query}", headers=bearer(client, user))


def test_shape_and_recommendation(client, world):
    users, mine, _theirs, ours, other, handover = world
    answer = _get(client, users["admin"])
    assert answer.status_code == 200
    body = answer.json
    assert body["success"] is True and set(body["data"]) == {"conflicts", "pagination"}
    conflicts = body["data"]["conflicts"]
    assert [c["severity"] for c in conflicts] == ["high", "high", "low"]  # most severe first
    first = conflicts[0]
    assert set(first) == {"id", "type", "severity", "day", "events", "message", "recommendation"}
    assert first["type"] == "double_booking"
    assert first["events"] == [
        {"id": ours.id, "title": "Paint walls", "kind": "task"},
        {"id": other.id, "title": "Prime hallway", "kind": "task"},
    ]
    assert first["message"] == "Eve Easel is also booked on ‘Prime hallway’ (Mar 3)"
    assert first["recommendation"] == "Move Paint walls to Mar 5, when Eve Easel is free"
    holiday = conflicts[2]
    assert holiday["type"] == "holiday" and holiday["events"] == [
        {"id": handover.id, "title": "Handover", "kind": "event"}
    ]
    assert holiday["message"] == "Client-visible milestone on a Saturday (Mar 7)"
    assert holiday["recommendation"] == "Move Handover to Mar 9"
    page = body["data"]["pagination"]
    assert (page["page"], page["total_count"], page["total_pages"], page["next"]) == (1, 3, 1, None)


def test_filters_and_paging(client, world):
    users, mine, theirs, ours, _other, _handover = world
    admin = users["admin"]
    assert [c["type"] for c in _get(client, admin, "?severity=low").json["data"]["conflicts"]] == ["holiday"]
    in_mine = _get(client, admin, f"?project_id={mine.id}").json["data"]["conflicts"]
    assert {c["events"][0]["id"] for c in in_mine} == {ours.id, _handover.id}
    dated = _get(client, admin, "?start_date=2026-03-05&end_date=2026-03-31").json["data"]["conflicts"]
    assert [c["type"] for c in dated] == ["holiday"]
    paged = _get(client, admin, "?page=2&page_size=1").json["data"]
    assert len(paged["conflicts"]) == 1 and paged["pagination"]["total_pages"] == 3
    assert paged["pagination"]["next"] and paged["pagination"]["previous"]
    bad = _get(client, admin, "?severity=urgent")
    assert bad.status_code == 400 and "severity" in bad.json["error"]["details"]
    backwards = _get(client, admin, "?start_date=2026-03-05&end_date=2026-03-01")
    assert backwards.status_code == 400 and "end_date" in backwards.json["error"]["details"]
    assert _get(client, admin, "?page_size=0").status_code == 400


@pytest.mark.parametrize(
    ("role", "status", "expected"),
    [
        ("admin", 200, {("Paint walls", "Prime hallway"), ("Prime hallway", "Paint walls"), ("Handover",)}),
        ("pm", 200, {("Paint walls", "another job"), ("Handover",)}),
        ("trainee", 200, {("Paint walls", "another job"), ("Handover",)}),
        ("designer", 403, None),
        ("super", 200, {("Paint walls", "another job"), ("Handover",)}),
        ("employee", 200, {("Paint walls", "Prime hallway"), ("Prime hallway", "Paint walls")}),
        ("client", 200, set()),  # conflicts name the crew: never the client's
    ],
)
def test_what_each_role_sees(client, world, role, status, expected):
    users = world[0]
    answer = _get(client, users[role])
    assert answer.status_code == status
    if status != 200:
        return
    found = {tuple(e["title"] for e in c["events"]) for c in answer.json["data"]["conflicts"]}
    assert found == expected
    text = answer.get_data(as_text=True)
    if role in ("pm", "trainee", "super"):
        assert "Prime" not in text and "Birch" not in text
        hidden = next(c for c in answer.json["data"]["conflicts"] if c["type"] == "double_booking")
        assert hidden["events"][1] == {"id": None, "title": "another job", "kind": "task"}


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("admin", 200),
        ("pm", 200),
        ("trainee", 200),
        ("designer", 403),
        ("super", 200),
        ("employee", 200),
        ("client", 200),
    ],
)
def test_the_panel_for_each_role(client, login_as, world, role, status):
    users, _mine, _theirs, ours, _other, handover = world
    login_as(users[role])
    page = client.get("/calendar/conflicts")
    assert page.status_code == status
    if status != 200:
        return
    text = page.get_data(as_text=True)
    if role == "client":
        assert 'data-testid="no-conflicts"' in text and "Paint walls" not in text
        return
    assert f'href="/tasks/{ours.id}"' in text
    assert ">High <" in text or "High" in text
    if role in ("pm", "trainee", "super"):
        assert "Prime hallway" not in text and "another job" in text
        assert f'href="/calendar/events/{handover.id}"' in text
    if role == "employee":
        assert "Handover" not in text  # not on it: not theirs to see


def test_the_panel_groups_by_severity_and_filters(client, login_as, world):
    users = world[0]
    login_as(users["admin"])
    text = client.get("/calendar/conflicts").get_data(as_text=True)
    assert text.index('data-testid="conflicts-high"') < text.index('data-testid="conflicts-low"')
    low = client.get("/calendar/conflicts?severity=low").get_data(as_text=True)
    assert 'data-testid="conflicts-high"' not in low and "Handover" in low
    fragment = client.get("/calendar/conflicts?page=1", headers={"HX-Request": "true", "HX-Target": "conflict-results"})
    assert "<html" not in fragment.get_data(as_text=True) and 'id="conflict-results"' in fragment.get_data(as_text=True)
    assert client.get("/calendar/conflicts?severity=bogus").status_code == 422


def test_an_employee_reads_their_own_conflicts_on_a_shared_item_not_a_co_workers(client, db, world):
    """A shared event books Eve and Ana; Ana alone is double-booked and over her hours on
    it. Eve, an employee, sees the event but not Ana's other work or her load: neither in
    the list nor in the event's own reasons (the API detail); the PM sees both."""
    users, mine, _theirs, _ours, _other, _handover = world
    from sqlalchemy import select

    from app.calendar.models import EventAssignee
    from app.schedule.models import ScheduleConflict

    ana = make_user("employee", full_name="Ana Alvarez")
    shared = CalendarEvent(
        project_id=mine.id,
        title="Site walk",
        start_at=datetime.combine(date(2026, 3, 10), time(8), tzinfo=DENVER),
        end_at=datetime.combine(date(2026, 3, 10), time(12), tzinfo=DENVER),
    )
    shared.assignments = [EventAssignee(user_id=users["employee"].id), EventAssignee(user_id=ana.id)]
    busy = CalendarEvent(
        project_id=mine.id,
        title="Ana's other job",
        start_at=datetime.combine(date(2026, 3, 10), time(9), tzinfo=DENVER),
        end_at=datetime.combine(date(2026, 3, 10), time(17), tzinfo=DENVER),
    )
    busy.assignments = [EventAssignee(user_id=ana.id)]
    db.session.add_all([shared, busy])
    db.session.flush()
    anas = db.session.scalars(
        select(ScheduleConflict.kind).where(
            ScheduleConflict.item_kind == "event",
            ScheduleConflict.item_id == shared.id,
            ScheduleConflict.user_id == ana.id,
        )
    ).all()
    assert set(anas) == {"double_booking", "over_capacity"}  # the rows exist

    listed = _get(client, users["employee"]).get_data(as_text=True)
    detail = client.get(f"/api/calendar/events/{shared.id}/", headers=bearer(client, users["employee"]))
    assert detail.status_code == 200
    assert "Alvarez" not in listed and "capacity" not in listed  # (Ana is on the event: its detail names her)
    assert "capacity" not in detail.get_data(as_text=True) and "other job" not in detail.get_data(as_text=True)
    assert detail.json["data"]["ai_conflicts"] == []
    assert detail.json["data"]["ai_risk_level"] == "none"  # the stored level is Ana's double booking
    from app.calendar import queries

    with client.application.test_request_context():
        month = queries.period(users["employee"], date(2026, 3, 9), date(2026, 3, 15))
    assert [(i.title, i.risk_level) for i in month if i.title == "Site walk"] == [("Site walk", "none")]

    pm_detail = client.get(f"/api/calendar/events/{shared.id}/", headers=bearer(client, users["pm"])).json["data"]
    assert {c["type"] for c in pm_detail["ai_conflicts"]} == {"double_booking", "over_capacity"}
