"""The reports over HTTP (app/reports): pages and their htmx fragments, bad filters (422
inline / 400 in the API), the §5 JSON shapes, CSV files (escaping, the formula guard, the
PM's scope), the QuickBooks export (layouts, preview, "not exported twice unless asked"),
and the WIP property (hypothesis): over − under = billed − earned, per project and in total."""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import re
from decimal import Decimal as D

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.reports import export, services
from app.reports.filters import Filters
from tests import test_reports
from tests.conftest import bearer
from tests.factories import make_client, make_invoice, make_project, make_user
from tests.test_reports import make_expense

books = test_reports.books  # the hand-computed books (a fixture)


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


# --- pages -------------------------------------------------------------------------


def test_pages_render_for_the_admin(books, client, login_as):
    login_as(books["admin"])
    for url in ("/reports/profitability", "/reports/wip", "/reports/ar-aging", "/reports/export",
                f"/projects/{books['hughes'].id}/profitability"):  # fmt: skip
        response = client.get(url)
        assert response.status_code == 200, url
        assert 'id="report"' in response.text
    page = client.get(f"/projects/{books['hughes'].id}/profitability").text
    assert "2,584.26" in page and "2,415.74" in page and "<svg" in page
    assert f"/projects/{books['hughes'].id}/expenses?category=MATERIALS" in page
    assert f"/projects/{books['hughes'].id}/budget" in page
    # a month's cost bar leads to that month's expenses
    assert f"/projects/{books['hughes'].id}/expenses?date_from=2026-03-01&amp;date_to=2026-03-31" in page


def test_a_filter_answers_only_the_report_fragment(books, client, login_as):
    login_as(books["admin"])
    response = client.get("/reports/wip?status=active", headers={"HX-Request": "true", "HX-Target": "report"})
    assert response.status_code == 200
    assert response.text.lstrip().startswith("{#") is False and "<html" not in response.text
    assert 'id="report"' in response.text and "Hughes deck" in response.text


def test_bad_filters_are_shown_inline(books, client, login_as):
    login_as(books["admin"])
    response = client.get("/reports/profitability?date_from=2026-05-01&date_to=2026-04-01")
    assert response.status_code == 422
    assert "The end of the period is before its start." in response.text
    api = client.get("/api/financials/wip/?as_of=1999-01-01", headers=bearer(client, books["admin"]))
    assert api.status_code == 400 and api.json["error"]["code"] == "VALIDATION_ERROR"


def test_the_pm_sees_only_their_projects_in_pages_and_csv(books, client, login_as):
    login_as(books["pm"])
    page = client.get("/reports/wip").text
    assert "Hughes deck" in page and "Birch porch" not in page
    names = {row[0] for row in _csv(client.get("/reports/profitability.csv"))[1:]}
    assert names == {"Hughes deck", "Cedar fence", "TOTAL"}
    assert client.get(f"/projects/{books['birch'].id}/profitability").status_code == 404


def test_clients_and_field_roles_get_403_everywhere(books, client, login_as):
    for role in ("client", "employee", "designer", "superintendent"):
        user = make_user(role)
        login_as(user)
        for url in ("/reports/wip", "/reports/ar-aging.csv", f"/projects/{books['hughes'].id}/profitability"):
            assert client.get(url).status_code == 403, (role, url)
        headers = bearer(client, user)
        for url in ("/api/financials/wip/", "/api/financials/ar-aging/",
                    f"/api/financials/profitability/{books['hughes'].id}/"):  # fmt: skip
            assert client.get(url, headers=headers).status_code == 403, (role, url)


# --- the API -------------------------------------------------------------------------


