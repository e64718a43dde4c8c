"""The invoices' rows of the HTTP permission walk (tests/test_permissions_http.py).
Statuses in ROLES order: admin pm trainee designer super employee client.
World (tests/factories.make_walk_invoices): {draftinv} a PM's draft of mine; {reviewinv}
a trainee's draft for review; {sentinv} sent; {partinv} sent with one {payment};
{theirinv} a draft of another company's project. The client never sees a draft (404)."""

from __future__ import annotations

from app.core.features import WalkRoute as R

BASE = "/api/financials/invoices/"


def _form(world):
    return {
        "project_id": str(world.mine.id),
        "invoice_type": "standard",
        "issue_date": "2026-03-02",
        "due_date": "2026-04-01",
        "tax_rate": "8.25",
        "retention_amount": "0",
        "payment_terms": "net_30",
        "client_message": "",
        "internal_notes": "",
        "line_description": ["Walls, two coats", ""],
        "line_quantity": ["2", ""],
        "line_unit_price": ["1250.00", ""],
        "line_tax_rate": ["", ""],
        "line_source": ["", ""],
        "line_source_id": ["", ""],
    }


def _api_new(world):
    return {
        "project_id": world.mine.id,
        "issue_date": "2026-03-02",
        "due_date": "2026-04-01",
        "tax_rate": "8.25",
        "line_items": [{"description": "Trim", "quantity": "3", "unit_price": "80.00"}],
    }


ROUTES = (
    R("GET", "/invoices", "200 200 200 403 403 403 200"),
    R("GET", "/invoices/review", "200 403 403 403 403 403 403"),
    R("GET", "/projects/{mine}/money", "200 200 200 403 403 403 200"),
    R("GET", "/projects/{theirs}/money", "200 404 404 403 403 403 404"),
    R("GET", "/invoices/{draftinv}", "200 200 200 403 403 403 404"),
    R("GET", "/invoices/{sentinv}", "200 200 200 403 403 403 200"),
    R("GET", "/invoices/{theirinv}", "200 404 404 403 403 403 404"),
    R("GET", "/invoices/{sentinv}.pdf", "200 200 200 403 403 403 200"),
    R("GET", "/invoices/{draftinv}.pdf", "200 200 200 403 403 403 404"),
    R("GET", "/invoices/{theirinv}.pdf", "200 404 404 403 403 403 404"),
    R("GET", "/invoices/new?project_id={mine}", "200 200 200 403 403 403 403"),
    R("GET", "/invoices/new?project_id={theirs}", "200 404 404 403 403 403 403"),
    R("POST", "/invoices/new", "303 303 303 403 403 403 403", _form),
    R("GET", "/invoices/{draftinv}/edit", "200 200 200 403 403 403 403"),
    R("POST", "/invoices/{draftinv}/edit", "303 303 303 403 403 403 403", _form),
    R("POST", "/invoices/{sentinv}/send", "303 303 403 403 403 403 403"),
    R("POST", "/invoices/{sentinv}/payments", "303 303 403 403 403 403 403", lambda _w: {"amount_paid": "10.00"}),
    R(
        "POST",
        "/invoices/{partinv}/payments/{payment}/void",
        "303 303 403 403 403 403 403",
        lambda _w: {"reason": "Bounced"},
    ),  # fmt: skip
    R("POST", "/invoices/{sentinv}/cancel", "303 303 403 403 403 403 403", lambda _w: {"reason": "Wrong client"}),
    R("POST", "/invoices/{draftinv}/delete", "303 403 403 403 403 403 403"),
    R("POST", "/invoices/{reviewinv}/approve", "303 403 403 403 403 403 403"),
    R("POST", "/invoices/{reviewinv}/send-back", "303 403 403 403 403 403 403", lambda _w: {"comment": "Fix line 1"}),
    R("GET", "/invoices/wizard?project_id={mine}", "200 200 200 403 403 403 403"),
    R(
        "POST",
        "/invoices/wizard",
        "303 303 303 403 403 403 403",
        lambda w: {**_form(w), "step": "review", "go": "save"},
    ),
    R(
        "POST",
        "/invoices/send-batch",
        "303 303 403 403 403 403 403",
        lambda w: {"invoice_ids": [str(w.invoices["sentinv"].id)]},
    ),
    # {walkbatch}: the PM's batch of one delivery (tests/factories.make_walk_invoices)
    R("GET", "/invoices/batches/{batch}", "200 200 403 403 403 403 403"),
    # the JSON API
    R("GET", BASE, "200 200 200 403 403 403 200"),
    R("POST", BASE, "201 201 201 403 403 403 403", _api_new),
    R("GET", BASE + "{draftinv}/", "200 200 200 403 403 403 404"),
    R("GET", BASE + "{sentinv}/", "200 200 200 403 403 403 200"),
    R("GET", BASE + "{theirinv}/", "200 404 404 403 403 403 404"),
    R("PATCH", BASE + "{draftinv}/", "200 200 200 403 403 403 404", lambda _w: {"client_message": "Thanks"}),
    R("PUT", BASE + "{draftinv}/", "200 200 200 403 403 403 404", lambda _w: {"tax_rate": "5"}),
    R("DELETE", BASE + "{draftinv}/", "200 403 403 403 403 403 404"),
    R("POST", BASE + "{sentinv}/send/", "200 200 403 403 403 403 403"),
    R("POST", BASE + "{sentinv}/mark-paid/", "201 201 403 403 403 403 403", lambda _w: {"amount_paid": "25.00"}),
    R(
        "POST",
        BASE + "{partinv}/payments/{payment}/void/",
        "200 200 403 403 403 403 403",
        lambda _w: {"reason": "Entered twice"},
    ),  # fmt: skip
    R("POST", BASE + "{sentinv}/cancel/", "200 200 403 403 403 403 403", lambda _w: {"reason": "Wrong project"}),
    R("POST", BASE + "{reviewinv}/approve-draft/", "200 403 403 403 403 403 404"),
    R("POST", BASE + "{reviewinv}/send-back/", "200 403 403 403 403 403 404", lambda _w: {"comment": "Add tax"}),
)
