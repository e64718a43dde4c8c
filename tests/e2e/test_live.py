"""Live updates across browsers: a PM's new or changed project reaches every other
signed-in user entitled to see it within a second, without a reload, and nobody else;
a person added to a project team sees their bell ring live."""

import time
import uuid

import pytest

from tests.e2e.helpers import E2E_DATABASE_URL, run_sql

pytestmark = pytest.mark.e2e

LIVE_WITHIN = 1.0  # seconds, from the change being saved to the row on the other screen


def project_id(name: str) -> int:
    return run_sql(E2E_DATABASE_URL, "SELECT id FROM projects WHERE name = %s", name)[0][0]


def htmx_requests(page, path: str) -> list[str]:
    """Every htmx request `page` makes to `path` from now on."""
    seen = []
    page.on("request", lambda r: seen.append(r.url) if r.headers.get("hx-request") and path in r.url else None)
    return seen


def saved(page, click):
    """Click, and return once the POST it makes has been answered (the change is committed)."""
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        click()
    # htmx submits the form: a saved form answers 200 with the page to go to
    assert answer.value.status == 200 and answer.value.headers.get("hx-location"), answer.value.status
    return time.monotonic()


def wait_within(page, selector: str, since: float, what: str) -> float:
    remaining = LIVE_WITHIN - (time.monotonic() - since)
    assert remaining > 0, f"{what}: no time left"
    page.wait_for_selector(selector, timeout=remaining * 1000)
    elapsed = time.monotonic() - since
    assert elapsed <= LIVE_WITHIN, f"{what} took {elapsed:.2f}s"
    print(f"{what}: {elapsed * 1000:.0f} ms")
    return elapsed


def test_project_rows_arrive_live_for_those_who_may_see_them(signed_in):
    token = uuid.uuid4().hex[:6]
    name = f"Live {token} lobby mural"

    admin = signed_in("admin")
    admin.goto(f"/projects?q={token}")
    admin.wait_for_selector("body[data-live='on']", state="attached")
    assert admin.locator("#project-results tbody tr[data-project-id]").count() == 0
    admin.evaluate("window.__kibrayMarker = 'no reload'")

    # the demo client owns the Hughes jobs; this project is for Brightline Dental
    client = signed_in("client")
    client.locator("#main-nav [data-nav=projects]").click()
    client.wait_for_selector("[data-testid=project-table]")
    client_rows_before = client.locator("#project-results tbody").inner_text()
    client_fetches = htmx_requests(client, "/projects")

    pm = signed_in("project_manager_full")
    pm.goto("/projects/new")
    pm.fill("#f-name", name)
    pm.select_option("#f-client_id", label="Brightline Dental")
    pm.fill("#f-address", "2210 S Lamar Blvd")
    pm.fill("#f-start_date", "2026-06-01")
    since = saved(pm, lambda: pm.locator("[data-testid=save-project]").click())

    row = f"#project-results tr[data-project-id]:has-text('{name}')"
    wait_within(admin, row, since, "the new row")
    assert admin.locator("#project-results tbody tr[data-project-id]").count() == 1
    assert "Paula Martinez" in admin.locator(row).inner_text()

    # an edit: the changed row replaces the old one
    pm.wait_for_selector("[data-testid=edit-project]")
    pm.locator("[data-testid=edit-project]").click()
    pm.wait_for_selector("[data-testid=project-form]")
    pm.fill("#f-name", name + " and rail")
    since = saved(pm, lambda: pm.locator("[data-testid=save-project]").click())
    wait_within(admin, f"#project-results tr[data-project-id]:has-text('{name} and rail')", since, "the changed row")
    assert admin.locator("#project-results tbody tr[data-project-id]").count() == 1
    assert admin.evaluate("window.__kibrayMarker") == "no reload"

    # the client may not see that project: nothing has reached their page so far …
    assert client_fetches == [], "the client's page was told about a project of another client"
    assert client.locator("#project-results tbody").inner_text() == client_rows_before
    assert token not in client.content()

    # ...while a change to one of their own projects does reach them
    pm.goto(f"/projects/{project_id('Hughes deck stain')}/edit")
    pm.fill("#f-city", "Round Rock")
    since = saved(pm, lambda: pm.locator("[data-testid=save-project]").click())
    wait_within(
        client, "#project-results tr:has-text('Hughes deck stain'):has-text('Round Rock')", since, "the client's row"
    )
    # … and never will (no fixed wait to prove it): events reach a page in the order they
    # were sent, so the events about the other client's project would have come before this
    # one. The client's page fetched its list once, for this change only.
    assert len(client_fetches) == 1, client_fetches
    assert token not in client.content()


def test_notification_bell_rings_live(signed_in):
    project = "Hughes deck stain"  # the demo designer is not on its team
    designer = signed_in("designer")
    designer.wait_for_selector("[data-testid=bell]", state="attached")  # the bell fragment, loaded after the page
    count = designer.locator("[data-testid=bell-count]")
    before = int(count.inner_text()) if count.count() else 0

    admin = signed_in("admin")
    admin.goto(f"/admin/projects/{project_id(project)}/team")
    admin.select_option("[data-testid=member-select]", label="Diana Cole (Designer)")
    since = saved(admin, lambda: admin.locator("[data-testid=add-member]").click())
    remaining = LIVE_WITHIN - (time.monotonic() - since)
    designer.wait_for_function(
        "n => (document.querySelector('[data-testid=bell-count]') || {}).textContent === String(n)",
        arg=before + 1,
        timeout=max(remaining, 0.01) * 1000,
    )
    elapsed = time.monotonic() - since
    assert elapsed <= LIVE_WITHIN, f"the bell took {elapsed:.2f}s"
    print(f"the bell: {elapsed * 1000:.0f} ms")
    admin.wait_for_selector("[data-testid=team-list] li:has-text('Diana Cole')")

    # the bell lists it; opening it marks it read and leads to the project
    designer.locator("[data-testid=bell] summary").click()
    item = designer.locator("[data-testid=bell-item]", has_text=f"You were added to project {project}")
    assert item.is_visible()
    item.click()
    designer.wait_for_selector("#project-detail")
    assert designer.locator("#project-detail h1").inner_text() == project
    designer.wait_for_function(
        "n => ((document.querySelector('[data-testid=bell-count]') || {}).textContent || '0') === String(n)", arg=before
    )

    # the notifications page: "mark all read" leaves the page whole
    designer.locator("#main-nav [data-nav=notifications]").click()
    designer.wait_for_selector("[data-testid=read-all]")
    with designer.expect_navigation():
        designer.locator("[data-testid=read-all]").click()
    assert designer.locator("main h1").inner_text() == "Notifications"
    assert designer.locator("header.topbar #main-nav").count() == 1
