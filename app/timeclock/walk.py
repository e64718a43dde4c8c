"""The time clock's rows of the HTTP permission walk (tests/test_permissions_http.py).
Statuses in ROLES order: admin pm trainee designer super employee client.
{employee}: the employee's user id. {punch}: the employee's closed punch on `mine`, Monday 2026-03-02 (on the task {task}).
Clocking out and breaks need the caller's own open punch: tests/test_timeclock.py walks
them for every role (walk_skip below)."""

from __future__ import annotations

from app.core.features import WalkRoute as R

WEEK = "2026-03-02"


def _clock_in(world):
    return {"project_id": str(world.mine.id), "latitude": "39.7392", "longitude": "-104.9903", "accuracy": "12"}


def _api_clock_in(world):
    return {"project_id": world.mine.id}


def _api_their_clock_in(world):
    return {"project_id": world.theirs.id}


def _approve(world):
    return {"user_id": str(world.users["employee"].id), "project_id": str(world.mine.id), "week": WEEK}


def _approve_all(world):
    return {"row": f"{world.users['employee'].id}-{world.mine.id}", "week": WEEK}


def _correct(world):
    return {
        "clock_in": "2026-03-02T07:30",
        "clock_out": "2026-03-02T15:30",
        "project_id": str(world.mine.id),
        "task_id": "",
        "reason": "Started earlier than punched",
        "version": "1",
    }


def _missed(world):
    return {
        "user_id": str(world.users["employee"].id),
        "project_id": str(world.mine.id),
        "clock_in": "2026-03-03T07:00",
        "clock_out": "2026-03-03T15:00",
        "reason": "Phone battery died",
        "week": WEEK,
    }


ROUTES = (
    R("GET", "/timeclock", "200 200 200 200 200 200 403"),
    R("GET", "/timeclock/tasks?project_id={mine}", "200 200 200 200 200 200 403"),
    R("POST", "/timeclock/clock-in", "303 303 303 303 303 303 403", _clock_in),
    R("GET", "/timeclock/crew", "200 200 200 403 200 403 403"),
    R("GET", "/timesheets", "200 200 200 200 200 200 403"),
    R("GET", f"/timesheets?week={WEEK}", "200 200 200 200 200 200 403"),
    R("GET", f"/timesheets/review?week={WEEK}", "200 200 200 403 200 403 403"),
    R(
        "GET",
        f"/timesheets/review/punches?week={WEEK}&user_id={{employee}}&project_id={{mine}}",
        "200 200 200 403 200 403 403",
    ),
    R(
        "GET",
        f"/timesheets/review/punches?week={WEEK}&user_id={{employee}}&project_id={{theirs}}",
        "200 404 404 403 404 403 403",
    ),
    R("POST", "/timesheets/approve", "303 303 403 403 303 403 403", _approve),
    R("POST", "/timesheets/approve-all", "303 303 403 403 303 403 403", _approve_all),
    R("GET", "/timesheets/punches/{punch}/correct", "200 200 403 403 200 403 403"),
    R("POST", "/timesheets/punches/{punch}/correct", "303 303 403 403 303 403 403", _correct),
    R("GET", f"/timesheets/missed?week={WEEK}", "200 200 403 403 200 403 403"),
    R("POST", "/timesheets/missed", "303 303 403 403 303 403 403", _missed),
    R("GET", f"/timesheets/export.csv?week={WEEK}", "200 200 403 403 403 403 403"),
    R("POST", "/api/timeclock/clock-in/", "201 201 201 201 201 201 403", _api_clock_in),
    R("POST", "/api/timeclock/clock-in/", "201 400 400 400 400 400 403", _api_their_clock_in),
    R("GET", "/api/timeclock/punches/", "200 200 200 200 200 200 403"),
    R("GET", "/api/timeclock/punches/?project_id={mine}&date_from=2026-03-01", "200 200 200 200 200 200 403"),
)

SKIP = (
    "/timeclock/clock-out",  # the caller's own open punch: tests/test_timeclock.py
    "/timeclock/break/start",
    "/timeclock/break/end",
    "/timesheets/unapprove",  # an approved week first: tests/test_timesheets.py
    "/api/timeclock/clock-out/",  # tests/test_timeclock_api.py
    "/api/timeclock/break/start/",
    "/api/timeclock/break/end/",
)
