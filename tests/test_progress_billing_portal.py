"""Progress billing in the client portal and the length of free text (issue 13).

The client sees, on their portal home, the certified pay applications of their own
company's projects with the PDF to download — never a draft, another company's, the staff
notes or a line's reason for negative work (in the portal, the billing page, the
application's page, its PDF and the API). Notes, reasons and a release's note too long:
a clear message, nothing written. The schedule and the terms share one version check
(stale: 409; not a version: a clear message; a form fixed after a 422 stays checked
against the version it was opened at)."""

from __future__ import annotations

import io
from datetime import date

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from app.extensions import db
from app.progress_billing import releases, schedule, services
from app.progress_billing.models import BillingTerms, PayApplication, RetainageRelease
from tests.conftest import bearer
from tests.factories import make_client, make_pay_application, make_project, make_sov, make_user

SECRET_NOTE = "Internal: hold the owner to the March figures"
SECRET_REASON = "Rework after the inspector refused the primer"


@pytest.fixture()
def portal(db):
    company = make_client()
    make_user("admin")  # the factory's author of drafts
    pm = make_user("project_manager_full")
    owner = make_user("client", client=company)
    project = make_project(company, members=[pm])
    lines = make_sov(project, ("1000.00", "3000.00"))
    first = make_pay_application(project, ["500.00", "1500.00"], certify_by=pm)
    first.notes = SECRET_NOTE
    # a negative line with its reason on the second certified application
    second = services.create_pay_application(
        pm, project, {"period_to": date(2026, 4, 30), "notes": SECRET_NOTE},
        [{"sov_line_id": lines[0].id, "this_period": "-50.00", "reason": SECRET_REASON},
         {"sov_line_id": lines[1].id, "this_period": "300.00"}],
    )  # fmt: skip
    services.certify(pm, second)
    draft = make_pay_application(project, ["10.00", "0"], period=date(2026, 5, 31))
    other = make_project(make_client(), members=[pm])
    make_sov(other, ("700.00",))
    theirs = make_pay_application(other, ["100.00"], certify_by=pm)
    db.session.flush()
    return {"project": project, "pm": pm, "owner": owner, "first": first, "second": second, "draft": draft,
            "theirs": theirs, "lines": lines}  # fmt: skip


def _hidden(text: str) -> None:
    assert SECRET_NOTE not in text and SECRET_REASON not in text


def test_the_portal_lists_the_clients_certified_pay_applications_with_their_pdf(client, login_as, portal):
    login_as(portal["owner"])
    page = client.get("/portal/home")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for app in (portal["first"], portal["second"]):
        assert app.number in html
        assert f"/pay-applications/{app.id}.pdf" in html
    assert f"/pay-applications/{portal['draft'].id}" not in html
    assert portal["theirs"].number not in html and f"/pay-applications/{portal['theirs'].id}" not in html
    assert "1,800.00" in html  # the first's current payment due (G702 line 8)
    assert 'data-label="Payment due"' in html  # a phone table
    _hidden(html)
    # the home page itself (the widget) too
    home = client.get("/").get_data(as_text=True)
    assert portal["second"].number in home
    _hidden(home)


