"""Progress billing in the browser (issue 13).

A PM opens a project's billing (the project came from an approved estimate, so it has a
contract value), starts the schedule of values from the estimate's lines, enters a pay
application typing a per cent on one line and an amount on another while the totals
update live (htmx, nothing saved), saves, certifies and downloads the PDF, which holds
the current payment due (read with pypdf). The client then finds it in their portal.
Every progress billing page is photographed at 390 and 1280 px wide (screenshots/),
nothing wider than the screen."""

from __future__ import annotations

import io
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
import requests
from pypdf import PdfReader

from tests.e2e.helpers import E2E_DATABASE_URL, PASSWORD, login, run_sql
from tests.e2e.test_screenshots import WIDE

pytestmark = pytest.mark.e2e

PHONE_390 = {"width": 390, "height": 844}
DESKTOP_1280 = {"width": 1280, "height": 800}
SIZES = {"phone": PHONE_390, "desktop": DESKTOP_1280}
LIVE_WAIT = 5_000


def _headers(server, username="pm"):
    answer = requests.post(f"{server}/api/auth/login/", json={"username": username, "password": PASSWORD}, timeout=10)
    answer.raise_for_status()
    return {"Authorization": "Bearer " + answer.json()["data"]["access_token"]}


def _project_from_an_estimate(server) -> tuple[int, str]:
    """The demo PM's estimate for the demo client (markup 10 %: 3,080.00 + 1,540.00 =
    4,620.00), sent and approved on the client's behalf: a project with that contract
    value and the estimate's lines to start the schedule from. Its id and name."""
    headers = _headers(server)
    client_id = run_sql(E2E_DATABASE_URL, "SELECT id FROM clients WHERE name = 'Hughes Residence'")[0][0]
    title = f"Deck and railings {uuid.uuid4().hex[:6]}"
    made = requests.post(
        f"{server}/api/estimates/",
        json={"client_id": client_id, "title": title, "address": "1402 Cedar Bend Dr", "markup_pct": "10",
              "lines": [{"surface": "other", "description": "Deck boards, sand and stain", "quantity": "1",
                         "unit_price": "2800.00"},
                        {"surface": "other", "description": "Railings and steps", "quantity": "1",
                         "unit_price": "1400.00"}]},
        headers=headers, timeout=10,
    )  # fmt: skip
    assert made.status_code == 201, made.text
    estimate = made.json()["data"]
    sent = requests.post(f"{server}/api/estimates/{estimate['id']}/send/", headers=headers, timeout=10)
    assert sent.status_code == 200, sent.text
    approved = requests.post(f"{server}/api/estimates/{estimate['id']}/approve/", headers=headers, timeout=10,
                             json={"on_behalf_reason": "Signed on paper at the site visit"})  # fmt: skip
    assert approved.status_code == 200, approved.text
    project = approved.json()["data"]["project"]
    value = run_sql(E2E_DATABASE_URL, "SELECT contract_value FROM projects WHERE id = %s", project["id"])[0][0]
    assert value == Decimal("4620.00")
    return project["id"], project["name"]


def _check_and_shoot(page, screenshots_dir, name: str, size: str) -> None:
    page.wait_for_load_state("networkidle")
    overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{name}: the page is {overflow}px wider than the {size} screen: {page.evaluate(WIDE)}"
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(screenshots_dir / f"billing-{name}-{size}.png"), full_page=True, caret="initial")


