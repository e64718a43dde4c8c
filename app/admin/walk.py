"""The admin area's rows of the HTTP permission walk (tests/test_permissions_http.py)."""

from __future__ import annotations

from app.core.features import WalkRoute as R

ROUTES = (
    R("GET", "/admin/", "302 403 403 403 403 403 403"),
    R("GET", "/admin/projects/{mine}/team", "200 403 403 403 403 403 403"),
    R("POST", "/admin/projects/{mine}/team", "303 403 403 403 403 403 403", lambda w: {"user_id": str(w.newcomer.id)}),
    R("GET", "/admin/audit", "200 200 403 403 403 403 403"),
    R("GET", "/admin/rq/", "200 403 403 403 403 403 403"),
)