def test_profitability_api_in_the_spec_shape(books, client):
    data = client.get(
        f"/api/financials/profitability/{books['hughes'].id}/", headers=bearer(client, books["admin"])
    ).json["data"]
    assert {"project", "total_invoiced", "total_paid", "total_expenses", "profit", "roi", "budget", "budget_variance",
            "budget_variance_pct", "expense_breakdown"} <= set(data)  # fmt: skip
    assert data["project"] == {"id": books["hughes"].id, "name": "Hughes deck"}
    assert (data["total_expenses"], data["profit"], data["roi"]) == ("2415.74", "2584.26", "1.0698")
    assert (data["budget"], data["budget_variance"], data["budget_variance_pct"]) == ("10000.00", "7584.26", "75.84")
    assert data["expense_breakdown"]["LABOR"] == "315.00" and len(data["expense_breakdown"]) == 8
    assert data["change_order_impact"] == "500.00"
    # the forecast is the budget's forecast to completion (no lines, no open tasks: the cost to date)
    assert data["forecast"] == {"cost_at_completion": "2415.74", "profit_at_completion": "12584.26"}
    birch = client.get(f"/api/financials/profitability/{books['birch'].id}/", headers=bearer(client, books["admin"]))
    assert birch.json["data"]["roi"] is None
    company = client.get("/api/financials/profitability/", headers=bearer(client, books["admin"])).json["data"]
    assert company["trend"] == [] and company["totals"]["total_expenses"] == "3415.74"
    with_trend = client.get("/api/financials/profitability/?trend=true&date_from=2026-03-01&date_to=2026-04-30",
                            headers=bearer(client, books["admin"])).json["data"]  # fmt: skip
    assert [m["month"] for m in with_trend["trend"]] == ["2026-03", "2026-04"]


def _money(text: str) -> D:
    return D(re.sub(r"[^0-9.\-]", "", text))


@pytest.mark.parametrize("period", ["", "?date_from=2026-03-01&date_to=2026-03-31"])
def test_a_category_figure_leads_to_exactly_its_rows(books, client, login_as, period):
    """Each category's figure on a project's profitability links to the expenses list
    (cost=1, the period) whose rows add up to exactly that figure: a submitted claim
    (50.00 of permits) is not cost and is not listed; April's subcontractor not in March."""
    login_as(books["admin"])
    page = client.get(f"/projects/{books['hughes'].id}/profitability{period}").text
    links = re.findall(r'<a href="([^"]+)" data-testid="cat-(\w+)">([^<]+)</a>', page)
    assert len(links) == 8
    for href, category, figure in links:
        href = html.unescape(href)
        assert "cost=1" in href and f"category={category.upper()}" in href
        listed = client.get(href)
        assert listed.status_code == 200, href
        amounts = re.findall(r'<td data-label="Amount" class="num">([^<]+)</td>', listed.text)
        # LABOR's figure also counts the approved hours (week of 2 March: 315.00), which are not expenses
        expected = _money(figure) - (D("315.00") if category == "labor" else D("0"))
        assert sum((_money(a) for a in amounts), D("0")) == expected, (category, amounts, figure)
    permits = {c: f for _h, c, f in links}["permits"]
    assert _money(permits) == 0


def test_wip_and_aging_api(books, client):
    headers = bearer(client, books["admin"])
    wip = client.get("/api/financials/wip/?as_of=2026-04-30", headers=headers).json["data"]
    hughes = next(r for r in wip["results"] if r["project"] and r["project"]["name"] == "Hughes deck")
    assert (hughes["earned_revenue"], hughes["over_billing"], hughes["percent_complete"]) == (
        "3623.61",
        "3376.39",
        "24.16",
    )
    assert wip["pagination"]["total_count"] == 3 and wip["totals"]["over_billing"] == "3376.39"
    aging = client.get("/api/financials/ar-aging/?as_of=2026-06-30", headers=headers).json["data"]
    harbor = next(r for r in aging["results"] if r["client"]["name"] == "Harbor Holdings")
    assert harbor["days_61_90"] == "2000.00" and harbor["total"] == "2000.00"


