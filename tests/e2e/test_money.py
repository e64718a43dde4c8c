"""Money in the browser (issue 12): the client signs a change order in the portal and the
PM's open project page shows the new contract value live; a PM records a partial payment
and the invoice's status and balance change; the invoice wizard with a mistake fixed
inline; sending a batch of invoices, its progress bar reaching 100 % as a real RQ worker
emails them through a local SMTP server."""

from __future__ import annotations

import os
import subprocess
import uuid
from decimal import Decimal

import pytest
import requests

from tests.e2e.conftest import BIN, ROOT, _server_env
from tests.e2e.helpers import DESKTOP, E2E_DATABASE_URL, PASSWORD, PHONE, run_sql, wait_live

pytestmark = pytest.mark.e2e

LIVE_WAIT = 5_000


def _token(server, username):
    answer = requests.post(f"{server}/api/auth/login/", json={"username": username, "password": PASSWORD}, timeout=10)
    answer.raise_for_status()
    return {"Authorization": "Bearer " + answer.json()["data"]["access_token"]}


def _project_id(name="Hughes interior repaint"):
    return run_sql(E2E_DATABASE_URL, "SELECT id FROM projects WHERE name = %s", name)[0][0]


def _contract_value(project_id) -> Decimal:
    value = run_sql(E2E_DATABASE_URL, "SELECT contract_value FROM projects WHERE id = %s", project_id)[0][0]
    return value or Decimal("0.00")


def _draft_invoice(server, project_id, price="1000.00", token=None):
    made = requests.post(
        f"{server}/api/financials/invoices/",
        json={
            "project_id": project_id,
            "line_items": [{"description": f"Walls {token or uuid.uuid4().hex[:5]}", "unit_price": price}],
        },
        headers=_token(server, "pm"),
        timeout=10,
    )
    assert made.status_code == 201, made.text
    return made.json()["data"]["id"]


def test_the_client_signs_a_change_order_and_the_pms_open_page_shows_the_new_contract_value(
    signed_in, server, screenshots_dir, problems
):
    problems.expect(422, "/approve")  # the unsigned try, refused on purpose
    project_id = _project_id()
    before = _contract_value(project_id)
    pm_headers = _token(server, "pm")
    made = requests.post(
        f"{server}/api/change-orders/",
        json={
            "project_id": project_id,
            "title": f"Third coat {uuid.uuid4().hex[:4]}",
            "line_items": [
                {
                    "kind": "labor",
                    "description": "Third coat, hall",
                    "quantity": "5",
                    "unit_cost": "50.00",
                    "markup_pct": "10",
                }
            ],  # fmt: skip
        },
        headers=pm_headers,
        timeout=10,
    )
    assert made.status_code == 201, made.text
    co = made.json()["data"]
    assert requests.post(f"{server}/api/change-orders/{co['id']}/submit/", headers=pm_headers, timeout=10).ok

    manager = signed_in("pm", viewport=DESKTOP)
    manager.goto(f"/projects/{project_id}")
    wait_live(manager)
    manager.wait_for_selector("[data-testid=project-money]")
    manager.evaluate("window.__stillHere = true")

    owner = signed_in("client", viewport=PHONE)
    owner.goto("/")
    owner.get_by_test_id("portal-change-orders").get_by_role("link", name=co["number"], exact=False).click()
    owner.wait_for_selector("[data-testid=co-decision-form]")
    assert "Unit cost" not in owner.content()  # the client sees prices, not costs
    owner.get_by_test_id("approve-co").click()  # unsigned: refused inline, nothing recorded
    owner.wait_for_selector("[data-error-for=signature_name]")
    assert _contract_value(project_id) == before
    owner.fill("#f-signature_name", "Carla Hughes")
    owner.screenshot(path=str(screenshots_dir / "change-order-sign-phone.png"), full_page=True)
    owner.get_by_test_id("approve-co").click()
    owner.wait_for_selector("[data-testid=co-status]:has-text('Approved')")

    expected = before + Decimal("275.00")  # 5 × 50.00 + 10 %
    manager.wait_for_selector(f"[data-testid=contract-value]:has-text('${expected:,}')", timeout=LIVE_WAIT)
    assert manager.evaluate("window.__stillHere") is True  # live, not a reload
    assert _contract_value(project_id) == expected
    manager.screenshot(path=str(screenshots_dir / "project-contract-value-desktop.png"), full_page=True)


