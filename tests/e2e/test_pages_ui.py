"""Pages in a real browser: the phone menu by keyboard (and without JavaScript), a
project deleted while someone has it open, "Add a client first" keeping the form, the
phone sort links, and the way back from the jobs dashboard."""

import re
import uuid

import pytest
import requests

from tests.e2e.helpers import DESKTOP, E2E_DATABASE_URL, PASSWORD, PHONE, run_sql

pytestmark = pytest.mark.e2e


def api_session(server, username="admin"):
    api = requests.Session()
    login = api.post(f"{server}/api/auth/login/", json={"username": username, "password": PASSWORD}, timeout=10)
    assert login.status_code == 200, login.text
    api.headers["Authorization"] = "Bearer " + login.json()["data"]["access_token"]
    return api


def user_id(username: str) -> int:
    return run_sql(E2E_DATABASE_URL, "SELECT id FROM users WHERE username = %s", username)[0][0]


def test_phone_menu_by_keyboard(signed_in):
    page = signed_in("project_manager_full", viewport=PHONE)
    nav = page.locator("#main-nav")
    button = page.get_by_role("button", name="Menu")
    assert button.get_attribute("aria-controls") == "main-nav"
    assert button.get_attribute("aria-expanded") == "false" and not nav.is_visible()
    page.evaluate("document.activeElement && document.activeElement.blur()")
    for _ in range(6):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.hasAttribute('data-nav-toggle')"):
            break
    else:
        pytest.fail("Tab never reached the menu button")
    page.keyboard.press("Enter")
    assert nav.is_visible() and button.get_attribute("aria-expanded") == "true"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('#main-nav') !== null"), "the links come next"
    page.keyboard.press("Escape")
    assert not nav.is_visible() and button.get_attribute("aria-expanded") == "false"
    assert page.evaluate("document.activeElement.hasAttribute('data-nav-toggle')"), "focus returns to the button"


def test_phone_menu_without_javascript_shows_the_navigation(browser, server):
    context = browser.new_context(base_url=server, viewport=PHONE, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto("/login")
        page.fill("#username", "pm")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(lambda url: "/login" not in url)
        assert page.locator("#main-nav [data-nav=projects]").is_visible()
        assert not page.locator("[data-nav-toggle]").is_visible()
    finally:
        context.close()


def test_a_project_deleted_while_open_shows_a_notice_not_a_page_in_the_page(server, signed_in, problems):
    api = api_session(server)
    client_id = api.get(f"{server}/api/clients/", params={"search": "Brightline"}, timeout=10).json()["data"][
        "results"
    ][0]["id"]
    name = f"Gone {uuid.uuid4().hex[:6]} stairwell"
    created = api.post(
        f"{server}/api/projects/",
        json={
            "name": name,
            "client_id": client_id,
            "location": {"address": "1 Stair St"},
            "assigned_pm_ids": [user_id("pm")],
        },
        timeout=10,
    )
    assert created.status_code == 201, created.text
    project_id = created.json()["data"]["id"]

    pm = signed_in("project_manager_full")
    pm.goto(f"/projects/{project_id}")
    pm.wait_for_selector("#project-detail")
    pm.wait_for_selector("body[data-live='on']", state="attached")
    problems.expect(404, f"/projects/{project_id}")

    admin = signed_in("admin", live=False)
    admin.goto(f"/projects/{project_id}")
    admin.on("dialog", lambda dialog: dialog.accept())
    admin.locator("[data-testid=delete-project]").click()
    admin.wait_for_url(re.compile(r"/projects(\?.*)?$"))

    notice = pm.locator("[data-testid=notice]")
    notice.wait_for(timeout=5_000)
    assert "This project was deleted or is no longer available to you." in notice.inner_text()
    assert notice.locator("a").get_attribute("href") == "/projects"
    assert pm.locator("header.topbar").count() == 1, "exactly one top bar"
    assert pm.locator("footer").count() == 1
    assert pm.locator(".error-page").count() == 0
    assert pm.locator("#project-detail").count() == 0
    notice.locator("a").click()
    pm.wait_for_selector("[data-testid=project-table]")


def test_add_a_client_first_keeps_the_new_project_form(signed_in):
    page = signed_in("project_manager_full", live=False)
    page.goto("/projects/new")
    page.evaluate("window.__kibrayMarker = 'no reload'")
    name = f"Oakridge {uuid.uuid4().hex[:6]} sanctuary"
    page.fill("#f-name", name)
    page.fill("#f-address", "400 Church Rd")
    page.fill("#f-start_date", "2026-07-01")
    page.fill("#f-description", "Sanctuary walls, two coats")
    page.locator("[data-testid=add-client-first]").click()
    page.wait_for_url("**/clients/new?*")
    assert page.locator("[data-testid=draft-kept]").is_visible()
    client_name = f"Oakridge Church {uuid.uuid4().hex[:4]}"
    page.fill("#f-name", client_name)
    page.locator("[data-testid=client-form] button[type=submit]").click()
    page.wait_for_url(re.compile(r"/projects/new\?"))
    page.wait_for_selector("[data-testid=project-form]")
    assert page.locator("#f-name").input_value() == name
    assert page.locator("#f-address").input_value() == "400 Church Rd"
    assert page.locator("#f-start_date").input_value() == "2026-07-01"
    assert page.locator("#f-description").input_value() == "Sanctuary walls, two coats"
    assert page.locator("#f-client_id option:checked").inner_text() == client_name
    assert page.evaluate("window.__kibrayMarker") == "no reload", "htmx carried it, no full page load"
    page.locator("[data-testid=save-project]").click()
    page.wait_for_url(re.compile(r"/projects/\d+$"), wait_until="commit")
    page.wait_for_selector("#project-detail")
    assert page.locator("#project-detail h1").inner_text() == name


def test_phones_sort_the_project_list_with_links(signed_in):
    page = signed_in("admin", viewport=PHONE, live=False)
    page.goto("/projects?status=all")
    bar = page.locator("[data-testid=phone-sort]")
    assert bar.is_visible()
    assert not page.locator("#project-results thead").is_visible()
    bar.locator("a", has_text="Client").click()
    page.wait_for_url("**sort=client*")
    page.wait_for_selector("[data-testid=phone-sort] a[aria-current=true]:has-text('Client')")
    clients = page.locator("#project-results tbody td[data-label=Client]").all_inner_texts()
    assert clients == sorted(clients, key=str.casefold)
    page.set_viewport_size(DESKTOP)
    assert not bar.is_visible() and page.locator("#project-results th[aria-sort=ascending]").is_visible()


def test_the_jobs_dashboard_leads_back_to_the_app(signed_in, problems):
    page = signed_in("admin", live=False)
    problems.expect(404, "/static/favicon.ico")  # rq-dashboard links a favicon nobody ships
    page.goto("/admin/rq/")
    page.wait_for_selector("#queues tbody tr")  # its own scripts still run
    assert page.locator("[data-testid=kibray-bar] [data-nav=projects]").is_visible()
    page.locator("[data-testid=back-to-app]").click()
    page.wait_for_url(lambda url: url.rstrip("/").endswith(":" + url.split(":")[2].split("/")[0]))
    assert "Good to see you" in page.locator("main h1").inner_text()
