"""The projects slice in a real browser: the form's inline validation (an htmx swap,
not a page load), and the list's search-as-you-type, filter, sort and pagination,
each a fragment swap kept in the browser history."""

import re
import uuid

import pytest
import requests

from tests.e2e.helpers import E2E_DATABASE_URL, PASSWORD, run_sql

pytestmark = pytest.mark.e2e


def rows(page) -> list[str]:
    return page.locator("#project-results tbody tr[data-project-id] td:first-child a").all_inner_texts()


def test_create_project_fixing_validation_errors_inline(signed_in, problems):
    page = signed_in("project_manager_full")
    page.locator("#main-nav [data-nav=projects]").click()
    page.locator("[data-testid=new-project]").click()
    page.wait_for_selector("[data-testid=project-form]")
    assert page.url.endswith("/projects/new")
    assert page.locator("header.topbar").is_visible(), "the boosted form page keeps the layout"
    page.evaluate("window.__kibrayMarker = 'no reload'")

    page.fill("#f-name", "brightline  LOBBY refresh")  # already taken by this client (names are per client)
    page.select_option("#f-client_id", label="Brightline Dental")
    page.fill("#f-address", "2210 S Lamar Blvd")
    page.fill("#f-city", "Austin")
    page.fill("#f-start_date", "2026-05-10")
    page.fill("#f-end_date", "2026-05-01")  # before the start
    problems.expect(422, "/projects")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.locator("[data-testid=save-project]").click()
    assert posted.value.status == 422
    name_error = page.locator(".field:has(#f-name) [data-error-for=name]")
    end_error = page.locator(".field:has(#f-end_date) [data-error-for=end_date]")
    name_error.wait_for()
    assert "already has a project named" in name_error.inner_text()
    assert "before the start date" in end_error.inner_text()
    assert page.locator("[data-error-for]").count() == 2, "only the two wrong fields are flagged"
    assert page.url.endswith("/projects/new"), "the URL did not change"
    assert page.evaluate("window.__kibrayMarker") == "no reload", "no full page load"
    # what was typed is kept
    assert page.locator("#f-address").input_value() == "2210 S Lamar Blvd"
    assert page.locator("#f-client_id option:checked").inner_text() == "Brightline Dental"
    assert page.locator("#f-name").get_attribute("aria-invalid") == "true"
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'f-name'")

    name = f"Brightline parking stripes {uuid.uuid4().hex[:6]}"
    page.fill("#f-name", name)
    page.fill("#f-end_date", "2026-05-20")
    page.locator("[data-testid=save-project]").click()
    page.wait_for_url(re.compile(r"/projects/\d+$"), wait_until="commit")
    page.wait_for_selector("#project-detail")
    assert page.locator("#project-detail h1").inner_text() == name
    assert f"Project {name} created." in page.locator("#flashes").inner_text()
    assert page.evaluate("window.__kibrayMarker") == "no reload"
    # the PM who created it is on its team and it is stored once
    assert "Paula Martinez" in page.locator("#project-detail .card:has(h2:text-is('Team'))").inner_text()
    assert run_sql_count(name) == 1


def run_sql_count(name):
    return run_sql(E2E_DATABASE_URL, "SELECT count(*) FROM projects WHERE name = %s", name)[0][0]


