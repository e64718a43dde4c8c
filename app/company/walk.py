"""The company page's rows of the HTTP permission walk (tests/test_permissions_http.py).
Statuses in ROLES order: admin pm trainee designer super employee client."""

from __future__ import annotations

from app.core.features import WalkRoute as R


def _form(_world):
    return {"name": "Kibray Painting & Staining", "city": "Denver", "default_tax_rate": "4.81", "version": ""}


ROUTES = (
    R("GET", "/admin/company", "200 403 403 403 403 403 403"),
    R("POST", "/admin/company", "303 403 403 403 403 403 403", _form),
    R("POST", "/admin/company/logo", "303 403 403 403 403 403 403", lambda _w: {"remove": "1"}),
)