def _pdf_text(data: bytes) -> str:
    assert data[:5] == b"%PDF-", "a PDF"
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_a_pm_enters_a_pay_application_sees_the_totals_live_certifies_and_downloads_its_pdf(
    signed_in, server, screenshots_dir, problems
):
    project_id, project_name = _project_from_an_estimate(server)
    pm = signed_in("pm", viewport=DESKTOP_1280)
    pm.goto(f"/projects/{project_id}")
    pm.get_by_test_id("progress-billing-card").get_by_role("link").click()
    pm.wait_for_selector("[data-testid=sov-unbalanced]")  # no schedule yet: 4,620.00 to place
    assert "4,620.00" in pm.get_by_test_id("sov-unbalanced").inner_text()

    # the schedule of values from the estimate's lines (at their prices, summing to the contract)
    pm.get_by_test_id("edit-sov").click()
    pm.get_by_test_id("sov-from-estimate").click()
    descriptions = pm.locator("input[name=line_description]")
    pm.wait_for_function("() => document.querySelector('input[name=line_description]').value !== ''")
    assert descriptions.nth(0).input_value() == "Deck boards, sand and stain"
    assert pm.locator("input[name=line_scheduled_value]").nth(1).input_value() == "1540.00"
    pm.get_by_test_id("save-sov").click()
    pm.wait_for_selector("[data-testid=sov-summary]")
    assert pm.locator("[data-testid=sov-unbalanced]").count() == 0
    assert "2 lines" in pm.get_by_test_id("sov-summary").inner_text()

    # a pay application: a per cent on line 2, then an amount on line 1, the totals live
    pm.get_by_test_id("new-pay-application").click()
    pm.wait_for_selector("[data-testid=pay-application-form]")
    lines = pm.get_by_test_id("pay-line")
    assert lines.count() == 2
    pm.evaluate("window.__kibrayNoReload = true")
    lines.nth(1).get_by_test_id("this-period-pct").fill("50")
    pm.wait_for_function(
        "() => document.querySelector('[data-testid=line-8]').textContent.includes('693.00')", timeout=LIVE_WAIT
    )  # 50 % of 1,540.00 = 770.00 less 10 % retainage
    assert "770.00" in pm.get_by_test_id("line-4").inner_text()
    lines.nth(0).get_by_test_id("this-period").fill("924.00")
    pm.wait_for_function(
        "() => document.querySelector('[data-testid=line-8]').textContent.includes('1,524.60')", timeout=LIVE_WAIT
    )  # (924.00 + 770.00) less 169.40
    assert "169.40" in pm.get_by_test_id("line-5").inner_text()
    assert pm.evaluate("window.__kibrayNoReload") is True, "the totals came without reloading the page"
    assert (
        run_sql(E2E_DATABASE_URL, "SELECT count(*) FROM pay_applications WHERE project_id = %s", project_id)[0][0] == 0
    ), "typing writes nothing"
    _check_and_shoot(pm, screenshots_dir, "pay-application-typed", "desktop")

    pm.get_by_test_id("save-pay-application").click()
    pm.wait_for_selector("[data-testid=g702]")
    assert pm.get_by_test_id("pay-status").inner_text() == "Draft"
    assert "1,524.60" in pm.get_by_test_id("g702-8").inner_text()
    pm.get_by_test_id("certify").click()
    pm.wait_for_function("() => document.querySelector('[data-testid=pay-status]').textContent.trim() === 'Certified'")
    number = run_sql(E2E_DATABASE_URL, "SELECT number, invoice_id FROM pay_applications WHERE project_id = %s",
                     project_id)  # fmt: skip
    assert len(number) == 1 and number[0][0].startswith("PA-") and number[0][1] is not None
    number = number[0][0]
    assert number in pm.locator("h1").inner_text()
    assert pm.get_by_test_id("pay-invoice").count() == 1  # its draft invoice for the payment due

    with pm.expect_download() as download:
        pm.get_by_test_id("pay-pdf").click()
    text = _pdf_text(Path(download.value.path()).read_bytes())
    assert number in text and project_name in text
    assert "8. Current payment due (6 − 7)" in text
    due = text.split("8. Current payment due (6 − 7)", 1)[1].split("9.", 1)[0]
    assert "1,524.60" in due, due
    for figure in ("4,620.00", "1,694.00", "169.40", "3,095.40"):  # lines 3, 4, 5 and 9 (3 − 6)
        assert figure in text, figure

    # the client finds it in their portal, the PDF with it
    owner = signed_in("client", viewport=PHONE_390)
    owner.goto("/")
    row = owner.locator(
        f"[data-project-id='{project_id}'] [data-testid=portal-pay-application]", has_text=number
    )  # fmt: skip
    row.wait_for()
    assert "1,524.60" in row.inner_text()
    with owner.expect_download() as download:
        row.get_by_test_id("portal-pay-pdf").click()
    assert "1,524.60" in _pdf_text(Path(download.value.path()).read_bytes())
    _check_and_shoot(owner, screenshots_dir, "portal", "phone")


