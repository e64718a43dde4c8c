"""The audit trail: every insert, update and delete of an audited model is written by the
session hook (who, role, what, before/after, when, IP, request id); refused writes are
recorded as 'denied'; the admin sees everything with filters, a PM the entries of their
own projects, nobody else anything. Secrets never reach the log."""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.auth.models import User
from app.core.audit import AuditLog, acting_as
from app.projects.models import Project
from tests.conftest import bearer
from tests.factories import PASSWORD, make_client, make_project, make_user

# Only this test's audit entries (see conftest.only_this_tests_audit_entries).
pytestmark = pytest.mark.usefixtures("only_this_tests_audit_entries")


IP = "198.51.100.23"


def entries(db, **filters):
    db.session.expire_all()
    stmt = select(AuditLog).order_by(AuditLog.id)
    for key, value in filters.items():
        stmt = stmt.where(getattr(AuditLog, key) == value)
    return db.session.scalars(stmt).all()


def post(client, url, data=None, request_id="req-audit-1", **kwargs):
    return client.post(
        url, data=data or {}, headers={"X-Request-ID": request_id}, environ_overrides={"REMOTE_ADDR": IP}, **kwargs
    )


def test_creating_a_project_over_http_is_audited_with_who_what_where(client, login_as, db):
    started = datetime.now(UTC)
    pm = login_as("project_manager_full")
    company = make_client()
    response = post(
        client,
        "/projects",
        {
            "name": "Audit tower",
            "client_id": company.id,
            "address": "5 Ledger Ln",
            "budget": "1200.50",
            "pm_ids": [str(pm.id)],
        },
        request_id="req-create-77",
    )
    assert response.status_code == 303
    project = db.session.scalar(select(Project).where(Project.name == "Audit tower"))
    [row] = entries(db, object_type="Project", object_id=str(project.id))
    assert (row.action, row.result) == ("create", "success")
    assert (row.user_id, row.username, row.role) == (pm.id, pm.username, "project_manager_full")
    assert (row.ip, row.request_id) == (IP, "req-create-77")
    assert row.project_id == project.id and row.object_label == "Audit tower"
    assert row.changes["name"] == [None, "Audit tower"]
    assert row.changes["budget"] == [None, "1200.50"]
    assert row.changes["address"] == [None, "5 Ledger Ln"]
    assert started <= row.created_at <= datetime.now(UTC)
    # the PM's place on the team is a second, linked entry of the same request
    [member] = entries(db, object_type="ProjectMembership", project_id=project.id)
    assert member.action == "create" and member.changes["user_id"] == [None, pm.id]
    assert member.request_id == "req-create-77"


def test_editing_records_only_what_changed_before_and_after(client, login_as, db):
    admin = login_as("admin")
    project = make_project(name="Old name", city="Austin", budget=Decimal("5000.00"))
    data = {
        "name": "New name",
        "client_id": project.client_id,
        "address": project.address,
        "city": "Round Rock",
        "budget": "5000.00",
    }
    response = post(client, f"/projects/{project.id}/edit", data, request_id="req-edit-1")
    assert response.status_code == 303
    [row] = entries(db, object_type="Project", action="update")
    assert row.user_id == admin.id and row.role == "admin" and row.request_id == "req-edit-1" and row.ip == IP
    assert row.changes["name"] == ["Old name", "New name"]
    assert row.changes["city"] == ["Austin", "Round Rock"]
    assert "budget" not in row.changes and "address" not in row.changes


def test_api_edit_is_audited_with_the_token_user(client, db):
    pm = make_user("project_manager_full")
    project = make_project(members=[pm], name="Api before")
    headers = {**bearer(client, pm), "X-Request-ID": "req-api-9"}
    response = client.patch(
        f"/api/projects/{project.id}/",
        json={"name": "Api after"},
        headers=headers,
        environ_overrides={"REMOTE_ADDR": IP},
    )
    assert response.status_code == 200
    [row] = entries(db, object_type="Project", action="update")
    assert (row.user_id, row.role, row.request_id, row.ip) == (pm.id, "project_manager_full", "req-api-9", IP)
    assert row.changes["name"] == ["Api before", "Api after"]


