"""The reports' rows of the HTTP permission walk (tests/test_permissions_http.py).
Statuses in ROLES order: admin pm trainee designer super employee client.
World (tests/factories.make_walk_reports): {export} an admin's recorded QuickBooks export.
Reports are "view internal costs, reports" (✓ A A — — — —); a PM's or trainee's report
covers their projects only, another's project is 404; the export is an admin's."""

from __future__ import annotations

from app.core.features import WalkRoute as R

API = "/api/financials/"
SEE = "200 200 200 403 403 403 403"
THEIRS = "200 404 404 403 403 403 403"
ADMIN = "200 403 403 403 403 403 403"
PERIOD = "kind=invoices&from=2026-01-01&to=2026-12-31"


def _export_form(_world):
    return {"kind": "invoices", "date_from": "2026-01-01", "date_to": "2026-12-31"}


def _export_body(_world):
    return {"kind": "invoices", "from": "2026-01-01", "to": "2026-12-31"}


ROUTES = (
    R("GET", "/reports", SEE),
    R("GET", "/reports/profitability?date_from=2026-01-01&date_to=2026-12-31", SEE),
    R("GET", "/reports/profitability.csv", SEE),
    R("GET", "/reports/profitability/trend?date_to=2026-12-31", SEE),
    R("GET", "/projects/{mine}/profitability", SEE),
    R("GET", "/projects/{theirs}/profitability", THEIRS),
    R("GET", "/projects/{mine}/profitability.csv", SEE),
    R("GET", "/projects/{theirs}/profitability.csv", THEIRS),
    R("GET", "/reports/wip", SEE),
    R("GET", "/reports/wip.csv", SEE),
    R("GET", "/reports/ar-aging", SEE),
    R("GET", "/reports/ar-aging.csv", SEE),
    R("GET", "/reports/ar-aging/invoices?bucket=current", SEE),
    R("GET", "/reports/export", ADMIN),
    R("POST", "/reports/export", "303 403 403 403 403 403 403", _export_form),
    R("GET", "/reports/exports/{export}.csv", ADMIN),
    # the JSON API
    R("GET", API + "profitability/{mine}/", SEE),
    R("GET", API + "profitability/{theirs}/", THEIRS),
    R("GET", API + "profitability/", SEE),
    R("GET", API + "wip/", SEE),
    R("GET", API + "ar-aging/", SEE),
    R("GET", API + "export/quickbooks/?" + PERIOD, ADMIN),
    R("POST", API + "export/quickbooks/", "201 403 403 403 403 403 403", _export_body),
    R("GET", API + "export/quickbooks/{export}/", ADMIN),
)
