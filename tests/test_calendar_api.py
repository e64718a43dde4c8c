"""/api/calendar/events/ (SPEC.md §4–5): who sees which event for all seven roles (the
visibility levels, an employee their own, a client client-visible ones without
assignees or notes), the list's filters and series expansion, create/update/move/delete
with field errors, 409 on a stale version with the current event, single occurrences,
bulk."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from app.auth.tokens import issue_pair
from app.calendar import services
from app.calendar.models import CalendarEvent
from tests.factories import make_client, make_project, make_user

DENVER = ZoneInfo("America/Denver")
URL = "/api/calendar/events/"


def token(user) -> dict:
    return {"Authorization": "Bearer " + issue_pair(user)["access_token"]}


def at(day: int, hour: int = 7, month: int = 3) -> str:
    return datetime(2026, month, day, hour, 0, tzinfo=DENVER).isoformat()


@pytest.fixture()
def world(db):
    owner = make_client(name="Cedar Homes")
    p = {
        "admin": make_user("admin"),
        "pm": make_user("project_manager_full"),
        "trainee": make_user("pm_trainee"),
        "designer": make_user("designer"),
        "superintendent": make_user("superintendent"),
        "employee": make_user("employee"),
        "client": make_user("client", client=owner),
        "off_team_pm": make_user("project_manager_full"),
    }
    mine = make_project(
        client=owner, name="Cedar Bend", members=[p[k] for k in ("pm", "trainee", "designer", "superintendent")]
    )
    theirs = make_project(name="Birch Row", members=[p["off_team_pm"]])
    admin = p["admin"]

    def event(title, project=mine, visibility="project_team", day=4, **extra):
        return services.create_event(
            admin,
            {
                "title": title,
                "project_id": project.id if project else None,
                "start_datetime": at(day, 9),
                "end_datetime": at(day, 10),
                "visibility": visibility,
                "notes": "gate code 4411",
                **extra,
            },
        )

    events = {
        "team": event("Team meeting", assigned_to_ids=[p["employee"].id]),
        "internal": event("Internal review", visibility="internal"),
        "shared": event("Owner walkthrough", visibility="client_visible", assigned_to_ids=[p["superintendent"].id]),
        "secret": event("Margin review", visibility="admin_only"),
        "theirs": event("Fence inspection", project=theirs, event_type="inspection"),
        "company": event("Company picnic", project=None, day=6),
    }
    return {"people": p, "mine": mine, "theirs": theirs, "events": events}


SEES = {
    "admin": {"team", "internal", "shared", "secret", "theirs", "company"},
    "pm": {"team", "internal", "shared"},
    "trainee": {"team", "internal", "shared"},
    "superintendent": {"team", "internal", "shared"},
    "employee": {"team"},
    "client": {"shared"},
}


def titles(world, names) -> set[str]:
    return {world["events"][n].title for n in names}


@pytest.mark.parametrize("role", ["admin", "pm", "trainee", "superintendent", "employee", "client"])
def test_list_shows_each_role_what_it_may_see(world, client, role):
    response = client.get(URL, headers=token(world["people"][role]))
    assert response.status_code == 200
    found = {e["title"] for e in response.json["data"]["results"]}
    assert found == titles(world, SEES[role])
    for name in SEES[role]:
        detail = client.get(f"{URL}{world['events'][name].id}/", headers=token(world["people"][role]))
        assert detail.status_code == 200
        assert detail.headers["ETag"] == '"1"'
    for name in set(world["events"]) - SEES[role]:
        assert client.get(f"{URL}{world['events'][name].id}/", headers=token(world["people"][role])).status_code == 404


def test_designer_has_no_calendar(world, client):
    headers = token(world["people"]["designer"])
    assert client.get(URL, headers=headers).status_code == 403
    assert client.get(f"{URL}{world['events']['team'].id}/", headers=headers).status_code == 403


def test_client_gets_no_assignees_or_internal_fields(world, client):
    response = client.get(URL, headers=token(world["people"]["client"]))
    (item,) = response.json["data"]["results"]
    assert item["assigned_to"] == []
    assert "notes" not in item and "visibility" not in item and "rrule" not in item
    assert "gate code" not in response.text
    assert item["is_visible_to_client"] is True


def test_staff_shape(world, client):
    response = client.get(f"{URL}{world['events']['shared'].id}/", headers=token(world["people"]["pm"]))
    item = response.json["data"]
    assert set(item) >= {
        "id",
        "title",
        "description",
        "start_datetime",
        "end_datetime",
        "all_day",
        "event_type",
        "status",
        "project",
        "assigned_to",
        "is_visible_to_client",
        "ai_risk_level",
        "ai_conflicts",
        "version",
        "visibility",
        "rrule",
        "notes",
        "occurrence_start",
        "series_id",
    }
    assert item["project"] == {"id": world["mine"].id, "name": "Cedar Bend"}
    assert item["assigned_to"] == [
        {"id": world["people"]["superintendent"].id, "name": world["people"]["superintendent"].name}
    ]
    assert item["start_datetime"] == "2026-03-04T16:00:00+00:00"
    assert item["notes"] == "gate code 4411" and item["ai_risk_level"] == "none"


def test_filters(world, client):
    headers = token(world["people"]["admin"])

    def found(query):
        response = client.get(URL + query, headers=headers)
        assert response.status_code == 200, response.json
        return {e["title"] for e in response.json["data"]["results"]}

    assert found(f"?project_id={world['theirs'].id}") == {"Fence inspection"}
    assert found("?event_type=inspection") == {"Fence inspection"}
    assert found(f"?assigned_to={world['people']['employee'].id}") == {"Team meeting"}
    assert found("?search=walkthrough") == {"Owner walkthrough"}
    assert found("?status=cancelled") == set()
    assert found("?start_date=2026-03-05&end_date=2026-03-07") == {"Company picnic"}
    assert found("?start_date=2026-03-05") == {"Company picnic"}
    assert found("?end_date=2026-03-04") == titles(world, SEES["admin"] - {"company"})
    for bad in (
        "?event_type=party",
        "?start_date=tomorrow",
        "?colour=red",
        "?start_date=2026-03-05&end_date=2026-03-01",
    ):
        response = client.get(URL + bad, headers=headers)
        assert response.status_code == 400 and response.json["error"]["code"] == "VALIDATION_ERROR", bad
    too_long = client.get(URL + "?start_date=2026-01-01&end_date=2028-01-01", headers=headers)
    assert too_long.status_code == 400 and "end_date" in too_long.json["error"]["details"]


def test_pagination_envelope(world, client):
    response = client.get(URL + "?page_size=2", headers=token(world["people"]["admin"]))
    data = response.json["data"]
    assert len(data["results"]) == 2
    assert data["pagination"]["total_count"] == 6 and data["pagination"]["total_pages"] == 3
    assert data["pagination"]["next"] and data["pagination"]["previous"] is None


# --- series in the list ------------------------------------------------------------------


@pytest.fixture()
def series(world, db):
    p = world["people"]
    return services.create_event(
        p["pm"],
        {
            "title": "Weekly site meeting",
            "project_id": world["mine"].id,
            "start_datetime": at(2, 7),
            "end_datetime": at(2, 8),
            "rrule": "FREQ=WEEKLY;COUNT=6",
            "visibility": "client_visible",
        },
    )


def test_series_expanded_in_a_range(world, client, series):
    headers = token(world["people"]["client"])
    response = client.get(URL + "?start_date=2026-03-01&end_date=2026-03-31&page_size=100", headers=headers)
    items = [e for e in response.json["data"]["results"] if e["id"] == series.id]
    assert [e["occurrence_start"] for e in items] == [
        "2026-03-02T14:00:00+00:00",
        "2026-03-09T13:00:00+00:00",
        "2026-03-16T13:00:00+00:00",
        "2026-03-23T13:00:00+00:00",
        "2026-03-30T13:00:00+00:00",
    ]
    assert [e["start_datetime"] for e in items] == [e["occurrence_start"] for e in items]
    # unexpanded without a range: one item with the rule (staff)
    staff = client.get(URL + f"?project_id={world['mine'].id}", headers=token(world["people"]["pm"]))
    (one,) = [e for e in staff.json["data"]["results"] if e["id"] == series.id]
    assert one["rrule"] == "FREQ=WEEKLY;COUNT=6" and one["occurrence_start"] is None


def test_edited_and_cancelled_occurrences_in_the_list(world, client, series):
    pm = token(world["people"]["pm"])
    moved = client.patch(
        f"{URL}{series.id}/move/",
        headers=pm,
        json={
            "start_datetime": at(10, 9),
            "end_datetime": at(10, 10),
            "occurrence_start": "2026-03-09T13:00:00Z",
            "version": series.version,
        },
    )
    assert moved.status_code == 200, moved.json
    row = moved.json["data"]
    assert row["series_id"] == series.id and row["occurrence_start"] == "2026-03-09T13:00:00+00:00"
    cancelled = client.post(
        f"{URL}{series.id}/cancel-occurrence/", headers=pm, json={"occurrence_start": "2026-03-16T13:00:00Z"}
    )
    assert cancelled.status_code == 200 and cancelled.json["data"]["status"] == "cancelled"
    listed = client.get(URL + "?start_date=2026-03-01&end_date=2026-03-31&page_size=100", headers=pm).json["data"]
    from_series = [e["occurrence_start"] for e in listed["results"] if e["id"] == series.id]
    assert "2026-03-09T13:00:00+00:00" not in from_series and "2026-03-16T13:00:00+00:00" not in from_series
    exceptions = {e["id"]: e for e in listed["results"] if e["series_id"] == series.id}
    assert {e["status"] for e in exceptions.values()} == {"scheduled", "cancelled"}
    assert exceptions[row["id"]]["start_datetime"] == "2026-03-10T15:00:00+00:00"  # 9:00 MDT


# --- writes ------------------------------------------------------------------------------


def body(world, **extra):
    return {
        "title": "Drywall delivery",
        "project_id": world["mine"].id,
        "start_datetime": "2026-03-05T15:00:00Z",
        "end_datetime": "2026-03-05T16:00:00Z",
        "event_type": "delivery",
        **extra,
    }


def count(db) -> int:
    return db.session.scalar(select(func.count()).select_from(CalendarEvent))


def test_create(world, client):
    response = client.post(URL, headers=token(world["people"]["pm"]), json=body(world))
    assert response.status_code == 201, response.json
    assert response.json["data"]["event_type"] == "delivery" and response.headers["ETag"] == '"1"'


@pytest.mark.parametrize(
    "extra, field",
    [
        ({"end_datetime": "2036-03-05T16:00:00Z"}, "end_datetime"),
        ({"end_datetime": "2026-03-05T14:00:00Z"}, "end_datetime"),
        ({"start_datetime": "2026-03-05T15:00:00"}, "start_datetime"),
        ({"start_datetime": "2026-03-05T15:00:00+15:30"}, "start_datetime"),
        ({"rrule": "FREQ=DAILY"}, "rrule"),
        ({"rrule": "FREQ=DAILY;COUNT=1000000"}, "rrule"),
        ({"event_type": "party"}, "event_type"),
        ({"title": ""}, "title"),
        ({"title": None}, "title"),
        ({"start_datetime": 5}, "start_datetime"),
    ],
)
def test_create_bad_input(world, client, db, extra, field):
    before = count(db)
    response = client.post(URL, headers=token(world["people"]["pm"]), json=body(world, **extra))
    assert response.status_code == 400, response.json
    assert response.json["error"]["code"] == "VALIDATION_ERROR"
    assert field in response.json["error"]["details"], response.json
    assert count(db) == before


def test_create_on_a_project_not_managed(world, client, db):
    before = count(db)
    response = client.post(URL, headers=token(world["people"]["pm"]), json=body(world, project_id=world["theirs"].id))
    assert response.status_code == 400 and "project_id" in response.json["error"]["details"]
    assert count(db) == before


def test_move_and_stale_version_409_with_the_current_event(world, client):
    event = world["events"]["team"]
    pm = token(world["people"]["pm"])
    move = {"start_datetime": "2026-03-06T15:00:00Z", "end_datetime": "2026-03-06T17:00:00Z", "version": 1}
    first = client.patch(f"{URL}{event.id}/move/", headers=pm, json=move)
    assert first.status_code == 200, first.json
    assert first.json["data"]["version"] == 2 and first.headers["ETag"] == '"2"'
    stale = client.patch(
        f"{URL}{event.id}/move/",
        headers=pm,
        json={**move, "start_datetime": "2026-03-07T15:00:00Z", "end_datetime": "2026-03-07T16:00:00Z"},
    )
    assert stale.status_code == 409 and stale.json["error"]["code"] == "CONFLICT"
    current = stale.json["error"]["details"]
    assert current["id"] == event.id and current["version"] == 2
    assert current["start_datetime"] == "2026-03-06T15:00:00+00:00"
    # If-Match works too
    header = client.patch(
        f"{URL}{event.id}/move/",
        headers={**pm, "If-Match": '"1"'},
        json={"start_datetime": "2026-03-07T15:00:00Z", "end_datetime": "2026-03-07T16:00:00Z"},
    )
    assert header.status_code == 409


def test_move_needs_both_times(world, client):
    event = world["events"]["team"]
    response = client.patch(f"{URL}{event.id}/move/", headers=token(world["people"]["pm"]), json={"version": 1})
    assert response.status_code == 400
    assert set(response.json["error"]["details"]) == {"start_datetime", "end_datetime"}


def test_put_and_patch(world, client):
    event = world["events"]["team"]
    pm = token(world["people"]["pm"])
    missing = client.put(f"{URL}{event.id}/", headers=pm, json={"title": "x"})
    assert missing.status_code == 400
    patched = client.patch(f"{URL}{event.id}/", headers=pm, json={"status": "in_progress", "version": 1})
    assert patched.status_code == 200 and patched.json["data"]["status"] == "in_progress"
    stale = client.patch(f"{URL}{event.id}/", headers=pm, json={"status": "completed", "version": 1})
    assert stale.status_code == 409 and stale.json["error"]["details"]["status"] == "in_progress"
    put = client.put(
        f"{URL}{event.id}/",
        headers=pm,
        json={"title": "Team sync", "start_datetime": at(4, 9), "end_datetime": at(4, 11), "version": 2},
    )
    assert put.status_code == 200 and put.json["data"]["title"] == "Team sync"


def test_delete(world, client, db):
    event_id = world["events"]["internal"].id
    response = client.delete(f"{URL}{event_id}/", headers=token(world["people"]["trainee"]))
    assert response.status_code == 200 and response.json["data"] == {"id": event_id, "deleted": True}
    db.session.expire_all()
    assert db.session.get(CalendarEvent, event_id) is None


def test_bulk(world, client):
    p = world["people"]
    items = [{"kind": "event", "id": world["events"][n].id} for n in ("team", "internal", "theirs", "secret")]
    response = client.post(URL + "bulk/", headers=token(p["pm"]), json={"items": items, "action": "move", "days": 1})
    assert response.status_code == 200, response.json
    data = response.json["data"]
    assert {d["id"] for d in data["done"]} == {world["events"]["team"].id, world["events"]["internal"].id}
    assert {r["id"] for r in data["refused"]} == {world["events"]["theirs"].id, world["events"]["secret"].id}
    assert (
        client.post(URL + "bulk/", headers=token(p["employee"]), json={"items": items, "action": "delete"}).status_code
        == 403
    )
    bad = client.post(URL + "bulk/", headers=token(p["pm"]), json={"items": items, "action": "explode"})
    assert bad.status_code == 400


def test_bulk_with_versions_refuses_a_stale_item(world, client):
    p = world["people"]
    team, internal = world["events"]["team"], world["events"]["internal"]
    items = [
        {"kind": "event", "id": team.id, "version": team.version},
        {"kind": "event", "id": internal.id, "version": internal.version + 5},  # not the current one
    ]
    response = client.post(URL + "bulk/", headers=token(p["pm"]), json={"items": items, "action": "move", "days": 1})
    assert response.status_code == 200, response.json
    data = response.json["data"]
    assert [d["id"] for d in data["done"]] == [team.id]
    assert [r["id"] for r in data["refused"]] == [internal.id]
    assert "changed by someone else" in data["refused"][0]["reason"]
    bad = client.post(
        URL + "bulk/",
        headers=token(p["pm"]),
        json={"items": [{"kind": "event", "id": team.id, "version": 0}], "action": "move", "days": 1},
    )
    assert bad.status_code == 400


def test_conflicts_field_is_a_list(world, client):
    response = client.get(f"{URL}{world['events']['team'].id}/", headers=token(world["people"]["admin"]))
    assert isinstance(response.json["data"]["ai_conflicts"], list)


def test_all_day_round_trip(world, client):
    pm = token(world["people"]["pm"])
    created = client.post(
        URL,
        headers=pm,
        json=body(world, all_day=True, start_datetime="2026-03-07", end_datetime="2026-03-08"),
    ).json["data"]
    assert created["start_datetime"] == "2026-03-07T07:00:00+00:00"
    assert created["end_datetime"] == "2026-03-09T06:00:00+00:00"  # exclusive: after the last day (MDT)
    put = client.put(
        f"{URL}{created['id']}/",
        headers=pm,
        json={k: created[k] for k in ("title", "start_datetime", "end_datetime", "all_day", "version")},
    ).json["data"]
    assert (put["start_datetime"], put["end_datetime"]) == (created["start_datetime"], created["end_datetime"])


def test_occurrence_start_must_be_one(world, client, series):
    response = client.post(
        f"{URL}{series.id}/cancel-occurrence/",
        headers=token(world["people"]["pm"]),
        json={"occurrence_start": "2026-03-09T14:00:00Z"},
    )
    assert response.status_code == 400 and "occurrence_start" in response.json["error"]["details"]
    missing = client.post(f"{URL}{series.id}/cancel-occurrence/", headers=token(world["people"]["pm"]), json={})
    assert missing.status_code == 400


def test_utc_everywhere(world, client):
    items = client.get(URL, headers=token(world["people"]["admin"])).json["data"]["results"]
    for item in items:
        start = datetime.fromisoformat(item["start_datetime"])
        assert start.utcoffset() == timedelta(0) and start.tzinfo is not None
        assert datetime.fromisoformat(item["end_datetime"]) >= start
    assert UTC
