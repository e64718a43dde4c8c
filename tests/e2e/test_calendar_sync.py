"""Two-way calendar sync in a real browser (issue 11), with a real RQ worker and a real
CalDAV server (Radicale): a PM connects their calendar with the server's URL, the
first sync runs with its progress shown, "Sync now" runs again, and the number of
items synced is what the calendar holds; screenshots at phone and desktop widths."""

from __future__ import annotations

import subprocess
import uuid

import caldav
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import BIN, _free_port, _server_env
from tests.e2e.helpers import DESKTOP, PASSWORD, PHONE, ROOT, login
from tests.radicale import radicale  # noqa: F401 - the fixture

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def worker(server, tmp_path_factory):
    """`python -m workers` on the browser server's database and Redis."""
    log = tmp_path_factory.mktemp("worker") / "worker.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [str(BIN / "python"), "-m", "workers"], cwd=ROOT, env=_server_env(_free_port()), stdout=sink, stderr=sink
        )
    yield log
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture()
def remote(radicale):  # noqa: F811
    phone = caldav.DAVClient(url=radicale.url, username=radicale.username, password=radicale.password)
    for old in phone.principal().calendars():  # the user's only calendar: no choice to make
        old.delete()
    made = phone.principal().make_calendar(name=f"Work {uuid.uuid4().hex[:4]}")
    yield radicale, made
    made.delete()


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_a_pm_connects_a_calendar_and_syncs_it_now(browser_page, screenshots_dir, worker, remote, size):
    server, calendar = remote
    page = browser_page(viewport=PHONE if size == "phone" else DESKTOP, label=f"caldav-{size}")
    login(page, "pm", live=False)
    page.goto("/account/calendar")
    for button in page.locator("[data-testid=disconnect]").all():  # (the other width's run)
        page.once("dialog", lambda dialog: dialog.accept())
        button.click()
        page.wait_for_load_state("networkidle")
    page.goto("/account/calendar")
    form = page.locator("[data-testid=connect-form]")
    form.locator("[data-testid=provider]").select_option("caldav")
    form.locator("[data-testid=server-url]").fill(server.url)
    form.locator("[data-testid=username]").fill(server.username)
    form.locator("[data-testid=password]").fill(server.password)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(screenshots_dir / f"calendar-connect-{size}.png"), full_page=True, caret="initial")
    form.locator("[data-testid=connect-submit]").click()

    account = page.locator("[data-testid=caldav-account]")
    expect(account).to_contain_text(calendar.name)
    state = account.locator("[data-testid=account-state]")
    expect(state).to_have_attribute("data-status", "ok", timeout=60_000)  # the first sync, polled
    synced = state.locator("[data-testid=items-synced]")
    expect(synced).not_to_have_text("0 items synced")
    count = int(synced.inner_text().split()[0])
    assert count == len(calendar.events()) > 0  # what the calendar holds

    account.locator("[data-testid=sync-now]").click()
    expect(state).to_have_attribute("data-status", "running")  # the progress indicator
    expect(state.locator("progress")).to_be_visible()
    expect(state).to_have_attribute("data-status", "ok", timeout=60_000)
    expect(synced).to_have_text(f"{count} items synced")

    overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than the {size} screen"
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(screenshots_dir / f"calendar-sync-{size}.png"), full_page=True, caret="initial")


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_the_admin_sees_every_calendar_account(browser_page, screenshots_dir, remote, size):
    server, calendar = remote
    page = browser_page(viewport=PHONE if size == "phone" else DESKTOP, label=f"caldav-ops-{size}")
    signed_in = page.request.post("/api/auth/login/", data={"username": "pm", "password": PASSWORD})
    token = signed_in.json()["data"]["access_token"]
    connected = page.request.post(
        "/api/calendar/accounts/",
        data={"server_url": server.url, "username": server.username, "password": server.password},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert connected.status == 201, connected.text()
    login(page, "admin", live=False)
    page.goto("/admin/calendar-sync")
    rows = page.locator("[data-testid=sync-operations-row]")
    row = rows.filter(has_text=calendar.name)
    expect(row).to_contain_text("Paula Martinez")
    expect(row).to_contain_text(server.url)
    overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than the {size} screen"
    page.screenshot(path=str(screenshots_dir / f"calendar-sync-operations-{size}.png"), full_page=True, caret="initial")
