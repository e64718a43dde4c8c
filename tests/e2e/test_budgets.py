"""Budgets in the browser (issue 13): a PM breaks a project's budget into lines (a decimal
comma refused inline first) and sees a line's actual and share used once an expense
lands on it, at phone and desktop width; an admin sets a cost rate, which the
PM's budget page never shows."""

from __future__ import annotations

import datetime as dt
import random
import uuid

import pytest

from tests.e2e.helpers import DESKTOP, E2E_DATABASE_URL, PHONE, run_sql

pytestmark = pytest.mark.e2e


def _pm_project() -> int:
    return run_sql(
        E2E_DATABASE_URL,
        "SELECT p.id FROM projects p JOIN project_memberships m ON m.project_id = p.id JOIN users u ON u.id = m.user_id"
        " WHERE u.username = 'pm' AND p.status <> 'closed' ORDER BY p.id LIMIT 1",
    )[0][0]


def test_a_pm_breaks_down_the_budget_and_sees_costs_land_live(signed_in, screenshots_dir, problems):
    project_id = _pm_project()
    problems.expect(422, f"/projects/{project_id}/budget/edit")  # the decimal comma, refused on purpose
    name = f"Siding stain {uuid.uuid4().hex[:6]}"
    pm = signed_in("project_manager_full", viewport=PHONE)
    pm.goto(f"/projects/{project_id}")
    pm.get_by_test_id("project-budget").click()
    pm.get_by_test_id("edit-budget").click()
    form = pm.get_by_test_id("budget-form")
    blank = form.locator("[data-testid=budget-line-row]").filter(has=pm.locator("input[name=line_id][value='']")).first
    blank.locator("input[name=line_code]").fill(f"S{uuid.uuid4().hex[:4]}")
    blank.locator("input[name=line_name]").fill(name)
    blank.locator("select[name=line_category]").select_option("EQUIPMENT")
    blank.locator("input[name=line_amount]").fill("1000,50")
    pm.get_by_test_id("save-budget").click()
    pm.wait_for_selector("[data-error-for=lines]")
    assert "Line" in pm.locator("[data-error-for=lines]").inner_text()
    assert run_sql(E2E_DATABASE_URL, "SELECT count(*) FROM budget_lines WHERE name = %s", name)[0][0] == 0
    pm.locator(f"input[name=line_name][value='{name}']").locator("xpath=ancestor::tr").locator(
        "input[name=line_amount]"
    ).fill("1000.00")
    pm.get_by_test_id("save-budget").click()
    row = pm.locator(f"[data-testid=budget-row]:has-text('{name}')")
    row.wait_for()
    pm.screenshot(path=str(screenshots_dir / "budget-phone.png"), full_page=True)

    # an expense lands on the line (written straight: the expenses' own browser test enters them)
    line_id = run_sql(E2E_DATABASE_URL, "SELECT id FROM budget_lines WHERE name = %s", name)[0][0]
    desk = signed_in("project_manager_full", viewport=DESKTOP)
    desk.goto(f"/projects/{project_id}/budget")
    run_sql(
        E2E_DATABASE_URL,
        "INSERT INTO expenses (project_id, budget_line_id, category, amount, description, vendor, expense_date,"
        " receipt_name, receipt_content_type, reimbursement_reference, rejection_reason, version, created_at,"
        " updated_at) VALUES (%s, %s, 'EQUIPMENT', 950.00, '', 'Lift rental', current_date, '', '', '', '', 1, now(),"
        " now()) RETURNING id",
        project_id,
        line_id,
    )
    desk.reload()
    desk_row = desk.locator(f"[data-testid=budget-row]:has-text('{name}')")
    assert "95.0 %" in desk_row.inner_text()
    assert "near" in (desk_row.get_attribute("class") or "")
    desk.screenshot(path=str(screenshots_dir / "budget-desktop.png"), full_page=True)


def test_an_admin_sets_a_cost_rate_the_pm_never_sees(signed_in, screenshots_dir):
    admin = signed_in("admin", viewport=PHONE)
    admin.goto("/admin/cost-rates")
    employee = run_sql(E2E_DATABASE_URL, "SELECT id FROM users WHERE username = 'employee'")[0][0]
    form = admin.get_by_test_id("cost-rate-form")
    form.locator("select[name=user_id]").select_option(str(employee))
    form.locator("input[name=hourly_cost]").fill("43.17")
    # a date of its own: a date that has a rate already is refused (a rerun on the same database)
    day = dt.date(2020, 1, 6) + dt.timedelta(days=random.randrange(1800))  # noqa: S311 - not a secret
    form.locator("input[name=effective_from]").fill(day.isoformat())
    admin.get_by_test_id("save-cost-rate").click()
    admin.wait_for_selector("[data-testid=rate-row]:has-text('43.17')")
    admin.screenshot(path=str(screenshots_dir / "cost-rates-phone.png"), full_page=True)
    desk = signed_in("admin", viewport=DESKTOP)
    desk.goto("/admin/cost-rates")
    desk.screenshot(path=str(screenshots_dir / "cost-rates-desktop.png"), full_page=True)

    pm = signed_in("project_manager_full", viewport=DESKTOP)
    pm.goto(f"/projects/{_pm_project()}/budget")
    assert "43.17" not in pm.content()


def test_a_stale_budget_form_keeps_a_line_added_meanwhile(signed_in, problems):
    """Two PMs open the lines' form; the first adds a line; the second's save comes back in
    place (409, "changed meanwhile") with the added line shown and what she typed kept, and
    her second save keeps both."""
    project_id = _pm_project()
    mine, theirs = f"Primer {uuid.uuid4().hex[:6]}", f"Scaffold {uuid.uuid4().hex[:6]}"
    first = signed_in("project_manager_full", live=False)
    second = signed_in("project_manager_full", live=False)
    for page in (first, second):
        page.goto(f"/projects/{project_id}/budget/edit")

    def add(page, name, amount):
        form = page.get_by_test_id("budget-form")
        blank = form.locator("[data-testid=budget-line-row]").filter(has=page.locator("input[name=line_id][value='']"))
        blank.first.locator("input[name=line_name]").fill(name)
        blank.first.locator("input[name=line_amount]").fill(amount)

    add(first, theirs, "300.00")
    first.get_by_test_id("save-budget").click()
    first.locator(f"[data-testid=budget-row]:has-text('{theirs}')").wait_for()

    add(second, mine, "120.00")
    problems.expect(409, f"/projects/{project_id}/budget/edit")
    with second.expect_response(lambda r: r.request.method == "POST") as posted:
        second.get_by_test_id("save-budget").click()
    assert posted.value.status == 409
    notice = second.get_by_test_id("changed-meanwhile")
    notice.wait_for()
    assert theirs in notice.inner_text() and "not in your form" in notice.inner_text()
    assert second.locator(f"input[name=line_name][value='{mine}']").count() == 1, "what she typed is kept"
    assert second.locator(f"input[name=line_name][value='{theirs}']").count() == 1, "their line is shown"
    assert run_sql(E2E_DATABASE_URL, "SELECT count(*) FROM budget_lines WHERE name = %s", mine)[0][0] == 0
    second.get_by_test_id("save-budget").click()
    second.locator(f"[data-testid=budget-row]:has-text('{mine}')").wait_for()
    for name in (mine, theirs):
        assert run_sql(E2E_DATABASE_URL, "SELECT count(*) FROM budget_lines WHERE name = %s", name)[0][0] == 1
