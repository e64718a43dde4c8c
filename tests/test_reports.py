"""The owner's reports (app/reports, issue 13): every figure of profitability, WIP and AR
aging on a hand-computed fixture, to the cent; ROI undefined without expenses; negative
profit; who sees what (PMs only their projects, clients and field roles never); the CSV
files (escaping, formula guard); the statement count does not grow with the projects."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from app.core.errors import ValidationError
from app.core.permissions import PermissionDenied
from app.reports import filters as report_filters
from app.reports import services
from app.reports.filters import Filters
from tests.factories import make_change_order, make_client, make_invoice, make_project, make_user

DAY = dt.date(2026, 3, 2)


def make_expense(project, category, amount, *, day=DAY, claim_by=None, status=None, vendor="Sherwin-Williams"):
    from app.expenses.models import Expense
    from app.extensions import db

    expense = Expense(
        project_id=project.id,
        category=category,
        amount=D(amount),
        expense_date=day,
        vendor=vendor,
        description=f"{category.title()} for {project.name}",
        paid_by_employee_id=claim_by.id if claim_by else None,
        reimbursement_status=(status or "submitted") if claim_by else None,
    )
    db.session.add(expense)
    db.session.flush()
    return expense


def make_hours(user, project, hours, *, week=DAY, rate=None, rate_from=dt.date(2026, 1, 1)):
    from app.budgets.models import CostRate
    from app.extensions import db
    from app.timeclock.models import TimesheetApproval

    if rate is not None:
        db.session.add(CostRate(user_id=user.id, hourly_cost=D(rate), effective_from=rate_from))
    db.session.add(TimesheetApproval(user_id=user.id, project_id=project.id, week_start=week, hours=D(hours)))
    db.session.flush()


def make_payment(invoice, amount, day):
    from app.extensions import db
    from app.invoices.models import Payment

    db.session.add(Payment(invoice_id=invoice.id, amount=D(amount), payment_date=day, method="check", reference="1"))
    db.session.flush()


@pytest.fixture()
def books(db):
    """Hughes (a PM's): budget 10,000.00, contract 15,000.00 (incl. an approved CO of
    500.00), 40 % done. Invoiced 5,000.00 (3,000.00 paid on 10 March) + 2,000.00 (paid on
    5 April) = 7,000.00, collected 5,000.00 (a draft and a cancelled one count for nothing).
    Expenses 1,200.50 materials + 800.25 subcontractor + 99.99 tools (an approved claim) —
    a submitted claim of 50.00 does not count — and labour 10.5 h × 30.00 = 315.00 (4 h of
    someone without a rate: unpriced): 2,415.74. Birch: nothing at all. Cedar: 1,000.00 of
    permits, nothing collected (a loss)."""
    admin, pm = make_user("admin"), make_user("project_manager_full")
    worker, unpriced = make_user("employee"), make_user("employee")
    harbor = make_client(name="Harbor Holdings")
    hughes = make_project(harbor, members=(pm,), name="Hughes deck", budget=D("10000.00"),
                          contract_value=D("15000.00"), progress_percent=40, status="active")  # fmt: skip
    birch = make_project(make_client(name="Birch Row"), name="Birch porch", budget=D("5000.00"),
                         contract_value=D("8000.00"), status="active")  # fmt: skip
    cedar = make_project(make_client(name="Cedar Co"), members=(pm,), name="Cedar fence", budget=None,
                         contract_value=D("4000.00"), progress_percent=50, status="active")  # fmt: skip
    first = make_invoice(hughes, lines=(("Walls", "1", "5000.00"),), status="SENT", number="INV-2026-0001",
                         paid="3000.00", issue_date=DAY, due_date=dt.date(2026, 4, 1))  # fmt: skip
    make_payment(first, "3000.00", dt.date(2026, 3, 10))
    second = make_invoice(hughes, lines=(("Trim", "2", "1000.00"),), status="PAID", number="INV-2026-0002",
                          paid="2000.00", issue_date=dt.date(2026, 3, 20))  # fmt: skip
    make_payment(second, "2000.00", dt.date(2026, 4, 5))
    make_invoice(hughes, lines=(("Draft", "1", "9999.00"),))
    make_invoice(hughes, lines=(("Gone", "1", "1234.00"),), status="CANCELLED", number="INV-2026-0003")
    make_change_order(hughes, status="approved", lines=(("labor", "Extra coat", "1", "500.00", "0"),))
    make_expense(hughes, "MATERIALS", "1200.50")
    make_expense(hughes, "SUBCONTRACTOR", "800.25", day=dt.date(2026, 4, 2))
    make_expense(hughes, "TOOLS", "99.99", claim_by=worker, status="approved")
    make_expense(hughes, "PERMITS", "50.00", claim_by=worker, status="submitted")
    make_hours(worker, hughes, "10.5", rate="30.00")
    make_hours(unpriced, hughes, "4")
    make_expense(cedar, "PERMITS", "1000.00")
    return {"admin": admin, "pm": pm, "worker": worker, "hughes": hughes, "birch": birch, "cedar": cedar,
            "harbor": harbor}  # fmt: skip


def test_a_projects_profitability_to_the_cent(books):
    p = services.project_profitability(books["admin"], books["hughes"].id)
    assert (p.invoiced, p.collected, p.expenses) == (D("7000.00"), D("5000.00"), D("2415.74"))
    assert p.profit == D("2584.26")
    assert p.roi == D("1.0698")  # 2,584.26 ÷ 2,415.74
    assert p.budget_variance == D("7584.26") and p.budget_variance_pct == D("75.84")
    assert p.breakdown == {
        "MATERIALS": D("1200.50"),
        "LABOR": D("315.00"),
        "EQUIPMENT": D("0.00"),
        "TOOLS": D("99.99"),
        "SUBCONTRACTOR": D("800.25"),
        "PERMITS": D("0.00"),
        "INSURANCE": D("0.00"),
        "OVERHEAD": D("0.00"),
    }
    assert sum(p.breakdown.values()) == p.expenses
    assert p.change_orders == D("500.00") and p.original_contract == D("14500.00")
    assert p.labour_hours == D("14.50") and p.unpriced_hours == D("4.00")
    assert p.forecast_cost is None  # asked for with_forecast only


def test_a_projects_forecast_is_the_budgets_forecast_to_completion(books):
    """Cost at completion = the budgets' forecast (one definition): 2,415.74 to date +
    20 h left × 30.00 per priced hour (315.00 ÷ 10.5 h) + 799.50 left of the 2,000.00
    materials line (1,200.50 spent on it) = 3,815.24; profit at completion = 15,000.00 −
    that. Not cost ÷ progress (2,415.74 at 40 % would say 6,039.35)."""
    from app.budgets.services import budget_for
    from app.extensions import db
    from app.tasks.models import Task
    from tests.factories import make_budget_line

    admin, hughes = books["admin"], books["hughes"]
    make_budget_line(hughes, name="Paint", category="MATERIALS", amount="2000.00")
    db.session.add(Task(project_id=hughes.id, title="Walls", estimated_hours=D("20"), actual_hours=D("0")))
    db.session.flush()
    p = services.project_profitability(admin, hughes.id, with_forecast=True)
    assert p.forecast_cost == budget_for(admin, hughes).forecast == D("3815.24")
    assert p.forecast_profit == D("11184.76")
    # over a period, the forecast is still the whole project's
    march = Filters(date_from=dt.date(2026, 3, 1), date_to=dt.date(2026, 3, 31))
    assert services.project_profitability(admin, hughes.id, march, with_forecast=True).forecast_cost == D("3815.24")


def test_roi_is_undefined_without_expenses_and_profit_can_be_negative(books):
    birch = services.project_profitability(books["admin"], books["birch"].id)
    assert birch.expenses == 0 and birch.roi is None and birch.profit == 0
    cedar = services.project_profitability(books["admin"], books["cedar"].id)
    assert cedar.profit == D("-1000.00") and cedar.roi == D("-1.0000")
    assert cedar.budget_variance is None and cedar.budget_variance_pct is None


def test_a_period_counts_what_happened_in_it(books):
    april = Filters(date_from=dt.date(2026, 4, 1), date_to=dt.date(2026, 4, 30))
    p = services.project_profitability(books["admin"], books["hughes"].id, april)
    assert p.invoiced == 0  # both were issued in March
    assert p.collected == D("2000.00")  # the payment of 5 April
    assert p.expenses == D("800.25")  # the subcontractor, dated 2 April


def test_company_profitability_and_its_totals(books):
    report = services.company_profitability(books["admin"], Filters())
    names = [r.name for r in report.rows]
    assert names == sorted(names) and {"Hughes deck", "Birch porch", "Cedar fence"} <= set(names)
    mine = {r.name: r for r in report.rows}
    assert mine["Hughes deck"].profit == D("2584.26")
    t = report.totals
    assert t.collected == sum(r.collected for r in report.rows)
    assert t.expenses == sum(r.expenses for r in report.rows)
    assert t.profit == t.collected - t.expenses


def test_the_monthly_trend(books):
    months = services.trend(books["admin"], Filters(date_from=dt.date(2026, 3, 1), date_to=dt.date(2026, 4, 30)),
                            books["hughes"].id)  # fmt: skip
    assert [(m.month, m.invoiced, m.collected, m.costs) for m in months] == [
        ("2026-03", D("7000.00"), D("3000.00"), D("1615.49")),  # 1,200.50 + 99.99 + 315.00
        ("2026-04", D("0.00"), D("2000.00"), D("800.25")),
    ]


def test_project_detail_in_the_api_agrees(books, client):
    from tests.conftest import bearer

    headers = bearer(client, books["admin"])
    data = client.get(f"/api/projects/{books['hughes'].id}/", headers=headers).json["data"]["profitability"]
    assert data == {
        "total_invoiced": "7000.00",
        "total_paid": "5000.00",
        "total_expenses": "2415.74",
        "profit": "2584.26",
        "roi": "1.0698",
    }


def test_wip_to_the_cent(books):
    report = services.wip(books["admin"], Filters(status="active", as_of=dt.date(2026, 4, 30)))
    rows = {r.name: r for r in report.rows}
    h = rows["Hughes deck"]
    assert (h.contract, h.estimated_cost, h.cost) == (D("15000.00"), D("10000.00"), D("2415.74"))
    assert h.percent_complete == D("24.16")
    assert h.earned == D("3623.61")  # 15,000.00 × 2,415.74 ÷ 10,000.00
    assert h.billed == D("7000.00") and h.over_billing == D("3376.39") and h.under_billing == 0
    b = rows["Birch porch"]
    assert (b.cost, b.earned, b.billed, b.over_billing, b.under_billing) == (0, 0, 0, 0, 0)
    c = rows["Cedar fence"]  # no budget: percent complete is the project's progress (50 %)
    assert c.by_progress and c.earned == D("2000.00") and c.under_billing == D("2000.00")
    t = report.totals
    assert t.over_billing == sum(r.over_billing for r in report.rows)
    assert t.under_billing == sum(r.under_billing for r in report.rows)
    assert t.billed - t.earned == t.over_billing - t.under_billing


def test_wip_as_of_an_earlier_day_leaves_out_what_came_later(books):
    report = services.wip(books["admin"], Filters(as_of=dt.date(2026, 3, 15)))
    h = next(r for r in report.rows if r.name == "Hughes deck")
    assert h.cost == D("1615.49") and h.billed == D("5000.00")


def _issue(invoice, day=None):
    """An invoice made by progress billing (a draft) sent as is."""
    from app.extensions import db

    invoice.status, invoice.number = "SENT", f"INV-PB-{invoice.id}"
    if day is not None:
        invoice.issue_date = day
    db.session.flush()
    return invoice


def test_wip_billed_on_a_progress_billed_project_includes_the_retainage_held(db, client, login_as):
    """One certified application: line 4 = 2,000.00, retainage 200.00, line 8 (its invoice)
    1,800.00. Billed to date is line 4 (2,000.00), not the invoice (that showed 200.00 of
    false under-billing); a retainage release's invoice is not added again; an invoice
    outside the applications is."""
    from app.progress_billing import releases
    from tests.factories import make_pay_application, make_sov

    admin = make_user("admin")
    project = make_project(make_client(name="Pier Co"), name="Pier", budget=D("5000.00"), status="active")
    make_sov(project, ("10000.00",))
    make_expense(project, "MATERIALS", "1000.00")  # 20 % of the estimate: earned 2,000.00
    app = make_pay_application(project, ["2000.00"], certify_by=admin)
    assert (app.g702_total_completed_and_stored, app.g702_retainage) == (D("2000.00"), D("200.00"))
    invoice = _issue(app.invoice)
    assert invoice.total_amount == D("1800.00")

    def row(as_of=None):
        report = services.wip(admin, Filters(client_id=project.client_id, as_of=as_of))
        return next(r for r in report.rows if r.id == project.id), report.totals

    r, t = row()
    assert (r.earned, r.billed, r.over_billing, r.under_billing) == (D("2000.00"), D("2000.00"), 0, 0)
    assert r.by_applications  # the page's billed figure leads to the pay applications
    assert t.billed == D("2000.00") and t.under_billing == 0
    _issue(releases.release(admin, project, D("150.00")).invoice)  # billed later: already in line 4
    assert row()[0].billed == D("2000.00")
    make_invoice(project, lines=(("Extra", "1", "300.00"),), status="SENT", number="INV-PIER-1")
    r, _t = row()
    assert r.billed == D("2300.00") and r.over_billing == D("300.00")
    # before the application was certified (its period had not ended): the invoices only
    assert row(dt.date(2026, 3, 30))[0].billed == D("300.00") and not row(dt.date(2026, 3, 30))[0].by_applications
    assert services.project_profitability(admin, project.id).invoiced == D("2250.00")  # what was invoiced
    login_as(admin)
    page = client.get(f"/reports/wip?client={project.client_id}").text
    assert "2,300.00" in page and f'href="/projects/{project.id}/billing" data-testid="wip-billed"' in page


def test_ar_aging_buckets(books, db):
    hughes = books["hughes"]
    as_of = dt.date(2026, 6, 30)
    for number, due, total in (("A-1", dt.date(2026, 7, 1), "100.00"), ("A-2", dt.date(2026, 6, 30), "10.00"),
                               ("A-3", dt.date(2026, 6, 29), "200.00"), ("A-4", dt.date(2026, 5, 31), "300.00"),
                               ("A-5", dt.date(2026, 5, 30), "400.00"), ("A-6", dt.date(2026, 4, 1), "500.00"),
                               ("A-7", dt.date(2026, 3, 31), "600.00")):  # fmt: skip
        make_invoice(hughes, lines=(("Work", "1", total),), status="OVERDUE", number=number,
                     issue_date=dt.date(2026, 1, 1), due_date=due)  # fmt: skip
    make_invoice(
        hughes,
        lines=(("Held", "1", "1000.00"),),
        status="SENT",
        number="A-8",
        retention="100.00",
        paid="850.00",
        issue_date=dt.date(2026, 1, 1),
        due_date=dt.date(2026, 6, 1),
    )  # 50.00 owed, 29 days
    report = services.ar_aging(books["admin"], Filters(as_of=as_of))
    row = next(r for r in report.rows if r.client_name == "Harbor Holdings")
    # INV-2026-0001: 5,000 − 3,000 = 2,000.00 owed, due 1 April → 90 days past due (61–90)
    assert row.current == D("110.00")  # due tomorrow, and due today
    assert row.days_1_30 == D("550.00")  # 1 day (200), 30 days (300) and 29 days (50)
    assert row.days_31_60 == D("400.00")  # 31 days
    assert row.days_61_90 == D("2500.00")  # 90 days (500) and INV-2026-0001 (2,000.00 owed)
    assert row.days_over_90 == D("600.00")  # 91 days
    assert row.total == sum((row.current, row.days_1_30, row.days_31_60, row.days_61_90, row.days_over_90), D(0))
    assert report.totals.total == sum(r.total for r in report.rows)


def test_pm_sees_only_their_projects(books):
    pm = books["pm"]
    names = {r.name for r in services.company_profitability(pm, Filters()).rows}
    assert names == {"Hughes deck", "Cedar fence"}
    assert {r.name for r in services.wip(pm, Filters()).rows} == {"Hughes deck", "Cedar fence"}
    assert {r.client_name for r in services.ar_aging(pm, Filters()).rows} == {"Harbor Holdings"}
    from app.core.errors import ObjectNotFound

    with pytest.raises(ObjectNotFound):
        services.project_profitability(pm, books["birch"].id)


@pytest.mark.parametrize("role", ["designer", "superintendent", "employee", "client"])
def test_other_roles_see_no_report(books, role):
    user = make_user(role)
    for call in (
        lambda: services.company_profitability(user, Filters()),
        lambda: services.wip(user, Filters()),
        lambda: services.ar_aging(user, Filters()),
        lambda: services.project_profitability(user, books["hughes"].id),
    ):
        with pytest.raises(PermissionDenied):
            call()


def test_filters_refuse_bad_input():
    with pytest.raises(ValidationError) as caught:
        report_filters.parse({"date_from": "2026-05-01", "date_to": "2026-04-01", "status": "lost", "pm": "x"})
    assert set(caught.value.fields) == {"date_to", "status", "pm"}
    with pytest.raises(ValidationError):
        report_filters.parse({"as_of": "2199-01-01"})
    assert report_filters.parse({"status": "active", "pm": "3"}).args() == {"status": "active", "pm": 3}


def test_statements_do_not_grow_with_the_projects(books, count_queries):
    admin = books["admin"]

    def counted():
        with count_queries() as counted:
            services.company_profitability(admin, Filters())
            services.wip(admin, Filters())
            services.ar_aging(admin, Filters())
        return counted.n

    before = counted()
    for n in range(15):
        project = make_project(name=f"More {n}", status="active", contract_value=D("100.00"))
        make_expense(project, "MATERIALS", "10.00")
        make_invoice(project, status="SENT", number=f"M-{n}")
    assert counted() == before <= 8


def test_cached_rows_come_back_as_they_went(db):
    """The report cache's JSON keeps money exact, dates as dates, None as None."""
    from app.reports import cache

    columns = ("id", "name", "amount", "day", "none")
    raw = cache._dump((columns, [(1, "Hughes", D("2584.26"), dt.date(2026, 3, 2), None)]))
    back_columns, rows = cache._load(raw.encode())
    assert back_columns == columns
    assert rows[0].amount == D("2584.26") and rows[0].day == dt.date(2026, 3, 2) and rows[0].none is None
    assert rows[0].name == "Hughes" and rows[0].id == 1
