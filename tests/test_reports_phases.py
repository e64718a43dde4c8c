"""Profitability per phase (app/reports, SPEC.md §3): a project's cost per budget line is the
budget page's actual (app/budgets/actuals.py, the one cost to date), to the cent; the phases
and the unallocated row add up to the project's total expenses; each cost figure leads to
exactly the expenses behind it; the API's additive `phases` / `unallocated`, the CSV's phase
rows; who may see them (as the project's profitability) and no cost rate anywhere."""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import re
from decimal import Decimal as D

import pytest

from app.budgets import services as budgets
from app.extensions import db as _db
from app.reports import services
from tests.conftest import bearer
from tests.factories import (
    make_budget_line,
    make_cost_rate,
    make_expense,
    make_invoice,
    make_project,
    make_user,
)

MON = dt.date(2026, 3, 2)  # a Monday
RATE = "37.25"  # never shown to anyone but an admin's rates pages


@pytest.fixture()
def site(db):
    """Budget 10,000.00 broken into 01 Prep (100.00, no category), 02 Paint (3,000.00,
    MATERIALS), 03 Crew (4,000.00, LABOR). Costs: Prep 40.05 tools + 120.00 materials
    (both naming the line) = 160.05 (over its budget); Paint 250.10 (a materials expense
    naming no line) + 20.00 (an approved claim) = 270.10 — a submitted claim of 999.00 is
    not cost; Crew 10 h × 37.25 = 372.50 of labour; 75.33 of permits on no line. Total
    877.98. Invoiced 2,000.00, 1,500.00 collected: profit 622.02, ROI 0.7085."""
    admin, pm, trainee = make_user("admin"), make_user("project_manager_full"), make_user("pm_trainee")
    painter = make_user("employee")
    project = make_project(members=(pm, trainee, painter), name="Lakeview repaint", budget=D("10000.00"),
                           contract_value=D("15000.00"), status="active")  # fmt: skip
    prep = make_budget_line(project, name="Prep", code="01", amount="100.00", position=0)
    paint = make_budget_line(project, name="Paint", code="02", category="MATERIALS", amount="3000.00", position=1)
    crew = make_budget_line(project, name="Crew", code="03", category="LABOR", amount="4000.00", position=2)
    make_expense(project, amount="40.05", category="TOOLS", budget_line_id=prep.id)
    make_expense(project, amount="120.00", category="MATERIALS", budget_line_id=prep.id)
    make_expense(project, amount="250.10", category="MATERIALS")
    make_expense(project, amount="20.00", category="MATERIALS", claimant=painter, status="approved")
    make_expense(project, amount="999.00", category="MATERIALS", claimant=painter)  # submitted: not cost
    make_expense(project, amount="75.33", category="PERMITS")
    make_cost_rate(painter, RATE, dt.date(2026, 1, 5))
    from app.timeclock.models import TimesheetApproval

    _db.session.add(TimesheetApproval(user_id=painter.id, project_id=project.id, week_start=MON, hours=D("10")))
    make_invoice(project, lines=(("Walls", "1", "2000.00"),), status="SENT", number="INV-2026-0101",
                 paid="1500.00", issue_date=MON)  # fmt: skip
    _db.session.flush()
    return {"admin": admin, "pm": pm, "trainee": trainee, "painter": painter, "project": project,
            "prep": prep, "paint": paint, "crew": crew}  # fmt: skip


def _money(text: str) -> D:
    return D(re.sub(r"[^0-9.\-]", "", text))


def test_each_phase_to_the_cent(site):
    p = services.project_profitability(site["pm"], site["project"].id, with_forecast=True)
    got = [(ph.label, ph.budget, ph.cost, ph.variance, ph.variance_pct, ph.share_pct, ph.forecast)
           for ph in p.phases.all]  # fmt: skip
    assert got == [
        ("01 Prep", D("100.00"), D("160.05"), D("-60.05"), D("-60.05"), D("18.23"), D("160.05")),
        ("02 Paint", D("3000.00"), D("270.10"), D("2729.90"), D("91.00"), D("30.76"), D("3000.00")),
        ("03 Crew", D("4000.00"), D("372.50"), D("3627.50"), D("90.69"), D("42.43"), D("372.50")),
        ("Unallocated permits", None, D("75.33"), None, None, D("8.58"), D("75.33")),
    ]
    prep, paint, crew, _loose = p.phases.all
    assert prep.is_over and not paint.is_over
    assert {c: v for c, v in prep.breakdown.items() if v} == {"TOOLS": D("40.05"), "MATERIALS": D("120.00")}
    assert {c: v for c, v in paint.breakdown.items() if v} == {"MATERIALS": D("270.10")}
    assert {c: v for c, v in crew.breakdown.items() if v} == {"LABOR": D("372.50")}
    assert p.phases.unallocated_cost == D("75.33")
    assert {c: v for c, v in p.phases.unallocated_breakdown.items() if v} == {"PERMITS": D("75.33")}
    # revenue stays the project's: invoiced, collected, profit, ROI
    assert (p.invoiced, p.collected, p.expenses, p.profit, p.roi) == (
        D("2000.00"), D("1500.00"), D("877.98"), D("622.02"), D("0.7085"),
    )  # fmt: skip
    # the phases and the unallocated row add up to the project's total expenses, per category too
    assert sum((ph.cost for ph in p.phases.all), D("0")) == p.phases.cost_to_date == p.expenses
    assert p.phases.breakdown == p.breakdown
    assert p.phases.forecast == p.forecast_cost == D("3607.88")


