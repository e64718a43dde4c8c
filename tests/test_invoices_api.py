"""/api/financials/invoices/ (SPEC.md §4–5 "Invoice"): the shape, filters, create with
its field errors, PUT/PATCH with versions, send, mark-paid (partial), void, cancel, the
admin's review, the client's variant, and a schemathesis run over these endpoints."""

from __future__ import annotations

import datetime as dt
import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from sqlalchemy import func, select

from app.extensions import db as _db
from app.invoices import services
from app.invoices.models import Invoice, InvoiceLine, Payment
from tests.conftest import bearer
from tests.factories import make_invoice, make_project, make_user
from tests.test_api_fuzz import CHECKS, example_rolled_back
from tests.test_api_fuzz import forget_audit_entries_of_the_run as forget_audit_entries_of_the_run  # noqa: F401, F811
from tests.test_api_fuzz import role_user as role_user  # noqa: F401, F811

DAY = dt.date(2026, 3, 2)
BASE = "/api/financials/invoices/"


@pytest.fixture()
def site(db, monkeypatch):
    monkeypatch.setattr(services, "today", lambda: DAY)
    pm, trainee, admin = make_user("project_manager_full"), make_user("pm_trainee"), make_user("admin")
    project = make_project(members=[pm, trainee], name="Harbor lofts")
    owner = make_user("client", client=project.client)
    return type("Site", (), {"pm": pm, "trainee": trainee, "admin": admin, "project": project, "owner": owner})


def _body(site, **extra):
    return {
        "project_id": site.project.id,
        "issue_date": "2026-03-02",
        "tax_rate": "8.25",
        "line_items": [
            {"description": "Walls, two coats", "quantity": "3", "unit_price": "19.99"},
            {"description": "Trim", "quantity": 2.5, "unit_price": "10.33"},
        ],
        "internal_notes": "Margin 31 %",
        **extra,
    }


def _count(model=Invoice):
    return _db.session.scalar(select(func.count()).select_from(model))


def test_create_and_the_shape(site, client):
    response = client.post(BASE, json=_body(site), headers=bearer(client, site.pm))
    assert response.status_code == 201, response.json
    data = response.json["data"]
    assert data["invoice_number"] is None and data["status"] == "DRAFT" and data["invoice_type"] == "standard"
    assert (data["subtotal"], data["tax_rate"], data["tax_amount"], data["total_amount"]) == (
        "85.80",
        "8.25",
        "7.08",
        "92.88",
    )
    assert (data["retention_amount"], data["amount_paid"], data["net_payable"]) == ("0.00", "0.00", "92.88")
    assert data["line_items"][1] == {
        "description": "Trim",
        "quantity": "2.5",
        "unit_price": "10.33",
        "tax_rate": "8.25",
        "line_total": "25.83",
        "source": None,
        "source_id": None,
    }
    assert data["project"] == {"id": site.project.id, "name": "Harbor lofts"}
    assert data["client"]["id"] == site.project.client_id
    assert data["due_date"] == "2026-04-01" and data["is_draft_for_review"] is False
    assert data["internal_notes"] == "Margin 31 %" and response.headers["ETag"] == f'"{data["version"]}"'


@pytest.mark.parametrize(
    ("change", "field", "says"),
    [
        ({"line_items": [{"description": "x", "quantity": "1e9", "unit_price": "1.00"}]}, "line_items", "quantity"),
        ({"line_items": [{"description": "x", "quantity": -3, "unit_price": "1.00"}]}, "line_items", "more than zero"),
        ({"line_items": [{"description": "x", "quantity": "12,5", "unit_price": "1.00"}]}, "line_items", "quantity"),
        ({"line_items": [{"description": "x", "quantity": 0.0001, "unit_price": "1.00"}]}, "line_items", "three"),
        ({"line_items": []}, "line_items", "at least one"),
        ({"retention_amount": "1000.00"}, "retention_amount", "more than the total"),
        ({"due_date": "2026-03-01"}, "due_date", "before the issue date"),
        ({"tax_rate": "abc"}, "tax_rate", "percentage"),
    ],
)
def test_bad_input_is_a_validation_error_and_nothing_is_written(site, client, change, field, says):
    response = client.post(BASE, json=_body(site, **change), headers=bearer(client, site.pm))
    assert response.status_code == 400, response.json
    assert response.json["error"]["code"] == "VALIDATION_ERROR"
    assert says in response.json["error"]["details"][field]
    assert (_count(), _count(InvoiceLine)) == (0, 0)