def test_deleting_a_project_records_the_last_values_and_its_team(client, login_as, db):
    login_as("admin")
    designer = make_user("designer")
    project = make_project(name="Doomed deck", members=[designer], budget=Decimal("777.00"))
    project_id = project.id
    assert post(client, f"/projects/{project_id}/delete").status_code == 303
    assert db.session.get(Project, project_id) is None
    [row] = entries(db, object_type="Project", action="delete")
    assert row.object_id == str(project_id) and row.project_id == project_id
    assert row.changes["name"] == ["Doomed deck", None]
    assert row.changes["budget"] == ["777.00", None]
    [member] = entries(db, object_type="ProjectMembership", action="delete")
    assert member.project_id == project_id and member.changes["user_id"] == [designer.id, None]


def test_team_changes_are_audited(client, login_as, db):
    admin = login_as("admin")
    project = make_project()
    sup = make_user("superintendent")
    assert post(client, f"/admin/projects/{project.id}/team", {"user_id": str(sup.id)}).status_code == 303
    [added] = entries(db, object_type="ProjectMembership", action="create")
    assert added.project_id == project.id and added.user_id == admin.id
    assert added.changes["user_id"] == [None, sup.id] and added.changes["project_id"] == [None, project.id]
    assert (
        post(client, f"/admin/projects/{project.id}/team", {"user_id": str(sup.id), "remove": "1"}).status_code == 303
    )
    [removed] = entries(db, object_type="ProjectMembership", action="delete")
    assert removed.project_id == project.id and removed.changes["user_id"] == [sup.id, None]


def test_a_refused_html_write_is_recorded_as_denied_and_changes_nothing(client, login_as, db):
    designer = make_user("designer")
    project = make_project(members=[designer], name="Guarded")
    login_as(designer)
    response = post(
        client,
        f"/projects/{project.id}/edit",
        {"name": "Hijacked", "client_id": project.client_id, "address": "x"},
        request_id="req-deny-1",
    )
    assert response.status_code == 403
    [row] = entries(db, result="denied")
    assert (row.user_id, row.username, row.role) == (designer.id, designer.username, "designer")
    assert (row.ip, row.request_id) == (IP, "req-deny-1")
    assert "projects.update" in row.action
    assert row.project_id == project.id  # so the project's PM sees the attempt
    assert entries(db, request_id="req-deny-1") == [row]  # nothing else of that request
    assert db.session.get(Project, project.id).name == "Guarded"


def test_a_refused_api_write_is_recorded_as_denied(client, db):
    trainee = make_user("pm_trainee")
    project = make_project(members=[trainee])
    headers = {**bearer(client, trainee), "X-Request-ID": "req-deny-api"}
    response = client.delete(f"/api/projects/{project.id}/", headers=headers)
    assert response.status_code == 403 and response.json["error"]["code"] == "PERMISSION_DENIED"
    [row] = entries(db, result="denied")
    assert (row.user_id, row.role, row.request_id) == (trainee.id, "pm_trainee", "req-deny-api")
    assert db.session.get(Project, project.id) is not None
    assert entries(db, request_id="req-deny-api") == [row]
    assert row.project_id == project.id


def test_refused_reads_are_not_logged_as_writes(client, login_as, db):
    login_as("employee")
    assert client.get("/projects").status_code == 403
    assert client.get("/admin/users").status_code == 403
    assert entries(db, result="denied") == []


def test_work_outside_a_request_names_its_actor(db):
    with acting_as("flask create-user", "system"):
        company = make_client(name="Named by CLI")
    [row] = entries(db, object_type="Client", object_id=str(company.id))
    assert (row.username, row.role, row.user_id) == ("flask create-user", "system", None)


# --- secrets never reach the log ------------------------------------------------------