def test_a_pm_records_a_partial_payment_and_the_status_and_balance_follow(signed_in, server, screenshots_dir, problems):
    problems.expect(422, "/payments")  # the payment above the balance, refused on purpose
    project_id = _project_id()
    invoice_id = _draft_invoice(server, project_id, "1200.00")
    sent = requests.post(
        f"{server}/api/financials/invoices/{invoice_id}/send/", headers=_token(server, "pm"), timeout=10
    )
    assert sent.status_code == 200, sent.text

    page = signed_in("pm", viewport=PHONE)
    page.goto(f"/invoices/{invoice_id}")
    assert page.get_by_test_id("invoice-status").inner_text() == "Sent"
    page.fill("#f-amount_paid", "1500.00")  # more than owed: refused where the user is
    page.get_by_test_id("record-payment").click()
    page.wait_for_selector("[data-testid=invoice-problem]")
    assert "more than is still owed" in page.get_by_test_id("invoice-problem").inner_text()
    page.fill("#f-amount_paid", "450.00")
    page.fill("#f-payment_reference", "Check 2041")
    page.get_by_test_id("record-payment").click()
    page.wait_for_selector("[data-testid=invoice-balance]:has-text('$750.00')")
    assert page.get_by_test_id("invoice-status").inner_text() == "Sent"
    assert page.get_by_test_id("invoice-paid").inner_text() == "$450.00"
    page.screenshot(path=str(screenshots_dir / "invoice-partial-payment-phone.png"), full_page=True)
    page.fill("#f-amount_paid", "750.00")
    page.get_by_test_id("record-payment").click()
    page.wait_for_selector("[data-testid=invoice-status]:has-text('Paid')")
    assert page.get_by_test_id("invoice-balance").inner_text() == "$0.00"


def test_the_invoice_wizard_with_a_mistake_fixed_inline(signed_in, server, screenshots_dir, problems):
    problems.expect(422, "/invoices/wizard")  # the decimal comma, refused on purpose
    project_id = _project_id()
    page = signed_in("pm", viewport=PHONE)
    page.goto(f"/invoices/wizard?project_id={project_id}")
    page.wait_for_selector("[data-testid=invoice-wizard][data-step=project]")
    page.get_by_test_id("wizard-next").click()
    page.wait_for_selector("[data-testid=invoice-wizard][data-step=lines]")
    rows = page.locator("[data-testid=invoice-line-row]")
    # clear what was offered, then one extra charge with a European decimal comma
    for index in range(rows.count()):
        rows.nth(index).locator("input[name=line_description]").fill("")
    rows.nth(0).locator("input[name=line_description]").fill("Touch-ups after the move")
    rows.nth(0).locator("input[name=line_quantity]").fill("12,5")
    rows.nth(0).locator("input[name=line_unit_price]").fill("40.00")
    page.get_by_test_id("wizard-next").click()
    page.wait_for_selector("[data-error-for=line_items]")
    assert "Line 1" in page.locator("[data-error-for=line_items]").inner_text()
    assert page.locator("[data-testid=invoice-wizard]").get_attribute("data-step") == "lines"
    page.screenshot(path=str(screenshots_dir / "invoice-wizard-error-phone.png"), full_page=True)
    rows = page.locator("[data-testid=invoice-line-row]")
    assert rows.nth(0).locator("input[name=line_description]").input_value() == "Touch-ups after the move"
    rows.nth(0).locator("input[name=line_quantity]").fill("12.5")
    page.get_by_test_id("wizard-next").click()
    page.wait_for_selector("[data-testid=invoice-wizard][data-step=terms]")
    page.fill("#f-tax_rate", "0")
    page.get_by_test_id("wizard-next").click()
    page.wait_for_selector("[data-testid=invoice-wizard][data-step=review]")
    assert page.get_by_test_id("wizard-total").inner_text() == "$500.00"
    page.get_by_test_id("wizard-back").click()  # back keeps what was typed
    page.wait_for_selector("[data-testid=invoice-wizard][data-step=terms]")
    assert page.input_value("#f-tax_rate") == "0"
    page.get_by_test_id("wizard-next").click()
    page.wait_for_selector("[data-testid=invoice-wizard][data-step=review]")
    page.get_by_test_id("wizard-save").click()
    page.wait_for_selector("[data-testid=invoice][data-status=DRAFT]")
    assert page.get_by_test_id("invoice-total").inner_text() == "$500.00"


@pytest.fixture()
def mail_and_worker(server):
    """A local SMTP server and a real RQ worker (python -m workers) on the e2e Redis, with
    the server's settings plus the SMTP server's address."""
    import socket

    from aiosmtpd.controller import Controller

    class Inbox:
        def __init__(self):
            self.messages = []

        async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook
            self.messages.append(envelope.rcpt_tos)
            return "250 OK"

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    env = _server_env(int(server.rsplit(":", 1)[1])) | {"EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(port),
                                                         "EMAIL_USE_TLS": "false"}  # fmt: skip
    log = open(os.devnull, "w")  # noqa: SIM115 - closed below
    worker = subprocess.Popen([str(BIN / "python"), "-m", "workers"], cwd=ROOT, env=env, stdout=log, stderr=log)  # noqa: S603
    try:
        yield inbox
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
        log.close()
        controller.stop()


