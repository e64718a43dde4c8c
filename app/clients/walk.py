"""The client companies' rows of the HTTP permission walk (tests/test_permissions_http.py)."""

from __future__ import annotations

from app.core.features import WalkRoute as R

ROUTES = (
    R("GET", "/clients", "200 200 200 403 403 403 403"),
    R("GET", "/clients/new", "200 200 200 403 403 403 403"),
    R(
        "POST",
        "/clients/new",
        "303 303 303 403 403 403 403",
        {"name": "Pier Nine Marina", "email": "ops@piernine.example"},
    ),
    R("GET", "/clients/{company}", "200 200 200 403 403 403 403"),
    R("GET", "/clients/{company}/edit", "200 200 200 403 403 403 403"),
    R("POST", "/clients/{company}/edit", "303 303 303 403 403 403 403", {"name": "Harbor Holdings Group"}),
    R("POST", "/clients/{company}/contacts", "303 303 303 403 403 403 403", {"name": "Dana Harbor"}),
    R("GET", "/api/clients/", "200 200 200 403 403 403 403"),
    R("GET", "/api/clients/{company}/", "200 200 200 403 403 403 403"),
)
