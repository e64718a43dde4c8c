"""The calendar subscription page in a real browser (issue 11): a PM gets their URL,
a calendar app's fetch of it answers the feed, "New URL" replaces it (the old one then
answers 404), a project's feed is added from the list; screenshots at phone and desktop
widths (screenshots/, not committed), nothing wider than the screen."""

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import DESKTOP, PHONE, login

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_a_pm_subscribes_renews_and_adds_a_project(browser_page, screenshots_dir, size):
    page = browser_page(viewport=PHONE if size == "phone" else DESKTOP, label=f"feeds-{size}")
    login(page, "pm", live=False)
    page.locator("details.usermenu summary").click()
    page.locator("[data-testid=menu-calendar-feed]").click()
    page.wait_for_url("**/account/calendar")
    if page.locator("[data-testid=feed-create]").count():
        page.locator("[data-testid=feed-create]").click()
    url_box = page.locator("[data-testid=feed-mine] [data-testid=feed-url]")
    first = url_box.input_value()
    assert first.endswith(".ics")
    answer = page.request.get(first)
    assert answer.status == 200 and answer.headers["content-type"].startswith("text/calendar")
    assert "BEGIN:VCALENDAR" in answer.text() and "BEGIN:VEVENT" in answer.text()
    overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than the {size} screen"
    page.evaluate("window.scrollTo(0, 0)")  # else the sticky top bar floats mid-page
    page.screenshot(path=str(screenshots_dir / f"calendar-subscription-{size}.png"), full_page=True, caret="initial")

    page.locator("[data-testid=feed-mine] [data-testid=feed-regenerate]").click()
    expect(url_box).not_to_have_value(first)
    second = url_box.input_value()
    assert second != first
    assert page.request.get(first).status == 404
    assert page.request.get(second).status == 200

    form = page.locator("[data-testid=feed-project-form]")
    form.locator("select").select_option(label="Lakeview clubhouse exterior")
    form.locator("button").click()
    project_feed = page.locator("[data-testid=feed-project]")
    expect(project_feed).to_have_count(1)
    expect(page.locator("main h3", has_text="Lakeview clubhouse exterior")).to_be_visible()
    assert page.request.get(project_feed.locator("[data-testid=feed-url]").input_value()).status == 200
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(
        path=str(screenshots_dir / f"calendar-subscription-project-{size}.png"), full_page=True, caret="initial"
    )
    # stop it again: the next run (the other screen size) adds it from the list the same way
    project_feed.locator("[data-testid=feed-revoke]").click()
    expect(project_feed).to_have_count(0)
