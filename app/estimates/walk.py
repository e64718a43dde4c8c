"""The estimates' rows of the HTTP permission walk (tests/test_permissions_http.py).
Statuses in ROLES order: admin pm trainee designer super employee client.
World (tests/factories.make_walk_estimates): {draftest} a PM's draft for the client
company, {sentest} sent to them (an optional line), {approvedest} approved with its
project, {theirest} sent to another company. The client sees only what is sent to their
company (a draft or another company's: 404). The public review link's pages are
walk_skip (tests/test_estimates.py walks them for every role and anonymous)."""

from __future__ import annotations

from app.core.features import WalkRoute as R

API = "/api/estimates/"
STAFF_READ = "200 200 200 403 403 403 200"


def _form(world):
    return {
        "client_id": str(world.company.id),
        "title": "Harbor lofts, second floor",
        "address": "1 Harbor Way",
        "markup_pct": "15",
        "valid_until": "2099-01-31",
        "line_surface": ["walls", "prep", "walls"],
        "line_description": ["Bedrooms", "Patch and sand", ""],
        "line_quantity": ["800", "6", ""],
        "line_unit": ["sq_ft", "hours", ""],
        "line_coats": ["2", "", ""],
        "line_unit_price": ["", "55.00", ""],
        "line_option": ["", "optional", ""],
    }


def _decision(_world):
    return {"signature_name": "Dana Owner", "on_behalf_reason": "Signed on paper on site", "decline_reason": "Too dear"}


def _api_new(world):
    return {
        "client_id": world.company.id,
        "title": "Fence stain",
        "address": "1 Harbor Way",
        "lines": [{"surface": "other", "description": "Fence", "quantity": "1", "unit_price": "900.00"}],
    }


ROUTES = (
    R("GET", "/estimates", STAFF_READ),
    R("GET", "/estimates?status=sent", STAFF_READ),
    R("GET", "/estimates/new", "200 200 200 403 403 403 403"),
    R("POST", "/estimates/new", "303 303 303 403 403 403 403", _form),
    R("GET", "/estimates/{draftest}", "200 200 200 403 403 403 404"),
    R("GET", "/estimates/{sentest}", STAFF_READ),
    R("GET", "/estimates/{approvedest}", STAFF_READ),
    R("GET", "/estimates/{theirest}", "200 200 200 403 403 403 404"),
    R("GET", "/estimates/{sentest}/totals", STAFF_READ),
    R("GET", "/estimates/{draftest}/totals", "200 200 200 403 403 403 404"),
    R("GET", "/estimates/{sentest}.pdf", STAFF_READ),
    R("GET", "/estimates/{theirest}.pdf", "200 200 200 403 403 403 404"),
    R("GET", "/estimates/{draftest}/edit", "200 200 200 403 403 403 403"),
    R("POST", "/estimates/{draftest}/edit", "303 303 303 403 403 403 403", _form),
    R("POST", "/estimates/{draftest}/send", "303 303 403 403 403 403 403"),
    R("POST", "/estimates/{sentest}/approve", "303 303 403 403 403 403 303", _decision),
    R("POST", "/estimates/{theirest}/approve", "303 303 403 403 403 403 404", _decision),
    R("POST", "/estimates/{approvedest}/approve", "409 409 403 403 403 403 409", _decision),
    R("POST", "/estimates/{sentest}/decline", "303 303 403 403 403 403 303", _decision),
    R("POST", "/estimates/{draftest}/delete", "303 303 403 403 403 403 403"),
    R("POST", "/estimates/{approvedest}/delete", "409 409 403 403 403 403 403"),
    # the JSON API
    R("GET", API, STAFF_READ),
    R("POST", API, "201 201 201 403 403 403 403", _api_new),
    R("GET", API + "{draftest}/", "200 200 200 403 403 403 404"),
    R("GET", API + "{sentest}/", STAFF_READ),
    R("GET", API + "{theirest}/", "200 200 200 403 403 403 404"),
    R("PATCH", API + "{draftest}/", "200 200 200 403 403 403 404", lambda _w: {"title": "Harbor lofts, hall"}),
    R("PUT", API + "{draftest}/", "200 200 200 403 403 403 404", lambda _w: {"markup_pct": "12.5"}),
    R("PATCH", API + "{sentest}/", "409 409 409 403 403 403 403", lambda _w: {"title": "Too late"}),
    R("DELETE", API + "{draftest}/", "200 200 403 403 403 403 404"),
    R("POST", API + "{draftest}/send/", "200 200 403 403 403 403 404"),
    R("POST", API + "{sentest}/approve/", "200 200 403 403 403 403 200", _decision),
    R("POST", API + "{approvedest}/approve/", "409 409 403 403 403 403 409", _decision),
    R("POST", API + "{sentest}/decline/", "200 200 403 403 403 403 200", _decision),
)
