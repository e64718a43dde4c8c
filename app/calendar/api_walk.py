"""Rows of the HTTP permission walk (tests/test_permissions_http.py) for
/api/calendar/events/. Statuses in ROLES order: admin pm trainee designer super employee
client. {event}: of mine, the employee on it; {shared_event}: of mine, client-visible,
nobody on it; {their_event}: of theirs; {series}: a weekly series of mine (4 Mondays from
2026-03-02 14:00 UTC), the employee on it."""

from __future__ import annotations

from app.core.features import WalkRoute as R

_T = "2026-03-0{d}T{h}:00:00Z"


def _new(world):
    return {
        "title": "Delivery of drywall",
        "project_id": world.mine.id,
        "start_datetime": "2026-03-04T15:00:00Z",
        "end_datetime": "2026-03-04T16:00:00Z",
        "event_type": "delivery",
    }


def _their_new(world):
    return {**_new(world), "project_id": world.theirs.id}


def _bulk(world):
    return {"items": [{"kind": "event", "id": world.event.id}], "action": "status", "status": "in_progress"}


_MOVE = {"start_datetime": "2026-03-03T14:00:00Z", "end_datetime": "2026-03-03T15:30:00Z"}
_PUT = {
    "title": "Site walk with the super",
    "start_datetime": "2026-03-02T14:00:00Z",
    "end_datetime": "2026-03-02T15:00:00Z",
}

ROUTES: tuple[R, ...] = (
    R("GET", "/api/calendar/events/", "200 200 200 403 200 200 200"),
    R("GET", "/api/calendar/events/?start_date=2026-03-01&end_date=2026-03-31", "200 200 200 403 200 200 200"),
    R("POST", "/api/calendar/events/", "201 201 201 403 201 403 403", _new),
    # a project the user does not manage: a field error, nothing written
    R("POST", "/api/calendar/events/", "201 400 400 403 400 403 403", _their_new),
    R("GET", "/api/calendar/events/{event}/", "200 200 200 403 200 200 404"),
    R("GET", "/api/calendar/events/{shared_event}/", "200 200 200 403 200 404 200"),
    R("GET", "/api/calendar/events/{their_event}/", "200 404 404 403 404 404 404"),
    R("PATCH", "/api/calendar/events/{event}/", "200 200 200 403 200 403 404", {"title": "Site walk (north)"}),
    # a superintendent edits an event but does not change its time (drag and drop: admin and PMs)
    R("PUT", "/api/calendar/events/{event}/", "200 200 200 403 200 403 404", _PUT),
    R("PATCH", "/api/calendar/events/{their_event}/", "200 404 404 403 404 404 404", {"title": "x"}),
    R("PATCH", "/api/calendar/events/{event}/move/", "200 200 200 403 403 403 404", _MOVE),
    R("PATCH", "/api/calendar/events/{their_event}/move/", "200 404 404 403 404 404 404", _MOVE),
    R(
        "PATCH",
        "/api/calendar/events/{series}/move/",
        "200 200 200 403 403 403 404",
        {**_MOVE, "occurrence_start": "2026-03-09T13:00:00Z"},
    ),
    R(
        "POST",
        "/api/calendar/events/{series}/cancel-occurrence/",
        "200 200 200 403 403 403 404",
        {"occurrence_start": "2026-03-16T13:00:00Z"},
    ),
    R("DELETE", "/api/calendar/events/{event}/", "200 200 200 403 403 403 404"),
    R("DELETE", "/api/calendar/events/{shared_event}/", "200 200 200 403 403 404 403"),
    R("POST", "/api/calendar/events/bulk/", "200 200 200 403 200 403 403", _bulk),
)
