"""The project list's PM filter past 50 PMs, in a real browser: a search-as-you-type
picker (htmx fetches at most 20 suggestions), choosing one filters the list and keeps
the URL as a <select> would (?pm=<id>); screenshots at phone and desktop widths."""

import re

import pytest

from tests.e2e.helpers import DESKTOP, E2E_DATABASE_URL, run_sql

pytestmark = pytest.mark.e2e

PHONE_390 = {"width": 390, "height": 844}
EXTRA = 55  # past queries.PICKER_LIMIT (50)


@pytest.fixture()
def many_pms():
    """55 more active PMs for the duration of the test (removed afterwards: the other
    browser tests expect the demo company's plain <select>)."""
    rows = run_sql(
        E2E_DATABASE_URL,
        """INSERT INTO users (username, email, username_key, email_key, full_name, role, is_active,
                              must_change_password, session_epoch, version, created_at, updated_at)
           SELECT 'picker-pm-' || n, 'picker-pm-' || n || '@example.com', 'picker-pm-' || n,
                  'picker-pm-' || n || '@example.com', 'Picker Manager ' || lpad(n::text, 2, '0'),
                  'project_manager_full', true, false, 0, 1, now(), now()
           FROM generate_series(1, %s) AS n RETURNING id""",
        EXTRA,
    )
    yield [row[0] for row in rows]
    run_sql(E2E_DATABASE_URL, "DELETE FROM users WHERE username LIKE 'picker-pm-%%' RETURNING id")


def rows(page) -> list[str]:
    return page.locator("#project-results tbody tr[data-project-id] td:first-child a").all_inner_texts()


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_pick_a_pm_by_typing(many_pms, signed_in, screenshots_dir, size):
    viewport = PHONE_390 if size == "phone" else DESKTOP
    page = signed_in("admin", viewport=viewport)
    page.goto("/projects?status=all")
    page.wait_for_selector("#project-results")
    assert page.locator("select#f-pm").count() == 0, "past 50 PMs the filter is a picker"
    everyone = page.locator("#project-results .pager").inner_text()
    # the demo trainee, Tom Reyes, manages half of the demo projects (app/seed.py)
    tom = run_sql(E2E_DATABASE_URL, "SELECT id FROM users WHERE username = 'trainee'")[0][0]
    theirs = {
        r[0]
        for r in run_sql(
            E2E_DATABASE_URL,
            "SELECT p.name FROM projects p JOIN project_memberships m ON m.project_id = p.id WHERE m.user_id = %s",
            tom,
        )
    }

    box = page.locator("#f-pm_search")
    box.click()
    box.press_sequentially("picker manager", delay=20)
    suggestions = page.locator("#f-pm-options [data-pick]")
    suggestions.first.wait_for()
    assert suggestions.count() == 20, "at most 20 suggestions"
    assert "type more of the name" in page.locator("#f-pm-options").inner_text()
    overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the open picker is {overflow}px wider than the {size} screen"
    page.screenshot(path=str(screenshots_dir / f"pm-picker-open-{size}.png"), caret="initial")

    box.fill("")
    box.press_sequentially("reyes", delay=20)
    page.wait_for_function(
        "() => [...document.querySelectorAll('#f-pm-options [data-pick]')].map(a => a.dataset.label).join() === 'Tom Reyes'"
    )
    with page.expect_response(lambda r: "/projects?" in r.url and "pm=" in r.url):
        suggestions.first.click()
    page.wait_for_function(f"() => location.search.includes('pm={tom}')")
    assert "pm_search" not in page.url, "the chosen id travels alone, as a <select>'s would"
    assert box.input_value() == "Tom Reyes"
    page.wait_for_function("() => !document.querySelector('#project-results.htmx-request')")
    shown = rows(page)
    assert shown and set(shown) <= theirs, "only Tom's projects are listed"
    assert page.locator("#project-results .pager").inner_text() != everyone
    page.screenshot(path=str(screenshots_dir / f"pm-picker-chosen-{size}.png"), caret="initial")

    # emptying the box is "any PM" again
    with page.expect_response(lambda r: "/projects?" in r.url):
        box.fill("")
    page.wait_for_function(f"() => !location.search.includes('pm={tom}')")
    page.wait_for_function("() => !document.querySelector('#project-results.htmx-request')")
    assert page.locator("#project-results .pager").inner_text() == everyone
    assert re.search(r"status=all", page.url)


def test_add_pms_to_a_new_project_by_typing(many_pms, signed_in, screenshots_dir):
    """Past 50 PMs the form's PM choice is checked boxes plus a box that adds one."""
    page = signed_in("admin")
    page.goto("/projects/new")
    page.wait_for_selector("[data-testid=project-form]")
    assert page.locator("select#f-pm_ids").count() == 0
    box = page.locator("#f-pm_ids_search")
    for typed, name in (("picker manager 07", "Picker Manager 07"), ("reyes", "Tom Reyes")):
        box.press_sequentially(typed, delay=20)
        page.wait_for_function(
            f"() => [...document.querySelectorAll('#f-pm_ids-options [data-pick]')].map(a => a.dataset.label).join() === '{name}'"
        )
        page.locator("#f-pm_ids-options [data-pick]").first.click()
        assert box.input_value() == ""
    chosen = page.locator("[data-picker-chosen] input[name=pm_ids]:checked")
    assert chosen.count() == 2
    page.screenshot(path=str(screenshots_dir / "pm-multi-picker-desktop.png"), caret="initial")

    page.fill("#f-name", "Picker porch")
    page.select_option("#f-client_id", label="Hughes Residence")  # few clients: still a select
    page.fill("#f-address", "1 Oak St")
    page.locator("[data-testid=save-project]").click()
    page.wait_for_url(re.compile(r"/projects/\d+$"), wait_until="commit")
    page.wait_for_selector("#project-detail")
    detail = page.locator("#project-detail").inner_text()
    assert "Picker Manager 07" in detail and "Tom Reyes" in detail
