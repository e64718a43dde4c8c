"""Estimates (app/estimates/services.py, SPEC.md §3 "Money", §5 "Estimate"): the
arithmetic to the cent (hours from production rates, whole cans of paint, optional
items, the markup rounded once), the company's defaults, bad input refused with nothing
written, the states, the review link (hashed token, 404/410, throttled), approval
converting the estimate into a project with its tasks, declining, who sees what (a
client of another company gets 404), the pages, the PDF read back (pypdf) and the email
received on a local SMTP server (aiosmtpd) from a real RQ worker."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import io
from decimal import Decimal

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from app.clients.models import ClientContact
from app.core.audit import AuditLog
from app.core.errors import ConflictError, ObjectNotFound, ValidationError
from app.core.permissions import PermissionDenied, can, scope_query
from app.core.versioning import StaleObject
from app.estimates import delivery, services
from app.estimates.models import Estimate, EstimateDelivery, EstimateLine
from app.extensions import db as _db
from app.notifications.models import Notification
from app.projects.models import Project
from app.tasks.models import Task
from tests.factories import make_client, make_project, make_user
from tests.test_notification_channels import _free_port, inbox  # noqa: F401 - the SMTP fixture, used by name

SECRET = "Quote tight: they compare three bids"
# walls: 1234.5 sq ft × 2 coats ÷ 165/h = 14.9636… → 14.96 h × $52.75 = $789.14;
#        ⌈2469 ÷ 400⌉ = 7 gallons × $39.99 = $279.93 → $1,069.07
# trim (optional): 120 linear ft × 2 ÷ 60/h (company) = 4.00 h × $55.00 = $220.00;
#        ⌈240 ÷ 350⌉ = 1 gallon × $48.00 → $268.00
# prep: 6 hours × $45.50 = $273.00
LINES = [
    {"surface": "walls", "description": "Living and dining walls", "quantity": "1234.5", "coats": 2,
     "production_rate": "165", "labor_rate": "52.75", "coverage": "400", "price_per_gallon": "39.99"},
    {"surface": "trim", "description": "Baseboards and casings", "quantity": "120", "coats": 2, "is_optional": True},
    {"surface": "prep", "description": "Patch, caulk and sand", "quantity": "6", "unit": "hours", "unit_price": "45.50"},
]  # fmt: skip
SIGNED = services.Signature("Dana Owner", "203.0.113.9", "Mozilla/5.0 (iPhone)")


@pytest.fixture()
def site(db, monkeypatch):
    monkeypatch.setattr(services, "today", lambda: dt.date(2026, 3, 2))
    pm, trainee, admin = make_user("project_manager_full"), make_user("pm_trainee"), make_user("admin")
    company = make_client(name="Harbor Holdings", email="office@harbor.example")
    owner = make_user("client", client=company, full_name="Dana Owner")
    return type("Site", (), {"pm": pm, "trainee": trainee, "admin": admin, "company": company, "owner": owner})


def _estimate(site, author=None, lines=LINES, **data) -> Estimate:
    values = {"title": "Harbor lofts repaint", "address": "1 Harbor Way", "city": "Denver", "markup_pct": "12.5",
              "internal_notes": SECRET, **data}  # fmt: skip
    return services.create_estimate(author or site.pm, site.company, values, lines)


def _sent(site, **data) -> tuple[Estimate, str]:
    estimate = _estimate(site, **data)
    return services.send_estimate(site.pm, estimate)


def _count(model) -> int:
    return _db.session.scalar(select(func.count()).select_from(model))


# --- the arithmetic ------------------------------------------------------------------------


def test_lines_hours_cans_and_totals_are_exact_to_the_cent(site):
    estimate = _estimate(site)
    walls, trim, prep = estimate.lines
    assert (walls.labor_hours, walls.labor_amount, walls.material_gallons, walls.material_amount, walls.amount) == (
        Decimal("14.96"), Decimal("789.14"), 7, Decimal("279.93"), Decimal("1069.07"))  # fmt: skip
    assert (trim.production_rate, trim.labor_rate, trim.coverage, trim.price_per_gallon) == (
        Decimal("60.00"), Decimal("55.00"), Decimal("350.00"), Decimal("48.00"))  # the company's defaults  # fmt: skip
    assert (trim.labor_hours, trim.material_gallons, trim.amount) == (Decimal("4.00"), 1, Decimal("268.00"))
    assert (prep.labor_hours, prep.material_gallons, prep.amount, prep.coats) == (Decimal("6.00"), 0,
                                                                                   Decimal("273.00"), None)  # fmt: skip
    # the option is not ticked: 1069.07 + 273.00 = 1342.07; 12.5 % = 167.75875 → 167.76
    assert (estimate.subtotal, estimate.markup_amount, estimate.total) == (
        Decimal("1342.07"), Decimal("167.76"), Decimal("1509.83"))  # fmt: skip
    assert estimate.number == "EST-2026-0001" and estimate.is_draft and estimate.project_id is None
    assert estimate.valid_until == dt.date(2026, 4, 1)  # the company's 30 days
    # ticked: 1610.07; 12.5 % = 201.25875 → 201.26 (rounded once, on the subtotal)
    figures = services.preview(estimate, [trim.id])
    assert (figures.subtotal, figures.markup_amount, figures.total) == (
        Decimal("1610.07"), Decimal("201.26"), Decimal("1811.33"))  # fmt: skip
    assert services.preview(estimate, ["nonsense", walls.id]).total == Decimal("1509.83")  # a required line: no change


@pytest.mark.parametrize(
    ("quantity", "coats", "coverage", "cans"),
    [("700", 1, "350", 2), ("701", 1, "350", 3), ("350", 2, "350", 2), ("0.001", 1, "350", 1), ("1", 3, "0.5", 6)],
)
def test_paint_is_whole_cans_rounded_up(site, quantity, coats, coverage, cans):
    line = {"surface": "walls", "quantity": quantity, "coats": coats, "coverage": coverage, "price_per_gallon": "40.00"}
    estimate = _estimate(site, lines=[line])
    assert estimate.lines[0].material_gallons == cans
    assert estimate.lines[0].material_amount == Decimal("40.00") * cans


def test_an_optional_line_counts_only_when_chosen(site):
    chosen = [dict(LINES[1], is_selected=True), LINES[2]]
    estimate = _estimate(site, lines=chosen, markup_pct="0")
    assert estimate.subtotal == estimate.total == Decimal("541.00")
    not_chosen = _estimate(site, lines=[dict(LINES[1], is_selected=False), LINES[2]], markup_pct="0")
    assert not_chosen.total == Decimal("273.00")
    # is_selected on a required line means nothing
    required = _estimate(site, lines=[dict(LINES[2], is_selected=True)], markup_pct="0")
    assert required.lines[0].is_selected is False and required.total == Decimal("273.00")


def test_the_companys_defaults_are_an_admin_setting(site, app):
    from app.company.services import update_company

    with app.test_request_context():
        update_company(site.admin, {"name": "Kibray", "estimate_labor_rate": "60.00", "estimate_coverage": "300",
                                    "estimate_markup_pct": "15", "rate_walls": "200", "estimate_valid_days": "14"})  # fmt: skip
        with pytest.raises(ValidationError) as caught:
            update_company(site.admin, {"name": "Kibray", "rate_ceilings": "0", "estimate_coverage": "-1",
                                        "estimate_valid_days": "400", "estimate_price_per_gallon": "12,5"})  # fmt: skip
    assert set(caught.value.fields) == {"rate_ceilings", "estimate_coverage", "estimate_valid_days",
                                        "estimate_price_per_gallon"}  # fmt: skip
    assert services.production_rates()["walls"] == Decimal("200") and services.production_rates()["trim"] == 60
    estimate = services.create_estimate(site.pm, site.company, {"title": "Hall", "address": "1 Harbor Way"},
                                        [{"surface": "walls", "quantity": "600", "coats": 2}])  # fmt: skip
    line = estimate.lines[0]
    # 1200 ÷ 200 = 6.00 h × 60.00 = 360.00; ⌈1200 ÷ 300⌉ = 4 × 48.00 = 192.00
    assert (line.labor_hours, line.labor_amount, line.material_gallons, line.amount) == (
        Decimal("6.00"), Decimal("360.00"), 4, Decimal("552.00"))  # fmt: skip
    assert estimate.markup_pct == Decimal("15") and estimate.total == Decimal("634.80")
    assert estimate.valid_until == dt.date(2026, 3, 16)
    with pytest.raises(PermissionDenied):
        update_company(site.pm, {"name": "Kibray", "rate_walls": "1"})


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"quantity": "1e9"}, "Line 1: enter a quantity such as 12 or 12.5"),
        ({"quantity": "1000000"}, "Line 1: that quantity is too large"),
        ({"quantity": "-3"}, "Line 1: the quantity must be more than zero"),
        ({"quantity": "0"}, "Line 1: the quantity must be more than zero"),
        ({"quantity": "0.0001"}, "Line 1: use at most three decimal places for a quantity"),
        ({"quantity": "NaN"}, "Line 1: enter a quantity such as 12 or 12.5"),
        ({"quantity": "12,5"}, "Line 1: enter a quantity such as 12 or 12.5"),
        ({"quantity": 12.5}, "Line 1: enter a quantity such as 12 or 12.5"),  # a float never
        ({"quantity": None}, "Line 1: enter a quantity such as 12 or 12.5"),
        ({"coats": "11"}, "Line 1: the coats are a whole number from 1 to 10"),
        ({"coats": "1.5"}, "Line 1: the coats are a whole number from 1 to 10"),
        ({"production_rate": "0"}, "Line 1: the production rate must be more than zero"),
        ({"coverage": "-350"}, "Line 1: the coverage cannot be negative"),
        ({"labor_rate": "55.001"}, "Line 1: use at most two decimal places for the labour rate"),
        ({"price_per_gallon": "1e3"}, "Line 1: enter the price per gallon such as 1250.00"),
        ({"surface": "roof"}, "Line 1: the surface is one of walls"),
        ({"unit": "acres"}, "Line 1: the unit is one of sq_ft"),
        ({"quantity": "999999", "coats": 10, "production_rate": "1"}, "hours of labour: split the line"),
    ],
)
def test_bad_lines_are_refused_with_a_clear_message_and_nothing_written(site, change, says):
    before = (_count(Estimate), _count(EstimateLine))
    with pytest.raises(ValidationError) as caught:
        _estimate(site, lines=[{**LINES[0], **change}])
    assert says in caught.value.fields["lines"], caught.value.fields
    assert (_count(Estimate), _count(EstimateLine)) == before


def test_bad_estimate_fields_are_all_reported_at_once(site):
    with pytest.raises(ValidationError) as caught:
        _estimate(site, title=" ", address="", markup_pct="150", valid_until="31/12/2026",
                  lines=[LINES[0], {"surface": "prep", "quantity": "2"}, "x"])  # fmt: skip
    fields = caught.value.fields
    assert set(fields) == {"title", "address", "markup_pct", "valid_until", "lines"}
    assert "Line 2: enter the unit price" in fields["lines"] and "Line 3: send an object." in fields["lines"]
    assert _count(Estimate) == 0


def test_numbers_are_taken_in_order_and_never_reused(site):
    first, second = _estimate(site), _estimate(site)
    services.delete_estimate(site.pm, second)
    third = _estimate(site)
    assert [first.number, third.number] == ["EST-2026-0001", "EST-2026-0003"]


# --- states ------------------------------------------------------------------------------


def test_only_a_draft_changes_and_a_stale_version_is_refused(site):
    estimate = _estimate(site)
    version = estimate.version
    services.update_estimate(site.pm, estimate, {"markup_pct": "0"}, [LINES[2]], version=version)
    assert estimate.total == Decimal("273.00") and estimate.version == version + 1 and len(estimate.lines) == 1
    with pytest.raises(StaleObject):
        services.update_estimate(site.pm, estimate, {"title": "Old"}, version=version)
    services.send_estimate(site.pm, estimate)
    with pytest.raises(ConflictError, match="only a draft changes"):
        services.update_estimate(site.pm, estimate, {"title": "Too late"})
    assert estimate.title == "Harbor lofts repaint"


def test_who_may_write_send_decide_and_delete(site):
    estimate = _estimate(site, author=site.trainee)  # a trainee writes estimates…
    with pytest.raises(PermissionDenied):
        services.send_estimate(site.trainee, estimate)  # …a PM or admin sends them
    with pytest.raises(PermissionDenied):
        services.delete_estimate(site.trainee, estimate)
    designer = make_user("designer")
    with pytest.raises(PermissionDenied):
        services.get_estimate(designer, estimate.id)
    with pytest.raises(PermissionDenied):
        _estimate(site, author=site.owner)
    services.send_estimate(site.pm, estimate)
    with pytest.raises(PermissionDenied):
        services.approve(site.trainee, estimate, SIGNED, "Signed on paper")
    assert not services.may_decide(site.trainee, estimate) and services.may_decide(site.owner, estimate)


def test_sending_makes_a_review_link_and_queues_the_email(site):
    _db.session.add(ClientContact(client_id=site.company.id, name="Sam Quay", email="sam@harbor.example",
                                  roles="billing"))  # fmt: skip
    estimate, token = _sent(site)
    assert estimate.is_sent and estimate.sent_by_id == site.pm.id and estimate.sent_at is not None
    assert estimate.review_token_hash == services.token_hash(token) and token not in estimate.review_token_hash
    assert dt.timedelta(days=29) < estimate.review_expires_at - estimate.sent_at <= dt.timedelta(days=30)
    [queued] = delivery.deliveries_of(estimate)
    assert (queued.recipient_name, queued.recipient_email, queued.status) == ("Sam Quay", "sam@harbor.example",
                                                                              "pending")  # fmt: skip
    assert services.from_token(token) is estimate
    # sending again: a new link, the old one no longer works
    _again, newer = services.send_estimate(site.pm, estimate)
    assert newer != token and services.from_token(newer) is estimate
    with pytest.raises(services.ReviewGone) as gone:
        services.from_token(token)
    assert gone.value.status == 404


def test_sending_needs_a_billing_email_lines_and_a_validity_not_passed(site):
    nobody = make_client(name="No Mail LLC", email="")
    estimate = services.create_estimate(site.pm, nobody, {"title": "Deck", "address": "2 Elm"}, LINES)
    with pytest.raises(ValidationError) as caught:
        services.send_estimate(site.pm, estimate)
    assert "has no billing email" in caught.value.fields["client"] and estimate.is_draft
    empty = _estimate(site, lines=[])
    with pytest.raises(ValidationError) as caught:
        services.send_estimate(site.pm, empty)
    assert "at least one line" in caught.value.fields["lines"]
    old = _estimate(site, valid_until="2026-03-01")
    with pytest.raises(ValidationError) as caught:
        services.send_estimate(site.pm, old)
    assert "validity date has passed" in caught.value.fields["valid_until"]
    assert _count(EstimateDelivery) == 0


def test_an_expired_link_is_gone_and_guessing_is_throttled(site, app):
    estimate, token = _sent(site)
    estimate.review_expires_at = estimate.sent_at - dt.timedelta(seconds=1)
    with app.test_request_context(environ_base={"REMOTE_ADDR": "198.51.100.7"}):
        with pytest.raises(services.ReviewGone) as gone:
            services.from_token(token)
        assert gone.value.status == 410 and "expired" in gone.value.message
        from app.auth.services import LockedOut

        with pytest.raises(LockedOut):
            for attempt in range(app.config["LOGIN_MAX_FAILURES_IP"] + 1):
                with pytest.raises(services.ReviewGone):
                    services.from_token(f"guess-{attempt}")


# --- deciding and the conversion ----------------------------------------------------------


def test_the_clients_signature_approves_it_and_makes_the_project_with_its_tasks(site):
    estimate, _token = _sent(site)
    trim = estimate.lines[1]
    with pytest.raises(ValidationError) as caught:
        services.approve(site.owner, estimate, services.Signature(""))
    assert "full name" in caught.value.fields["signature_name"] and estimate.is_sent
    project = services.approve(site.owner, estimate, SIGNED, selected=[trim.id])
    assert estimate.is_approved and estimate.approved_by_id == site.owner.id and estimate.approved_at
    assert (estimate.signature_name, estimate.signature_ip) == ("Dana Owner", "203.0.113.9")
    assert estimate.signature_user_agent.startswith("Mozilla") and trim.is_selected
    # the option chosen: the figures follow (1811.33), and the project is made of them
    assert (estimate.subtotal, estimate.total) == (Decimal("1610.07"), Decimal("1811.33"))
    assert (project.name, project.client_id, project.address, project.city) == (
        "Harbor lofts repaint", site.company.id, "1 Harbor Way", "Denver")  # fmt: skip
    assert project.contract_value == Decimal("1811.33") and project.budget == Decimal("1610.07")
    assert project.estimate_id == estimate.id and estimate.project_id == project.id
    assert site.pm.id in project.member_ids  # the PM who wrote and sent it is on the team
    tasks = _db.session.scalars(select(Task).where(Task.project_id == project.id).order_by(Task.id)).all()
    assert [(t.title, t.estimated_hours) for t in tasks] == [
        ("Walls: Living and dining walls", Decimal("14.96")),
        ("Trim: Baseboards and casings", Decimal("4.00")),
        ("Prep: Patch, caulk and sand", Decimal("6.00")),
    ]
    assert project.status == "active"  # its first task, with a PM on the team
    _db.session.flush()
    entries = _db.session.scalars(
        select(AuditLog).where(AuditLog.object_type == "Project", AuditLog.object_id == str(project.id))
    ).all()
    [noted] = [e for e in entries if "reason" in (e.changes or {})]
    assert noted.changes["reason"][1] == f"estimate {estimate.number} approved (1811.33)"
    assert noted.changes["contract_value"][1] == "1811.33"
    told = _db.session.scalars(select(Notification.user_id).where(Notification.kind == "estimate_decided")).all()
    assert told == [site.pm.id]
    # a decision is final
    with pytest.raises(ConflictError, match="final"):
        services.approve(site.owner, estimate, SIGNED)
    with pytest.raises(ConflictError, match="final"):
        services.decline(site.owner, estimate, "Changed my mind", SIGNED)
    assert _count(Project) == 1


def test_staff_record_the_clients_approval_with_a_reason(site):
    estimate = _estimate(site)  # signed on paper on site: no need to send it first
    with pytest.raises(ValidationError) as caught:
        services.approve(site.pm, estimate, services.Signature("Dana Owner"))
    assert "on_behalf_reason" in caught.value.fields
    project = services.approve(site.pm, estimate, services.Signature("Dana Owner"), "Signed on paper on site")
    assert estimate.on_behalf_reason == "Signed on paper on site" and estimate.approved_by_id == site.pm.id
    assert project.contract_value == Decimal("1509.83") and len(project.member_ids) == 1


def test_the_clients_own_approval_is_converted_by_who_sent_it(site):
    """A client may not create projects: the PM who sent the estimate does it for them
    (the projects service's rules), and the admin when no such PM is left."""
    estimate, _token = _sent(site)
    site.pm.is_active_flag = False
    _db.session.flush()
    project = services.approve(None, estimate, SIGNED, via_link=True)
    assert estimate.approved_by_id is None and project.created_at is not None
    assert project.member_ids == set()  # the deactivated PM is not put on the team


def test_a_clash_of_names_takes_the_number(site):
    make_project(client=site.company, name="Harbor lofts repaint")
    estimate, _token = _sent(site)
    project = services.approve(site.owner, estimate, SIGNED)
    assert project.name == f"Harbor lofts repaint ({estimate.number})"


def test_an_expired_or_declined_estimate_cannot_be_approved(site, monkeypatch):
    expired, _token = _sent(site)
    monkeypatch.setattr(services, "today", lambda: dt.date(2026, 4, 2))  # the day after its validity
    with pytest.raises(ConflictError, match="expired"):
        services.approve(site.owner, expired, SIGNED)
    monkeypatch.setattr(services, "today", lambda: dt.date(2026, 3, 2))
    declined, _token = _sent(site)
    with pytest.raises(ValidationError) as caught:
        services.decline(site.owner, declined, "  ", SIGNED)
    assert "decline_reason" in caught.value.fields
    services.decline(site.owner, declined, "Too dear for now", SIGNED)
    assert declined.is_declined and declined.decline_reason == "Too dear for now" and declined.declined_at
    with pytest.raises(ConflictError, match="final"):
        services.approve(site.owner, declined, SIGNED)
    with pytest.raises(PermissionDenied):  # a draft is not the client's to see, nor to approve
        services.approve(site.owner, _estimate(site), SIGNED)
    with pytest.raises(ConflictError, match="has not been sent"):
        services.approve(None, _estimate(site), SIGNED, via_link=True)
    assert _count(Project) == 0


def test_an_approved_estimate_is_never_deleted(site):
    estimate, _token = _sent(site)
    services.approve(site.owner, estimate, SIGNED)
    with pytest.raises(ConflictError, match="origin"):
        services.delete_estimate(site.admin, estimate)
    declined, _token = _sent(site)
    services.decline(site.owner, declined, "No", SIGNED)
    services.delete_estimate(site.pm, declined)
    assert _db.session.get(Estimate, estimate.id) is not None


# --- who sees what ---------------------------------------------------------------------


def test_a_client_sees_their_companys_sent_estimates_only(site):
    draft = _estimate(site)
    sent, _token = _sent(site)
    other = make_client(name="Birch Row LLC", email="ap@birch.example")
    theirs = services.create_estimate(site.pm, other, {"title": "Fence", "address": "7 Birch Row"}, LINES)
    services.send_estimate(site.pm, theirs)
    listed = _db.session.scalars(services.estimate_list(site.owner)).all()
    assert listed == [sent]
    for hidden in (draft, theirs):
        with pytest.raises(ObjectNotFound):
            services.get_estimate(site.owner, hidden.id)
    stranger = make_user("client", client=other)
    with pytest.raises(ObjectNotFound):
        services.get_estimate(stranger, sent.id)
    with pytest.raises(ObjectNotFound):
        services.get_estimate(site.owner, 10**12)  # beyond any id: not found, never an error
    assert {e.id for e in _db.session.scalars(services.estimate_list(site.trainee))} == {draft.id, sent.id, theirs.id}
    assert _db.session.scalars(services.estimate_list(make_user("client", client_id=None))).all() == []


def test_the_scope_compares_the_owning_client_in_sql_as_in_can(site):
    """core.permissions.Scope(client=…): a row owned by a client directly (no project yet)."""
    sent, _token = _sent(site)
    other_owner = make_user("client", client=make_client())
    stmt = scope_query(select(Estimate.id), site.owner, "estimate.view", Estimate)
    assert _db.session.scalars(stmt).all() == [sent.id]
    assert _db.session.scalars(scope_query(select(Estimate.id), other_owner, "estimate.view", Estimate)).all() == []
    assert can(site.owner, "estimate.approve", sent) and not can(other_owner, "estimate.approve", sent)
    sent.project_id = make_project(client=other_owner.client).id  # the project never decides it
    assert can(site.owner, "estimate.view", sent) and not can(other_owner, "estimate.view", sent)
    assert not can(make_user("employee"), "estimate.view", sent)


def test_the_client_never_sees_rates_hours_costs_or_notes(site, client, login_as):
    estimate, _token = _sent(site)
    login_as(site.owner)
    page = client.get(f"/estimates/{estimate.id}").text
    # prices: the 12.5 % markup inside each line (1,069.07 + 133.63), never the cost or the margin
    assert "$1,202.70" in page and "$1,509.83" in page
    for internal in (SECRET, "14.96", "789.14", "52.75", "279.93", "39.99", "Gallons", "$1,069.07", "12.5 %", "Markup"):
        assert internal not in page, internal
    login_as(site.pm)
    staff = client.get(f"/estimates/{estimate.id}").text
    assert "14.96" in staff and "$789.14" in staff and SECRET in staff
    stranger = make_user("client", client=make_client())
    login_as(stranger)
    assert client.get(f"/estimates/{estimate.id}").status_code == 404
    assert client.get(f"/estimates/{estimate.id}.pdf").status_code == 404
    assert client.post(f"/estimates/{estimate.id}/approve", data={"signature_name": "X"}).status_code == 404
    assert estimate.is_sent


# --- pages ------------------------------------------------------------------------------


def test_the_form_makes_a_draft_and_shows_problems_inline(site, client, login_as):
    login_as(site.pm)
    page = client.get(f"/estimates/new?client_id={site.company.id}")
    assert page.status_code == 200 and 'name="line_quantity"' in page.text
    form = {"client_id": str(site.company.id), "title": "Hall", "address": "1 Harbor Way", "markup_pct": "10",
            "line_surface": ["walls", "trim"], "line_description": ["Hall walls", "Hall trim"],
            "line_quantity": ["12,5", "40"], "line_unit": ["sq_ft", "linear_ft"], "line_coats": ["2", "1"],
            "line_option": ["", "optional"]}  # fmt: skip
    refused = client.post("/estimates/new", data=form)
    assert refused.status_code == 422 and "Line 1: enter a quantity such as 12 or 12.5" in refused.text
    assert 'value="12,5"' in refused.text and _count(Estimate) == 0  # what was typed stays
    made = client.post("/estimates/new", data={**form, "line_quantity": ["300", "40"]})
    assert made.status_code == 303
    estimate = _db.session.scalars(select(Estimate)).one()
    assert [line.is_optional for line in estimate.lines] == [False, True] and estimate.lines[0].coats == 2
    detail = client.get(f"/estimates/{estimate.id}").text
    assert 'data-testid="send-estimate"' in detail and 'data-testid="edit-estimate"' in detail
    edit = client.post(f"/estimates/{estimate.id}/edit", data={**form, "line_quantity": ["150", "40"],
                                                                 "version": str(estimate.version)})  # fmt: skip
    assert edit.status_code == 303 and estimate.lines[0].quantity == Decimal("150")


def test_the_list_page_for_staff_and_client(site, client, login_as):
    draft = _estimate(site)
    sent, _token = _sent(site, title="Porch")
    login_as(site.trainee)
    html = client.get("/estimates").text
    assert draft.number in html and sent.number in html and 'data-testid="new-estimate"' in html
    login_as(site.owner)
    html = client.get("/estimates").text
    assert draft.number not in html and sent.number in html and 'data-testid="new-estimate"' not in html


def test_the_signed_in_client_ticks_options_and_approves_on_the_page(site, client, login_as):
    estimate, _token = _sent(site)
    trim = estimate.lines[1]
    login_as(site.owner)
    page = client.get(f"/estimates/{estimate.id}").text
    assert 'data-testid="approve-estimate"' in page and f'value="{trim.id}"' in page
    live = client.get(f"/estimates/{estimate.id}/totals?line={trim.id}", headers={"HX-Request": "true"})
    assert live.status_code == 200 and "$1,811.33" in live.text and "<html" not in live.text
    unsigned = client.post(f"/estimates/{estimate.id}/approve", data={"line": str(trim.id)})
    assert unsigned.status_code == 422 and "Type your full name" in unsigned.text and estimate.is_sent
    done = client.post(f"/estimates/{estimate.id}/approve", data={"line": str(trim.id), "signature_name": "Dana Owner",
                                                                 "version": str(estimate.version)},
                       headers={"User-Agent": "Mozilla/5.0 (Macintosh)"})  # fmt: skip
    assert done.status_code == 303
    _db.session.expire_all()
    estimate = _db.session.get(Estimate, estimate.id)
    assert estimate.is_approved and estimate.total == Decimal("1811.33") and estimate.signature_ip
    assert estimate.signature_user_agent == "Mozilla/5.0 (Macintosh)" and estimate.project is not None
    again = client.post(f"/estimates/{estimate.id}/approve", data={"signature_name": "Dana Owner"})
    assert again.status_code == 409 and "final" in again.text


def test_the_review_link_works_for_anyone_with_it_and_no_one_without(site, app):
    estimate, token = _sent(site)
    trim = estimate.lines[1]
    anonymous = app.test_client()
    page = anonymous.get(f"/estimates/review/{token}")
    assert page.status_code == 200 and "$1,509.83" in page.text and SECRET not in page.text
    assert page.headers["Cache-Control"] == "no-store" and page.headers["Referrer-Policy"] == "no-referrer"
    assert "14.96" not in page.text and "Gallons" not in page.text
    live = anonymous.get(f"/estimates/review/{token}/totals?line={trim.id}")
    assert live.status_code == 200 and "$1,811.33" in live.text
    assert anonymous.get(f"/estimates/review/{token}.pdf").headers["Content-Type"] == "application/pdf"
    assert anonymous.get("/estimates/review/not-a-token").status_code == 404
    assert anonymous.post("/estimates/review/not-a-token/approve", data={"signature_name": "X"}).status_code == 404
    unsigned = anonymous.post(f"/estimates/review/{token}/approve", data={"line": str(trim.id)})
    assert unsigned.status_code == 422 and "Type your full name" in unsigned.text
    signed = anonymous.post(f"/estimates/review/{token}/approve",
                            data={"line": str(trim.id), "signature_name": "Dana Owner"},
                            headers={"User-Agent": "Mozilla/5.0 (Android)"},
                            environ_base={"REMOTE_ADDR": "198.51.100.23"})  # fmt: skip
    assert signed.status_code == 200 and 'data-testid="review-done"' in signed.text
    _db.session.expire_all()
    estimate = _db.session.get(Estimate, estimate.id)
    assert estimate.is_approved and estimate.approved_by_id is None and estimate.signature_name == "Dana Owner"
    assert (estimate.signature_ip, estimate.signature_user_agent) == ("198.51.100.23", "Mozilla/5.0 (Android)")
    assert estimate.project.contract_value == Decimal("1811.33")
    entry = _db.session.scalars(
        select(AuditLog).where(AuditLog.object_type == "Estimate", AuditLog.object_id == str(estimate.id))
        .order_by(AuditLog.id.desc())
    ).first()  # fmt: skip
    assert entry.username == "review link" and entry.ip == "198.51.100.23"
    assert anonymous.post(f"/estimates/review/{token}/approve", data={"signature_name": "D"}).status_code == 409
    # the link still shows what was approved
    assert "Approved" in anonymous.get(f"/estimates/review/{token}").text


@pytest.mark.parametrize("role", ["admin", "project_manager_full", "designer", "employee", "client"])
def test_the_review_link_answers_every_role_the_same(site, client, login_as, role):
    """The token is the authority: signed in as anyone (or no one) the page is the same,
    a wrong token 404, an expired one 410 — and a GET writes nothing."""
    estimate, token = _sent(site)
    login_as(make_user(role))
    assert client.get(f"/estimates/review/{token}").status_code == 200
    assert client.get(f"/estimates/review/{token}x").status_code == 404
    estimate.review_expires_at = estimate.sent_at - dt.timedelta(seconds=1)
    _db.session.flush()
    gone = client.get(f"/estimates/review/{token}")
    assert gone.status_code == 410 and "expired" in gone.text
    assert client.post(f"/estimates/review/{token}/approve", data={"signature_name": "Dana"}).status_code == 410
    assert estimate.is_sent


def test_declining_through_the_link(site, app):
    estimate, token = _sent(site)
    anonymous = app.test_client()
    empty = anonymous.post(f"/estimates/review/{token}/decline", data={"decline_reason": ""})
    assert empty.status_code == 422
    done = anonymous.post(f"/estimates/review/{token}/decline", data={"decline_reason": "We chose another painter"})
    assert done.status_code == 200
    _db.session.expire_all()
    estimate = _db.session.get(Estimate, estimate.id)
    assert estimate.is_declined and estimate.decline_reason == "We chose another painter"
    told = _db.session.scalars(select(Notification.title).where(Notification.kind == "estimate_decided")).all()
    assert told == [f"Estimate {estimate.number} for Harbor Holdings was declined"]


def test_the_admin_company_page_has_the_estimate_defaults(site, client, login_as):
    login_as(site.admin)
    html = client.get("/admin/company").text
    assert 'name="estimate_labor_rate"' in html and 'name="rate_walls"' in html and 'value="150.00"' in html
    saved = client.post("/admin/company", data={"name": "Kibray", "estimate_labor_rate": "61.50", "rate_doors": "2",
                                                 "version": ""})  # fmt: skip
    assert saved.status_code == 303
    assert services.defaults().labor_rate == Decimal("61.50") and services.production_rates()["doors"] == 2
    refused = client.post("/admin/company", data={"name": "Kibray", "rate_doors": "fast"})
    assert refused.status_code == 422 and "production rate" in refused.text


# --- the PDF and the email ----------------------------------------------------------------


def pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF-")
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages).split())