def test_the_client_never_sees_notes_or_reasons_anywhere(client, login_as, portal):
    login_as(portal["owner"])
    second = portal["second"]
    for path in (f"/projects/{portal['project'].id}/billing", f"/pay-applications/{second.id}"):
        response = client.get(path)
        assert response.status_code == 200, path
        _hidden(response.get_data(as_text=True))
    pdf = client.get(f"/pay-applications/{second.id}.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert second.number in text
    _hidden(text)
    assert client.get(f"/pay-applications/{portal['draft'].id}.pdf").status_code == 404
    assert client.get(f"/pay-applications/{portal['theirs'].id}.pdf").status_code == 404
    headers = bearer(client, portal["owner"])
    listed = client.get("/api/financials/pay-applications/", headers=headers).json["data"]["results"]
    assert sorted(a["id"] for a in listed) == sorted([portal["first"].id, second.id])
    _hidden(str(listed))
    assert all("notes" not in a and all("reason" not in li for li in a["lines"]) for a in listed)


def test_staff_see_the_notes_and_reasons_the_client_does_not(client, login_as, portal):
    login_as(portal["pm"])
    html = client.get(f"/pay-applications/{portal['second'].id}").get_data(as_text=True)
    assert SECRET_NOTE in html
    one = client.get(f"/api/financials/pay-applications/{portal['second'].id}/", headers=bearer(client, portal["pm"]))
    assert SECRET_REASON in [li["reason"] for li in one.json["data"]["lines"]]
    # staff get no portal card (the widget is the client's)
    assert portal["second"].number not in client.get("/portal/home").get_data(as_text=True)


def test_the_portal_reads_pay_applications_in_one_statement(client, login_as, portal, count_queries):
    login_as(portal["owner"])
    client.get("/portal/home")
    with count_queries() as before:
        client.get("/portal/home")
    services.delete_pay_application(portal["pm"], portal["draft"])
    db.session.flush()
    for n in range(4):  # more certified applications: the same statements
        make_pay_application(portal["project"], ["1.00", "0"], certify_by=portal["pm"], period=date(2026, 6 + n, 28))
    with count_queries() as after:
        html = client.get("/portal/home").get_data(as_text=True)
    assert after.n == before.n
    assert html.count('data-testid="portal-pay-application"') == 5  # the newest five, then a link to all
    assert f"/projects/{portal['project'].id}/billing" in html


# --- lengths ---------------------------------------------------------------------------


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_too_long_notes_and_reasons_are_refused_with_a_clear_message_on_the_api(client, portal):
    project, lines = portal["project"], portal["lines"]
    services.delete_pay_application(portal["pm"], portal["draft"])
    db.session.flush()
    headers = bearer(client, portal["pm"])
    before = _count(PayApplication)
    body = {"project_id": project.id, "period_to": "2026-06-30", "notes": "n" * 10_001,
            "lines": [{"sov_line_id": lines[0].id, "this_period": "-5.00", "reason": "r" * 501}]}  # fmt: skip
    answer = client.post("/api/financials/pay-applications/", json=body, headers=headers)
    assert answer.status_code == 400 and answer.json["error"]["code"] == "VALIDATION_ERROR"
    details = answer.json["error"]["details"]
    assert "At most 10,000 characters" in details["notes"]
    assert "At most 500 characters" in details["lines.reason"]
    assert _count(PayApplication) == before


def test_too_long_notes_and_reasons_are_refused_inline_on_the_page(client, login_as, portal):
    lines = portal["lines"]
    login_as(portal["pm"])
    draft = portal["draft"]
    form = {"period_to": "2026-05-31", "version": str(draft.version), "notes": "n" * 10_001,
            "line_sov_line_id": [str(lines[0].id)], "line_this_period": ["-5"], "line_this_period_pct": [""],
            "line_materials_stored": [""], "line_reason": ["r" * 501]}  # fmt: skip
    response = client.post(f"/pay-applications/{draft.id}/edit", data=form)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "the reason is too long (at most 500 characters)" in html
    assert "At most 10,000 characters" in html
    db.session.refresh(draft)
    assert draft.notes == ""
    assert {li.sov_line_id: li.this_period for li in draft.lines}[lines[0].id] == 10


def test_a_release_note_too_long_is_refused_not_cut(client, login_as, portal):
    project = portal["project"]
    with pytest.raises(Exception) as exc:
        releases.release(portal["pm"], project, "10.00", note="z" * 501)
    assert "at most 500 characters" in exc.value.fields["note"]
    assert _count(RetainageRelease) == 0
    login_as(portal["pm"])
    response = client.post(f"/projects/{project.id}/billing/release", data={"amount": "10.00", "note": "z" * 501})
    assert response.status_code == 422 and "at most 500 characters" in response.get_data(as_text=True)
    assert _count(RetainageRelease) == 0
    row = releases.release(portal["pm"], project, "10.00", note="z" * 500)
    assert row.note == "z" * 500


# --- one version check for the schedule and the terms -------------------------------------


def test_the_terms_and_the_schedule_share_one_version(client, login_as, portal):
    project = portal["project"]
    login_as(portal["pm"])
    assert schedule.schedule_version(project.id) == 0  # never saved (make_sov writes lines straight)
    ok = client.post(f"/projects/{project.id}/billing/terms", data={"retainage_pct": "5", "version": "0"})
    assert ok.status_code == 303
    saved = schedule.schedule_version(project.id)
    assert saved >= 1
    # a page opened before that save is stale: 409 with the message, nothing written
    stale = client.post(f"/projects/{project.id}/billing/terms", data={"retainage_pct": "7", "version": "0"})
    assert stale.status_code == 409 and "changed by someone else" in stale.get_data(as_text=True)
    assert f'name="version" value="{saved}"' in stale.get_data(as_text=True)  # review and save again
    assert db.session.scalar(select(BillingTerms.retainage_pct).where(BillingTerms.project_id == project.id)) == 5
    # not a version: a clear message (422), never a silent pass
    junk = client.post(f"/projects/{project.id}/billing/terms", data={"retainage_pct": "7", "version": "abc"})
    assert junk.status_code == 422 and "whole number" in junk.get_data(as_text=True)
    # a bad figure keeps the version the page was opened at: the fix is still checked
    bad = client.post(f"/projects/{project.id}/billing/terms", data={"retainage_pct": "101", "version": "0"})
    assert bad.status_code == 422 and 'name="version" value="0"' in bad.get_data(as_text=True)
    # the schedule's PUT and the terms count the same version
    headers = bearer(client, portal["pm"])
    url = f"/api/financials/schedule-of-values/{project.id}/"
    current = client.get(url, headers=headers).json["data"]
    assert current["version"] == saved and current["retainage_pct"] == "5"
    body = {"version": current["version"], "lines": [
        {"id": li["id"], "description": li["description"], "scheduled_value": li["scheduled_value"]}
        for li in current["lines"]]}  # fmt: skip
    assert client.put(url, json=body, headers=headers).status_code == 200
    again = client.post(f"/projects/{project.id}/billing/terms", data={"retainage_pct": "7", "version": str(saved)})
    assert again.status_code == 409


def test_the_invoice_link_shows_only_to_whoever_may_see_the_invoice(client, login_as, portal):
    second = portal["second"]
    login_as(portal["pm"])
    assert 'data-testid="pay-invoice"' in client.get(f"/pay-applications/{second.id}").get_data(as_text=True)
    login_as(portal["owner"])
    assert second.invoice.status == "DRAFT"
    assert 'data-testid="pay-invoice"' not in client.get(f"/pay-applications/{second.id}").get_data(as_text=True)
    from app.invoices.services import send_invoice

    send_invoice(portal["pm"], second.invoice)
    db.session.flush()
    page = client.get(f"/pay-applications/{second.id}").get_data(as_text=True)
    assert 'data-testid="pay-invoice"' in page