def test_wip_api_is_paged_and_its_totals_cover_every_project(books, client, login_as):
    headers = bearer(client, books["admin"])
    url = "/api/financials/wip/?as_of=2026-04-30&page_size=2"
    first = client.get(url, headers=headers).json["data"]
    assert [r["project"]["name"] for r in first["results"]] == ["Birch porch", "Cedar fence"]
    assert {k: first["pagination"][k] for k in ("page", "page_size", "total_pages", "total_count", "previous")} == {
        "page": 1, "page_size": 2, "total_pages": 2, "total_count": 3, "previous": None}  # fmt: skip
    assert "page=2" in first["pagination"]["next"] and "as_of=2026-04-30" in first["pagination"]["next"]
    second = client.get(url + "&page=2", headers=headers).json["data"]
    assert [r["project"]["name"] for r in second["results"]] == ["Hughes deck"]
    assert second["pagination"]["next"] is None and "page=1" in second["pagination"]["previous"]
    assert first["totals"] == second["totals"]  # every project's, whatever the page
    assert first["totals"]["billed_to_date"] == "7000.00" and first["totals"]["under_billing"] == "2000.00"
    past = client.get(url + "&page=99", headers=headers).json["data"]
    assert past["pagination"]["page"] == 2 and past["results"] == second["results"]
    default = client.get("/api/financials/wip/", headers=headers).json["data"]
    assert default["pagination"]["page_size"] == 20 and len(default["results"]) == 3
    for bad in ("page_size=0", "page=-1", "page_size=abc"):
        answer = client.get(f"/api/financials/wip/?{bad}", headers=headers)
        assert answer.status_code == 400 and answer.json["error"]["code"] == "VALIDATION_ERROR", bad
    capped = client.get("/api/financials/wip/?page_size=500", headers=headers).json["data"]
    assert capped["pagination"]["page_size"] == 100  # at most 100, like every list
    login_as(books["admin"])
    names = [row[0] for row in _csv(client.get("/reports/wip.csv?as_of=2026-04-30"))[1:]]
    assert names == ["Birch porch", "Cedar fence", "Hughes deck", "TOTAL"]  # the CSV: every row


# --- CSV -------------------------------------------------------------------------------


def test_csv_quotes_and_guards_formulas(db, client, login_as):
    admin = make_user("admin")
    evil = make_client(name='=HYPERLINK("http://x","y")')
    project = make_project(evil, name='-2+3, "quoted"', status="active", contract_value=D("100.00"))
    make_expense(project, "MATERIALS", "250.00")
    login_as(admin)
    rows = _csv(client.get("/reports/profitability.csv"))
    row = next(r for r in rows if "quoted" in r[0])
    assert row[0] == '\'-2+3, "quoted"' and row[1].startswith("'=HYPERLINK")
    header = rows[0]
    assert row[header.index("profit")] == "-250.00"  # a number stays a number
    assert row[header.index("roi")] == "-1.0000"
    assert rows[-1][0] == "TOTAL"


# --- the QuickBooks export -------------------------------------------------------------


def test_quickbooks_invoices_layout_and_not_twice(books, client, login_as, db):
    admin = books["admin"]
    held = make_invoice(books["hughes"], lines=(("Walls: two coats", "2", "500.00"),), status="SENT",
                        number="INV-2026-0010", retention="100.00", tax_rate="8.25",
                        issue_date=dt.date(2026, 3, 25))  # fmt: skip
    req = export.parse("invoices", "2026-03-01", "2026-03-31")
    login_as(admin)
    url = "/api/financials/export/quickbooks/?kind=invoices&from=2026-03-01&to=2026-03-31"
    rows = _csv(client.get(url, headers=bearer(client, admin)))
    assert rows[0] == list(export.HEADERS["invoices"])
    mine = [r for r in rows[1:] if r[0] == "INV-2026-0010"]
    assert mine[0][:5] == ["INV-2026-0010", "Harbor Holdings:Hughes deck", "03/25/2026", "04/24/2026", "Net 30"]
    assert mine[0][6:] == ["Services", "Walls: two coats", "2", "500.00", "1000.00", "TAX", "Hughes deck"]
    assert mine[1][6:12] == ["Retention held", "Retention held", "1", "-100.00", "-100.00", "NON"]
    assert {r[0] for r in rows[1:]} == {"INV-2026-0001", "INV-2026-0002", "INV-2026-0010"}
    preview = export.preview(admin, req)
    assert (preview.new, preview.already) == (3, 0)
    # the page's Export records it; the next export leaves those invoices out
    response = client.post("/reports/export", data={**req.args()})
    assert response.status_code in (302, 303)
    preview = export.preview(admin, req)
    assert (preview.new, preview.already, preview.lines) == (0, 3, 0)
    again = client.post("/reports/export", data={**req.args()})
    assert again.status_code == 422 and "not exported before" in again.text
    assert len(_csv(client.get(url, headers=bearer(client, admin)))) == 1  # the header only
    everything = export.preview(admin, export.parse("invoices", "2026-03-01", "2026-03-31", "1"))
    assert everything.lines == 4 and all(done for done, _cells in everything.rows)
    recorded = export.recent_exports(admin)[0]
    assert recorded.row_count == 3 and held.id in {i.object_id for i in recorded.items}
    body = _csv(client.get(f"/reports/exports/{recorded.id}.csv"))
    assert len(body) == 5  # header + 4 lines, as made