def test_nan_and_infinity_are_not_json(site, client):
    headers = bearer(client, site.pm) | {"Content-Type": "application/json"}
    raw = '{"project_id": %d, "line_items": [{"description": "x", "quantity": NaN, "unit_price": "1.00"}]}'
    response = client.post(BASE, data=raw % site.project.id, headers=headers)
    assert response.status_code == 400 and response.json["success"] is False
    assert _count() == 0


def test_update_versions_send_and_partial_payments(site, client):
    headers = bearer(client, site.pm)
    created = client.post(BASE, json=_body(site), headers=headers).json["data"]
    url = f"{BASE}{created['id']}/"
    patched = client.patch(url, json={"tax_rate": "5", "version": created["version"]}, headers=headers)
    assert patched.status_code == 200 and patched.json["data"]["tax_amount"] == "4.29"
    stale = client.patch(url, json={"tax_rate": "6", "version": created["version"]}, headers=headers)
    assert stale.status_code == 409 and stale.json["error"]["details"]["tax_rate"] == "5"
    sent = client.post(url + "send/", headers=headers)
    assert sent.status_code == 200 and sent.json["data"]["invoice_number"] == "INV-2026-0001"
    assert sent.json["data"]["status"] == "SENT"
    total = sent.json["data"]["total_amount"]  # 90.09
    over = client.post(url + "mark-paid/", json={"amount_paid": "1000.00"}, headers=headers)
    assert over.status_code == 400 and "more than is still owed" in over.json["error"]["details"]["amount_paid"]
    zero = client.post(url + "mark-paid/", json={"amount_paid": "0.00"}, headers=headers)
    assert zero.status_code == 400
    part = client.post(
        url + "mark-paid/",
        json={"amount_paid": "40.00", "payment_date": "2026-03-02", "payment_method": "ach", "payment_reference": "T1"},
        headers=headers,
    )
    assert part.status_code == 201, part.json
    assert part.json["data"]["invoice"]["status"] == "SENT" and part.json["data"]["invoice"]["amount_paid"] == "40.00"
    assert part.json["data"]["payment"]["method"] == "ach"
    rest = client.post(url + "mark-paid/", json={"amount_paid": str(float(total) - 40)[:5]}, headers=headers)
    assert rest.status_code == 201 and rest.json["data"]["invoice"]["status"] == "PAID", rest.json
    payment_id = part.json["data"]["payment"]["id"]
    voided = client.post(f"{url}payments/{payment_id}/void/", json={"reason": "Bounced"}, headers=headers)
    assert voided.status_code == 200 and voided.json["data"]["is_void"] is True
    detail = client.get(url, headers=headers).json["data"]
    assert detail["status"] == "SENT" and detail["net_payable"] == "40.00" and len(detail["payments"]) == 2
    changed = client.put(url, json={"tax_rate": "7"}, headers=headers)
    assert changed.status_code == 409 and changed.json["error"]["code"] == "CONFLICT"


def test_filters(site, client):
    make_invoice(site.project, status="SENT", number="INV-2026-0101")
    make_invoice(site.project, status="OVERDUE", number="INV-2026-0102")
    make_invoice(site.project, invoice_type="deposit")
    make_invoice(make_project(members=[site.pm]), status="SENT", number="INV-2026-0103")
    headers = bearer(client, site.pm)

    def numbers(query):
        answer = client.get(BASE + query, headers=headers)
        assert answer.status_code == 200, answer.json
        return sorted(str(i["invoice_number"]) for i in answer.json["data"]["results"])

    assert numbers(f"?project_id={site.project.id}") == ["INV-2026-0101", "INV-2026-0102", "None"]
    assert numbers("?status=SENT") == ["INV-2026-0101", "INV-2026-0103"]
    assert numbers("?invoice_type=deposit") == ["None"]
    assert numbers("?is_overdue=true") == ["INV-2026-0102"]
    assert client.get(BASE + "?status=sent", headers=headers).status_code == 400
    assert client.get(BASE + "?is_overdue=maybe", headers=headers).status_code == 400


