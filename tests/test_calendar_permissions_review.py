"""Rules found by the permission review of the schedule (issue 10): deleting and
re-timing are the matrix's move/delete row; an edited occurrence follows its series'
visibility; a client reads neither assignees (not even by filtering) nor risk levels."""

from __future__ import annotations

from datetime import date

import pytest

from app.calendar import queries, services
from app.calendar.models import CalendarEvent
from app.core.permissions import PermissionDenied
from app.extensions import db as _db
from tests.factories import make_client, make_project, make_user
from tests.test_calendar_api import token
from tests.test_calendar_events import at


@pytest.fixture()
def world(db):
    owner = make_client(name="Aspen Homes")
    people = {
        "admin": make_user("admin"),
        "pm": make_user("project_manager_full"),
        "superintendent": make_user("superintendent"),
        "employee": make_user("employee"),
        "client": make_user("client", client=owner),
    }
    mine = make_project(client=owner, name="Aspen Court", members=[people["pm"], people["superintendent"]])
    return {"people": people, "mine": mine}


def _event(world, **extra):
    body = {
        "title": "Owner walkthrough",
        "project_id": world["mine"].id,
        "start_datetime": at(4, 9),
        "end_datetime": at(4, 10),
        "visibility": "client_visible",
        "assigned_to_ids": [world["people"]["employee"].id],
        **extra,
    }
    return services.create_event(world["people"]["pm"], body)


def test_a_superintendent_edits_an_event_but_neither_deletes_it_nor_cancels_an_occurrence(world):
    sup = world["people"]["superintendent"]
    event = _event(world)
    series = _event(world, title="Site meeting", rrule="FREQ=WEEKLY;COUNT=4")
    services.update_event(sup, event, {"description": "Bring the color deck"}, event.version)
    with pytest.raises(PermissionDenied):
        services.delete_event(sup, event, event.version)
    with pytest.raises(PermissionDenied):
        services.cancel_occurrence(sup, series, series.start_at)
    from app.core.errors import ValidationError

    with pytest.raises(ValidationError) as refused:
        services.update_event(sup, series, {"rrule": "FREQ=WEEKLY;COUNT=2"}, series.version)
    assert "rrule" in refused.value.fields
    assert _db.session.get(CalendarEvent, event.id) is not None
    services.delete_event(world["people"]["pm"], event, event.version)


def test_an_edited_occurrence_follows_its_series_out_of_the_clients_sight(world):
    pm, client = world["people"]["pm"], world["people"]["client"]
    series = _event(world, title="Site meeting", rrule="FREQ=WEEKLY;COUNT=4")
    moved = services.update_event(
        pm, series, {"description": "moved to the porch"}, series.version, occurrence_start=series.start_at
    )
    assert moved.series_id == series.id and moved.visibility == "client_visible"
    services.update_event(pm, series, {"visibility": "internal"}, series.version)
    _db.session.refresh(moved)
    assert moved.visibility == "internal" and moved.is_client_visible is False
    seen = queries.period(client, date(2026, 3, 1), date(2026, 3, 31))
    assert [i for i in seen if i.kind == "event"] == []


def test_an_occurrence_hidden_alone_is_not_drawn_again_from_its_series(world):
    pm, client = world["people"]["pm"], world["people"]["client"]
    series = _event(world, title="Site meeting", rrule="FREQ=WEEKLY;COUNT=4")
    services.update_event(pm, series, {"visibility": "internal"}, series.version, occurrence_start=series.start_at)
    seen = queries.period(client, date(2026, 3, 1), date(2026, 3, 31))
    assert len([i for i in seen if i.kind == "event"]) == 3  # four weeks, the first hidden


def test_a_client_reads_no_risk_and_cannot_filter_by_assignee(world, client):
    event = _event(world)
    event.risk_level = "high"
    _db.session.flush()
    seen = queries.period(world["people"]["client"], date(2026, 3, 1), date(2026, 3, 31))
    assert [i.risk_level for i in seen if i.kind == "event"] == ["none"]
    headers = token(world["people"]["client"])
    everyone = client.get("/api/calendar/events/", headers=headers).json["data"]["results"]
    filtered = client.get(f"/api/calendar/events/?assigned_to={world['people']['admin'].id}", headers=headers).json[
        "data"
    ]["results"]
    assert [e["id"] for e in filtered] == [e["id"] for e in everyone] == [event.id]
    assert everyone[0]["ai_risk_level"] == "none" and everyone[0]["assigned_to"] == []