def test_the_pdf_shows_the_company_the_lines_and_the_totals_never_costs(site, app):
    from app.company.services import update_company

    with app.test_request_context():
        update_company(site.admin, {"name": "Harbor Painting Co", "phone": "512-555-0100"})
    estimate, _token = _sent(site)
    with app.test_request_context():
        words = pdf_text(delivery.render_pdf(estimate))
    assert "Harbor Painting Co" in words and "ESTIMATE" in words and estimate.number in words
    assert "Harbor Holdings" in words and "Living and dining walls" in words and "$1,202.70" in words
    assert "$1,069.07" not in words and "12.5" not in words  # the client's document: prices, no margin
    assert (
        "Total $1,509.83" in words
        and "OPTIONAL ITEMS (NOT INCLUDED ABOVE)" in words
        and "Baseboards and casings" in words
    )
    for internal in (SECRET, "14.96", "789.14", "279.93"):
        assert internal not in words


def test_the_review_link_is_emailed_with_the_pdf_by_a_worker(site, app, db, inbox):  # noqa: F811
    from rq import SimpleWorker

    from app.core.jobs import get_queue

    db.session.add(ClientContact(client_id=site.company.id, name="Sam Quay", email="sam@harbor.example",
                                 roles="billing"))  # fmt: skip
    with app.test_request_context():
        estimate, token = _sent(site)
        db.session.commit()
    assert inbox.messages == []
    queue = get_queue("invoices")
    SimpleWorker([queue], connection=queue.connection).work(burst=True)
    [(to, content)] = inbox.messages
    assert to == ["sam@harbor.example"]
    message = email.message_from_string(content, policy=email.policy.default)
    assert message["Subject"].startswith(f"Estimate {estimate.number} from ")
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert f"https://erp.example/estimates/review/{token}" in body and "Total: $1,509.83" in body
    assert SECRET not in content
    [part] = list(message.iter_attachments())
    assert (part.get_content_type(), part.get_filename()) == ("application/pdf", f"{estimate.number}.pdf")
    assert "$1,509.83" in pdf_text(part.get_content())
    db.session.expire_all()
    [sent] = delivery.deliveries_of(db.session.get(Estimate, estimate.id))
    assert sent.status == "sent" and sent.attempts == 1
    # a re-run of the job does not email twice; a replaced link is skipped
    from app.core.crypto import encrypt

    assert delivery.deliver(sent.id, encrypt(token)) == "skipped" and len(inbox.messages) == 1
