"""Progress billing, the review's defects: retainage held never below what was released
(stored materials keep the rate they were stored at; a certificate refused below it),
the application's invoice tied to it, a release's invoice tied to its release, change
orders and tasks billed once, what a client counts, the suggestion with stored
materials, a stale delete."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from app.core.errors import ValidationError
from app.extensions import db
from app.progress_billing import g702, releases, schedule, services
from app.progress_billing.models import PayApplication, PayApplicationLine
from app.progress_billing.releases import release_problem
from tests.factories import make_client, make_pay_application, make_project, make_sov, make_user


@pytest.fixture()
def site(db):
    client_co = make_client()
    pm = make_user("project_manager_full")
    admin = make_user("admin")
    owner = make_user("client", client=client_co)
    project = make_project(client_co, members=[pm])
    lines = make_sov(project, ("1000.00", "3000.00"))
    return project, lines, pm, admin, owner


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def apply(actor, project, period, entries):
    return services.create_pay_application(actor, project, {"period_to": period}, entries)


# --- 1. retainage held never below released ------------------------------------------------


def test_stored_materials_keep_the_rate_they_were_held_at_after_a_step_down_and_a_release(site):
    """The reviewer's case: 10 % stepping to 5 % at 50 %; 1,000 of work and 1,000 stored hold
    200, all released; the stored materials installed later keep their 10 %: line 5 stays
    200 and the contractor is paid 2,000 for 2,000 of work (it was 150 and 2,050)."""
    project, lines, pm, admin, _ = site
    schedule.save_terms(admin, project, {"retainage_pct": "10", "step_down_at_pct": "50", "step_down_pct": "5"})
    one = apply(admin, project, date(2026, 3, 31), [{"sov_line_id": lines[0].id, "this_period": "1000.00"},
                {"sov_line_id": lines[1].id, "this_period": "0", "materials_stored": "1000.00"}])  # fmt: skip
    services.certify(admin, one)
    assert one.g702_retainage == D("200.00")
    releases.release(admin, project, "200.00")
    two = apply(admin, project, date(2026, 4, 30),
                [{"sov_line_id": lines[1].id, "this_period": "1000.00", "materials_stored": "0"}])  # fmt: skip
    services.certify(admin, two)
    assert two.g702_total_completed_and_stored == D("2000.00")
    assert two.g702_retainage == D("200.00")
    assert two.g702_current_payment_due == D("0.00")
    paid = one.g702_current_payment_due + two.g702_current_payment_due + releases.released(project.id)
    assert paid == two.g702_total_completed_and_stored
    assert releases.released(project.id) <= services.retainage_held(project.id)


def test_stored_materials_unchanged_over_the_step_down_stay_held_at_their_rate(site):
    project, lines, pm, admin, _ = site
    schedule.save_terms(admin, project, {"retainage_pct": "10", "step_down_at_pct": "50", "step_down_pct": "5"})
    one = apply(admin, project, date(2026, 3, 31), [{"sov_line_id": lines[0].id, "this_period": "1000.00"},
                {"sov_line_id": lines[1].id, "this_period": "0", "materials_stored": "1000.00"}])  # fmt: skip
    services.certify(admin, one)
    two = apply(admin, project, date(2026, 4, 30), [{"sov_line_id": lines[1].id, "this_period": "500.00"}])
    services.certify(admin, two)  # stored 1,000 carried: still 100 held on it; the new 500 at 5 %
    assert two.g702_retainage == D("225.00")


def test_a_correction_that_would_hold_less_than_released_is_refused_and_nothing_is_written(site):
    """10 % stepping to 5 % at 30 %: 150 held on 1,500 and released; then 500 of new work
    (held at 5 %: 25) and a correction of 500 (taking back its 10 %: 50) would hold 125."""
    project, lines, pm, admin, _ = site
    schedule.save_terms(admin, project, {"retainage_pct": "10", "step_down_at_pct": "30", "step_down_pct": "5"})
    one = make_pay_application(project, ["500.00", "1000.00"], certify_by=admin)
    releases.release(admin, project, "150.00")
    two = apply(admin, project, date(2026, 4, 30),
                [{"sov_line_id": lines[1].id, "this_period": "-500.00", "reason": "Over-claimed in March"},
                 {"sov_line_id": lines[0].id, "this_period": "500.00"}])  # fmt: skip
    assert services.figures(two).current_payment_due == D("25.00")
    assert services.figures(two).retainage == D("125.00")
    version, lines_before = two.version, count(PayApplicationLine)
    with pytest.raises(ValidationError) as exc:
        services.certify(admin, two)
    assert "below the 150.00 already released" in exc.value.fields["lines"]
    db.session.expire_all()
    two = db.session.get(PayApplication, two.id)
    assert not two.is_certified and two.number is None and two.invoice_id is None and two.version == version
    assert count(PayApplicationLine) == lines_before
    assert one.g702_retainage == services.retainage_held(project.id)


def test_a_negative_payment_due_refuses_certification_and_writes_nothing(site):
    project, lines, pm, admin, _ = site
    make_pay_application(project, ["1000.00", "0"], certify_by=pm)
    two = apply(
        admin,
        project,
        date(2026, 4, 30),
        [{"sov_line_id": lines[0].id, "this_period": "-500.00", "reason": "Over-billed"}],
    )
    with pytest.raises(ValidationError) as exc:
        services.certify(admin, two)
    assert "line 8" in exc.value.fields["lines"] and "Lower the correction" in exc.value.fields["lines"]
    db.session.expire_all()
    two = db.session.get(PayApplication, two.id)
    assert not two.is_certified and two.invoice_id is None


# --- the property: released ≤ held, and every payment ever due ≤ line 4 -------------------

amounts = st.integers(min_value=0, max_value=200_000).map(lambda c: D(c) / 100)


@st.composite
def billing_runs(draw):
    """Terms (sometimes stepping down), a schedule, and a run of steps: applications (work
    this period as a share of what is left or a correction with its reason, materials
    stored as a share of what is left) and releases of any amount."""
    stepped = draw(st.booleans())
    terms = g702.Terms(D(draw(st.integers(1, 20))), D(draw(st.integers(1, 99))) if stepped else None,
                       D(draw(st.integers(0, 5))) if stepped else None)  # fmt: skip
    values = draw(st.lists(st.integers(100, 1_000_000).map(lambda c: D(c) / 100), min_size=1, max_size=4))
    steps = []
    for _ in range(draw(st.integers(1, 8))):
        if draw(st.integers(0, 3)) == 0:
            steps.append(("release", draw(amounts)))
        else:
            steps.append(("apply", [(draw(st.integers(-100, 100)), draw(st.integers(0, 100))) for _ in values]))
    return terms, values, steps


@settings(max_examples=300, deadline=None)
@given(billing_runs())
def test_released_never_exceeds_held_and_payments_never_exceed_the_work(run):
    """Over any run of certified applications (stored materials installed or taken out,
    corrections with a reason, a step-down) and releases: released ≤ line 5 held, and
    Σ line 8 + released ≤ line 4 at every moment."""
    terms, values, steps = run
    held_by_line = {i: g702.Held() for i in range(len(values))}
    previous, held, released, paid = None, D("0"), D("0"), D("0")
    line4 = D("0")
    for kind, detail in steps:
        if kind == "release":
            if release_problem(held, released, detail, False, complete=False) is None:
                released += detail
        else:
            rows = []
            for i, (value, (share, stored_share)) in enumerate(zip(values, detail, strict=True)):
                h = held_by_line[i]
                room = value - h.work
                e = (room * share / 100).quantize(D("0.01"), rounding="ROUND_DOWN") if share >= 0 else \
                    -(h.work * -share / 100).quantize(D("0.01"), rounding="ROUND_DOWN")  # fmt: skip
                f = ((value - h.work - e) * stored_share / 100).quantize(D("0.01"), rounding="ROUND_DOWN")
                rows.append(g702.LineIn(key=i, item=str(i), description="", scheduled_value=value, this_period=e,
                                        materials_stored=f, previous_work=h.work, previous_held_basis=h.work_basis,
                                        previous_stored=h.stored, previous_stored_basis=h.stored_basis,
                                        reason="a correction" if e < 0 else ""))  # fmt: skip
            assert g702.problems(rows) == {}
            result = g702.compute(rows, terms, previous)
            if g702.certify_problem(result, released) is not None:
                continue  # refused: nothing certified
            for row in result.rows:
                held_by_line[row.key] = g702.advance(held_by_line[row.key], row.this_period, row.materials_stored,
                                                     row.rate)  # fmt: skip
                assert held_by_line[row.key].work_basis == row.held_basis
                assert held_by_line[row.key].stored_basis == row.stored_basis
            held, line4 = result.retainage, result.total_completed_and_stored
            paid += result.current_payment_due
            previous = g702.Previous(result.contract_sum_to_date, line4, result.total_earned_less_retainage)
        assert released <= held
        assert paid + released <= line4


def test_the_certify_page_answers_422_with_the_reason(client, login_as, site):
    project, lines, pm, admin, _ = site
    make_pay_application(project, ["1000.00", "0"], certify_by=pm)
    two = apply(
        admin,
        project,
        date(2026, 4, 30),
        [{"sov_line_id": lines[0].id, "this_period": "-500.00", "reason": "Over-billed"}],
    )
    login_as(pm)
    response = client.post(f"/pay-applications/{two.id}/certify", data={"version": two.version})
    assert response.status_code == 422
    assert "a certificate cannot take money back" in response.get_data(as_text=True)
    db.session.expire_all()
    assert not db.session.get(PayApplication, two.id).is_certified


# --- deleting a draft checks its version ------------------------------------------------------


def test_deleting_a_draft_checks_its_version(client, login_as, site):
    from app.core.versioning import StaleObject

    project, lines, pm, admin, _ = site
    draft = make_pay_application(project, ["100.00", "0"])
    stale = draft.version
    services.update_pay_application(pm, draft, {"notes": "Checked"}, [], version=stale)
    with pytest.raises(StaleObject):
        services.delete_pay_application(pm, draft, version=stale)
    login_as(pm)
    response = client.post(f"/pay-applications/{draft.id}/delete", data={"version": stale})
    assert response.status_code == 409
    from tests.conftest import bearer

    response = client.delete(f"/api/financials/pay-applications/{draft.id}/",
                             headers={**bearer(client, pm), "If-Match": f'"{stale}"'})  # fmt: skip
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "CONFLICT"
    db.session.expire_all()
    assert db.session.get(PayApplication, draft.id) is not None
    response = client.post(f"/pay-applications/{draft.id}/delete", data={"version": draft.version})
    assert response.status_code in (302, 303)
    assert count(PayApplication) == 0


# --- 2. the application's invoice is tied to it -----------------------------------------------


def test_the_application_invoice_keeps_its_one_line_at_the_payment_due(site):
    from app.invoices.services import create_invoice, update_invoice

    project, lines, pm, admin, _ = site
    app = make_pay_application(project, ["500.00", "500.00"], certify_by=pm)
    invoice = app.invoice
    line = invoice.lines[0]
    assert (line.source, line.source_id, invoice.total_amount) == ("pay_application", app.id, D("900.00"))
    for bad in (
        [{"description": "whatever", "quantity": "1", "unit_price": "99999.00"}],
        [{"description": "x", "quantity": "1", "unit_price": "1000.00", "source": "pay_application",
          "source_id": app.id}],
        [{"description": "x", "quantity": "1", "unit_price": "900.00", "source": "pay_application",
          "source_id": app.id}, {"description": "extra", "quantity": "1", "unit_price": "10.00"}],
    ):  # fmt: skip
        with pytest.raises(ValidationError) as exc:
            update_invoice(pm, invoice, {}, bad)
        assert "900.00" in exc.value.fields["line_items"]
    with pytest.raises(ValidationError):
        update_invoice(pm, invoice, {"invoice_type": "final"})
    update_invoice(pm, invoice, {"client_message": "Thank you", "tax_rate": "7"})  # other fields: fine
    assert invoice.total_amount == D("900.00")
    with pytest.raises(ValidationError) as exc:  # its line on another invoice
        create_invoice(pm, project, {}, [{"description": "x", "quantity": "1", "unit_price": "900.00",
                                          "source": "pay_application", "source_id": app.id}])  # fmt: skip
    assert "certifying" in exc.value.fields["line_items"]


def test_a_deleted_or_cancelled_invoice_is_created_again(client, login_as, site):
    from app.core.errors import ConflictError
    from app.invoices.services import cancel_invoice, delete_invoice, send_invoice

    project, lines, pm, admin, _ = site
    app = make_pay_application(project, ["500.00", "500.00"], certify_by=pm)
    with pytest.raises(ConflictError):
        services.recreate_invoice(pm, app)  # it has one
    delete_invoice(admin, app.invoice)
    db.session.expire_all()
    assert app.invoice_id is None and services.may_recreate_invoice(pm, app)
    login_as(pm)
    page = client.get(f"/pay-applications/{app.id}").get_data(as_text=True)
    assert "Create its invoice again" in page
    response = client.post(f"/pay-applications/{app.id}/invoice")
    assert response.status_code in (302, 303)
    db.session.expire_all()
    invoice = app.invoice
    assert invoice.total_amount == D("900.00") and invoice.lines[0].source == "pay_application"
    send_invoice(admin, invoice)
    cancel_invoice(admin, invoice, "Wrong client address")
    again = services.recreate_invoice(pm, app).invoice
    assert again.id != invoice.id and again.is_draft and again.total_amount == D("900.00")
    assert not services.may_recreate_invoice(pm, app)


# --- 3. a retainage release's invoice is tied to its release ----------------------------------


def test_a_release_invoice_keeps_its_retainage_line_and_type(site):
    from app.invoices.services import update_invoice

    project, lines, pm, admin, _ = site
    make_pay_application(project, ["1000.00", "0"], certify_by=pm)
    row = releases.release(admin, project, "50.00")
    invoice = row.invoice
    for bad in (
        [{"description": "Something else", "quantity": "1", "unit_price": "7000.00"}],
        [{"description": "Release", "quantity": "1", "unit_price": "50.00", "source": "retainage",
          "source_id": row.id}, {"description": "extra", "quantity": "1", "unit_price": "10.00"}],
    ):  # fmt: skip
        with pytest.raises(ValidationError) as exc:
            update_invoice(admin, invoice, {}, bad)
        assert "50.00" in exc.value.fields["line_items"]
    with pytest.raises(ValidationError) as exc:
        update_invoice(admin, invoice, {"invoice_type": "final"})
    assert "standard" in " ".join(exc.value.fields.values())
    assert invoice.total_amount == D("50.00") and releases.released(project.id) == D("50.00")


def test_neither_tied_invoice_holds_a_retention_of_its_own(site):
    """A pay application's due is already net of its retainage, and a release's invoice is
    retainage handed back: a retention held on either would be held twice (and offered again
    on the final invoice). Refused with the reason on the field; nothing written."""
    from app.invoices.services import update_invoice

    project, lines, pm, admin, _ = site
    app = make_pay_application(project, ["500.00", "500.00"], certify_by=pm)
    row = releases.release(admin, project, "50.00")
    for invoice, actor in ((app.invoice, pm), (row.invoice, admin)):
        version = invoice.version
        with pytest.raises(ValidationError) as exc:
            update_invoice(actor, invoice, {"retention_amount": "9.00"})
        assert "holds no retention" in exc.value.fields["retention_amount"]
        db.session.expire_all()
        assert invoice.retention_amount == D("0.00") and invoice.version == version
        update_invoice(actor, invoice, {"retention_amount": "0.00", "client_message": "Thanks"})  # 0 is fine


# --- 5. change orders and tasks billed once ---------------------------------------------------


def test_a_project_with_a_schedule_bills_change_orders_and_tasks_through_pay_applications(site):
    from app.invoices.services import create_invoice, prefilled_lines
    from app.tasks.models import Task
    from tests.factories import make_change_order

    project, lines, pm, admin, _ = site
    co = make_change_order(project, status="approved")
    task = Task(project_id=project.id, title="Prime the hall", status="completed")
    db.session.add(task)
    db.session.flush()
    assert not [r for r in prefilled_lines(project, "standard") if r["source"] in ("change_order", "task")]
    for source, source_id in (("change_order", co.id), ("task", task.id)):
        with pytest.raises(ValidationError) as exc:
            create_invoice(pm, project, {}, [{"description": "x", "quantity": "1", "unit_price": "10.00",
                                              "source": source, "source_id": source_id}])  # fmt: skip
        assert "bill it through a pay application" in exc.value.fields["line_items"]
    other = make_project(project.client, members=[pm])  # no schedule: the wizard's way
    make_change_order(other, status="approved")
    assert [r["source"] for r in prefilled_lines(other, "standard")] == ["change_order"]


def test_approving_a_change_order_already_invoiced_adds_no_schedule_line(site):
    from app.invoices.services import create_invoice
    from app.progress_billing.models import SovLine
    from tests.factories import make_change_order

    project, lines, pm, admin, _ = site
    bare = make_project(project.client, members=[pm])
    co = make_change_order(bare, status="approved")
    create_invoice(pm, bare, {}, [{"description": "CO", "quantity": "1", "unit_price": str(co.amount or "1.00"),
                                   "source": "change_order", "source_id": co.id}])  # fmt: skip
    make_sov(bare, ("500.00",))  # the schedule typed afterwards
    assert schedule.add_change_order_line(co) is None
    assert db.session.scalar(select(func.count()).select_from(SovLine).where(SovLine.change_order_id == co.id)) == 0


# --- 6. the client counts only what was issued to them -----------------------------------------


def test_the_client_counts_only_releases_whose_invoice_is_issued(client, login_as, site):
    from app.invoices.services import send_invoice

    project, lines, pm, admin, owner = site
    app = make_pay_application(project, ["1000.00", "0"], certify_by=pm)
    row = releases.release(admin, project, "40.00")
    assert releases.released_for(pm, project.id) == D("40.00")
    assert releases.released_for(owner, project.id) == D("0")  # its invoice is a draft
    assert not services.may_see_invoice(owner, app)
    login_as(owner)
    page = client.get(f"/projects/{project.id}/billing").get_data(as_text=True)
    assert "released" not in page and "$40.00" not in page
    send_invoice(admin, row.invoice)
    send_invoice(admin, app.invoice)
    assert releases.released_for(owner, project.id) == D("40.00")
    assert services.may_see_invoice(owner, app)
    page = client.get(f"/projects/{project.id}/billing").get_data(as_text=True)
    assert "released $40.00" in page


def test_the_api_shows_a_client_the_invoice_id_once_it_is_issued(client, site):
    from app.invoices.services import send_invoice
    from tests.conftest import bearer

    project, lines, pm, admin, owner = site
    app = make_pay_application(project, ["1000.00", "0"], certify_by=pm)
    headers = bearer(client, owner)
    assert client.get(f"/api/financials/pay-applications/{app.id}/", headers=headers).json["data"]["invoice_id"] is None
    staff = client.get(f"/api/financials/pay-applications/{app.id}/", headers=bearer(client, pm))
    assert staff.json["data"]["invoice_id"] == app.invoice_id
    send_invoice(admin, app.invoice)
    assert client.get(f"/api/financials/pay-applications/{app.id}/", headers=headers).json["data"]["invoice_id"] == (
        app.invoice_id
    )


# --- 8. the suggestion, in services, with stored materials ------------------------------------


def test_the_suggestion_counts_materials_stored(site):
    """Line 1 (1,000): 100 billed and 500 stored before; its tasks 62.5 % complete. The
    suggestion is 52.5 % this period (525), and the stored materials drop to 375 (installed
    by that work) so the line is at 100 %, not refused as over it; nothing is written."""
    from app.tasks.models import Task

    project, lines, pm, admin, _ = site
    one = apply(pm, project, date(2026, 3, 31),
                [{"sov_line_id": lines[0].id, "this_period": "100.00", "materials_stored": "500.00"}])  # fmt: skip
    services.certify(pm, one)
    walls = Task(project_id=project.id, title="Walls", schedule_weight=3, progress_percent=50)
    trim = Task(project_id=project.id, title="Trim", schedule_weight=1, progress_percent=100)
    db.session.add_all([walls, trim])
    db.session.flush()
    lines[0].tasks = [walls, trim]
    db.session.flush()
    before = count(PayApplication)
    entries = [{"sov_line_id": str(lines[0].id), "this_period": "", "this_period_pct": "", "materials_stored": "",
                "reason": ""}]  # fmt: skip
    filled = services.suggest_this_period(project, entries, str(lines[0].id))
    assert filled[0]["this_period_pct"] == "52.5" and filled[0]["materials_stored"] == "375.00"
    result, problems = services.preview(project, filled)
    assert problems == {} and result.rows[0].total_completed_and_stored == D("1000.00")
    assert count(PayApplication) == before
    assert services.suggest_this_period(project, entries, "nonsense") == entries


def test_a_certified_application_splits_each_line_as_it_was_held(site):
    """The G703 rows of a certified application split I into work and stored materials at
    the rates they were held at: they add up to its lines 5a and 5b."""
    project, lines, pm, admin, _ = site
    schedule.save_terms(admin, project, {"retainage_pct": "10", "step_down_at_pct": "50", "step_down_pct": "5"})
    one = apply(admin, project, date(2026, 3, 31), [{"sov_line_id": lines[0].id, "this_period": "1000.00"},
                {"sov_line_id": lines[1].id, "this_period": "0", "materials_stored": "1000.00"}])  # fmt: skip
    services.certify(admin, one)
    two = apply(admin, project, date(2026, 4, 30), [{"sov_line_id": lines[1].id, "this_period": "500.00"}])
    services.certify(admin, two)
    rows = services.figures(two).rows
    assert sum((r.retainage_on_stored for r in rows), D("0")) == two.g702_retainage_on_stored == D("100.00")
    assert sum((r.retainage_on_work for r in rows), D("0")) == two.g702_retainage_on_completed == D("125.00")
