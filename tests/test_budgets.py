"""Budgets and labour cost (app/budgets): where each cost falls (every expense on one
line at most), labour = approved hours × the rate in force on the week's Monday, the
forecast to completion, the lines' form and API (versions, bad input, nothing half
written), and cost rates seen by admins only — in pages, JSON and notifications."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
from sqlalchemy import func, select

from app.budgets import services
from app.budgets.models import BudgetLine, CostRate
from app.extensions import db as _db
from app.tasks.models import Task
from app.timeclock.models import TimesheetApproval
from tests.conftest import bearer
from tests.factories import make_budget_line, make_cost_rate, make_expense, make_project, make_user

MON = dt.date(2026, 1, 5)  # a Monday


def approve(user, project, week, hours):
    _db.session.add(TimesheetApproval(user_id=user.id, project_id=project.id, week_start=week, hours=D(hours)))
    _db.session.flush()


def figures(project):
    _db.session.expire_all()
    return services.figures(_db.session.get(type(project), project.id))


@pytest.fixture()
def world(db):
    pm = make_user("project_manager_full")
    trainee = make_user("pm_trainee")
    painter = make_user("employee")
    project = make_project(members=(pm, trainee, painter), budget=D("10000.00"))
    return pm, trainee, painter, project


# --- where costs fall --------------------------------------------------------------------------


def test_each_expense_falls_on_one_line_and_the_rest_is_unallocated(world):
    pm, _trainee, painter, project = world
    paint = make_budget_line(project, name="Paint", category="MATERIALS", code="02", position=1, amount="3000.00")
    more_paint = make_budget_line(project, name="Stain", category="MATERIALS", code="03", position=2)
    prep = make_budget_line(project, name="Prep", code="01", position=0, amount="500.00")
    other = make_project()
    foreign = make_budget_line(other, name="Theirs", category="MATERIALS")
    make_expense(project, amount="100.00", category="MATERIALS", budget_line_id=more_paint.id)  # its own line
    make_expense(project, amount="40.00", category="TOOLS", budget_line_id=prep.id)  # its own line
    make_expense(project, amount="250.00", category="MATERIALS")  # → the first MATERIALS line
    make_expense(project, amount="60.00", category="MATERIALS", budget_line_id=foreign.id)  # not this project's line
    make_expense(project, amount="75.00", category="PERMITS")  # no PERMITS line → unallocated
    make_expense(project, amount="999.00", category="MATERIALS", claimant=painter)  # a claim not approved: no cost
    make_expense(project, amount="20.00", category="MATERIALS", claimant=painter, status="approved")

    budget = figures(project)
    by_name = {row.label: row for row in budget.all_rows}
    assert [row.line.id for row in budget.rows] == [prep.id, paint.id, more_paint.id]  # by position
    assert by_name["02 Paint"].expenses == D("330.00")  # 250 + 60 + 20
    assert by_name["03 Stain"].expenses == D("100.00")
    assert by_name["01 Prep"].expenses == D("40.00")
    assert [(r.category, r.expenses) for r in budget.unallocated] == [("PERMITS", D("75.00"))]
    # nothing counted twice: the rows add up to the one definition of cost
    from app.budgets import actuals
    from app.expenses.models import Expense

    total = _db.session.execute(actuals.expenses_by_project(Expense.project_id == project.id)).one()[1]
    assert budget.expenses == total == D("545.00")
    # the drill-down from a row to its expenses finds exactly the rows behind its figure
    for row in budget.all_rows:
        on = actuals.falls_on_line(row.line.id) if row.line else actuals.unallocated(row.category)
        shown = _db.session.scalar(
            select(func.coalesce(func.sum(Expense.amount), 0)).where(
                on, Expense.project_id == project.id, Expense.is_cost
            )
        )
        assert shown == row.expenses, row.label


def test_labour_falls_on_the_first_labour_line_else_unallocated(world):
    pm, _trainee, painter, project = world
    make_cost_rate(painter, "30.00", MON)
    approve(painter, project, MON, "10")
    budget = figures(project)
    assert [(r.label, r.labour, r.hours) for r in budget.unallocated] == [("Unallocated labour", D("300.00"), D("10"))]
    line = make_budget_line(project, name="Crew", category="LABOR", amount="1000.00")
    budget = figures(project)
    assert budget.unallocated == []
    assert (budget.rows[0].line.id, budget.rows[0].labour, budget.rows[0].percent_used) == (
        line.id,
        D("300.00"),
        D("30.0"),
    )
    assert budget.cost_to_date == D("300.00") and budget.variance == D("9700.00")


def test_labour_uses_the_rate_in_force_on_each_weeks_monday(world):
    _pm, _trainee, painter, project = world
    make_cost_rate(painter, "30.00", MON)
    make_cost_rate(painter, "40.00", MON + dt.timedelta(days=14))  # from the third week
    make_cost_rate(painter, "55.00", MON + dt.timedelta(days=23))  # a Wednesday: from the next Monday on
    make_budget_line(project, name="Crew", category="LABOR")
    approve(painter, project, MON - dt.timedelta(days=7), "5")  # before any rate: unpriced
    approve(painter, project, MON + dt.timedelta(days=7), "10")  # 30.00
    approve(painter, project, MON + dt.timedelta(days=14), "10")  # 40.00
    approve(painter, project, MON + dt.timedelta(days=21), "10")  # still 40.00 (the 55 starts mid-week)
    approve(painter, project, MON + dt.timedelta(days=28), "2.5")  # 55.00
    budget = figures(project)
    assert budget.labour == D("300.00") + D("400.00") + D("400.00") + D("137.50")
    assert (budget.hours, budget.unpriced_hours) == (D("37.5"), D("5"))


# --- forecast ----------------------------------------------------------------------------------


def test_forecast_is_cost_to_date_plus_labour_to_complete_plus_open_budget(world):
    _pm, _trainee, painter, project = world
    make_cost_rate(painter, "30.00", MON)
    make_cost_rate(make_user("superintendent"), "50.00", MON)
    crew = make_budget_line(project, name="Crew", category="LABOR", amount="2000.00")
    paint = make_budget_line(project, name="Paint", category="MATERIALS", amount="1500.00", position=1)
    make_budget_line(project, name="Permits", category="PERMITS", amount="100.00", position=2)
    approve(painter, project, MON, "20")  # 600.00 → 30.00 an hour on this project
    make_expense(project, amount="400.00", category="MATERIALS")
    make_expense(project, amount="180.00", category="PERMITS")  # over its line: no open budget left
    _db.session.add_all([
        Task(project_id=project.id, title="Walls", estimated_hours=D("30"), actual_hours=D("12")),  # 18 left
        Task(project_id=project.id, title="Trim", estimated_hours=D("5"), actual_hours=D("9")),  # over: 0 left
        Task(project_id=project.id, title="Done", estimated_hours=D("50"), status="completed"),  # closed
        Task(project_id=project.id, title="No estimate"),
    ])  # fmt: skip
    _db.session.flush()
    budget = figures(project)
    assert budget.remaining_hours == D("18")
    assert budget.labour_to_complete == D("540.00")  # 18 h × 600.00 / 20 h
    assert budget.open_budget == D("1100.00")  # paint 1500 − 400; permits over: 0
    assert budget.cost_to_date == D("1180.00")
    assert budget.forecast == budget.cost_to_date + budget.labour_to_complete + budget.open_budget == D("2820.00")
    rows = {row.line.id if row.line else None: row for row in budget.all_rows}
    assert rows[crew.id].forecast == D("1140.00")  # 600 + 540
    assert rows[paint.id].forecast == D("1500.00")
    assert budget.forecast_variance == D("7180.00")


def test_before_any_priced_hour_the_forecast_takes_the_average_rate_in_force(world):
    _pm, _trainee, painter, project = world
    make_cost_rate(painter, "30.00", MON)
    make_cost_rate(make_user("superintendent"), "50.00", MON)
    _db.session.add(Task(project_id=project.id, title="Walls", estimated_hours=D("10")))
    _db.session.flush()
    budget = figures(project)
    assert (budget.labour_to_complete, budget.labour_priced) == (D("400.00"), True)
    assert [(r.label, r.forecast) for r in budget.unallocated] == [("Unallocated labour", D("400.00"))]
    _db.session.execute(CostRate.__table__.delete())
    budget = figures(project)
    assert (budget.labour_to_complete, budget.labour_priced) == (D("0.00"), False)


def test_lines_that_do_not_add_up_to_the_budget_are_warned_about(world, client, login_as):
    pm, _trainee, _painter, project = world
    make_budget_line(project, name="Paint", amount="4000.00")
    login_as(pm)
    page = client.get(f"/projects/{project.id}/budget").get_data(as_text=True)
    assert 'data-testid="lines-differ"' in page and "$6,000.00 not broken down" in page
    assert "Committed costs" in page  # said, not shown as zeros


# --- the lines' form and API -------------------------------------------------------------------


def _form(rows, remove=()):
    keys = ("id", "version", "code", "name", "category", "amount", "estimated_hours")
    data = {f"line_{k}": [str(r.get(k, "")) for r in rows] for k in keys}
    data["remove_line"] = [str(i) for i in remove]
    return data


def test_a_pm_saves_changes_and_deletes_lines(world, client, login_as):
    pm, _trainee, _painter, project = world
    keep = make_budget_line(project, name="Paint", amount="1000.00", code="02")
    gone = make_budget_line(project, name="Old", amount="5.00", position=1)
    login_as(pm)
    rows = [
        {"id": keep.id, "version": keep.version, "code": "02", "name": "Paint, two coats", "category": "MATERIALS",
         "amount": "1,250.00", "estimated_hours": ""},
        {"id": gone.id, "version": gone.version, "name": "Old", "amount": "5.00"},
        {"code": "01", "name": "Crew", "category": "LABOR", "amount": "3000", "estimated_hours": "120.5"},
    ]  # fmt: skip
    answer = client.post(f"/projects/{project.id}/budget/edit", data=_form(rows, remove=[gone.id]))
    assert answer.status_code == 303, answer.get_data(as_text=True)
    lines = services.lines_of(project.id)
    assert [(li.code, li.name, li.category, li.amount, li.estimated_hours) for li in lines] == [
        ("02", "Paint, two coats", "MATERIALS", D("1250.00"), None),
        ("01", "Crew", "LABOR", D("3000.00"), D("120.50")),
    ]
    assert lines[0].version == 2


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"name": "Paint", "amount": "12,5"}, "Line 2: enter the budget amount such as 1250.00"),
        ({"name": "Paint", "amount": "1e9"}, "Line 2: enter the budget amount such as 1250.00"),
        ({"name": "Paint", "amount": "NaN"}, "Line 2: enter the budget amount such as 1250.00"),
        ({"name": "Paint", "amount": "-5"}, "Line 2: the budget amount cannot be negative"),
        ({"name": "Paint", "amount": "99999999999"}, "too large"),
        ({"name": "", "code": "9", "amount": "5"}, "Line 2: enter the phase or line name"),
        ({"name": "Paint", "amount": "5", "category": "FOOD"}, "Line 2: the category is one of"),
        ({"name": "Paint", "amount": "5", "code": "01"}, "Line 2: the cost code 01 is already line 1"),
        ({"name": "Paint", "amount": "5", "estimated_hours": "ten"}, "Line 2: enter hours such as 120 or 37.5"),
        ({"name": "Paint", "amount": "5", "estimated_hours": "0.001"}, "two decimal places"),
    ],
)
def test_bad_lines_are_refused_with_a_message_and_nothing_written(world, client, login_as, row, message):
    pm, _trainee, _painter, project = world
    first = make_budget_line(project, name="Crew", code="01", amount="100.00")
    login_as(pm)
    rows = [{"id": first.id, "version": first.version, "code": "01", "name": "Crew renamed", "amount": "200.00"}, row]
    answer = client.post(f"/projects/{project.id}/budget/edit", data=_form(rows))
    text = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert message in text
    _db.session.expire_all()
    assert [(li.name, li.amount) for li in services.lines_of(project.id)] == [("Crew", D("100.00"))]


def test_a_stale_line_shows_changed_meanwhile_and_saves_on_the_second_try(world, client, login_as):
    pm, _trainee, _painter, project = world
    line = make_budget_line(project, name="Paint", amount="1000.00")
    read = line.version
    line.amount = D("1100.00")  # someone else's save
    _db.session.flush()
    login_as(pm)
    rows = [{"id": line.id, "version": read, "name": "Paint", "amount": "900.00"}]
    answer = client.post(f"/projects/{project.id}/budget/edit", data=_form(rows))
    text = answer.get_data(as_text=True)
    assert answer.status_code == 409 and 'data-testid="changed-meanwhile"' in text
    assert f'name="line_version" value="{read + 1}"' in text and 'value="900.00"' in text
    _db.session.expire_all()
    assert _db.session.get(BudgetLine, line.id).amount == D("1100.00")
    rows[0]["version"] = read + 1
    assert client.post(f"/projects/{project.id}/budget/edit", data=_form(rows)).status_code == 303
    _db.session.expire_all()
    assert _db.session.get(BudgetLine, line.id).amount == D("900.00")


def test_the_api_reads_and_replaces_the_lines(world, client):
    pm, trainee, painter, project = world
    old = make_budget_line(project, name="Paint", amount="1000.00", category="MATERIALS")
    old_id = old.id
    make_expense(project, amount="950.00", category="MATERIALS")
    as_trainee, as_pm = bearer(client, trainee), bearer(client, pm)
    body = client.get(f"/api/financials/budgets/{project.id}/", headers=as_trainee).json["data"]
    assert (body["budget"], body["cost_to_date"], body["lines"][0]["actual"], body["lines"][0]["percent_used"]) == (
        "10000.00",
        "950.00",
        "950.00",
        "95.0",
    )
    assert (
        client.put(f"/api/financials/budgets/{project.id}/", json={"lines": []}, headers=as_trainee).status_code == 403
    )
    stale = client.put(
        f"/api/financials/budgets/{project.id}/",
        json={"lines": [{"id": old.id, "version": old.version + 5, "name": "Paint", "amount": "1"}]},
        headers=as_pm,
    )
    assert stale.status_code == 409 and stale.json["error"]["code"] == "CONFLICT"
    assert stale.json["error"]["details"]["lines"][0]["amount"] == "1000.00"
    bad = client.put(
        f"/api/financials/budgets/{project.id}/", json={"lines": [{"name": "X", "amount": "1.001"}]}, headers=as_pm
    )
    assert bad.status_code == 400 and bad.json["error"]["code"] == "VALIDATION_ERROR"
    done = client.put(
        f"/api/financials/budgets/{project.id}/",
        json={"lines": [{"name": "Crew", "category": "LABOR", "amount": "2000.00"}, {"name": "Paint", "amount": 800}]},
        headers=as_pm,
    )
    assert done.status_code == 200, done.json
    data = done.json["data"]
    assert [(li["name"], li["amount"]) for li in data["lines"]] == [("Crew", "2000.00"), ("Paint", "800.00")]
    assert [u["category"] for u in data["unallocated"]] == ["MATERIALS"]  # its line is gone, no MATERIALS line
    assert _db.session.scalar(select(func.count()).where(BudgetLine.id == old_id)) == 0


# --- cost rates: admins only, everywhere ------------------------------------------------------


def test_cost_rates_are_shown_to_admins_only_in_every_channel(world, client, login_as):
    pm, trainee, painter, project = world
    admin = make_user("admin")
    make_budget_line(project, name="Crew", category="LABOR", amount="400.00")
    login_as(admin)
    saved = client.post(
        "/admin/cost-rates", data={"user_id": str(painter.id), "hourly_cost": "37.25", "effective_from": "2026-01-05"}
    )
    assert saved.status_code == 303
    assert "37.25" in client.get(f"/admin/cost-rates/{painter.id}").get_data(as_text=True)
    assert "37.25" in client.get("/admin/cost-rates").get_data(as_text=True)
    approve(painter, project, MON, "10")  # 372.50: 93 % of the line → the PMs are told
    from app.budgets.alerts import check_projects
    from app.notifications.models import Notification

    assert check_projects([project.id]) == 2  # the PM and the trainee
    notes = list(_db.session.scalars(select(Notification).where(Notification.kind == "budget_alert")))
    assert notes and all("37.25" not in n.title + n.body for n in notes)
    for person in (pm, trainee):
        login_as(person)
        headers = bearer(client, person)
        for url in (
            f"/projects/{project.id}/budget",
            f"/api/financials/budgets/{project.id}/",
            f"/projects/{project.id}",
            # the profitability per phase (reports): labour a total per phase
            f"/projects/{project.id}/profitability",
            f"/projects/{project.id}/profitability.csv",
            f"/api/financials/profitability/{project.id}/",
        ):
            answer = client.get(url, headers=headers if "/api/" in url else None)
            assert answer.status_code == 200
            text = answer.get_data(as_text=True)
            assert "37.25" not in text
            assert "372.50" in text or url.endswith(f"/projects/{project.id}")  # the labour cost, not the rate
        assert client.get("/admin/cost-rates").status_code == 403
        assert client.get(f"/admin/cost-rates/{painter.id}").status_code == 403
    for role in ("designer", "superintendent", "employee", "client"):
        someone = login_as(role)
        assert client.get(f"/projects/{project.id}/budget").status_code == 403
        assert client.get(f"/api/financials/budgets/{project.id}/", headers=bearer(client, someone)).status_code == 403


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"hourly_cost": "1e9"}, "hourly_cost", "Enter the hourly cost such as 1250.00"),
        ({"hourly_cost": "NaN"}, "hourly_cost", "Enter the hourly cost such as 1250.00"),
        ({"hourly_cost": "-3"}, "hourly_cost", "cannot be negative"),
        ({"hourly_cost": "100000"}, "hourly_cost", "under 100,000.00"),
        ({"hourly_cost": "12,5"}, "hourly_cost", "Enter the hourly cost such as 1250.00"),
        ({"effective_from": "2099-01-01"}, "effective_from", "Enter a date between"),
        ({"effective_from": "yesterday"}, "effective_from", "Enter a date as YYYY-MM-DD."),
        ({"user_id": "999999"}, "user_id", "Choose a member of staff."),
    ],
)
def test_bad_cost_rates_are_refused(world, client, login_as, data, field, message):
    _pm, _trainee, painter, _project = world
    login_as("admin")
    form = {"user_id": str(painter.id), "hourly_cost": "30.00", "effective_from": "2026-01-05"} | data
    answer = client.post("/admin/cost-rates", data=form)
    assert answer.status_code == 422
    assert message in answer.get_data(as_text=True)
    assert _db.session.scalar(select(func.count()).select_from(CostRate).where(CostRate.user_id == painter.id)) == 0


def test_a_rate_for_a_date_that_has_one_is_refused_and_a_client_gets_none(world, client, login_as):
    """The same date again never overwrites silently: the field names the rate there and
    links to its edit (tests/test_budget_versions.py edits it)."""
    _pm, _trainee, painter, _project = world
    login_as("admin")
    form = {"user_id": str(painter.id), "hourly_cost": "30.00", "effective_from": "2026-01-05"}
    assert client.post("/admin/cost-rates", data=form).status_code == 303
    again = client.post("/admin/cost-rates", data=form | {"hourly_cost": "31.00"})
    text = again.get_data(as_text=True)
    rates = list(_db.session.scalars(select(CostRate).where(CostRate.user_id == painter.id)))
    assert again.status_code == 422
    assert "There is already a rate from 2026-01-05: 30.00 an hour" in text
    assert f'href="/admin/cost-rates/rate/{rates[0].id}/edit"' in text
    assert [(r.effective_from, r.hourly_cost) for r in rates] == [(MON, D("30.00"))]
    someone = make_user("client")
    answer = client.post("/admin/cost-rates", data=form | {"user_id": str(someone.id)})
    assert answer.status_code == 422
    deleted = client.post(f"/admin/cost-rates/rate/{rates[0].id}/delete", data={"version": str(rates[0].version)})
    assert deleted.status_code == 303
    assert _db.session.scalar(select(func.count()).select_from(CostRate).where(CostRate.user_id == painter.id)) == 0
