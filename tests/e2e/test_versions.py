"""Lost updates in a real browser: Kim (admin) and Paula (PM) open the same project form;
Kim saves first; Paula's save comes back in place (an htmx swap) saying who changed it
and when, with Kim's values beside hers — and her second save goes through."""

import re
import uuid

import pytest

from tests.e2e.helpers import E2E_DATABASE_URL, run_sql

pytestmark = pytest.mark.e2e


def stored(name: str):
    return run_sql(E2E_DATABASE_URL, "SELECT city, budget, version FROM projects WHERE name = %s", name)[0]


def test_a_stale_form_shows_what_changed_meanwhile_and_saves_on_the_second_submit(signed_in, problems):
    name = f"Brightline hallway {uuid.uuid4().hex[:6]}"
    kim = signed_in("admin", live=False)
    kim.goto("/projects/new")
    kim.fill("#f-name", name)
    kim.select_option("#f-client_id", label="Brightline Dental")
    kim.fill("#f-address", "2210 S Lamar Blvd")
    kim.fill("#f-city", "Austin")
    kim.fill("#f-budget", "12000")
    kim.select_option("#f-pm_ids", label="Paula Martinez (Project manager)")
    kim.locator("[data-testid=save-project]").click()
    kim.wait_for_url(re.compile(r"/projects/\d+$"), wait_until="commit")
    project_id = re.search(r"/projects/(\d+)$", kim.url).group(1)

    paula = signed_in("project_manager_full", live=False)
    paula.goto(f"/projects/{project_id}/edit")
    kim.goto(f"/projects/{project_id}/edit")
    assert paula.locator("input[name=version]").input_value() == "1"

    kim.fill("#f-budget", "14500")
    kim.locator("[data-testid=save-project]").click()
    kim.wait_for_url(re.compile(r"/projects/\d+$"), wait_until="commit")
    assert stored(name)[2] == 2

    paula.evaluate("window.__kibrayMarker = 'no reload'")
    paula.fill("#f-city", "Round Rock")
    problems.expect(409, f"/projects/{project_id}/edit")
    with paula.expect_response(lambda r: r.request.method == "POST") as posted:
        paula.locator("[data-testid=save-project]").click()
    assert posted.value.status == 409
    notice = paula.locator("[data-testid=changed-meanwhile]")
    notice.wait_for()
    assert re.search(
        r"Changed by Kim Bray at \w{3} \d{1,2}, \d{4} \d{1,2}:\d\d [AP]M \w+ — review and save again",
        notice.inner_text(),
    )
    budget_row = notice.locator("tr:has(th:text-is('Budget'))")
    assert budget_row.locator("[data-testid=saved-value]").inner_text() == "$14,500.00"
    assert budget_row.locator("[data-testid=typed-value]").inner_text() == "$12,000.00"
    assert paula.evaluate("window.__kibrayMarker") == "no reload", "the form was swapped in place"
    assert paula.locator("#f-city").input_value() == "Round Rock", "what she typed is kept"
    assert paula.locator("input[name=version]").input_value() == "2"
    city, budget, version = stored(name)
    assert (city, str(budget), version) == ("Austin", "14500.00", 2), "nothing of hers was written"

    # she keeps Kim's budget and saves again: this time it goes through
    paula.fill("#f-budget", "14500")
    paula.locator("[data-testid=save-project]").click()
    paula.wait_for_url(re.compile(r"/projects/\d+$"), wait_until="commit")
    paula.wait_for_selector("#project-detail")
    city, budget, version = stored(name)
    assert (city, str(budget), version) == ("Round Rock", "14500.00", 3)