def test_password_hashes_totp_secrets_and_encrypted_fields_never_appear(client, login_as, db, app):
    login_as("admin")
    created = client.post(
        "/admin/users/new",
        data={"username": "new.hire", "email": "new.hire@example.com", "role": "superintendent", "method": "password"},
    )
    assert created.status_code == 200
    user = db.session.scalar(select(User).where(User.username == "new.hire"))
    first = html.unescape(created.text.split('data-testid="one-time-password">')[1].split("<")[0])
    # the user signs in with it and chooses their own password …
    browser = app.test_client()
    assert browser.post("/login", data={"username": "new.hire", "password": first}).status_code == 302
    changed = browser.post(
        "/account/password",
        data={"current_password": first, "new_password": "Fresh&Coat77", "confirm_password": "Fresh&Coat77"},
    )
    assert changed.status_code == 302
    # … and the admin later issues another one-time password
    reset = client.post(f"/admin/users/{user.id}/reset")
    second = html.unescape(reset.text.split('data-testid="one-time-password">')[1].split("<")[0])
    user.totp_secret = "JBSWY3DPEHPK3PXP"
    user.password_hash = "$argon2id$v=19$m=65536,t=3,p=4$planted-hash"
    company = make_client(name="Secretive Ltd", tax_id="12-3456789")
    company.tax_id = "98-7654321"
    db.session.flush()

    db.session.expire_all()
    hashes = {u.password_hash for u in db.session.scalars(select(User)) if u.password_hash}
    log = json.dumps([e.changes for e in entries(db)])
    assert entries(db, object_type="User") and entries(db, object_type="Client")
    for secret in (
        *hashes,
        "planted-hash",
        "JBSWY3DPEHPK3PXP",
        first,
        second,
        "Fresh&Coat77",
        "12-3456789",
        "98-7654321",
        PASSWORD,
    ):
        assert secret not in log
    # the change itself is on record (who changed a password or second factor, when)
    assert '"password_hash": [' in log and '"totp_secret": [' in log
    # an encrypted field's change is still visible as a change, without its value
    [update] = entries(db, object_type="Client", action="update")
    assert "tax_id" in update.changes


# --- the audit log viewer --------------------------------------------------------------


def _log(
    db,
    label,
    *,
    username="someone",
    action="update",
    object_type="Project",
    project_id=None,
    when=None,
    result="success",
):
    row = AuditLog(
        username=username,
        role="admin",
        action=action,
        object_type=object_type,
        object_id="1",
        object_label=label,
        project_id=project_id,
        changes={"name": ["a", "b"]},
        result=result,
        created_at=when or datetime.now(UTC),
    )
    db.session.add(row)
    db.session.flush()
    return row


@pytest.fixture()
def journal(db):
    pm = make_user("project_manager_full", username="pat.pm")
    mine, theirs = make_project(members=[pm]), make_project()
    _log(
        db,
        "entry-mine-old",
        username="alice",
        action="create",
        project_id=mine.id,
        when=datetime(2026, 1, 5, 12, tzinfo=UTC),
    )
    _log(
        db,
        "entry-mine-new",
        username="bob",
        action="update",
        project_id=mine.id,
        when=datetime(2026, 2, 20, 12, tzinfo=UTC),
    )
    _log(
        db,
        "entry-theirs",
        username="alice",
        action="delete",
        project_id=theirs.id,
        when=datetime(2026, 2, 1, 12, tzinfo=UTC),
    )
    _log(db, "entry-user", username="alice", object_type="User", when=datetime(2026, 2, 2, 12, tzinfo=UTC))
    _log(
        db,
        "entry-denied",
        username="mallory",
        action="POST projects.delete",
        object_type="route",
        project_id=mine.id,
        result="denied",
        when=datetime(2025, 12, 1, 9, tzinfo=UTC),
    )
    return pm, mine, theirs


LABELS = {"entry-mine-old", "entry-mine-new", "entry-theirs", "entry-user", "entry-denied"}


def shown(response) -> set[str]:
    assert response.status_code == 200
    return {label for label in LABELS if label in response.text}


