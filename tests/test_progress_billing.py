"""Progress billing rules through the services, the pages and the API (real PostgreSQL):
certify freezes and invoices, bad input writes nothing, locked applications, one draft,
the schedule's rules, change orders onto the schedule, retainage released never past
held, who sees what (the client: certified only, no notes), the PDF read back."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal as D

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from app.core.errors import ConflictError, ValidationError
from app.extensions import db
from app.progress_billing import releases, schedule, services
from app.progress_billing.models import PayApplication, SovLine
from tests.conftest import bearer
from tests.factories import make_change_order, make_client, make_pay_application, make_project, make_sov, make_user


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


def test_certify_numbers_freezes_and_invoices_the_payment_due(site):
    project, lines, pm, *_ = site
    app = make_pay_application(project, ["500.00", "1500.00"], certify_by=pm)
    assert app.number.startswith("PA-") and app.is_certified
    assert app.g702_total_completed_and_stored == D("2000.00")
    assert app.g702_retainage == D("200.00") and app.g702_current_payment_due == D("1800.00")
    invoice = app.invoice
    assert invoice.status == "DRAFT" and invoice.invoice_type == "standard"
    assert invoice.total_amount == D("1800.00") and invoice.retention_amount == D("0.00")
    # a later application reads it, never alters it
    lines[0].scheduled_value = D("1200.00")
    lines[1].scheduled_value = D("2800.00")
    two = make_pay_application(project, ["100.00", "0"], certify_by=pm, period=date(2026, 4, 30))
    assert two.g702_less_previous_certificates == D("1800.00")
    assert services.figures(app).rows[0].scheduled_value == D("1000.00")  # as certified
    assert two.g702_current_payment_due == D("90.00")
    with pytest.raises(ConflictError):
        services.update_pay_application(pm, app, {"notes": "x"}, [])


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ({"this_period": "1000.01"}, "more than 100 %"),
        ({"this_period": "-10.00"}, "give the reason"),
        ({"this_period_pct": "150"}, "between 0 and 100"),
        ({"this_period": "12,5"}, "enter the work this period"),
        ({"this_period": "NaN"}, "enter the work this period"),
    ],
)
def test_bad_lines_are_refused_and_nothing_is_written(site, line, message):
    project, lines, pm, *_ = site
    before = count(PayApplication)
    with pytest.raises(ValidationError) as exc:
        services.create_pay_application(
            pm, project, {"period_to": "2026-03-31"}, [{"sov_line_id": lines[0].id, **line}]
        )
    assert message in exc.value.fields["lines"]
    assert count(PayApplication) == before


def test_terms_refuse_a_retainage_above_100_and_a_threshold_of_150(site):
    project, _, pm, *_ = site
    with pytest.raises(ValidationError) as exc:
        schedule.save_terms(pm, project, {"retainage_pct": "101"})
    assert "between 0 and 100" in exc.value.fields["retainage_pct"]
    with pytest.raises(ValidationError) as exc:
        schedule.save_terms(pm, project, {"retainage_pct": "10", "step_down_at_pct": "150", "step_down_pct": "5"})
    assert "less than 100 % complete" in exc.value.fields["step_down_at_pct"]


def test_the_page_answers_422_inline_for_more_than_100_percent(client, login_as, site):
    project, lines, pm, *_ = site
    login_as(pm)
    form = {"period_to": "2026-03-31", "line_sov_line_id": [str(lines[0].id)], "line_this_period": ["5000"],
            "line_this_period_pct": [""], "line_materials_stored": [""], "line_reason": [""]}  # fmt: skip
    response = client.post(f"/projects/{project.id}/pay-applications/new", data=form)
    assert response.status_code == 422
    assert b"more than 100 %" in response.data
    assert count(PayApplication) == 0


def test_one_draft_at_a_time_and_the_schedule_must_sum_to_the_contract(site):
    project, lines, pm, *_ = site
    make_pay_application(project, ["100.00"])
    with pytest.raises(ConflictError):
        make_pay_application(project, ["100.00"], period=date(2026, 5, 1))
    other = make_project(project.client, members=[pm])
    make_sov(other, ("100.00",), contract="250.00")
    with pytest.raises(ValidationError) as exc:
        make_pay_application(other, ["10.00"])
    assert "contract value" in exc.value.fields["lines"]


def test_a_billed_line_is_archived_not_deleted_and_never_below_billed(site):
    project, lines, pm, *_ = site
    make_pay_application(project, ["600.00", "0"], certify_by=pm)
    with pytest.raises(ValidationError) as exc:
        schedule.save_schedule(pm, project, [{"id": lines[0].id, "description": "A", "scheduled_value": "500.00"},
                                             {"id": lines[1].id, "description": "B", "scheduled_value": "3500.00"}])  # fmt: skip
    assert "billed already" in exc.value.fields["lines"]
    schedule.save_schedule(pm, project, [{"id": lines[1].id, "description": "B", "scheduled_value": "3400.00"}])
    assert lines[0].is_archived and lines[0].scheduled_value == D("600.00")
    assert schedule.summary(project).total == D("4000.00")


def test_an_approved_change_order_adds_its_line(site):
    project, _, pm, admin, _ = site
    from app.change_orders import services as co_services

    co = make_change_order(project, status="pending_client")
    co_services.approve(admin, co, on_behalf_reason="Signed on paper")
    line = db.session.scalar(select(SovLine).where(SovLine.change_order_id == co.id))
    assert line.scheduled_value == co.amount and line.item.startswith("CO-")
    assert schedule.summary(project).balanced
    app = make_pay_application(project, ["0", "0", str(co.amount)], certify_by=pm)
    assert app.g702_net_change_by_change_orders == co.amount


def test_retainage_released_never_exceeds_held(site):
    project, lines, pm, *_ = site
    make_pay_application(project, ["1000.00", "3000.00"], certify_by=pm)  # 100 % complete, 400.00 held
    row = releases.release(pm, project, "150.00")
    assert row.invoice.invoice_type == "standard" and row.invoice.lines[0].source == "retainage"
    with pytest.raises(ValidationError) as exc:
        releases.release(pm, project, "250.01")
    assert "250.00" in exc.value.fields["amount"]
    final = releases.release(pm, project, "", final=True)
    assert final.amount == D("250.00") and final.invoice.invoice_type == "final"
    assert releases.available(project.id) == D("0.00")


def test_the_client_sees_certified_applications_without_notes(client, site):
    project, lines, pm, _, owner = site
    certified = make_pay_application(project, ["100.00", "0"], certify_by=pm)
    certified.notes = "internal"
    draft = make_pay_application(project, ["100.00", "0"], period=date(2026, 4, 30))
    headers = bearer(client, owner)
    listed = client.get(f"/api/financials/pay-applications/?project_id={project.id}", headers=headers).json
    assert [a["id"] for a in listed["data"]["results"]] == [certified.id]
    one = client.get(f"/api/financials/pay-applications/{certified.id}/", headers=headers).json["data"]
    assert "notes" not in one and "reason" not in one["lines"][0]
    assert one["g702"]["current_payment_due"] == "90.00"
    assert client.get(f"/api/financials/pay-applications/{draft.id}/", headers=headers).status_code == 404
    assert client.get(f"/api/financials/schedule-of-values/{project.id}/", headers=headers).status_code == 403


def test_api_create_certify_and_a_locked_edit_is_409(client, site):
    project, lines, pm, *_ = site
    headers = bearer(client, pm)
    body = {"project_id": project.id, "period_to": "2026-03-31",
            "lines": [{"sov_line_id": lines[0].id, "this_period": "250.00"},
                      {"sov_line_id": lines[1].id, "this_period_pct": "10"}]}  # fmt: skip
    created = client.post("/api/financials/pay-applications/", json=body, headers=headers)
    assert created.status_code == 201, created.json
    data = created.json["data"]
    assert data["g702"]["total_completed_and_stored"] == "550.00" and data["status"] == "draft"
    bad = client.put(f"/api/financials/pay-applications/{data['id']}/", headers=headers,
                     json={"lines": [{"sov_line_id": lines[0].id, "this_period": "9999"}]})  # fmt: skip
    assert bad.status_code == 400 and bad.json["error"]["code"] == "VALIDATION_ERROR"
    done = client.post(f"/api/financials/pay-applications/{data['id']}/certify/", headers=headers)
    assert done.status_code == 200 and done.json["data"]["number"].startswith("PA-")
    locked = client.patch(f"/api/financials/pay-applications/{data['id']}/", headers=headers, json={"notes": "late"})
    assert locked.status_code == 409 and locked.json["error"]["code"] == "CONFLICT"


def test_schedule_put_replaces_the_set_and_a_stale_version_is_409(client, site):
    project, lines, pm, *_ = site
    headers = bearer(client, pm)
    url = f"/api/financials/schedule-of-values/{project.id}/"
    current = client.get(url, headers=headers).json["data"]
    body = {"version": current["version"], "lines": [
        {"id": lines[0].id, "description": "Prep", "scheduled_value": "1500.00"},
        {"description": "Paint", "scheduled_value": "2500.00", "retainage_pct": "5"}]}  # fmt: skip
    saved = client.put(url, json=body, headers=headers)
    assert saved.status_code == 200, saved.json
    assert [(li["description"], li["scheduled_value"]) for li in saved.json["data"]["lines"]] == [
        ("Prep", "1500.00"), ("Paint", "2500.00")]  # fmt: skip
    assert all(li["id"] for li in saved.json["data"]["lines"])
    stale = client.put(url, json=body, headers=headers)
    assert stale.status_code == 409


def test_the_pdf_shows_the_g702_figures(client, login_as, site):
    project, lines, pm, *_ = site
    app = make_pay_application(project, ["500.00", "1500.00"], certify_by=pm)
    login_as(pm)
    response = client.get(f"/pay-applications/{app.id}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    for figure in ("4,000.00", "2,000.00", "200.00", "1,800.00", "2,200.00", app.number):
        assert figure in text, figure
    assert "8. Current payment due" in text


def test_the_tasks_suggest_a_per_cent_the_pm_confirms_and_nothing_is_written(client, login_as, site):
    """Tied tasks' schedule-weighted progress is offered per line; "Use the suggestion"
    fills that line's per cent this period (suggested − billed before) in the form only."""
    from app.tasks.models import Task

    project, lines, pm, *_ = site
    make_pay_application(project, ["100.00", "0"], certify_by=pm)  # 10 % of line 1 billed
    walls = Task(project_id=project.id, title="Walls", schedule_weight=3, progress_percent=50)
    trim = Task(project_id=project.id, title="Trim", schedule_weight=1, progress_percent=100)
    db.session.add_all([walls, trim])
    db.session.flush()
    lines[0].tasks = [walls, trim]
    db.session.flush()
    login_as(pm)
    page = client.get(f"/projects/{project.id}/pay-applications/new").get_data(as_text=True)
    assert "Tasks: 62.50 % complete" in page and 'data-testid="use-suggestion"' in page  # (3×50 + 1×100) ÷ 4
    form = {"period_to": "2026-04-30", "notes": "", "line_sov_line_id": [str(lines[0].id), str(lines[1].id)],
            "line_this_period": ["", ""], "line_this_period_pct": ["", ""], "line_materials_stored": ["", ""],
            "line_reason": ["", ""], "suggest": str(lines[0].id)}  # fmt: skip
    before = count(PayApplication)
    filled = client.post(f"/projects/{project.id}/pay-applications/new", data=form)
    assert filled.status_code == 200
    assert 'name="line_this_period_pct" value="52.5"' in filled.get_data(as_text=True)  # 62.5 − 10 billed
    assert count(PayApplication) == before  # confirmed only when saved
    fragment = client.get(
        f"/projects/{project.id}/pay-applications/totals?line_sov_line_id={lines[0].id}&line_this_period_pct=52.5",
        headers={"HX-Request": "true", "HX-Target": "pay-totals"},
    ).get_data(as_text=True)
    assert "$625.00" in fragment and "use-suggestion" not in fragment  # G = 100 + 525
    assert "$472.50" in fragment  # 625 − 62.50 retainage − 90.00 certified before