def test_quickbooks_payments_and_expenses_layouts(books, client):
    headers = bearer(client, books["admin"])
    url = "/api/financials/export/quickbooks/?kind={}&from=2026-03-01&to=2026-04-30"
    payments = _csv(client.get(url.format("payments"), headers=headers))
    assert payments[0] == list(export.HEADERS["payments"])
    assert ["03/10/2026", "Harbor Holdings:Hughes deck", "Check", "1", "INV-2026-0001", "3000.00",
            "Undeposited Funds", "Payment on INV-2026-0001"] in payments  # fmt: skip
    expenses = _csv(client.get(url.format("expenses"), headers=headers))
    assert expenses[0] == list(export.HEADERS["expenses"])
    accounts = {r[5] for r in expenses[1:]}
    assert {"Job Expenses:Job Materials", "Job Expenses:Subcontractors", "Tools and Small Equipment"} <= accounts
    claim = next(r for r in expenses[1:] if r[5] == "Tools and Small Equipment")
    assert claim[3] == "Reimbursements Payable" and claim[7] == "99.99"
    assert not any(r[7] == "50.00" for r in expenses[1:])  # a submitted claim is not a cost


def test_api_post_records_and_a_pm_may_not_export(books, client):
    body = {"kind": "payments", "from": "2026-03-01", "to": "2026-04-30"}
    answer = client.post("/api/financials/export/quickbooks/", json=body, headers=bearer(client, books["admin"]))
    assert answer.status_code == 201 and answer.json["data"]["row_count"] == 2
    pm = client.post("/api/financials/export/quickbooks/", json=body, headers=bearer(client, books["pm"]))
    assert pm.status_code == 403
    bad = client.post("/api/financials/export/quickbooks/", json={**body, "to": "2026-02-01"},
                      headers=bearer(client, books["admin"]))  # fmt: skip
    assert bad.status_code == 400 and bad.json["error"]["code"] == "VALIDATION_ERROR"


# --- the WIP property --------------------------------------------------------------

money = st.decimals(min_value=D("0"), max_value=D("99999.99"), places=2, allow_nan=False, allow_infinity=False)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.tuples(
            money,
            st.one_of(st.none(), money),
            money,
            money,
            st.integers(0, 100),
            st.one_of(st.none(), st.integers(1, 100)),
        ),  # fmt: skip
        min_size=1,
        max_size=5,
    )
)
def test_over_minus_under_is_billed_minus_earned(db, projects):
    """…also on progress-billed projects (the last figure: a certified application's line 4
    as a per cent of the contract, its schedule; its line 8 invoice sent, retainage held):
    billed = line 4 + the other invoices."""
    from app.extensions import db as _db
    from tests.factories import make_pay_application, make_sov

    savepoint = _db.session.begin_nested()
    try:
        admin = make_user("admin")
        owner = make_client()
        expected = D("0")
        for n, (contract, budget, spent, billed, progress, applied) in enumerate(projects):
            project = make_project(owner, name=f"P{n}", status="active", contract_value=contract, budget=budget,
                                   progress_percent=progress)  # fmt: skip
            if spent:
                make_expense(project, "MATERIALS", spent)
            if billed:
                make_invoice(project, lines=(("Work", "1", str(billed)),), status="SENT", number=f"H-{n}")
            expected += D(str(billed))
            if applied is not None and contract >= 1:  # the schedule is the contract
                make_sov(project, (str(contract),))
                work = (contract * applied / 100).quantize(D("0.01"))
                app = make_pay_application(project, [work], certify_by=admin, period=dt.date(2026, 3, 1))
                if app.invoice is not None:
                    app.invoice.status, app.invoice.number = "SENT", f"PB-{n}"
                    _db.session.flush()
                assert app.g702_total_completed_and_stored == work
                expected += work
        report = services.wip(admin, Filters(client_id=owner.id))
        for r in report.rows:
            assert r.over_billing - r.under_billing == r.billed - r.earned
            assert r.over_billing >= 0 and r.under_billing >= 0 and min(r.over_billing, r.under_billing) == 0
            assert r.percent is None or 0 <= r.percent <= 1
        t = report.totals
        assert t.over_billing - t.under_billing == t.billed - t.earned
        assert t.billed == expected
    finally:
        savepoint.rollback()