def test_phase_costs_are_the_budget_pages_actuals(site, client, login_as):
    """The same figures as the budget (service, page and API), from the one cost to date."""
    project = site["project"]
    p = services.project_profitability(site["admin"], project.id, with_forecast=True)
    budget = budgets.budget_for(site["admin"], project)
    assert [(r.label, r.actual, r.forecast) for r in budget.all_rows] == [
        (ph.label, ph.cost, ph.forecast) for ph in p.phases.all
    ]
    assert budget.cost_to_date == p.expenses
    headers = bearer(client, site["pm"])
    mine = client.get(f"/api/financials/profitability/{project.id}/", headers=headers).json["data"]
    theirs = client.get(f"/api/financials/budgets/{project.id}/", headers=headers).json["data"]
    assert [(ph["id"], ph["cost"], ph["forecast"]) for ph in mine["phases"]] == [
        (line["id"], line["actual"], line["forecast"]) for line in theirs["lines"]
    ]
    assert mine["unallocated"]["cost"] == str(sum((D(u["actual"]) for u in theirs["unallocated"]), D("0")))
    assert theirs["cost_to_date"] == mine["total_expenses"] == "877.98"


def test_the_api_shape(site, client):
    project = site["project"]
    answer = client.get(f"/api/financials/profitability/{project.id}/", headers=bearer(client, site["trainee"]))
    data = answer.json["data"]
    # every §5 field is still there
    assert {"project", "total_invoiced", "total_paid", "total_expenses", "profit", "roi", "budget", "budget_variance",
            "budget_variance_pct", "expense_breakdown", "change_order_impact", "forecast"} <= set(data)  # fmt: skip
    assert (data["total_expenses"], data["profit"], data["roi"]) == ("877.98", "622.02", "0.7085")
    keys = {"id", "code", "name", "category", "budget", "cost", "variance", "variance_pct", "share_pct", "forecast",
            "expense_breakdown"}  # fmt: skip
    assert [set(ph) for ph in data["phases"]] == [keys] * 3
    prep, paint, crew = data["phases"]
    assert (prep["id"], prep["code"], prep["name"], prep["category"]) == (site["prep"].id, "01", "Prep", None)
    assert (prep["budget"], prep["cost"], prep["variance"], prep["variance_pct"], prep["share_pct"]) == (
        "100.00", "160.05", "-60.05", "-60.05", "18.23",
    )  # fmt: skip
    assert len(prep["expense_breakdown"]) == 8
    assert (prep["expense_breakdown"]["TOOLS"], prep["expense_breakdown"]["MATERIALS"]) == ("40.05", "120.00")
    assert paint["expense_breakdown"]["MATERIALS"] == "270.10" and paint["variance_pct"] == "91.00"
    assert crew["expense_breakdown"]["LABOR"] == "372.50" and crew["category"] == "LABOR"
    assert data["unallocated"] == {
        "cost": "75.33",
        "share_pct": "8.58",
        "forecast": "75.33",
        "expense_breakdown": {c: ("75.33" if c == "PERMITS" else "0.00") for c in prep["expense_breakdown"]},
    }
    # the company's rows carry no phases (one project's profitability only)
    company = client.get("/api/financials/profitability/", headers=bearer(client, site["admin"])).json["data"]
    assert all("phases" not in row for row in company["results"])


def test_a_period_leaves_the_phases_to_date(site, client, login_as):
    project = site["project"]
    login_as(site["pm"])
    april = "?date_from=2026-04-01&date_to=2026-04-30"
    page = client.get(f"/projects/{project.id}/profitability{april}").text
    assert 'data-testid="phases-to-date"' in page
    assert 'data-testid="phases-to-date"' not in client.get(f"/projects/{project.id}/profitability").text
    data = client.get(f"/api/financials/profitability/{project.id}/{april}", headers=bearer(client, site["pm"]))
    data = data.json["data"]
    assert data["total_expenses"] == "0.00"  # nothing spent in April
    assert [ph["cost"] for ph in data["phases"]] == ["160.05", "270.10", "372.50"]  # the whole project to date


