"""Expenses and reimbursement claims (issue 13, app/expenses): every rule and every role,
through the pages, the API and the services — employees see only their own claims, PMs
only their projects', clients nothing anywhere; a claim's states; paid twice refused; a
date in 2099 refused; a receipt judged by its content; receipts downloaded only by who
may see the expense; a claim counts as cost once approved."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.core import storage
from app.core.errors import ConflictError, ValidationError
from app.core.permissions import PermissionDenied
from app.expenses import services
from app.expenses.models import Expense
from app.projects.models import ProjectMembership
from tests.conftest import bearer
from tests.factories import PDF_BYTES, make_expense, make_project, make_user
from tests.images import png

API = "/api/financials/expenses/"


def jpeg() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (40, 30), (120, 80, 40)).save(out, "JPEG")
    return out.getvalue()


@pytest.fixture()
def site(db):
    """A project with its PM, trainee and superintendent; an employee with a task on it;
    another project (another PM) nobody here is on; an admin; a client of the project."""
    from app.tasks.models import Task, TaskAssignment

    people = {
        "admin": make_user("admin"),
        "pm": make_user("project_manager_full"),
        "trainee": make_user("pm_trainee"),
        "super": make_user("superintendent"),
        "designer": make_user("designer"),
        "employee": make_user("employee"),
        "other_employee": make_user("employee"),
        "other_pm": make_user("project_manager_full"),
    }
    project = make_project(members=[people[k] for k in ("pm", "trainee", "super", "designer")])
    other = make_project(members=[people["other_pm"]])
    people["client"] = make_user("client", client=project.client)
    task = Task(project_id=project.id, title="Scrape the deck")
    db.session.add(task)
    db.session.flush()
    db.session.add(TaskAssignment(task_id=task.id, user_id=people["employee"].id))
    db.session.flush()
    return {"project": project, "other": other, **people}


def claim_body(project, **extra):
    return {"project_id": project.id, "category": "MATERIALS", "amount": "42.50", "expense_date": "2026-03-02"} | extra


def count() -> int:
    from app.extensions import db

    return db.session.scalar(select(func.count(Expense.id)))


# --- claims: the whole path through the API ---------------------------------------------


def test_employee_claims_from_the_api_pm_approves_admin_pays_once(site, client):
    from app.notifications.models import Notification

    employee = bearer(client, site["employee"])
    made = client.post(API, json=claim_body(site["project"], vendor="Hardware store"), headers=employee)
    assert made.status_code == 201, made.json
    claim = made.json["data"]
    assert claim["paid_by_employee"] == {"id": site["employee"].id, "name": site["employee"].name}
    assert claim["reimbursement_status"] == "submitted" and claim["amount"] == "42.50"
    from app.extensions import db

    row = db.session.get(Expense, claim["id"])
    assert row.is_cost is False  # a claim is not the project's cost until approved
    # the PM is told (in-app), nobody else
    told = db.session.scalars(select(Notification).where(Notification.kind == "expense_claim_submitted")).all()
    assert {n.user_id for n in told} == {site["pm"].id}
    # the receipt, a photo, uploaded by the claimant
    up = client.post(f"{API}{claim['id']}/receipt/", data={"file": (io.BytesIO(jpeg()), "receipt.jpg")},
                     headers=employee, content_type="multipart/form-data")  # fmt: skip
    assert up.status_code == 200, up.json
    assert up.json["data"]["receipt"]["content_type"] == "image/jpeg"
    # the PM reviews and approves
    pm = bearer(client, site["pm"])
    assert client.post(f"{API}{claim['id']}/review/", headers=pm).json["data"]["reimbursement_status"] == "under_review"
    approved = client.post(f"{API}{claim['id']}/approve/", headers=pm)
    assert approved.json["data"]["reimbursement_status"] == "approved"
    db.session.expire_all()
    assert db.session.get(Expense, claim["id"]).is_cost is True
    # the PM may not pay; the admin pays
    refused = client.post(f"{API}{claim['id']}/reimburse/", json={"method": "direct"}, headers=pm)
    assert refused.status_code == 403
    admin = bearer(client, site["admin"])
    paid = client.post(f"{API}{claim['id']}/reimburse/", json={"method": "paycheck", "reference": "PAY-0412"},
                       headers=admin)  # fmt: skip
    assert paid.status_code == 200, paid.json
    body = paid.json["data"]
    assert (body["reimbursement_status"], body["reimbursement_method"], body["reimbursement_reference"]) == (
        "paid",
        "paycheck",
        "PAY-0412",
    )
    assert body["reimbursement_date"] == services.today().isoformat()
    # paid twice: a clear 409, nothing written
    db.session.expire_all()
    version = db.session.get(Expense, claim["id"]).version
    again = client.post(f"{API}{claim['id']}/reimburse/", json={"method": "direct", "reference": "X"}, headers=admin)
    assert again.status_code == 409 and again.json["error"]["code"] == "CONFLICT"
    assert "paid already" in again.json["error"]["message"]
    db.session.expire_all()
    row = db.session.get(Expense, claim["id"])
    assert (row.version, row.reimbursement_method, row.reimbursement_reference) == (version, "paycheck", "PAY-0412")
    # the claimant was told of the approval and of the payment
    decided = db.session.scalars(select(Notification).where(Notification.kind == "expense_claim_decided")).all()
    assert [n.user_id for n in decided] == [site["employee"].id] * 2


def test_paying_twice_on_the_page_says_so_and_writes_nothing(site, client, login_as, db):
    e = make_expense(site["project"], claimant=site["employee"], status="approved")
    login_as(site["admin"])
    first = client.post(f"/expenses/{e.id}/reimburse", data={"method": "petty_cash", "reference": "Box 3"})
    assert first.status_code == 303
    second = client.post(f"/expenses/{e.id}/reimburse", data={"method": "direct", "reference": "Again"})
    assert second.status_code == 409
    assert "paid already" in second.text and 'data-testid="expense-problem"' in second.text
    db.session.expire_all()
    assert db.session.get(Expense, e.id).reimbursement_reference == "Box 3"


def test_a_stale_version_is_a_conflict(site, client):
    e = make_expense(site["project"], claimant=site["employee"], status="approved")
    admin = bearer(client, site["admin"])
    answer = client.post(f"{API}{e.id}/reimburse/", json={"method": "direct", "version": e.version + 5}, headers=admin)
    assert answer.status_code == 409 and answer.json["error"]["details"]["reimbursement_status"] == "approved"


def test_reimbursing_needs_an_approved_claim_and_a_method(site):
    submitted = make_expense(site["project"], claimant=site["employee"])
    with pytest.raises(ConflictError, match="only an approved claim"):
        services.reimburse(site["admin"], submitted, "direct")
    approved = make_expense(site["project"], claimant=site["employee"], status="approved")
    with pytest.raises(ValidationError) as exc:
        services.reimburse(site["admin"], approved, "cheque", day="2099-01-01")
    assert set(exc.value.fields) == {"method", "date"}
    company = make_expense(site["project"])
    with pytest.raises(ConflictError, match="company expense"):
        services.reimburse(site["admin"], company, "direct")


def test_states_reject_needs_a_reason_and_a_decision_is_final(site):
    e = make_expense(site["project"], claimant=site["employee"])
    with pytest.raises(ValidationError) as exc:
        services.reject(site["pm"], e, "  ")
    assert "rejection_reason" in exc.value.fields and e.reimbursement_status == "submitted"
    services.reject(site["pm"], e, "Personal purchase")
    assert (e.reimbursement_status, e.rejection_reason, e.reviewed_by_id) == ("rejected", "Personal purchase",
                                                                              site["pm"].id)  # fmt: skip
    assert e.is_cost is False
    with pytest.raises(ConflictError, match="decision is final"):
        services.approve(site["pm"], e)
    with pytest.raises(ConflictError, match="only an approved claim"):
        services.reimburse(site["admin"], e, "direct")


def test_who_reviews(site):
    e = make_expense(site["project"], claimant=site["employee"])
    with pytest.raises(PermissionDenied):
        services.approve(site["trainee"], e)  # reimbursement.review: admins and the project's PMs
    with pytest.raises(PermissionDenied):
        services.approve(site["other_pm"], e)  # not their project
    own = make_expense(site["project"], claimant=site["pm"])
    with pytest.raises(PermissionDenied, match="your own claim"):
        services.approve(site["pm"], own)
    services.approve(site["admin"], own)  # an admin decides anyone's
    assert own.reimbursement_status == "approved"


def test_claimant_edits_and_withdraws_only_while_submitted(site):
    e = make_expense(site["project"], claimant=site["employee"])
    services.update_expense(site["employee"], e, {"amount": "50.00"})
    assert e.amount == Decimal("50.00")
    with pytest.raises(PermissionDenied):
        services.update_expense(site["pm"], e, {"amount": "1.00"})  # a reviewer does not rewrite a claim
    services.start_review(site["pm"], e)
    with pytest.raises(ConflictError, match="only a submitted claim"):
        services.update_expense(site["employee"], e, {"amount": "60.00"})
    with pytest.raises(ConflictError, match="only a submitted claim"):
        services.delete_expense(site["employee"], e)
    fresh = make_expense(site["project"], claimant=site["employee"])
    fresh_id = fresh.id
    services.delete_expense(site["employee"], fresh)
    from app.extensions import db

    assert db.session.get(Expense, fresh_id) is None


def test_a_paid_claim_is_kept(site, client, login_as):
    e = make_expense(site["project"], claimant=site["employee"], status="paid")
    login_as(site["admin"])
    assert client.post(f"/expenses/{e.id}/delete").status_code == 409


# --- who may claim where ----------------------------------------------------------------


def test_claimable_projects_are_the_ones_worked_on(site, db):
    from tests.factories import make_punch

    assert services.claimable_projects(site["employee"]) == [site["project"]]  # a task there
    assert services.claimable_projects(site["other_employee"]) == []
    make_punch(site["other_employee"], site["other"])  # clocked in there
    assert services.claimable_projects(site["other_employee"]) == [site["other"]]
    assert site["project"] in services.claimable_projects(site["designer"])  # on the team
    assert services.claimable_projects(site["client"]) == []
    assert {site["project"], site["other"]} <= set(services.claimable_projects(site["admin"]))


def test_a_claim_on_a_project_not_worked_on_is_refused(site, client):
    answer = client.post(API, json=claim_body(site["other"]), headers=bearer(client, site["employee"]))
    assert answer.status_code == 400 and "project_id" in answer.json["error"]["details"]
    assert client.post(API, json=claim_body(site["project"]), headers=bearer(client, site["client"])).status_code == 403


def test_a_pm_records_a_company_expense_or_a_claim_for_a_worker(site, client):
    pm = bearer(client, site["pm"])
    company = client.post(API, json=claim_body(site["project"]), headers=pm)
    assert company.status_code == 201 and company.json["data"]["paid_by_employee"] is None
    assert company.json["data"]["reimbursement_status"] is None
    for_worker = client.post(API, json=claim_body(site["project"], paid_by_employee_id=site["employee"].id), headers=pm)
    assert for_worker.json["data"]["paid_by_employee"]["id"] == site["employee"].id
    stranger = client.post(API, json=claim_body(site["project"], paid_by_employee_id=site["other_employee"].id),
                           headers=pm)  # fmt: skip
    assert stranger.status_code == 400 and "paid_by_employee_id" in stranger.json["error"]["details"]


# --- bad input: nothing written ----------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("expense_date", "2099-01-01", "future"),
        ("expense_date", "1999-12-31", "before 2000"),
        ("expense_date", "03/02/2026", "YYYY-MM-DD"),
        ("amount", "12,5", "1250.00"),
        ("amount", "NaN", "1250.00"),
        ("amount", "1e9", "1250.00"),
        ("amount", "0", "more than 0.00"),
        ("amount", "-5", "negative"),
        ("amount", "12.345", "two decimal places"),
        ("category", "FOOD", "MATERIALS"),
    ],
)
def test_bad_input_is_a_clear_message_and_nothing_is_written(site, client, field, value, says):
    before = count()
    answer = client.post(API, json=claim_body(site["project"], **{field: value}), headers=bearer(client, site["pm"]))
    assert answer.status_code == 400 and answer.json["error"]["code"] == "VALIDATION_ERROR"
    assert says in answer.json["error"]["details"][field]
    assert count() == before


def test_today_in_company_time_is_fine_and_tomorrow_has_a_days_slack(site):
    for day in (services.today(), services.today() + timedelta(days=1)):
        e = services.submit_claim(site["employee"], site["project"], {"category": "TOOLS", "amount": "9.99",
                                                                      "expense_date": day.isoformat()})  # fmt: skip
        assert e.expense_date == day
    with pytest.raises(ValidationError) as exc:
        services.submit_claim(site["employee"], site["project"], {"category": "TOOLS", "amount": "9.99",
                              "expense_date": (services.today() + timedelta(days=2)).isoformat()})  # fmt: skip
    assert "future" in exc.value.fields["expense_date"]


def test_the_page_form_shows_the_2099_error_inline(site, client, login_as):
    login_as(site["employee"])
    before = count()
    answer = client.post("/expenses/mine", data={"project_id": str(site["project"].id), "category": "MATERIALS",
                                                 "amount": "20", "expense_date": "2099-06-01"})  # fmt: skip
    assert answer.status_code == 422
    assert 'data-error-for="expense_date"' in answer.text and "cannot be in the future" in answer.text
    assert count() == before


def test_a_budget_line_of_another_project_is_refused(site):
    from app.budgets.models import BudgetLine
    from app.extensions import db

    theirs = BudgetLine(project_id=site["other"].id, name="Prep", amount=Decimal("100"))
    ours = BudgetLine(project_id=site["project"].id, name="Paint", amount=Decimal("100"))
    db.session.add_all([theirs, ours])
    db.session.flush()
    with pytest.raises(ValidationError) as exc:
        services.create_expense(site["pm"], site["project"], {"category": "MATERIALS", "amount": "5",
                                "expense_date": "2026-03-02", "budget_line_id": theirs.id})  # fmt: skip
    assert "budget_line_id" in exc.value.fields
    e = services.create_expense(site["pm"], site["project"], {"category": "MATERIALS", "amount": "5",
                                "expense_date": "2026-03-02", "budget_line_id": str(ours.id)})  # fmt: skip
    assert e.budget_line_id == ours.id


# --- receipts ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (b"just some text, not a receipt", "receipt.jpg"),
        (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64, "receipt.jpg"),  # an .exe renamed
        (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "receipt.png"),
        (b"", "receipt.pdf"),
    ],
)
def test_a_receipt_that_is_not_a_photo_or_pdf_is_refused_by_content(site, client, login_as, content, name):
    login_as(site["employee"])
    before = count()
    answer = client.post("/expenses/mine", data={"project_id": str(site["project"].id), "category": "MATERIALS",
                         "amount": "20", "expense_date": "2026-03-02", "receipt": (io.BytesIO(content), name)},
                         content_type="multipart/form-data")  # fmt: skip
    assert answer.status_code == 422
    assert 'data-error-for="receipt"' in answer.text
    assert count() == before
    # and through the API, on an existing claim: 400, nothing changed
    e = make_expense(site["project"], claimant=site["employee"])
    up = client.post(f"{API}{e.id}/receipt/", data={"file": (io.BytesIO(content), name)},
                     headers=bearer(client, site["employee"]), content_type="multipart/form-data")  # fmt: skip
    assert up.status_code == 400 and "receipt" in up.json["error"]["details"]
    from app.extensions import db

    db.session.expire_all()
    assert db.session.get(Expense, e.id).receipt_key is None


def test_a_pdf_receipt_and_a_photo_receipt_are_kept(site, client, login_as, db):
    login_as(site["employee"])
    answer = client.post("/expenses/mine", data={"project_id": str(site["project"].id), "category": "TOOLS",
                         "amount": "20", "expense_date": "2026-03-02", "receipt": (io.BytesIO(PDF_BYTES), "r.pdf")},
                         content_type="multipart/form-data")  # fmt: skip
    assert answer.status_code == 303
    e = db.session.scalars(select(Expense).order_by(Expense.id.desc())).first()
    assert (e.receipt_content_type, e.receipt_name) == ("application/pdf", "r.pdf")
    assert storage.read(e.receipt_key) == PDF_BYTES
    old_key = e.receipt_key
    services.attach_receipt(site["employee"], e, "photo.png", png())
    assert e.receipt_content_type == "image/png" and e.receipt_key != old_key
    assert storage.exists(e.receipt_key.rsplit(".", 1)[0] + "-thumb.jpg")


def test_receipts_are_downloaded_only_by_who_may_see_the_expense(site, client, login_as):
    e = make_expense(site["project"], claimant=site["employee"], receipt=png())
    for who, status in (("employee", 200), ("pm", 200), ("trainee", 200), ("admin", 200), ("other_employee", 404),
                        ("other_pm", 404), ("super", 404), ("designer", 404), ("client", 403)):  # fmt: skip
        login_as(site[who])
        answer = client.get(f"/expenses/{e.id}/receipt")
        assert answer.status_code == status, who
        if status == 200:
            assert answer.headers["Content-Type"] == "image/png"
            assert answer.headers["Cache-Control"].startswith("private")
    api = client.get(f"{API}{e.id}/receipt/", headers=bearer(client, site["other_employee"]))
    assert api.status_code == 404


# --- who sees what ----------------------------------------------------------------------


def test_employees_see_only_their_own_claims_pms_only_their_projects_clients_nothing(site, client, login_as):
    mine = make_expense(site["project"], claimant=site["employee"])
    theirs = make_expense(site["project"], claimant=site["other_employee"])
    company = make_expense(site["project"])
    elsewhere = make_expense(site["other"])

    def listed(who):
        answer = client.get(API + "?page_size=100", headers=bearer(client, site[who]))
        return answer.status_code, {
            r["id"] for r in answer.json["data"]["results"]
        } if answer.status_code == 200 else None

    ours = {mine.id, theirs.id, company.id}
    assert listed("employee") == (200, {mine.id})
    assert listed("other_employee") == (200, {theirs.id})
    assert listed("pm") == (200, ours)
    assert listed("trainee") == (200, ours)
    assert listed("other_pm") == (200, {elsewhere.id})
    assert listed("super") == (200, set())
    assert listed("admin")[1] >= ours | {elsewhere.id}
    assert listed("client")[0] == 403
    # pages: the client gets no expenses page, the project page shows no link to one
    login_as(site["client"])
    assert client.get(f"/projects/{site['project'].id}/expenses").status_code == 403
    assert 'data-testid="project-expenses"' not in client.get(f"/projects/{site['project'].id}").text
    assert client.get("/expenses/mine").status_code == 403
    login_as(site["pm"])
    page = client.get(f"/projects/{site['project'].id}")
    assert 'data-testid="project-expenses"' in page.text
    login_as(site["designer"])
    assert 'data-testid="project-expenses"' not in client.get(f"/projects/{site['project'].id}").text


def test_filters_of_the_api(site, client):
    a = make_expense(site["project"], category="MATERIALS", day=date(2026, 3, 2))
    b = make_expense(site["project"], category="TOOLS", day=date(2026, 4, 2))
    c = make_expense(site["project"], claimant=site["employee"], status="approved", day=date(2026, 3, 9))
    pm = bearer(client, site["pm"])

    def ids(query):
        answer = client.get(API + "?" + query, headers=pm)
        assert answer.status_code == 200, answer.json
        return {r["id"] for r in answer.json["data"]["results"]}

    pid = site["project"].id
    assert ids(f"project_id={pid}") == {a.id, b.id, c.id}
    assert ids(f"project_id={pid}&category=TOOLS") == {b.id}
    assert ids(f"project_id={pid}&date_from=2026-03-01&date_to=2026-03-31") == {a.id, c.id}
    assert ids(f"project_id={pid}&reimbursement_status=approved") == {c.id}
    assert ids(f"project_id={pid}&reimbursement_status=company") == {a.id, b.id}
    assert ids(f"paid_by_employee={site['employee'].id}") == {c.id}
    assert client.get(API + "?category=FOOD", headers=pm).status_code == 400
    ordered = client.get(API + f"?project_id={pid}&ordering=amount,-expense_date", headers=pm)
    assert ordered.status_code == 200


def test_the_project_page_filters_by_the_reports_drill_down_arguments(site, client, login_as, db):
    from app.budgets.models import BudgetLine

    line = BudgetLine(project_id=site["project"].id, name="Exterior", amount=Decimal("1000"))
    db.session.add(line)
    db.session.flush()
    make_expense(site["project"], category="MATERIALS", amount="100.00", day=date(2026, 3, 2), budget_line_id=line.id,
                 vendor="Vendor in line")  # fmt: skip
    make_expense(site["project"], category="MATERIALS", amount="7.00", day=date(2026, 3, 5), vendor="Vendor outside")
    make_expense(site["project"], category="PERMITS", amount="55.00", day=date(2026, 5, 1), vendor="City permits")
    login_as(site["pm"])
    url = f"/projects/{site['project'].id}/expenses"
    whole = client.get(url).text
    assert "Vendor in line" in whole and "City permits" in whole and 'data-testid="total-PERMITS"' in whole
    drilled = client.get(url + f"?category=MATERIALS&date_from=2026-03-01&date_to=2026-03-31&budget_line={line.id}")
    assert drilled.status_code == 200
    assert (
        "Vendor in line" in drilled.text and "Vendor outside" not in drilled.text and "City permits" not in drilled.text
    )
    assert 'data-testid="total-PERMITS"' not in drilled.text
    bad = client.get(url + "?date_from=March")
    assert bad.status_code == 422 and 'data-testid="filter-errors"' in bad.text
    fragment = client.get(url + "?category=PERMITS", headers={"HX-Request": "true", "HX-Target": "expense-results"})
    assert fragment.text.lstrip().startswith('<div id="expense-results"') and "City permits" in fragment.text


def test_my_expenses_and_the_review_queue(site, client, login_as):
    make_expense(site["project"], claimant=site["employee"], vendor="Mine to claim")
    make_expense(site["project"], claimant=site["other_employee"], vendor="Not mine")
    make_expense(site["other"], claimant=site["admin"], vendor="Elsewhere")
    login_as(site["employee"])
    page = client.get("/expenses/mine")
    assert page.status_code == 200
    assert 'capture="environment"' in page.text and 'accept="image/*,application/pdf"' in page.text
    assert 'data-testid="claims-link"' not in page.text
    assert client.get("/expenses/claims").status_code == 403
    login_as(site["pm"])
    queue = client.get("/expenses/claims").text
    assert 'data-testid="approve-claim"' in queue and "Elsewhere" not in queue
    assert 'data-testid="pay-claim-open"' not in queue  # only an admin pays
    login_as(site["admin"])
    assert "Elsewhere" in client.get("/expenses/claims").text


def test_the_claim_form_submits_a_claim_with_a_photo(site, client, login_as, db):
    login_as(site["employee"])
    answer = client.post("/expenses/mine", data={"project_id": str(site["project"].id), "category": "MATERIALS",
                         "amount": "1,250.00", "expense_date": "2026-03-02", "vendor": "Lumber yard",
                         "receipt": (io.BytesIO(jpeg()), "IMG_0001.JPG")}, content_type="multipart/form-data")  # fmt: skip
    assert answer.status_code == 303
    e = db.session.scalars(select(Expense).order_by(Expense.id.desc())).first()
    assert (e.amount, e.paid_by_employee_id, e.reimbursement_status) == (Decimal("1250.00"), site["employee"].id,
                                                                         "submitted")  # fmt: skip
    assert e.receipt_content_type == "image/jpeg" and e.receipt_name == "IMG_0001.jpg"
    assert "Lumber yard" in client.get("/expenses/mine").text


# --- live events ------------------------------------------------------------------------


def test_every_change_is_published_to_who_may_see_it(site, monkeypatch):
    sent: list[dict] = []

    def record(name, data=None, *, users=(), roles=()):
        sent.append({"event": name, "data": dict(data or {}), "users": set(users), "roles": set(roles)})

    monkeypatch.setattr(services, "publish", record)
    e = services.submit_claim(site["employee"], site["project"], {"category": "TOOLS", "amount": "12",
                                                                  "expense_date": "2026-03-02"})  # fmt: skip
    services.approve(site["pm"], e)
    services.reimburse(site["admin"], e, "direct")
    assert [m["event"] for m in sent] == ["expense-changed"] * 3
    for message in sent:
        assert message["data"] == {"id": e.id, "project_id": site["project"].id}
        assert message["users"] == {site["employee"].id, site["pm"].id, site["trainee"].id}
        assert message["roles"] == {"admin"}
        assert site["client"].id not in message["users"] and site["super"].id not in message["users"]


def test_a_claim_without_a_pm_on_the_project_tells_the_admins(site, db):
    from app.notifications.models import Notification

    db.session.execute(
        ProjectMembership.__table__.delete().where(
            ProjectMembership.project_id == site["project"].id, ProjectMembership.user_id == site["pm"].id
        )
    )
    db.session.expire_all()
    services.submit_claim(site["employee"], site["project"], {"category": "TOOLS", "amount": "12",
                                                              "expense_date": "2026-03-02"})  # fmt: skip
    told = {
        n.user_id
        for n in db.session.scalars(select(Notification).where(Notification.kind == "expense_claim_submitted"))
    }
    assert site["admin"].id in told and site["pm"].id not in told


# --- two admins paying at once ----------------------------------------------------------


@pytest.fixture()
def committed_claim(app):
    """An approved claim committed for real (the race's threads must see it), and all it
    brought deleted afterwards."""
    from sqlalchemy import delete

    from app.auth.models import User
    from app.clients.models import Client
    from app.core.audit import AuditLog
    from app.extensions import db as _db
    from app.notifications.models import Delivery, Notification
    from app.projects.models import Project

    with app.app_context():
        last_audit = _db.session.scalar(select(func.coalesce(func.max(AuditLog.id), 0)))
        admin, employee = make_user("admin"), make_user("employee")
        project = make_project()
        e = make_expense(project, claimant=employee, status="approved")
        _db.session.commit()
        ids = (e.id, admin.id, employee.id, project.id, project.client_id)
        _db.session.remove()
    yield ids
    with app.app_context():
        notes = select(Notification.id).where(Notification.user_id.in_(ids[1:3]))
        _db.session.execute(delete(Delivery).where(Delivery.notification_id.in_(notes)))
        _db.session.execute(delete(Notification).where(Notification.user_id.in_(ids[1:3])))
        _db.session.execute(delete(Expense).where(Expense.id == ids[0]))
        _db.session.execute(delete(Project).where(Project.id == ids[3]))
        _db.session.execute(delete(Client).where(Client.id == ids[4]))
        _db.session.execute(delete(User).where(User.id.in_(ids[1:3])))
        _db.session.execute(delete(AuditLog).where(AuditLog.id > last_audit))
        _db.session.commit()
        _db.session.remove()


def test_two_admins_paying_a_claim_at_once_pay_it_once(app, committed_claim):
    """Both read it approved; the row lock makes the second wait, then see it paid (409)."""
    import threading

    from app.auth.models import User
    from app.core.audit import acting_as
    from app.extensions import db as _db

    claim_id, admin_id = committed_claim[0], committed_claim[1]
    barrier, outcomes = threading.Barrier(2), []

    def pay(reference):
        with app.app_context(), acting_as("race", "admin"):
            admin = _db.session.get(User, admin_id)
            claim = _db.session.get(Expense, claim_id)
            assert claim.reimbursement_status == "approved"
            barrier.wait()
            try:
                services.reimburse(admin, claim, "direct", reference)
                _db.session.commit()
                outcomes.append("paid")
            except ConflictError as exc:
                _db.session.rollback()
                outcomes.append("paid already" if "paid already" in exc.message else exc.message)
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=pay, args=(f"REF-{n}",)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["paid", "paid already"]
    with app.app_context():
        claim = _db.session.get(Expense, claim_id)
        assert claim.reimbursement_status == "paid" and claim.reimbursement_reference in ("REF-1", "REF-2")
        _db.session.remove()


def test_the_project_page_and_the_api_list_read_a_fixed_number_of_queries(site, client, login_as, count_queries):
    """No query per row: 3 expenses or 30 (claims by several people, budget lines) cost the same."""
    from app.budgets.models import BudgetLine
    from app.extensions import db

    line = BudgetLine(project_id=site["project"].id, name="Exterior", amount=Decimal("1000"))
    db.session.add(line)
    db.session.flush()
    people = [site["employee"], site["super"], site["designer"]]

    def add(n):
        for i in range(n):
            make_expense(site["project"], claimant=people[i % 3] if i % 2 else None, budget_line_id=line.id)

    login_as(site["pm"])
    headers = bearer(client, site["pm"])
    url = f"/projects/{site['project'].id}/expenses"
    costs = []
    for n in (3, 27):
        add(n)
        db.session.expire_all()
        with count_queries() as page:
            assert client.get(url).status_code == 200
        with count_queries() as api:
            assert (
                client.get(API + f"?project_id={site['project'].id}&page_size=100", headers=headers).status_code == 200
            )
        costs.append((page.n, api.n))
    assert costs[0] == costs[1], costs


def test_a_closed_projects_expenses_no_longer_change_but_claims_are_still_paid(site, db):
    company = make_expense(site["project"])
    approved = make_expense(site["project"], claimant=site["employee"], status="approved")
    site["project"].status = "closed"
    db.session.flush()
    with pytest.raises(ConflictError, match="closed"):
        services.update_expense(site["pm"], company, {"amount": "1.00"})
    with pytest.raises(ConflictError, match="closed"):
        services.delete_expense(site["pm"], company)
    with pytest.raises(ConflictError, match="closed"):
        services.create_expense(site["pm"], site["project"], {"category": "TOOLS", "amount": "5",
                                                              "expense_date": "2026-03-02"})  # fmt: skip
    with pytest.raises(ValidationError):
        services.claim_project(site["employee"], site["project"].id)
    services.reimburse(site["admin"], approved, "paycheck")  # the employee is still owed
    assert approved.reimbursement_status == "paid"


def test_a_budget_figure_drills_down_to_exactly_the_expenses_behind_it(site, client, login_as, db):
    """The budget page's links land on the rows its figures sum: a line's own expenses, the
    category's expenses naming no line (on the category's first line), only those counting
    as cost (a claim not yet approved is not), and the unallocated rows by category."""
    import html
    import re

    from app.budgets.models import BudgetLine

    paint = BudgetLine(project_id=site["project"].id, name="Paint", category="MATERIALS", amount=Decimal("1000"))
    db.session.add(paint)
    db.session.flush()
    make_expense(site["project"], category="MATERIALS", amount="100.00", budget_line_id=paint.id, vendor="On the line")
    make_expense(site["project"], category="MATERIALS", amount="40.00", vendor="By its category")
    make_expense(
        site["project"], claimant=site["employee"], category="MATERIALS", amount="30.00", vendor="Claim waiting"
    )
    make_expense(site["project"], category="TOOLS", amount="25.00", vendor="Loose tools")
    login_as(site["pm"])
    budget = client.get(f"/projects/{site['project'].id}/budget").text
    links = [html.unescape(h) for h in re.findall(r'href="([^"]+)" data-testid="row-expenses"', budget)]
    assert len(links) == 2
    line_link = next(h for h in links if "budget_line=" in h)
    loose_link = next(h for h in links if "unallocated=1" in h)
    on_line = client.get(line_link).text
    assert "On the line" in on_line and "By its category" in on_line
    assert "Claim waiting" not in on_line and "Loose tools" not in on_line
    assert "140.00" in on_line
    loose = client.get(loose_link).text
    assert "Loose tools" in loose and "On the line" not in loose and "By its category" not in loose


def test_a_claimant_without_costs_view_neither_sees_nor_picks_budget_lines(site, client, login_as, db):
    """Budget lines are internal costs: an employee's own claim never shows the line the PM
    put it on (page, form, JSON), and the claimant cannot put it on one (form or API)."""
    from app.budgets.models import BudgetLine

    secret = BudgetLine(project_id=site["project"].id, name="Contingency-SECRET", amount=Decimal("9"))
    db.session.add(secret)
    db.session.flush()
    claim = make_expense(site["project"], claimant=site["employee"], vendor="Hardware", budget_line_id=secret.id)
    own = make_expense(site["project"], claimant=site["employee"], vendor="Rollers")
    login_as(site["employee"])
    for url in (f"/expenses/{claim.id}", f"/expenses/{claim.id}/edit", "/expenses/mine"):
        page = client.get(url)
        assert page.status_code == 200, url
        assert "Contingency-SECRET" not in page.text, url
    headers = bearer(client, site["employee"])
    shown = client.get(f"{API}{claim.id}/", headers=headers).json["data"]
    assert shown["budget_line"] is None
    body = {"budget_line_id": secret.id, "amount": "12.00", "version": own.version}
    assert client.patch(f"{API}{own.id}/", json=body, headers=headers).status_code == 200
    db.session.expire_all()
    assert db.session.get(Expense, own.id).budget_line_id is None
    assert db.session.get(Expense, own.id).amount == Decimal("12.00")
    login_as(site["pm"])
    assert "Contingency-SECRET" in client.get(f"/expenses/{claim.id}").text


def test_a_project_with_expenses_is_closed_not_deleted(site, client, db):
    """Money spent is kept for the accounts: deleting the project is a 409 that says what to
    do instead, never a database error; the project and its expense stay."""
    from app.projects.models import Project

    expense = make_expense(site["other"], vendor="Kept")
    headers = bearer(client, site["admin"])
    answer = client.delete(f"/api/projects/{site['other'].id}/", headers=headers)
    assert answer.status_code == 409
    assert "close the project instead" in answer.json["error"]["message"]
    db.session.expire_all()
    assert db.session.get(Project, site["other"].id) is not None
    assert db.session.get(Expense, expense.id) is not None