def test_sending_a_batch_of_invoices_shows_its_progress_to_100_percent(signed_in, server, mail_and_worker):
    project_id = _project_id("Lakeview clubhouse exterior")
    tag = uuid.uuid4().hex[:5]
    ids = [_draft_invoice(server, project_id, f"{100 + i}.00", f"{tag}-{i}") for i in range(6)]
    page = signed_in("pm", viewport=DESKTOP)
    page.goto(f"/invoices?project_id={project_id}&status=DRAFT")
    for invoice_id in ids:
        page.check(f"input[name=invoice_ids][value='{invoice_id}']")
    page.get_by_test_id("send-chosen").click()
    page.wait_for_selector("[data-testid=invoice-batch]")
    wait_live(page)
    page.wait_for_selector("[data-testid=invoice-batch][data-percent='100']", timeout=60_000)
    assert page.get_by_test_id("batch-counts").inner_text().startswith("6 of 6 emailed")
    assert sum(to == ["board@lakeviewhoa.example"] for to in mail_and_worker.messages) == 6
    numbers = run_sql(E2E_DATABASE_URL, "SELECT number FROM invoices WHERE id = ANY(%s) ORDER BY number", ids)
    assert all(n and n.startswith("INV-") for (n,) in numbers) and len({n for (n,) in numbers}) == 6


def test_a_pm_draws_over_a_photo_of_a_change_order_and_the_client_sees_it(signed_in, server, screenshots_dir):
    project_id = _project_id()
    pm_headers = _token(server, "pm")
    made = requests.post(
        f"{server}/api/change-orders/",
        json={"project_id": project_id, "title": f"Rot at the sill {uuid.uuid4().hex[:4]}",
              "line_items": [{"kind": "labor", "description": "Carpentry", "quantity": "2", "unit_cost": "60.00"}]},
        headers=pm_headers,
        timeout=10,
    )  # fmt: skip
    assert made.status_code == 201, made.text
    co_id = made.json()["data"]["id"]
    from tests.images import png

    photo = requests.post(
        f"{server}/api/photos/",
        data={"project_id": str(project_id), "caption": "Sill, north window"},
        files={"file": ("sill.png", png(120, 90), "image/png")},
        headers=pm_headers,
        timeout=20,
    )
    assert photo.status_code == 201, photo.text
    page = signed_in("pm", viewport=PHONE)
    page.goto(f"/change-orders/{co_id}")
    page.locator("[data-testid=attach-photos] input[name=photo_ids]").first.check()
    page.locator("[data-testid=attach-photos] button[type=submit]").click()
    page.wait_for_selector("[data-testid=co-photo]")
    page.get_by_test_id("draw-photo").first.click()
    page.wait_for_selector("[data-draw][data-draw-sized='1']")
    box = page.get_by_test_id("draw-canvas").bounding_box()
    page.get_by_test_id("save-drawing").click()  # nothing drawn yet: said where the user is
    assert page.get_by_test_id("draw-state").inner_text() == "Draw something first."
    page.mouse.move(box["x"] + box["width"] * 0.2, box["y"] + box["height"] * 0.3)
    page.mouse.down()
    for step in range(1, 11):
        page.mouse.move(box["x"] + box["width"] * (0.2 + step * 0.05), box["y"] + box["height"] * (0.3 + step * 0.03))
    page.mouse.up()
    page.screenshot(path=str(screenshots_dir / "change-order-draw-phone.png"), full_page=True)
    page.get_by_test_id("save-drawing").click()
    page.wait_for_selector("[data-testid=co-drawing]")
    drawing_url = page.get_by_test_id("co-drawing").first.get_attribute("src")
    assert requests.post(f"{server}/api/change-orders/{co_id}/submit/", headers=pm_headers, timeout=10).ok

    owner = signed_in("client", viewport=DESKTOP)
    owner.goto(f"/change-orders/{co_id}")
    owner.wait_for_selector("[data-testid=co-drawing]")
    seen = owner.request.get(drawing_url)
    assert seen.status == 200 and seen.headers["content-type"].startswith("image/png")
    from io import BytesIO

    from PIL import Image

    layer = Image.open(BytesIO(seen.body()))
    assert layer.mode == "RGBA" and layer.getbbox() is not None  # something was drawn, the rest transparent
    assert layer.getpixel((0, 0))[3] == 0
