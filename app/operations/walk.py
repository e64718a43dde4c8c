"""The operations page's rows of the HTTP permission walk (tests/test_permissions_http.py)."""

from __future__ import annotations

from app.core.features import WalkRoute as R

ROUTES = (R("GET", "/admin/operations/", "200 403 403 403 403 403 403"),)