def test_the_remembered_history_is_what_the_certified_applications_add_up_to(site):
    """services.history is remembered per latest certified application: after each new
    certificate (a step-down on the way) it equals a fresh sum, and a caller changing
    its copy changes nothing remembered."""
    project, lines, pm, *_ = site
    schedule.save_terms(pm, project, {"retainage_pct": "10", "step_down_at_pct": "30", "step_down_pct": "5"})
    for n, amounts in enumerate((["200.00", "600.00"], ["300.00", "900.00"], ["100.00", "300.00"])):
        make_pay_application(project, amounts, certify_by=pm, period=date(2026, 3 + n, 28))
        remembered = services.history(project.id)
        services._HISTORY.clear()
        assert services.history(project.id) == remembered
        remembered[lines[0].id] = (D(0), D(0), D(0), D(0))
        assert services.history(project.id)[lines[0].id] != (D(0), D(0), D(0), D(0))
    work, basis, *_ = services.history(project.id)[lines[1].id]
    assert work == D("1800.00") and basis == D("600.00") * 10 + D("900.00") * 10 + D("300.00") * 5


def test_a_project_with_certified_applications_is_closed_not_deleted(client, site):
    """Certified pay applications are numbered documents kept for the accounts (as issued
    invoices): deleting their project is a 409 saying so; a draft goes with its project."""
    from app.projects.models import Project
    from app.projects.services import delete_project

    project, lines, pm, admin, _ = site
    make_pay_application(project, ["100.00", "0"], certify_by=pm)
    with pytest.raises(ConflictError) as exc:
        delete_project(admin, project)
    assert "certified pay application" in str(exc.value)
    answer = client.delete(f"/api/projects/{project.id}/", headers=bearer(client, admin))
    assert answer.status_code == 409 and "close the project" in answer.json["error"]["message"]
    other = make_project(project.client, members=[pm])
    make_sov(other, ("500.00",))
    draft = make_pay_application(other, ["50.00"])
    other_id, draft_id = other.id, draft.id
    delete_project(admin, other)
    db.session.expire_all()
    assert db.session.get(Project, other_id) is None and db.session.get(PayApplication, draft_id) is None
