"""The progress billing rows of the HTTP permission walk (tests/test_permissions_http.py).
Statuses in ROLES order: admin pm trainee designer super employee client.
World (tests/factories.make_walk_progress_billing): mine has a schedule of values summing
to its contract value ({sovline} its first line), {certifiedpa} certified (retainage
held), {draftpa} a draft after it; {theirpa} a certified one of another company's project.
The client sees certified applications of their project (a draft: 404), never the
schedule's form, the terms or a release."""

from __future__ import annotations

from app.core.features import WalkRoute as R

API = "/api/financials/pay-applications/"
SOV = "/api/financials/schedule-of-values/"


def _lines(world):
    line = world.invoices["sovline"].id
    return {"line_sov_line_id": [str(line)], "line_this_period": ["100.00"], "line_this_period_pct": [""],
            "line_materials_stored": ["0"], "line_reason": [""], "period_to": "2026-12-31", "notes": ""}  # fmt: skip


def _schedule_form(world):
    return {"line_id": [str(world.invoices["sovline"].id), str(world.invoices["sovline2"].id)],
            "line_description": ["Prep and prime", "Paint"], "line_scheduled_value": ["20000.00", "28250.00"],
            "line_retainage_pct": ["", ""], "line_estimate_line_id": ["", ""]}  # fmt: skip


def _api_schedule(world):
    return {"lines": [{"id": world.invoices["sovline"].id, "description": "Prep and prime", "scheduled_value": "20000.00"},
                      {"id": world.invoices["sovline2"].id, "description": "Paint", "scheduled_value": "28250.00"}]}  # fmt: skip


def _api_lines(world):
    return {"lines": [{"sov_line_id": world.invoices["sovline"].id, "this_period": "150.00"}]}


ROUTES = (
    R("GET", "/projects/{mine}/billing", "200 200 200 403 403 403 200"),
    R("GET", "/projects/{theirs}/billing", "200 404 404 403 403 403 404"),
    R("GET", "/projects/{mine}/billing/schedule", "200 200 200 403 403 403 403"),
    R("POST", "/projects/{mine}/billing/schedule", "303 303 303 403 403 403 403", _schedule_form),
    R(
        "POST",
        "/projects/{mine}/billing/terms",
        "303 303 303 403 403 403 403",
        lambda _w: {"retainage_pct": "5", "step_down_at_pct": "", "step_down_pct": ""},
    ),  # fmt: skip
    R("POST", "/projects/{mine}/billing/release", "303 303 403 403 403 403 403", lambda _w: {"amount": "10.00"}),
    R("GET", "/projects/{mine}/pay-applications/new", "200 200 200 403 403 403 403"),
    R(
        "GET",
        "/projects/{mine}/pay-applications/totals?line_sov_line_id={sovline}&line_this_period=100",
        "200 200 200 403 403 403 403",
    ),  # fmt: skip
    R("GET", "/pay-applications/{certifiedpa}", "200 200 200 403 403 403 200"),
    R("GET", "/pay-applications/{draftpa}", "200 200 200 403 403 403 404"),
    R("GET", "/pay-applications/{theirpa}", "200 404 404 403 403 403 404"),
    R("GET", "/pay-applications/{certifiedpa}.pdf", "200 200 200 403 403 403 200"),
    R("GET", "/pay-applications/{draftpa}/edit", "200 200 200 403 403 403 403"),
    R("POST", "/pay-applications/{draftpa}/edit", "303 303 303 403 403 403 403", _lines),
    R("POST", "/pay-applications/{draftpa}/certify", "303 303 403 403 403 403 403"),
    R("POST", "/pay-applications/{certifiedpa}/invoice", "409 409 403 403 403 403 403"),  # it has its invoice
    R("POST", "/pay-applications/{draftpa}/delete", "303 303 303 403 403 403 403"),
    R("POST", "/projects/{mine}/pay-applications/new", "409 409 409 403 403 403 403", _lines),
    # the JSON API
    R("GET", API, "200 200 200 403 403 403 200"),
    R(
        "POST",
        API,
        "409 409 409 403 403 403 403",
        lambda w: {"project_id": w.mine.id, "period_to": "2026-12-31", **_api_lines(w)},
    ),  # fmt: skip
    R("GET", API + "{certifiedpa}/", "200 200 200 403 403 403 200"),
    R("GET", API + "{draftpa}/", "200 200 200 403 403 403 404"),
    R("GET", API + "{theirpa}/", "200 404 404 403 403 403 404"),
    R("PUT", API + "{draftpa}/", "200 200 200 403 403 403 404", _api_lines),
    R("PATCH", API + "{draftpa}/", "200 200 200 403 403 403 404", lambda _w: {"notes": "Checked on site"}),
    R("DELETE", API + "{draftpa}/", "200 200 200 403 403 403 404"),
    R("POST", API + "{draftpa}/certify/", "200 200 403 403 403 403 404"),
    R("GET", SOV + "{mine}/", "200 200 200 403 403 403 403"),
    R("GET", SOV + "{theirs}/", "200 404 404 403 403 403 403"),
    R("PUT", SOV + "{mine}/", "200 200 200 403 403 403 403", _api_schedule),
)