@pytest.mark.parametrize("size", list(SIZES))
def test_every_progress_billing_page_fits_the_phone_and_the_desktop(
    browser_page, server, screenshots_dir, problems, size
):
    """The billing page, the schedule (and from the estimate), the terms refused, a new pay
    application and one refused, a draft, a certified one, the release refused; the
    client's billing page, application and portal."""
    project_id, _ = _project_from_an_estimate(server)
    headers = _headers(server)
    schedule = requests.get(f"{server}/api/financials/schedule-of-values/{project_id}/", headers=headers, timeout=10)
    long_words = "Surface preparation, pressure washing, sanding and spot-priming of every board"
    saved = requests.put(
        f"{server}/api/financials/schedule-of-values/{project_id}/",
        json={"version": schedule.json()["data"]["version"],
              "lines": [{"description": long_words, "scheduled_value": "1620.00"},
                        {"description": "Stain, two coats", "scheduled_value": "2500.00", "retainage_pct": "5"},
                        {"description": "Railings", "scheduled_value": "500.00"}]},
        headers=headers, timeout=10,
    )  # fmt: skip
    assert saved.status_code == 200, saved.text
    line_ids = [li["id"] for li in saved.json()["data"]["lines"]]
    api = f"{server}/api/financials/pay-applications/"
    first = requests.post(
        api,
        json={"project_id": project_id, "period_to": "2026-03-31", "notes": "Checked with the owner on site",
              "lines": [{"sov_line_id": line_ids[0], "this_period": "1620.00"},
                        {"sov_line_id": line_ids[1], "this_period_pct": "40", "materials_stored": "300.00"}]},
        headers=headers, timeout=10,
    ).json()["data"]  # fmt: skip
    requests.post(f"{api}{first['id']}/certify/", headers=headers, timeout=10).raise_for_status()
    draft = requests.post(
        api,
        json={"project_id": project_id, "period_to": "2026-04-30",
              "lines": [{"sov_line_id": line_ids[1], "this_period": "700.00"}]},
        headers=headers, timeout=10,
    ).json()["data"]  # fmt: skip

    page = browser_page(viewport=SIZES[size], label=f"{size}-pm")
    login(page, "pm", live=False)
    for name, path in [
        ("billing", f"/projects/{project_id}/billing"),
        ("schedule", f"/projects/{project_id}/billing/schedule"),
        ("schedule-from-estimate", f"/projects/{project_id}/billing/schedule?from=estimate"),
        ("certified", f"/pay-applications/{first['id']}"),
        ("draft", f"/pay-applications/{draft['id']}"),
        ("draft-edit", f"/pay-applications/{draft['id']}/edit"),
    ]:
        page.goto(path)
        _check_and_shoot(page, screenshots_dir, name, size)

    # refused, inline: more than 100 % of a line (the live totals say so before saving)
    problems.expect(422, f"/pay-applications/{draft['id']}/edit")
    page.goto(f"/pay-applications/{draft['id']}/edit")
    page.get_by_test_id("pay-line").nth(2).get_by_test_id("this-period").fill("900.00")
    page.wait_for_selector("[data-testid=line-problems]", timeout=LIVE_WAIT)
    page.get_by_test_id("save-pay-application").click()
    page.wait_for_selector("[data-testid=form-errors]")
    assert "more than 100 %" in page.get_by_test_id("form-errors").inner_text()
    _check_and_shoot(page, screenshots_dir, "pay-application-refused", size)

    # the terms: a step-down at 150 % complete is refused on its own page
    problems.expect(422, f"/projects/{project_id}/billing/terms")
    page.goto(f"/projects/{project_id}/billing")
    terms = page.get_by_test_id("terms-form")
    terms.locator("input[name=step_down_at_pct]").fill("150")
    terms.locator("input[name=step_down_pct]").fill("5")
    terms.get_by_role("button").click()
    page.wait_for_selector("[data-error-for=step_down_at_pct]")
    assert "less than 100 % complete" in page.locator("[data-error-for=step_down_at_pct]").inner_text()
    _check_and_shoot(page, screenshots_dir, "terms-refused", size)

    # a release above what is held is refused
    problems.expect(422, f"/projects/{project_id}/billing/release")
    page.goto(f"/projects/{project_id}/billing")
    release = page.get_by_test_id("release-form")
    release.locator("input[name=amount]").fill("99999.00")
    release.get_by_role("button").click()
    page.wait_for_selector("[data-testid=form-errors]")
    _check_and_shoot(page, screenshots_dir, "release-refused", size)

    # a new pay application once the draft is gone
    requests.delete(f"{api}{draft['id']}/", headers=headers, timeout=10).raise_for_status()
    page.goto(f"/projects/{project_id}/pay-applications/new")
    _check_and_shoot(page, screenshots_dir, "pay-application-new", size)

    owner = browser_page(viewport=SIZES[size], label=f"{size}-client")
    login(owner, "client", live=False)
    for name, path in [
        ("client-billing", f"/projects/{project_id}/billing"),
        ("client-certified", f"/pay-applications/{first['id']}"),
        ("client-portal", "/"),
    ]:
        owner.goto(path)
        _check_and_shoot(owner, screenshots_dir, name, size)
        assert "Checked with the owner on site" not in owner.content()  # the staff notes