def test_admin_sees_every_entry_and_filters_them(client, login_as, journal):
    login_as("admin")
    assert shown(client.get("/admin/audit")) == LABELS
    assert shown(client.get("/admin/audit?user=ALICE")) == {"entry-mine-old", "entry-theirs", "entry-user"}
    assert shown(client.get("/admin/audit?action=delete")) == {"entry-theirs"}
    assert shown(client.get("/admin/audit?object_type=User")) == {"entry-user"}
    assert shown(client.get("/admin/audit?from=2026-02-01&to=2026-02-02")) == {"entry-theirs", "entry-user"}
    assert shown(client.get("/admin/audit?from=2026-02-03&to=2026-02-28")) == {"entry-mine-new"}
    assert shown(client.get("/admin/audit?result=denied")) == {"entry-denied"}
    assert shown(client.get(f"/admin/audit?project={journal[1].id}&user=alice")) == {"entry-mine-old"}
    assert shown(client.get("/admin/audit?from=not-a-date")) == LABELS  # a bad date is ignored, not a crash
    fragment = client.get("/admin/audit?action=create", headers={"HX-Request": "true", "HX-Target": "audit-results"})
    assert 'id="audit-results"' in fragment.text and "<html" not in fragment.text
    assert shown(fragment) == {"entry-mine-old"}


def _labels(response, candidates) -> set[str]:
    assert response.status_code == 200
    return {label for label in candidates if label in response.text}


def test_date_filters_are_days_in_the_company_time_zone(client, login_as, db, app):
    """Entries are shown in company time (America/Denver, MST in November), so From/To are
    its days: 03:00 UTC on Nov 29 is 8:00 PM on Nov 28 there."""
    assert app.config["COMPANY_TIMEZONE"] == "America/Denver"
    login_as("admin")
    _log(db, "entry-evening", when=datetime(2026, 11, 29, 3, tzinfo=UTC))  # Nov 28, 8:00 PM MST
    _log(db, "entry-last-minute", when=datetime(2026, 11, 29, 6, 59, tzinfo=UTC))  # Nov 28, 11:59 PM
    _log(db, "entry-midnight", when=datetime(2026, 11, 29, 7, tzinfo=UTC))  # Nov 29, 12:00 AM
    _log(db, "entry-early", when=datetime(2026, 11, 28, 6, 59, tzinfo=UTC))  # Nov 27, 11:59 PM
    labels = {"entry-evening", "entry-last-minute", "entry-midnight", "entry-early"}
    page = client.get("/admin/audit?from=2026-11-28&to=2026-11-28")
    assert _labels(page, labels) == {"entry-evening", "entry-last-minute"}
    assert "Nov 28, 2026 8:00 PM MST" in page.text  # the day the page shows it on
    assert _labels(client.get("/admin/audit?from=2026-11-29"), labels) == {"entry-midnight"}
    assert _labels(client.get("/admin/audit?to=2026-11-27"), labels) == {"entry-early"}


def test_the_username_search_is_partial_case_insensitive_and_literal(client, login_as, db):
    login_as("admin")
    _log(db, "entry-alice", username="alice.ng")
    _log(db, "entry-bob", username="Bob_Smith")
    _log(db, "entry-bobx", username="bobxsmith")
    labels = {"entry-alice", "entry-bob", "entry-bobx"}
    assert _labels(client.get("/admin/audit?user=LICE"), labels) == {"entry-alice"}
    assert _labels(client.get("/admin/audit?user=bob"), labels) == {"entry-bob", "entry-bobx"}
    assert _labels(client.get("/admin/audit?user=b_s"), labels) == {"entry-bob"}  # "_" is not a wildcard
    assert _labels(client.get("/admin/audit?user=%25"), labels) == set()  # nor is "%"


def test_pm_sees_only_the_entries_of_their_own_projects(client, login_as, journal):
    pm, mine, theirs = journal
    login_as(pm)
    assert shown(client.get("/admin/audit")) == {"entry-mine-old", "entry-mine-new", "entry-denied"}
    assert shown(client.get(f"/admin/audit?project={theirs.id}")) == set()
    assert shown(client.get("/admin/audit?object_type=User")) == set()
    # the project page shows its recent history to the PM
    assert "Full audit log" in client.get(f"/projects/{mine.id}").text


