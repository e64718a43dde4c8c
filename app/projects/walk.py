"""The projects' rows of the HTTP permission walk (tests/test_permissions_http.py).
Statuses in ROLES order: admin pm trainee designer super employee client."""

from __future__ import annotations

from app.core.features import WalkRoute as R


def _new_project(world):
    return {"name": "Pier 9 touch-ups", "client_id": str(world.company.id), "address": "9 Pier Rd"}


def edit_project_form(world):
    return {
        "name": "Harbor lofts (phase 2)",
        "client_id": str(world.company.id),
        "address": "1 Harbor Way",
        "city": "Austin",
        "pm_ids": [str(u.id) for u in world.mine.pms],
    }


def _api_project(world):
    return {"name": "Pier 9 touch-ups", "client_id": world.company.id, "location": {"address": "9 Pier Rd"}}


def _api_put(world):
    return {"name": "Harbor lofts (phase 2)", "client_id": world.company.id, "location": {"address": "1 Harbor Way"}}


ROUTES = (
    R("GET", "/projects", "200 200 200 200 200 403 200"),
    R("GET", "/projects/pm-options?pm_search=a", "200 200 200 403 200 403 403"),  # the PM picker (team.view)
    R("GET", "/projects/client-options?client_id_search=a", "200 200 200 403 403 403 403"),  # (client.view)
    R("GET", "/projects/new", "200 200 200 403 403 403 403"),
    R("POST", "/projects", "303 303 303 403 403 403 403", _new_project),
    R("GET", "/projects/{mine}", "200 200 200 200 200 404 200"),
    R("GET", "/projects/{theirs}", "200 404 404 404 404 404 404"),
    R("GET", "/projects/{mine}/edit", "200 200 200 403 403 404 403"),
    R("GET", "/projects/{theirs}/edit", "200 404 404 404 404 404 404"),
    R("POST", "/projects/{mine}/edit", "303 303 303 403 403 404 403", edit_project_form),
    R("POST", "/projects/{theirs}/edit", "303 404 404 404 404 404 404", edit_project_form),
    R("GET", "/projects/{mine}/close", "200 200 403 403 403 404 403"),
    R("POST", "/projects/{mine}/close", "303 303 403 403 403 404 403"),
    R("POST", "/projects/{theirs}/close", "303 404 404 404 404 404 404"),
    # {mine} has issued invoices (app/invoices/walk.py): kept for the accounts, so the
    # admin's delete is refused (409); {theirs} has only a draft, deleted with it
    R("POST", "/projects/{mine}/delete", "409 403 403 403 403 404 403"),
    R("POST", "/projects/{closed}/reopen", "303 303 403 403 403 404 403", {"reason": "Touch-ups"}),
    R("GET", "/api/projects/", "200 200 200 200 200 403 200"),
    R("POST", "/api/projects/", "201 201 201 403 403 403 403", _api_project),
    R("GET", "/api/projects/{mine}/", "200 200 200 200 200 404 200"),
    R("GET", "/api/projects/{theirs}/", "200 404 404 404 404 404 404"),
    R("PUT", "/api/projects/{mine}/", "200 200 200 403 403 404 403", _api_put),
    R("PATCH", "/api/projects/{mine}/", "200 200 200 403 403 404 403", {"name": "Harbor lofts (phase 2)"}),
    R("PATCH", "/api/projects/{theirs}/", "200 404 404 404 404 404 404", {"name": "Birch Row (phase 2)"}),
    R("POST", "/api/projects/{closed}/reopen/", "200 200 403 403 403 404 403", {"reason": "Touch-ups"}),
    R("DELETE", "/api/projects/{mine}/", "409 403 403 403 403 404 403"),
    R("DELETE", "/api/projects/{theirs}/", "200 404 404 404 404 404 404"),
)
