"""The subscription feeds' rows of the HTTP permission walk (tests/test_permissions_http.py).
Statuses in ROLES order: admin pm trainee designer super employee client. calendar.view
decides who has feeds (the designer has no calendar); a project's feed needs the
project in sight (404 otherwise, as its page)."""

from __future__ import annotations

from app.core.features import WalkRoute as R

VIEWERS = "200 200 200 403 200 200 200"
MOVED = "303 303 303 403 303 303 303"


def _on(project: str, action: str):
    if action == "import":
        return lambda w: {"import_project_id": str(getattr(w, project).id)}
    return lambda w: {"action": action, "project_id": str(getattr(w, project).id)}


# (the walk's world gives every user a feed of their schedule, of {mine} and of {theirs})
ROUTES = (
    R("GET", "/account/calendar", VIEWERS),
    R("POST", "/account/calendar", MOVED, {"action": "regenerate"}),
    R("POST", "/account/calendar", MOVED, {"action": "revoke"}),
    R("POST", "/account/calendar", "303 303 303 403 303 404 303", _on("mine", "regenerate")),
    R("POST", "/account/calendar", "303 404 404 403 404 404 404", _on("theirs", "revoke")),
    R("POST", "/account/calendar", "400 400 400 403 400 400 400", {"action": "explode"}),
    R("GET", "/api/calendar/feed/", VIEWERS),
    R("GET", "/api/projects/{mine}/feed/", "200 200 200 403 200 404 200"),
    R("GET", "/api/projects/{theirs}/feed/", "200 404 404 404 404 404 404"),
    R("POST", "/api/calendar/feed/regenerate/", VIEWERS, {}),
    R("POST", "/api/calendar/feed/regenerate/", "200 200 200 403 200 404 200", lambda w: {"project_id": w.mine.id}),
    R("DELETE", "/api/calendar/feed/", VIEWERS),
    R("DELETE", "/api/calendar/feed/?project_id={mine}", "200 200 200 403 200 404 200"),
    # CalDAV accounts: calendar.sync_external (admin, PMs, trainees); each person's own
    # ({account} is the PM's; the walk's world gives admin, PM and trainee one each)
    R("POST", "/account/calendar/accounts", "422 422 422 403 403 403 403", {}),
    R("GET", "/account/calendar/accounts/{account}/state", "404 200 404 404 404 404 404"),
    R("POST", "/account/calendar/accounts/{account}", "404 303 404 403 403 403 403", _on("mine", "import")),
    R("POST", "/account/calendar/accounts/{account}/sync", "404 303 404 403 403 403 403", {}, queues_only=True),
    R("POST", "/account/calendar/conflicts/{clash}/dismiss", "404 303 404 404 404 404 404", {}),
    R("POST", "/account/calendar/accounts/{account}/disconnect", "404 303 404 404 404 404 404", {}),
    R("GET", "/admin/calendar-sync", "200 403 403 403 403 403 403"),
    # Google: not configured in the walk (404); the flow itself: tests/test_caldav_accounts.py
    R("GET", "/account/calendar/google", "404 404 404 403 403 403 403"),
    R("GET", "/account/calendar/google/callback?state=x&code=y", "404 404 404 403 403 403 403"),
    R("GET", "/api/calendar/accounts/", "200 200 200 403 403 403 403"),
    R("POST", "/api/calendar/accounts/", "400 400 400 403 403 403 403", {}),
    R("GET", "/api/calendar/accounts/{account}/", "404 200 404 403 403 403 403"),
    R(
        "PATCH",
        "/api/calendar/accounts/{account}/",
        "404 200 404 403 403 403 403",
        lambda w: {"import_project_id": w.mine.id},
    ),
    R("POST", "/api/calendar/accounts/{account}/sync/", "404 202 404 403 403 403 403", {}, queues_only=True),
    R("DELETE", "/api/calendar/accounts/{account}/", "404 200 404 404 404 404 404"),
    R("POST", "/api/calendar/events/{event}/sync/", "202 202 202 403 403 403 404", {}, queues_only=True),
)