def test_the_client_sees_issued_invoices_without_internal_notes(site, client):
    draft = make_invoice(site.project)
    sent = make_invoice(site.project, status="SENT", number="INV-2026-0201")
    sent.internal_notes = "Margin 31 %"
    headers = bearer(client, site.owner)
    listed = client.get(BASE, headers=headers).json["data"]["results"]
    assert [i["id"] for i in listed] == [sent.id]
    assert "internal_notes" not in listed[0] and "review_comment" not in listed[0]
    assert client.get(f"{BASE}{draft.id}/", headers=headers).status_code == 404
    assert client.post(f"{BASE}{sent.id}/mark-paid/", json={"amount_paid": "1.00"}, headers=headers).status_code == 403
    stranger = bearer(client, make_user("client"))
    assert client.get(f"{BASE}{sent.id}/", headers=stranger).status_code == 404


def test_the_trainees_draft_and_the_admins_review(site, client):
    created = client.post(BASE, json=_body(site), headers=bearer(client, site.trainee)).json["data"]
    assert created["is_draft_for_review"] is True
    url = f"{BASE}{created['id']}/"
    admin = bearer(client, site.admin)
    assert client.post(url + "send/", headers=admin).status_code == 409
    back = client.post(url + "send-back/", json={"comment": ""}, headers=admin)
    assert back.status_code == 400
    back = client.post(url + "send-back/", json={"comment": "Add the permit"}, headers=admin)
    assert back.status_code == 200 and back.json["data"]["review_comment"] == "Add the permit"
    approved = client.post(url + "approve-draft/", headers=admin)
    assert approved.status_code == 200 and approved.json["data"]["is_draft_for_review"] is False
    assert client.post(url + "approve-draft/", headers=admin).status_code == 409
    assert client.post(url + "send/", headers=bearer(client, site.pm)).status_code == 200


def test_cancel_and_delete(site, client):
    headers, admin = bearer(client, site.pm), bearer(client, site.admin)
    sent = make_invoice(site.project, status="SENT", number="INV-2026-0301")
    draft = make_invoice(site.project)
    assert client.delete(f"{BASE}{draft.id}/", headers=headers).status_code == 403
    assert client.delete(f"{BASE}{sent.id}/", headers=admin).status_code == 409
    assert client.post(f"{BASE}{sent.id}/cancel/", json={}, headers=headers).status_code == 400
    cancelled = client.post(f"{BASE}{sent.id}/cancel/", json={"reason": "Wrong client"}, headers=headers)
    assert cancelled.status_code == 200 and cancelled.json["data"]["status"] == "CANCELLED"
    assert client.post(f"{BASE}{sent.id}/send/", headers=headers).status_code == 409
    draft_id = draft.id
    deleted = client.delete(f"{BASE}{draft_id}/", headers=admin)
    assert deleted.status_code == 200 and deleted.json["data"] == {"id": draft_id, "deleted": True}
    _db.session.expire_all()
    assert _db.session.get(Invoice, draft_id) is None and _count(Payment) == 0


@pytest.mark.parametrize("role", ["designer", "superintendent", "employee"])
def test_roles_without_money(site, client, role):
    headers = bearer(client, make_user(role))
    assert client.get(BASE, headers=headers).status_code == 403
    assert client.post(BASE, json=_body(site), headers=headers).status_code == 403


# --- fuzzing these endpoints (tests/test_api_fuzz.py runs the whole document) ---------


@pytest.fixture()
def invoice_schema(app, forget_audit_entries_of_the_run, db):  # noqa: F811
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app).include(path_regex="^/api/financials/invoices/")
    schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
    return schema


schema = schemathesis.pytest.from_fixture("invoice_schema")


@pytest.mark.skipif(
    not os.environ.get("FUZZ_INVOICES"),
    reason="tests/test_api_fuzz.py fuzzes these endpoints in the suite; FUZZ_INVOICES=1 runs them alone",
)
@pytest.mark.usefixtures("role_user")
@settings(
    max_examples=30,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@schema.parametrize()
def test_invoice_api_keeps_to_its_document(case, role_user, client, db):  # noqa: F811
    if not hasattr(role_user, "headers"):
        role_user.headers = bearer(client, role_user)
    with example_rolled_back(db):
        case.call_and_validate(session=client, headers=role_user.headers, checks=CHECKS)