def test_list_search_filter_sort_and_back_button(signed_in):
    page = signed_in("admin")
    page.locator("#main-nav [data-nav=projects]").click()
    page.wait_for_selector("[data-testid=project-table]")
    page.evaluate("window.__kibrayMarker = 'no reload'")

    # search as you type: the results swap and the URL follows (the other tests add
    # projects for other clients only: "lakeview" finds the two demo jobs)
    page.locator("#q").press_sequentially("lakeview", delay=40)
    page.wait_for_url("**/projects?*q=lakeview*")
    page.wait_for_function("() => document.querySelectorAll('#project-results tbody tr[data-project-id]').length === 1")
    assert rows(page) == ["Lakeview clubhouse exterior"]  # the closed fence job is archived

    # filter: the archive shows too
    page.select_option("select[name=status]", "all")
    page.wait_for_url("**status=all*")
    page.wait_for_function("() => document.querySelectorAll('#project-results tbody tr[data-project-id]').length === 2")
    assert rows(page) == ["Lakeview clubhouse exterior", "Lakeview fence staining 2025"]

    # sort: the name column again turns it descending
    page.locator("#project-results th a.sort", has_text="Project").click()
    page.wait_for_url("**dir=desc*")
    page.wait_for_selector("#project-results th[aria-sort=descending] a.sort")
    assert rows(page) == ["Lakeview fence staining 2025", "Lakeview clubhouse exterior"]
    assert "q=lakeview" in page.url and "status=all" in page.url, "sorting keeps the filters"

    # filter by PM: the trainee is on the clubhouse team only; the sort order is kept
    page.select_option("select[name=pm]", label="Tom Reyes")
    page.wait_for_url(re.compile(r"pm=\d"))
    page.wait_for_function("() => document.querySelectorAll('#project-results tbody tr[data-project-id]').length === 1")
    assert rows(page) == ["Lakeview clubhouse exterior"]
    assert "dir=desc" in page.url, "filtering keeps the sort order"

    # back restores each earlier state, without a page load
    page.go_back()
    page.wait_for_url(lambda url: not re.search(r"pm=\d", url))
    page.wait_for_function("() => document.querySelectorAll('#project-results tbody tr[data-project-id]').length === 2")
    assert rows(page) == ["Lakeview fence staining 2025", "Lakeview clubhouse exterior"]
    assert page.locator("select[name=pm]").input_value() == ""
    page.go_back()
    page.wait_for_url(lambda url: "dir=desc" not in url)
    page.wait_for_selector("#project-results th[aria-sort=ascending] a.sort")
    assert rows(page) == ["Lakeview clubhouse exterior", "Lakeview fence staining 2025"]
    page.go_back()
    page.wait_for_url(lambda url: "status=all" not in url and "q=lakeview" in url)
    page.wait_for_function("() => document.querySelectorAll('#project-results tbody tr[data-project-id]').length === 1")
    assert page.locator("#q").input_value() == "lakeview"
    assert page.locator("select[name=status]").input_value() == ""
    assert page.evaluate("window.__kibrayMarker") == "no reload"


def test_pagination_and_back(server, signed_in):
    token = uuid.uuid4().hex[:6]
    api = requests.Session()
    login = api.post(f"{server}/api/auth/login/", json={"username": "admin", "password": PASSWORD}, timeout=10)
    assert login.status_code == 200, login.text
    api.headers["Authorization"] = "Bearer " + login.json()["data"]["access_token"]
    client_id = api.get(f"{server}/api/clients/", params={"search": "Brightline"}, timeout=10).json()["data"][
        "results"
    ][0]["id"]
    for i in range(30):
        created = api.post(
            f"{server}/api/projects/",
            json={"name": f"Pager {token} {i:02d}", "client_id": client_id, "location": {"address": f"{i} Pager St"}},
            timeout=10,
        )
        assert created.status_code == 201, created.text

    page = signed_in("admin", live=False)
    page.goto(f"/projects?q=pager+{token}")
    assert rows(page)[0] == f"Pager {token} 00" and len(rows(page)) == 25
    pager = page.locator("#project-results .pager")
    assert "Page 1 of 2 · 30 total" in pager.inner_text()
    page.evaluate("window.__kibrayMarker = 'no reload'")

    pager.locator("a[rel=next]").click()
    page.wait_for_url("**page=2*")
    page.wait_for_selector("text=Page 2 of 2")
    assert rows(page) == [f"Pager {token} {i:02d}" for i in range(25, 30)]

    page.go_back()
    page.wait_for_url(lambda url: "page=2" not in url)
    page.wait_for_selector("text=Page 1 of 2")
    assert len(rows(page)) == 25
    page.go_forward()
    page.wait_for_selector("text=Page 2 of 2")
    assert len(rows(page)) == 5
    assert page.evaluate("window.__kibrayMarker") == "no reload"
