"""The client companies' rows of the HTTP permission walk (tests/test_permissions_http.py).
`{contact}` is the company's second (not primary) contact, `{entry}` a log entry the
admin wrote (only its author marks its follow-up done), `{invitation}` an open one."""

from __future__ import annotations

from app.core.features import WalkRoute as R

STAFF = "303 303 303 403 403 403 403"  # client.edit / client.invite: admin, PM, trainee

ROUTES = (
    R("GET", "/clients", "200 200 200 403 403 403 403"),
    R("GET", "/clients/new", "200 200 200 403 403 403 403"),
    R("POST", "/clients/new", STAFF, {"name": "Pier Nine Marina", "email": "ops@piernine.example"}),
    R("GET", "/clients/{company}", "200 200 200 403 403 403 403"),
    R("GET", "/clients/{company}/edit", "200 200 200 403 403 403 403"),
    R("POST", "/clients/{company}/edit", STAFF, {"name": "Harbor Holdings Group", "payment_terms": "net_15"}),
    R("POST", "/clients/{company}/contacts", STAFF, {"name": "Dana Harbor", "roles": "billing"}),
    R("GET", "/clients/{company}/contacts/{contact}/edit", "200 200 200 403 403 403 403"),
    R("POST", "/clients/{company}/contacts/{contact}/edit", STAFF, {"name": "Sam Dock", "roles": "site_access"}),
    R("POST", "/clients/{company}/contacts/{contact}/primary", STAFF),
    R("POST", "/clients/{company}/contacts/{contact}/delete", STAFF),
    R(
        "POST",
        "/clients/{company}/communications",
        STAFF,
        {"kind": "call", "occurred_at": "2026-03-01T10:00", "summary": "Walked the dock with the owner."},
    ),
    R("POST", "/clients/{company}/communications/{entry}/done", "303 403 403 403 403 403 403"),
    R("POST", "/clients/{company}/invitations", STAFF, {"email": "new.person@harbor.example"}),
    R("POST", "/clients/{company}/invitations/{invitation}/revoke", STAFF),
    R("GET", "/invitations/welcome", "200 200 200 200 200 200 200"),
    R("GET", "/api/clients/", "200 200 200 403 403 403 403"),
    R("POST", "/api/clients/", "201 201 201 403 403 403 403", {"name": "Pier Nine Marina"}),
    R("GET", "/api/clients/{company}/", "200 200 200 403 403 403 403"),
    R("PUT", "/api/clients/{company}/", "200 200 200 403 403 403 403", {"name": "Harbor Holdings Group"}),
    R("PATCH", "/api/clients/{company}/", "200 200 200 403 403 403 403", {"payment_terms": "net_60"}),
)
