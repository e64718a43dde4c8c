"""Expenses in the browser (issue 13): an employee on a phone submits a reimbursement
claim with a receipt photo (a bad amount fixed inline first); an admin reviews it in
the queue, approves it and marks it paid; the employee's list shows it paid."""

from __future__ import annotations

import io
import uuid

import pytest

from tests.e2e.helpers import DESKTOP, E2E_DATABASE_URL, PHONE, run_sql

pytestmark = pytest.mark.e2e


def _receipt_photo(tmp_path):
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (600, 900), (250, 250, 245))
    draw = ImageDraw.Draw(image)
    for row in range(12):
        draw.rectangle((40, 60 + row * 60, 560, 80 + row * 60), fill=(60, 60, 60))
    out = io.BytesIO()
    image.save(out, "JPEG")
    path = tmp_path / "receipt.jpg"
    path.write_bytes(out.getvalue())
    return path


def test_an_employee_claims_from_a_phone_and_an_admin_approves_and_pays(signed_in, screenshots_dir, problems, tmp_path):
    problems.expect(422, "/expenses/mine")  # the decimal comma, refused on purpose
    vendor = f"Lumber yard {uuid.uuid4().hex[:6]}"
    worker = signed_in("employee", viewport=PHONE)
    worker.goto("/expenses/mine")
    form = worker.get_by_test_id("claim-form")
    options = form.locator("select[name=project_id] option")
    values = [v for v in options.evaluate_all("os => os.map(o => o.value)") if v]
    assert values, "the employee works on a project (a task there)"
    form.locator("select[name=project_id]").select_option(values[0])
    form.locator("select[name=category]").select_option("MATERIALS")
    form.locator("input[name=amount]").fill("84,20")
    form.locator("input[name=vendor]").fill(vendor)
    assert form.locator("input[name=receipt]").get_attribute("capture") == "environment"
    form.locator("input[name=receipt]").set_input_files(str(_receipt_photo(tmp_path)))
    worker.get_by_test_id("submit-claim").click()
    worker.wait_for_selector("[data-error-for=amount]")
    assert run_sql(E2E_DATABASE_URL, "SELECT count(*) FROM expenses WHERE vendor = %s", vendor)[0][0] == 0
    form = worker.get_by_test_id("claim-form")
    form.locator("input[name=amount]").fill("84.20")
    form.locator("input[name=receipt]").set_input_files(str(_receipt_photo(tmp_path)))  # a file is never kept
    worker.get_by_test_id("submit-claim").click()
    worker.wait_for_selector(f"[data-testid=my-claim]:has-text('{vendor}')")
    row = worker.locator(f"[data-testid=my-claim]:has-text('{vendor}')")
    assert row.get_by_test_id("my-claim-status").inner_text() == "Submitted"
    worker.screenshot(path=str(screenshots_dir / "expenses-claim-phone.png"), full_page=True)
    claim_id, content_type = run_sql(
        E2E_DATABASE_URL, "SELECT id, receipt_content_type FROM expenses WHERE vendor = %s", vendor
    )[0]
    assert content_type == "image/jpeg"

    admin = signed_in("admin", viewport=DESKTOP)
    admin.goto("/expenses/claims")
    queued = admin.locator(f"[data-testid=claim-row][data-claim='{claim_id}']")
    assert queued.locator("img.receipt-thumb").count() == 1
    queued.get_by_test_id("approve-claim").click()
    queued = admin.locator(f"[data-testid=claim-row][data-claim='{claim_id}']")
    queued.get_by_test_id("pay-claim-open").wait_for()
    admin.screenshot(path=str(screenshots_dir / "expenses-claims-desktop.png"), full_page=True)
    queued.get_by_test_id("pay-claim-open").click()
    queued.locator("select[name=method]").select_option("petty_cash")
    queued.locator("input[name=reference]").fill("Petty cash box 3")
    queued.get_by_test_id("pay-claim").click()
    admin.wait_for_selector(f"[data-testid=claim-row][data-claim='{claim_id}']", state="detached")
    status, method, reference = run_sql(
        E2E_DATABASE_URL,
        "SELECT reimbursement_status, reimbursement_method, reimbursement_reference FROM expenses WHERE id = %s",
        claim_id,
    )[0]
    assert (status, method, reference) == ("paid", "petty_cash", "Petty cash box 3")
    admin.wait_for_load_state("load")
    admin.goto(f"/expenses/{claim_id}")
    assert admin.get_by_test_id("claim-status").inner_text() == "Paid"
    assert "Petty cash box 3" in admin.get_by_test_id("paid-back").inner_text()
    admin.screenshot(path=str(screenshots_dir / "expenses-claim-paid-desktop.png"), full_page=True)

    worker.wait_for_load_state("load")
    worker.reload()
    row = worker.locator(f"[data-testid=my-claim]:has-text('{vendor}')")
    assert row.get_by_test_id("my-claim-status").inner_text() == "Paid"
    worker.wait_for_load_state("load")
    worker.goto(f"/expenses/{claim_id}")
    worker.get_by_test_id("receipt-image").wait_for()
    worker.screenshot(path=str(screenshots_dir / "expenses-claim-detail-phone.png"), full_page=True)


def test_a_pm_records_a_company_expense_and_filters_the_projects_expenses(signed_in, screenshots_dir, tmp_path):
    project_id = run_sql(E2E_DATABASE_URL, "SELECT id FROM projects WHERE name = %s", "Hughes interior repaint")[0][0]
    vendor = f"Permit office {uuid.uuid4().hex[:6]}"
    pdf = tmp_path / "permit.pdf"
    pdf.write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    for viewport, name in ((PHONE, "phone"), (DESKTOP, "desktop")):
        page = signed_in("pm", viewport=viewport)
        page.goto(f"/projects/{project_id}")
        page.get_by_test_id("project-expenses").click()
        page.get_by_test_id("expense-results").wait_for()
        if name == "phone":
            page.get_by_test_id("new-expense").click()
            form = page.get_by_test_id("expense-form")
            form.locator("select[name=category]").select_option("PERMITS")
            form.locator("input[name=amount]").fill("125.00")
            form.locator("input[name=vendor]").fill(vendor)
            form.locator("input[name=receipt]").set_input_files(str(pdf))
            page.get_by_test_id("save-expense").click()
            page.wait_for_selector(f"[data-testid=expense-row]:has-text('{vendor}')")
        page.locator("#expense-filters select[name=category]").select_option("PERMITS")
        page.wait_for_url("**category=PERMITS**")
        page.wait_for_function("document.querySelectorAll('[data-testid=expense-totals] tbody tr').length === 1")
        assert page.locator("[data-testid=total-PERMITS]").count() == 1
        page.screenshot(path=str(screenshots_dir / f"expenses-project-{name}.png"), full_page=True)
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"the page is {overflow}px too wide at {viewport['width']}px"
