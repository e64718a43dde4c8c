"""User administration's rows of the HTTP permission walk (tests/test_permissions_http.py)."""

from __future__ import annotations

from app.core.features import WalkRoute as R


def _new_user(world):
    return {
        "username": "fresh.hire",
        "email": "fresh.hire@example.com",
        "role": "employee",
        "full_name": "Fresh Hire",
        "method": "password",
    }


ROUTES = (
    R("GET", "/admin/users", "200 403 403 403 403 403 403"),
    R("GET", "/admin/users?q=target", "200 403 403 403 403 403 403"),
    R("GET", "/admin/users/new", "200 403 403 403 403 403 403"),
    R("POST", "/admin/users/new", "200 403 403 403 403 403 403", _new_user),
    R("GET", "/admin/users/{target}", "200 403 403 403 403 403 403"),
    R(
        "POST",
        "/admin/users/{target}/profile",
        "303 403 403 403 403 403 403",
        {"full_name": "Target P. Person", "email": "target.p@example.com"},
    ),
    R("POST", "/admin/users/{target}/role", "303 403 403 403 403 403 403", {"role": "superintendent"}),
    R("POST", "/admin/users/{target}/active", "303 403 403 403 403 403 403", {"active": "0"}),
    R("POST", "/admin/users/{target}/reset", "200 403 403 403 403 403 403"),
    R("POST", "/admin/users/{target}/two-factor/reset", "303 403 403 403 403 403 403"),
)

# /api/users/ (team.view): everyone for an admin, the people of their projects for PMs,
# trainees and superintendents; the other roles are refused.
ROUTES = (*ROUTES, R("GET", "/api/users/", "200 200 200 403 200 403 403"))