@pytest.mark.parametrize("role", ["pm_trainee", "designer", "superintendent", "employee", "client"])
def test_other_roles_cannot_read_the_audit_log(role, client, login_as, journal):
    user = make_user(role)
    if role in ("pm_trainee", "designer", "superintendent"):
        from app.extensions import db
        from app.projects.models import ProjectMembership

        db.session.add(ProjectMembership(project_id=journal[1].id, user_id=user.id))
        db.session.flush()
    login_as(user)
    response = client.get("/admin/audit")
    assert response.status_code == 403
    assert not LABELS & {label for label in LABELS if label in response.text}
    if role != "employee":  # nor in the history panel of a project page they can see
        page = client.get(f"/projects/{journal[1].id}")
        assert "entry-mine" not in page.text and "Full audit log" not in page.text


def test_security_changes_are_audited_without_their_values(client, db):
    import pyotp

    from app.auth.passwords import hash_password
    from tests.factories import PASSWORD, make_user

    user = make_user("designer")
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
    assert (
        client.post(
            "/account/password",
            data={"current_password": PASSWORD, "new_password": "New#Pass2026", "confirm_password": "New#Pass2026"},
        ).status_code
        == 302
    )
    page = client.get("/account/two-factor").text
    secret = page.split('data-testid="totp-secret">')[1].split("<")[0]
    assert client.post("/account/two-factor", data={"code": pyotp.TOTP(secret).now()}).status_code == 302
    rows = db.session.scalars(
        select(AuditLog).where(
            AuditLog.object_type == "User", AuditLog.object_id == str(user.id), AuditLog.action == "update"
        )
    ).all()
    changed = [set(r.changes) for r in rows]
    assert any({"password_hash", "session_epoch"} <= c for c in changed), changed
    assert any("totp_secret" in c for c in changed), changed
    text = str([r.changes for r in rows])
    assert secret not in text and "argon2" not in text and hash_password("x")[:10] not in text
    assert "[changed]" in text and "[encrypted]" in text


def test_pages_of_the_log_know_their_total_and_count_only_when_they_must(client, login_as, db, count_queries):
    """A page that is not full is the last one: its total needs no count of the log. A
    full page, or one past the end, counts."""
    from sqlalchemy import delete

    login_as("admin")
    db.session.execute(delete(AuditLog))  # the admin's own account entry

    def page(query=""):
        with count_queries() as counted:
            text = client.get("/admin/audit" + query, headers={"HX-Request": "true"}).text
        return text, sum("count(" in s.lower() for s in counted.statements)

    text, counts = page()
    assert "0 total" in text and "No entries." in text and counts == 0
    for i in range(3):
        _log(db, f"entry-{i:02d}")
    text, counts = page()
    assert "3 total" in text and counts == 0
    for i in range(3, 50):
        _log(db, f"entry-{i:02d}")
    text, counts = page()  # exactly one full page
    assert "50 total" in text and "Page" not in text and counts == 1
    text, counts = page("?page=2")  # past the end: the last page
    assert "50 total" in text and "entry-00" in text and counts == 1
    for i in range(50, 60):
        _log(db, f"entry-{i:02d}")
    text, counts = page("?page=2")
    assert "Page 2 of 2 · 60 total" in text and counts == 0
    assert "entry-00" in text and "entry-59" not in text  # newest first: the oldest ten
    text, counts = page("?page=999")
    assert "Page 2 of 2 · 60 total" in text and counts == 1
    text, counts = page("?page=1")
    assert "Page 1 of 2 · 60 total" in text and "entry-59" in text and counts == 1


def test_the_object_choices_are_the_kinds_the_log_holds(client, login_as, db):
    from sqlalchemy import select

    from app.admin.services import audit_object_types

    assert audit_object_types() == []  # an empty log
    for kind in ("User", "route", "Project", "User", "account", "Project"):
        _log(db, "entry", object_type=kind)
    distinct = select(AuditLog.object_type).distinct().order_by(AuditLog.object_type)
    assert audit_object_types() == db.session.scalars(distinct).all()  # in the database's order
    assert set(audit_object_types()) == {"User", "route", "Project", "account"}
    login_as("admin")
    page = client.get("/admin/audit").text
    assert all(f'<option value="{kind}"' in page for kind in ("User", "route", "Project", "account"))