def test_each_phase_cost_leads_to_exactly_its_expenses(site, client, login_as):
    project = site["project"]
    login_as(site["pm"])
    page = client.get(f"/projects/{project.id}/profitability").text
    assert page.count('data-testid="phase-row"') == 4
    assert "revenue is not split by phase" in page
    links = re.findall(r'<a (?:class="block small" )?href="([^"]+)" data-testid="(phase-expenses|phase-cat-\w+)">'
                       r"(?:[A-Za-z ]+ )?([^<]+)</a>", page)  # fmt: skip
    # Prep, Paint and the unallocated permits (the Crew's cost is labour: the budget page)
    assert len([1 for _h, kind, _f in links if kind == "phase-expenses"]) == 3
    assert len([1 for _h, kind, _f in links if kind.startswith("phase-cat-")]) == 4  # tools, materials ×2, permits
    for href, kind, figure in links:
        href = html.unescape(href)
        assert "cost=1" in href, href
        listed = client.get(href)
        assert listed.status_code == 200, href
        amounts = re.findall(r'<td data-label="Amount" class="num">([^<]+)</td>', listed.text)
        assert sum((_money(a) for a in amounts), D("0")) == _money(figure), (kind, href, amounts, figure)
    # labour (approved hours × rate) is not an expense: the Crew's figure leads to the budget page
    labour = re.findall(r'<a href="([^"]+)" data-testid="phase-labour">([^<]+)</a>', page)
    assert [(h, _money(f)) for h, f in labour] == [(f"/projects/{project.id}/budget", D("372.50"))]
    totals = re.search(r'data-testid="phases-total">([^<]+)<', page).group(1)
    assert _money(totals) == D("877.98")


def test_the_csv_has_the_phase_rows(site, client, login_as):
    project = site["project"]
    login_as(site["pm"])
    answer = client.get(f"/projects/{project.id}/profitability.csv")
    assert answer.status_code == 200
    rows = list(csv.reader(io.StringIO(answer.get_data(as_text=True))))
    start = rows.index([]) + 1
    header, *phases = rows[start:]
    assert header[:7] == ["phase", "budget", "cost", "variance", "variance_pct", "share_pct", "forecast"]
    assert [r[:7] for r in phases] == [
        ["01 Prep", "100.00", "160.05", "-60.05", "-60.05", "18.23", "160.05"],
        ["02 Paint", "3000.00", "270.10", "2729.90", "91.00", "30.76", "3000.00"],
        ["03 Crew", "4000.00", "372.50", "3627.50", "90.69", "42.43", "372.50"],
        ["Unallocated permits", "", "75.33", "", "", "8.58", "75.33"],
        ["TOTAL", "7100.00", "877.98", "", "", "", "3607.88"],
    ]
    tools = header.index("cost_tools")
    assert [r[tools] for r in phases] == ["40.05", "0.00", "0.00", "0.00", "40.05"]


def test_who_sees_the_phases(site, client, login_as):
    """As the project's profitability: admin, its PM and trainee; a PM of another project
    gets 404; clients and field roles 403 — page, CSV and API."""
    project = site["project"]
    urls = (f"/projects/{project.id}/profitability", f"/projects/{project.id}/profitability.csv",
            f"/api/financials/profitability/{project.id}/")  # fmt: skip

    def statuses(user):
        login_as(user)
        headers = bearer(client, user)
        return [client.get(u, headers=headers if "/api/" in u else None).status_code for u in urls]

    for who in ("admin", "pm", "trainee"):
        assert statuses(site[who]) == [200, 200, 200], who
    other_pm = make_user("project_manager_full")
    make_project(members=(other_pm,))
    assert statuses(other_pm) == [404, 404, 404]
    for role in ("client", "employee", "designer", "superintendent"):
        assert statuses(make_user(role)) == [403, 403, 403], role
    assert statuses(site["painter"]) == [403, 403, 403]  # a member of the project, but field staff


def test_no_cost_rate_in_the_phases(site, client, login_as):
    """Labour is a total per phase (372.50); the rate (37.25) is never shown to a PM."""
    project = site["project"]
    for person in (site["pm"], site["trainee"]):
        login_as(person)
        headers = bearer(client, person)
        for url in (f"/projects/{project.id}/profitability", f"/projects/{project.id}/profitability.csv",
                    f"/api/financials/profitability/{project.id}/"):  # fmt: skip
            text = client.get(url, headers=headers if "/api/" in url else None).get_data(as_text=True)
            assert "372.50" in text, url
            assert RATE not in text, url
