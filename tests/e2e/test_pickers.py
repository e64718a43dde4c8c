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
