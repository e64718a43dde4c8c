"""The daily logs' rows of the HTTP permission walk (tests/test_permissions_http.py).
Statuses in ROLES order: admin pm trainee designer super employee client.
{dailylog}: today's log of `mine`, client-visible, open; {oldlog}: a log of `mine` of
2026-03-02, not client-visible, locked (its day is over)."""

from __future__ import annotations

from app.core.features import WalkRoute as R

PAST = "2026-03-03"  # a past day without a log: only those who may unlock write one


def _form(_world):
    return {
        "work_done": "Primed the north wall",
        "weather_conditions": "clear",
        "temperature_f": "62",
        "humidity": "40",
        "problems": "",
        "materials_delivered": "",
        "visitors": "",
        "internal_notes": "",
        "crew_ids_field": "1",
    }


def _new_form(world):
    return {**_form(world), "date": PAST}


def _api_new(world):
    return {"project_id": world.mine.id, "date": PAST, "work_done": "Primed", "weather": {"conditions": "clear"}}


def _api_their_new(world):
    return {"project_id": world.theirs.id, "date": PAST}


ROUTES = (
    R("GET", "/projects/{mine}/daily-logs", "200 200 200 403 200 403 200"),
    R("GET", "/projects/{theirs}/daily-logs", "200 404 404 403 404 403 404"),
    R("GET", "/daily-logs/{dailylog}", "200 200 200 403 200 403 200"),
    R("GET", "/daily-logs/{oldlog}", "200 200 200 403 200 403 404"),
    R("GET", "/daily-logs/{dailylog}.pdf", "200 200 200 403 200 403 200"),
    R("GET", "/daily-logs/{oldlog}.pdf", "200 200 200 403 200 403 404"),
    # a PM may open a past day's form; the others get today's, written already: opened
    R("GET", "/projects/{mine}/daily-logs/new?date=" + PAST, "200 200 303 403 303 403 403"),
    R("POST", "/projects/{mine}/daily-logs/new", "303 303 403 403 403 403 403", _new_form),
    R("GET", "/daily-logs/{dailylog}/edit", "200 200 200 403 200 403 403"),
    R("POST", "/daily-logs/{dailylog}/edit", "303 303 303 403 303 403 403", _form),
    R("POST", "/daily-logs/{dailylog}/lock", "303 303 303 403 303 403 403", {}),
    R("POST", "/daily-logs/{oldlog}/unlock", "303 303 403 403 403 403 403", {"reason": "Add the paint delivery"}),
    R("GET", "/daily-logs/paint-check?temperature_f=45&humidity=90", "200 200 200 403 200 403 403"),
    R("GET", "/api/daily-logs/", "200 200 200 403 200 403 200"),
    R("GET", "/api/daily-logs/?project_id={mine}&date_from=2026-01-01", "200 200 200 403 200 403 200"),
    R("GET", "/api/daily-logs/{dailylog}/", "200 200 200 403 200 403 200"),
    R("GET", "/api/daily-logs/{oldlog}/", "200 200 200 403 200 403 404"),
    R("POST", "/api/daily-logs/", "201 201 403 403 403 403 403", _api_new),
    R("POST", "/api/daily-logs/", "201 400 400 403 400 403 403", _api_their_new),
    R("PATCH", "/api/daily-logs/{dailylog}/", "200 200 200 403 200 403 403", {"work_done": "Second coat"}),
)
