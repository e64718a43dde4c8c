"""The API reference's rows of the HTTP permission walk (tests/test_permissions_http.py)."""

from __future__ import annotations

from app.core.features import WalkRoute as R

ROUTES = (R("GET", "/developers/api", "200 200 200 200 200 200 403"),)
