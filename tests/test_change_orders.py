"""Change orders (app/change_orders/services.py, SPEC.md §3, §5): prices from cost lines
with markups, the states and who moves them, the client's signature, a decision is
final, the project's contract value and budget on approval, schedule impact, tasks from
the lines, the next invoice's lines, who sees what, and the API."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.change_orders import services
from app.change_orders.models import ChangeOrder, ChangeOrderLine
from app.core.audit import AuditLog
from app.core.errors import ConflictError, ObjectNotFound, ValidationError
from app.core.permissions import PermissionDenied
from app.extensions import db as _db
from app.invoices import services as invoices
from app.notifications.models import Notification
from app.tasks.models import Task
from tests.conftest import bearer
from tests.factories import make_project, make_user

LINES = [
    {
        "kind": "labor",
        "description": "Third coat, living room",
        "quantity": "6",
        "unit_cost": "55.00",
        "markup_pct": "20",
    },
    {"kind": "materials", "description": "Two gallons", "quantity": "2", "unit_cost": "41.33", "markup_pct": "12.5"},
]
SIGNED = services.Signature("Dana Owner", "203.0.113.9", "Mozilla/5.0 (iPhone)")


@pytest.fixture()
def site(db, monkeypatch):
    monkeypatch.setattr(services, "today", lambda: dt.date(2026, 3, 2))
    pm, trainee, admin = make_user("project_manager_full"), make_user("pm_trainee"), make_user("admin")
    project = make_project(members=[pm, trainee], name="Harbor lofts", budget=Decimal("10000.00"))
    project.contract_value = Decimal("12000.00")
    owner = make_user("client", client=project.client)
    return type("Site", (), {"pm": pm, "trainee": trainee, "admin": admin, "project": project, "owner": owner})


def _co(site, author=None, lines=LINES, **data):
    return services.create_change_order(author or site.pm, site.project, {"title": "Extra coat", **data}, lines)


def test_prices_are_cost_plus_markup_each_rounded_once(site):
    co = _co(site)
    # 6 × 55.00 = 330.00 + 20 % = 396.00; 2 × 41.33 = 82.66 + 12.5 % = 10.3325 → 10.33 → 92.99
    assert [(li.cost, li.line_total) for li in co.lines] == [
        (Decimal("330.00"), Decimal("396.00")),
        (Decimal("82.66"), Decimal("92.99")),
    ]
    assert co.amount == Decimal("488.99") and co.number == "CO-2026-0001" and co.is_draft


def test_bad_input_is_refused_and_nothing_written(site):
    for lines, says in (
        ([{**LINES[0], "quantity": "1e9"}], "quantity"),
        ([{**LINES[0], "unit_cost": "-3"}], "negative"),
        ([{**LINES[0], "markup_pct": "150"}], "between 0 and 100"),
        ([{**LINES[0], "kind": "magic"}], "materials, labor or other"),
    ):
        with pytest.raises(ValidationError) as caught:
            _co(site, lines=lines)
        assert says in caught.value.fields["line_items"]
    with pytest.raises(ValidationError) as caught:
        _co(site, title="", schedule_impact_days="400")
    assert set(caught.value.fields) == {"title", "schedule_impact_days"}
    assert _db.session.scalar(select(func.count()).select_from(ChangeOrder)) == 0
    assert _db.session.scalar(select(func.count()).select_from(ChangeOrderLine)) == 0


def test_a_trainees_change_order_is_approved_inside_before_the_client_sees_it(site):
    co = _co(site, author=site.trainee)
    services.submit(site.trainee, co)
    assert co.status == "pending_internal_approval"
    with pytest.raises(ObjectNotFound):
        services.get_change_order(site.owner, co.id)
    with pytest.raises(PermissionDenied):
        services.approve(site.trainee, co)
    told = _db.session.scalars(select(Notification.user_id).where(Notification.kind == "change_order_approval")).all()
    assert site.pm.id in told and site.owner.id not in told
    services.approve(site.pm, co, comment="Fine")
    assert co.status == "pending_client" and co.internal_approved_by_id == site.pm.id
    assert services.get_change_order(site.owner, co.id) is co
    assert (
        site.owner.id
        in _db.session.scalars(select(Notification.user_id).where(Notification.kind == "change_order_approval")).all()
    )


def test_the_clients_signature_approves_it_and_moves_the_contract_value_and_budget(site):
    co = _co(site)
    services.submit(site.pm, co)
    assert co.status == "pending_client"
    with pytest.raises(ValidationError) as caught:
        services.approve(site.owner, co, services.Signature(""))
    assert "full name" in caught.value.fields["signature_name"]
    services.approve(site.owner, co, SIGNED, comment="Go ahead")
    assert co.is_approved and co.signature_name == "Dana Owner" and co.signature_ip == "203.0.113.9"
    assert co.signature_user_agent.startswith("Mozilla") and co.decided_by_id == site.owner.id and co.decided_at
    assert site.project.contract_value == Decimal("12488.99") and site.project.budget == Decimal("10488.99")
    _db.session.flush()
    entry = _db.session.scalars(
        select(AuditLog)
        .where(AuditLog.object_type == "Project", AuditLog.object_id == str(site.project.id))
        .order_by(AuditLog.id.desc())
    ).first()
    assert entry.changes["reason"][1] == f"change order {co.number} approved (488.99)"
    assert entry.changes["contract_value"] == ["12000.00", "12488.99"]
    # a second approval is refused, and nothing moves again
    with pytest.raises(ConflictError, match="final"):
        services.approve(site.owner, co, SIGNED)
    assert site.project.contract_value == Decimal("12488.99")


def test_staff_record_the_clients_decision_with_a_reason_and_the_admin_overrides(site):
    co = _co(site)
    services.submit(site.pm, co)
    with pytest.raises(ValidationError) as caught:
        services.reject(site.pm, co, services.Signature("Dana Owner"))
    assert "on_behalf_reason" in caught.value.fields
    services.reject(site.pm, co, services.Signature("Dana Owner"), "Too dear", "Called me on the phone")
    assert co.is_rejected and co.on_behalf_reason == "Called me on the phone"
    assert site.project.contract_value == Decimal("12000.00")
    inside = _co(site, author=site.trainee)
    services.submit(site.trainee, inside)
    services.approve(site.admin, inside, on_behalf_reason="Owner signed the paper copy")
    assert inside.is_approved and site.project.contract_value == Decimal("12488.99")


def test_only_a_draft_changes_and_only_a_draft_or_rejected_one_is_deleted(site):
    co = _co(site)
    services.update_change_order(site.pm, co, {"title": "Extra coat, hall"}, [LINES[0]])
    assert co.amount == Decimal("396.00") and co.title == "Extra coat, hall"
    services.submit(site.pm, co)
    with pytest.raises(ConflictError, match="only a draft"):
        services.update_change_order(site.pm, co, {"title": "x"})
    with pytest.raises(ConflictError):
        services.delete_change_order(site.pm, co)
    with pytest.raises(PermissionDenied):
        services.delete_change_order(site.trainee, _co(site))


def test_schedule_impact_moves_the_project_end_and_the_tasks_not_started_once(site):
    site.project.end_date = dt.date(2026, 4, 30)
    later = Task(project_id=site.project.id, title="Final coat", start_date=dt.date(2026, 4, 10),
                 due_date=dt.date(2026, 4, 12))  # fmt: skip
    begun = Task(project_id=site.project.id, title="Prime", status="in_progress", start_date=dt.date(2026, 4, 10))
    _db.session.add_all([later, begun])
    _db.session.flush()
    co = _co(site, schedule_impact_days="5")
    services.submit(site.pm, co)
    services.approve(site.owner, co, SIGNED)
    assert services.may_apply_schedule(site.pm, co) and not services.may_apply_schedule(site.owner, co)
    services.apply_schedule(site.pm, co)
    assert site.project.end_date == dt.date(2026, 5, 5) and co.schedule_applied
    assert (later.start_date, later.due_date) == (dt.date(2026, 4, 15), dt.date(2026, 4, 17))
    assert begun.start_date == dt.date(2026, 4, 10)  # under way: left alone
    with pytest.raises(ConflictError):
        services.apply_schedule(site.pm, co)


def test_tasks_come_from_the_lines_once(site):
    site.project.status = "active"
    co = _co(site)
    services.submit(site.pm, co)
    services.approve(site.owner, co, SIGNED)
    made = services.create_tasks(site.pm, co)
    assert [(t.title, t.estimated_hours, t.change_order_id) for t in made] == [
        (f"{co.number}: Third coat, living room", Decimal("6"), co.id),
        (f"{co.number}: Two gallons", None, co.id),
    ]
    assert services.create_tasks(site.pm, co) == []
    assert _db.session.scalar(select(func.count()).select_from(Task).where(Task.change_order_id == co.id)) == 2


def test_an_approved_change_order_is_offered_to_the_next_invoice_once(site):
    co = _co(site)
    services.submit(site.pm, co)
    services.approve(site.owner, co, SIGNED)
    rows = [r for r in invoices.prefilled_lines(site.project, "standard") if r["source"] == "change_order"]
    assert rows == [{"description": f"{co.number}: Extra coat", "quantity": "1", "unit_price": "488.99",
                     "source": "change_order", "source_id": co.id}]  # fmt: skip
    invoice = invoices.create_invoice(site.pm, site.project, {}, rows)
    assert invoice.total_amount == Decimal("488.99")
    assert not [r for r in invoices.prefilled_lines(site.project, "standard") if r["source"] == "change_order"]
    with pytest.raises(ValidationError) as caught:
        invoices.create_invoice(site.pm, site.project, {}, rows)
    assert "not an approved one" in caught.value.fields["line_items"]


def test_clients_see_prices_never_costs_and_never_another_companys(site, client):
    co = _co(site)
    services.submit(site.pm, co)
    headers = bearer(client, site.owner)
    data = client.get(f"/api/change-orders/{co.id}/", headers=headers).json["data"]
    assert data["amount"] == "488.99" and data["line_items"][0] == {
        "kind": "labor",
        "description": "Third coat, living room",
        "quantity": "6",
        "line_total": "396.00",
    }
    assert "on_behalf_reason" not in data
    with client.session_transaction() as session:
        session["_user_id"], session["_fresh"] = site.owner.get_id(), True
    page = client.get(f"/change-orders/{co.id}")
    assert page.status_code == 200 and "396.00" in page.text
    assert "330.00" not in page.text and "Unit cost" not in page.text
    stranger = bearer(client, make_user("client"))
    assert client.get(f"/api/change-orders/{co.id}/", headers=stranger).status_code == 404
    assert (
        client.post(f"/api/change-orders/{co.id}/approve/", json={"signature_name": "X"}, headers=stranger).status_code
        == 404
    )


def test_the_api_flow(site, client):
    pm = bearer(client, site.pm)
    made = client.post(
        "/api/change-orders/",
        json={"project_id": site.project.id, "title": "Porch rot", "schedule_impact_days": 2, "line_items": LINES},
        headers=pm,
    )
    assert made.status_code == 201, made.json
    data = made.json["data"]
    assert data["status"] == "draft" and data["amount"] == "488.99" and data["line_items"][1]["cost"] == "82.66"
    url = f"/api/change-orders/{data['id']}/"
    assert client.post(url + "approve/", headers=pm).status_code == 409  # a draft
    submitted = client.post(url + "submit/", headers=pm)
    assert submitted.status_code == 200 and submitted.json["data"]["status"] == "pending_client"
    owner = bearer(client, site.owner)
    unsigned = client.post(url + "approve/", json={}, headers=owner)
    assert unsigned.status_code == 400 and "signature_name" in unsigned.json["error"]["details"]
    approved = client.post(url + "approve/", json={"signature_name": "Dana Owner"}, headers=owner)
    assert approved.status_code == 200, approved.json
    assert approved.json["data"]["status"] == "approved" and approved.json["data"]["approved_by"]["id"] == site.owner.id
    assert client.post(url + "approve/", json={"signature_name": "Dana Owner"}, headers=owner).status_code == 409
    assert client.post(url + "reject/", json={"signature_name": "Dana Owner"}, headers=owner).status_code == 409
    listed = client.get(f"/api/change-orders/?project_id={site.project.id}&status=approved", headers=pm).json["data"]
    assert [r["id"] for r in listed["results"]] == [data["id"]]
    project = client.get(f"/api/projects/{site.project.id}/", headers=pm).json["data"]
    assert project["contract_value"] == "12488.99"


def test_photos_of_the_project_only_while_a_draft_and_the_drawing_is_a_png_layer(site):
    from app.change_orders import photos
    from app.photos import services as gallery
    from tests.images import jpeg_with_location, png

    co = _co(site)
    mine = gallery.add(site.pm, site.project, png(40, 30))
    other = gallery.add(site.admin, make_project(), png())
    with pytest.raises(ValidationError):
        photos.attach(site.pm, co, [other.id])
    (link,) = photos.attach(site.pm, co, [mine.id])
    assert photos.attach(site.pm, co, [mine.id]) == []  # once each
    with pytest.raises(ValidationError) as caught:
        photos.save_drawing(site.pm, co, link, jpeg_with_location())
    assert "PNG" in caught.value.fields["layer"]
    photos.save_drawing(site.pm, co, link, png(40, 30))
    assert link.annotation_key and link.annotated_by_id == site.pm.id
    services.submit(site.pm, co)
    with pytest.raises(PermissionDenied):
        photos.save_drawing(site.pm, co, link, png(40, 30))
    with pytest.raises(PermissionDenied):
        photos.attach(site.pm, co, [mine.id])


def test_the_money_notifications_have_their_own_emails(site, app):
    from app.notifications.channels import default, email_body

    co = _co(site)
    services.submit(site.pm, co)
    note = _db.session.scalars(
        select(Notification).where(Notification.user_id == site.owner.id, Notification.kind == "change_order_approval")
    ).one()
    body = email_body(note, site.owner, "https://erp.example/change-orders/1")
    assert "approve or reject it here: https://erp.example/change-orders/1" in body and "type your full name" in body
    assert all(default(kind, "email") for kind in ("change_order_approval", "invoice_sent", "invoice_due"))


def test_a_change_order_rejected_inside_never_reaches_the_client_nor_do_inside_comments(site, client, login_as):
    inside = _co(site, author=site.trainee)
    services.submit(site.trainee, inside)
    services.reject(site.pm, inside, comment="Markup padded, redo")
    assert inside.is_rejected and inside.internal_comment == "Markup padded, redo" and inside.decision_comment == ""
    with pytest.raises(ObjectNotFound):
        services.get_change_order(site.owner, inside.id)
    passed = _co(site, author=site.trainee)
    services.submit(site.trainee, passed)
    services.approve(site.pm, passed, comment="Checked the quantities")
    headers = bearer(client, site.owner)
    data = client.get(f"/api/change-orders/{passed.id}/", headers=headers).json["data"]
    assert "internal_comment" not in data and data["decision_comment"] == ""
    login_as(site.owner)
    page = client.get(f"/change-orders/{passed.id}")
    assert page.status_code == 200 and "Your decision" in page.text and "Checked the quantities" not in page.text
    services.reject(site.owner, passed, SIGNED, comment="Too dear")
    assert services.get_change_order(site.owner, passed.id) is passed  # rejected by them: still theirs to see
    listed = client.get(f"/api/change-orders/?project_id={site.project.id}", headers=headers).json["data"]["results"]
    assert [r["id"] for r in listed] == [passed.id]
