"""The invoice wizard (app/invoices/wizard.py): four steps carried in the form, Back keeps
what was typed, each step checked before the next, lines offered from the period's
completed tasks, approved change orders and deposits, nothing written before the end."""

from __future__ import annotations

import datetime as dt
import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from app.extensions import db as _db
from app.invoices import services
from app.invoices.models import Invoice
from app.tasks.models import Task
from tests.factories import make_change_order, make_invoice, make_project, make_user

DAY = dt.date(2026, 3, 20)


@pytest.fixture()
def site(db, monkeypatch, login_as):
    monkeypatch.setattr(services, "today", lambda: DAY)
    pm = make_user("project_manager_full")
    project = make_project(members=[pm], name="Harbor lofts")
    for title, done in (
        ("Prime the hall", datetime(2026, 3, 5, 18, tzinfo=UTC)),
        ("Old job", datetime(2026, 2, 1, 18, tzinfo=UTC)),
    ):
        _db.session.add(Task(project_id=project.id, title=title, status="completed", completed_at=done))
    make_change_order(project, status="approved", number="CO-2026-0042")
    deposit = make_invoice(
        project,
        invoice_type="deposit",
        status="PAID",
        number="INV-2026-0001",
        paid="500.00",
        lines=(("Deposit", "1", "500.00"),),
    )
    _db.session.flush()
    login_as(pm)
    return type("Site", (), {"pm": pm, "project": project, "deposit": deposit})


def _fields(html: str) -> list[tuple[str, str]]:
    """The form's fields as the browser would send them (inputs, selected options, text areas)."""
    html = html[html.index('<form id="invoice-wizard"') :]
    html = html[: html.index("</form>")]
    fields = []
    for tag in re.findall(r"<input\b[^>]*>", html):
        name, value = re.search(r'name="([^"]+)"', tag), re.search(r'value="([^"]*)"', tag)
        kind = re.search(r'type="([^"]+)"', tag)
        if name and (kind is None or kind.group(1) in ("hidden", "text", "date", "number", "email", "tel")):
            fields.append((name.group(1), value.group(1) if value else ""))
    for name, body in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', html, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', body)
        fields.append((name, chosen.group(1) if chosen else ""))
    for name, text in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', html, re.S):
        fields.append((name, text.strip()))
    return fields


def _post(client, fields, **change):
    data = MultiDict([(k, v) for k, v in fields if k not in change] + list(change.items()))
    return client.post("/invoices/wizard", data=data, headers={"HX-Request": "true", "HX-Target": "invoice-wizard"})


def _count():
    return _db.session.scalar(select(func.count()).select_from(Invoice))


def test_the_four_steps_back_keeps_what_was_typed_and_the_end_saves(site, client):
    start = client.get(f"/invoices/wizard?project_id={site.project.id}")
    assert start.status_code == 200 and 'data-step="project"' in start.text
    fields = _fields(start.text)
    lines = _post(client, fields, go="next", period_start="2026-03-01", period_end="2026-03-31")
    assert lines.status_code == 200 and 'data-step="lines"' in lines.text, lines.text[:500]
    assert "Prime the hall" in lines.text and "Old job" not in lines.text  # the period's
    assert "CO-2026-0042: Extra coat" in lines.text and "Deposit applied (INV-2026-0001)" in lines.text
    fields = _fields(lines.text)
    # the task row has no price yet: refused inline, on this step, nothing written
    refused = _post(client, fields, go="next")
    assert (
        refused.status_code == 422
        and 'data-step="lines"' in refused.text
        and "Line 1: enter the unit price" in refused.text
    )
    prices = [i for i, (k, _v) in enumerate(fields) if k == "line_unit_price"]
    fields[prices[0]] = ("line_unit_price", "450.00")
    terms = _post(client, fields, go="next")
    assert terms.status_code == 200 and 'data-step="terms"' in terms.text, re.findall(
        r'class="error"[^>]*>([^<]*)', terms.text
    )
    fields = _fields(terms.text)
    review = _post(client, fields, go="next", tax_rate="8", retention_amount="5000")
    assert review.status_code == 422 and 'data-step="terms"' in review.text and "more than the total" in review.text
    review = _post(client, _fields(review.text), go="next", tax_rate="8", retention_amount="0")
    assert 'data-step="review"' in review.text, review.text[:800]
    # back twice keeps the prices typed and the terms
    back = _post(client, _fields(review.text), go="back")
    assert 'data-step="terms"' in back.text and 'value="8"' in back.text
    back = _post(client, _fields(back.text), go="back")
    assert 'data-step="lines"' in back.text and 'value="450.00"' in back.text
    assert _count() == 1  # only the deposit: nothing written yet
    review = _post(client, _fields(_post(client, _fields(back.text), go="next").text), go="next")
    saved = _post(client, _fields(review.text), go="save")
    assert saved.status_code == 200 and saved.headers.get("HX-Location", "").startswith("/invoices/")
    invoice = _db.session.scalars(select(Invoice).where(Invoice.number.is_(None))).one()
    # 450.00 + the change order's 396.00, taxed 8 % (67.68); the deposit's −500.00 untaxed
    assert [li.source for li in invoice.lines] == ["task", "change_order", "deposit"]
    assert (invoice.subtotal, invoice.tax_amount, invoice.total_amount) == (
        Decimal("346.00"),
        Decimal("67.68"),
        Decimal("413.68"),
    )


def test_a_project_must_be_chosen(site, client):
    start = client.get("/invoices/wizard")
    refused = _post(client, _fields(start.text), go="next", project_id="")
    assert refused.status_code == 422 and "Choose the project" in refused.text
