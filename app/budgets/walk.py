"""The budgets' rows of the HTTP permission walk (tests/test_permissions_http.py).
Statuses in ROLES order: admin pm trainee designer super employee client.
World (tests/factories.make_walk_budgets): a line on {mine}; {walkrate} the employee's
cost rate. Budgets follow costs.view (✓ A A — — — —) and budget.modify (✓ A — — — — —);
cost rates payroll.view (admins only)."""

from __future__ import annotations

from app.core.features import WalkRoute as R

API = "/api/financials/budgets/"


def _lines(world):
    line = world.invoices["walkline"]
    return {
        "line_id": [str(line.id), ""],
        "line_version": [str(line.version), ""],
        "line_code": ["01", "02"],
        "line_name": ["Prep and masking", "Paint"],
        "line_category": ["LABOR", "MATERIALS"],
        "line_amount": ["4000.00", "2500.00"],
        "line_estimated_hours": ["80", ""],
        "budget_version": "1",
    }


def _rate(world):
    # not {walkrate}'s date (2026-01-05): a date that has a rate is refused
    return {"user_id": str(world.users["employee"].id), "hourly_cost": "31.50", "effective_from": "2026-02-02"}


def _rate_edit(world):
    rate = world.invoices["walkrate"]
    return {"hourly_cost": "29.50", "effective_from": "2026-01-05", "version": str(rate.version)}


def _rate_version(world):
    return {"version": str(world.invoices["walkrate"].version)}


ROUTES = (
    R("GET", "/projects/{mine}/budget", "200 200 200 403 403 403 403"),
    R("GET", "/projects/{theirs}/budget", "200 404 404 403 403 403 403"),
    R("GET", "/projects/{mine}/budget/edit", "200 200 403 403 403 403 403"),
    R("GET", "/projects/{theirs}/budget/edit", "200 404 403 403 403 403 403"),
    R("POST", "/projects/{mine}/budget/edit", "303 303 403 403 403 403 403", _lines),
    R("GET", "/admin/cost-rates", "200 403 403 403 403 403 403"),
    R("POST", "/admin/cost-rates", "303 403 403 403 403 403 403", _rate),
    R("GET", "/admin/cost-rates/{employee}", "200 403 403 403 403 403 403"),
    R("GET", "/admin/cost-rates/rate/{walkrate}/edit", "200 403 403 403 403 403 403"),
    R("POST", "/admin/cost-rates/rate/{walkrate}/edit", "303 403 403 403 403 403 403", _rate_edit),
    R("POST", "/admin/cost-rates/rate/{walkrate}/delete", "303 403 403 403 403 403 403", _rate_version),
    R("GET", API + "{mine}/", "200 200 200 403 403 403 403"),
    R("GET", API + "{theirs}/", "200 404 404 403 403 403 403"),
    R(
        "PUT",
        API + "{mine}/",
        "200 200 403 403 403 403 403",
        lambda _w: {"version": 1, "lines": [{"name": "Prep", "amount": "900.00"}]},
    ),
)
