"""The schedule's rows of the HTTP permission walk (tests/test_permissions_http.py).
Statuses in ROLES order: admin pm trainee designer super employee client."""

from __future__ import annotations

from app.core.features import WalkRoute as R

ADMIN_ONLY = "403 403 403 403 403 403"

ROUTES = (
    # calendar.view: the designer has no calendar; a client's list is empty (conflicts name the crew)
    R("GET", "/calendar/conflicts", "200 200 200 403 200 200 200"),
    R("GET", "/calendar/conflicts?severity=high&page=2", "200 200 200 403 200 200 200"),
    R("GET", "/api/calendar/conflicts/", "200 200 200 403 200 200 200"),
    R(
        "GET",
        "/api/calendar/conflicts/?project_id={mine}&start_date=2026-01-01&end_date=2027-12-31&severity=high",
        "200 200 200 403 200 200 200",
    ),
    R("GET", "/api/calendar/conflicts/?severity=urgent", "400 400 400 403 400 400 400"),
    # holidays and daily capacity: admins (settings.manage)
    R("GET", "/calendar/holidays", "200 " + ADMIN_ONLY),
    R("POST", "/calendar/holidays", "303 " + ADMIN_ONLY, {"day": "2031-01-02", "name": "Walk day"}),
    # no holiday has a user's id in the walk's world: the admin's 404 is "no such holiday"
    R("POST", "/calendar/holidays/{employee}/delete", "404 " + ADMIN_ONLY),
    R(
        "POST",
        "/calendar/capacity",
        "303 " + ADMIN_ONLY,
        lambda w: {"user_id": str(w.users["employee"].id), "hours": "6"},
    ),
)
