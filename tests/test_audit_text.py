"""The audit log reads as sentences an owner understands ("Kim added Ana Ruiz to Hughes
deck stain as project manager"), names instead of ids, bookkeeping left out, secrets
never shown — and the raw field-by-field diff one click away ("Show changes")."""

from __future__ import annotations

import html
import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.auth.models import User
from app.core.audit import AuditLog, acting_as
from app.core.audit_text import audited_models
from app.extensions import db as _db
from app.projects.models import Project, ProjectMembership
from tests.factories import PASSWORD, make_client, make_project, make_user

# Only this test's audit entries (see conftest.only_this_tests_audit_entries).
pytestmark = pytest.mark.usefixtures("only_this_tests_audit_entries")


SENTENCE = re.compile(r'data-testid="audit-sentence">(.*?)(?: <span class="badge|</p>)', re.S)


def sentences(client, url="/admin/audit") -> list[str]:
    """The sentences of a page, newest first."""
    response = client.get(url)
    assert response.status_code == 200
    return [html.unescape(s).strip() for s in SENTENCE.findall(response.get_data(as_text=True))]


def raw_diff(client, url="/admin/audit") -> str:
    text = client.get(url).get_data(as_text=True)
    details = " ".join(re.findall(r'<details class="raw-changes"[^>]*>(.*?)</details>', text, re.S))
    return html.unescape(re.sub(r"<[^>]+>", "", details))


def forget(db) -> None:
    """Drop the entries of a test's set-up: they are not the subject."""
    db.session.execute(AuditLog.__table__.delete())


@pytest.fixture()
def kim(login_as):
    return login_as("admin", full_name="Kim")


@pytest.fixture()
def hughes(db):
    ana = make_user("project_manager_full", full_name="Ana Ruiz")
    project = make_project(
        client=make_client(name="Hughes Family"), name="Hughes deck stain", budget=Decimal("12000.00"), members=[ana]
    )
    forget(db)
    return project, ana


def _form(project, **changes):
    data = {
        "name": project.name,
        "client_id": project.client_id,
        "address": project.address,
        "city": project.city,
        "budget": str(project.budget),
        "start_date": project.start_date.isoformat(),
        "end_date": project.end_date.isoformat(),
        "internal_notes": project.internal_notes,
        "pm_ids_field": "1",
        "pm_ids": [str(u.id) for u in project.pms],
    }
    data.update(changes)
    return data


def test_creating_a_project_and_its_team_reads_as_sentences(client, kim, db):
    ana = make_user("project_manager_full", full_name="Ana Ruiz")
    company = make_client(name="Hughes Family")
    response = client.post(
        "/projects",
        data={
            "name": "Hughes deck stain",
            "client_id": company.id,
            "address": "9 Cedar Ct",
            "budget": "12000",
            "pm_ids_field": "1",
            "pm_ids": [str(ana.id)],
        },
    )
    assert response.status_code == 303
    project = db.session.scalar(select(Project).where(Project.name == "Hughes deck stain"))
    said = sentences(client, f"/admin/audit?project={project.id}")
    assert said == [
        "Kim added Ana Ruiz to Hughes deck stain as project manager",
        "Kim created the project Hughes deck stain",
    ]
    raw = raw_diff(client, f"/admin/audit?project={project.id}")
    assert f"client_id: ∅ → {company.id}" in raw and "budget: ∅ → 12000.00" in raw and f"user_id: ∅ → {ana.id}" in raw


def test_a_budget_change_names_the_field_and_both_values(client, kim, hughes):
    project, _ = hughes
    assert client.post(f"/projects/{project.id}/edit", data=_form(project, budget="14500")).status_code == 303
    assert sentences(client) == ["Kim changed the budget of Hughes deck stain: 12,000.00 → 14,500.00"]
    assert "budget: 12000.00 → 14500.00" in raw_diff(client)


def test_several_changes_and_a_client_are_named(client, kim, hughes):
    project, _ = hughes
    first_client = project.client_id
    other = make_client(name="Ruiz Homes")
    forget(_db)
    data = _form(project, client_id=other.id, city="Round Rock")
    assert client.post(f"/projects/{project.id}/edit", data=data).status_code == 303
    assert sentences(client) == [
        "Kim changed Hughes deck stain: client Hughes Family → Ruiz Homes; city Austin → Round Rock"
    ]
    assert f"client_id: {first_client} → {other.id}" in raw_diff(client)


def test_deleting_a_project_reads_as_a_sentence_and_its_team_keeps_its_name(client, kim, hughes):
    project, _ = hughes
    assert client.post(f"/projects/{project.id}/delete").status_code == 303
    assert sentences(client) == [
        "Kim removed Ana Ruiz from Hughes deck stain (deleted)",
        "Kim deleted the project Hughes deck stain",
    ]
    assert "budget: 12000.00 → ∅" in raw_diff(client)


def test_team_changes_read_as_added_and_removed(client, kim, hughes):
    project, _ = hughes
    sam = make_user("superintendent", full_name="Sam Stone")
    forget(_db)
    assert client.post(f"/admin/projects/{project.id}/team", data={"user_id": str(sam.id)}).status_code == 303
    data = {"user_id": str(sam.id), "remove": "1"}
    assert client.post(f"/admin/projects/{project.id}/team", data=data).status_code == 303
    assert sentences(client) == [
        "Kim removed Sam Stone from Hughes deck stain",
        "Kim added Sam Stone to Hughes deck stain as superintendent",
    ]
    # the project page's history says the same
    assert sentences(client, f"/projects/{project.id}")[:2] == sentences(client)


def test_a_role_change_and_a_deactivation_read_as_sentences(client, kim, db):
    ana = make_user("designer", full_name="Ana Ruiz")
    forget(db)
    assert client.post(f"/admin/users/{ana.id}/role", data={"role": "project_manager_full"}).status_code == 303
    assert client.post(f"/admin/users/{ana.id}/active", data={"active": "0"}).status_code == 303
    assert client.post(f"/admin/users/{ana.id}/active", data={"active": "1"}).status_code == 303
    assert sentences(client) == [
        "Kim reactivated Ana Ruiz",
        "Kim deactivated Ana Ruiz",
        "Kim changed Ana Ruiz's role: Designer → Project manager",
    ]
    raw = raw_diff(client)
    assert "role: designer → project_manager_full" in raw and "session_epoch: 0 → 1" in raw
    assert "is_active_flag: True → False" in raw


def test_password_changes_say_so_without_any_value(client, kim, app, db):
    ana = make_user("designer", full_name="Ana Ruiz", username="ana")
    forget(db)
    browser = app.test_client()
    assert browser.post("/login", data={"username": "ana", "password": PASSWORD}).status_code == 302
    new = "Fresh&Coat77"
    changed = browser.post(
        "/account/password", data={"current_password": PASSWORD, "new_password": new, "confirm_password": new}
    )
    assert changed.status_code == 302
    reset = client.post(f"/admin/users/{ana.id}/reset")
    one_time = html.unescape(reset.text.split('data-testid="one-time-password">')[1].split("<")[0])
    assert sentences(client) == [
        "Kim changed Ana Ruiz's password and required Ana Ruiz to choose a new password at the next sign-in",
        "Ana Ruiz changed their password",
    ]
    page = client.get("/admin/audit").get_data(as_text=True)
    db.session.expire_all()
    stored = db.session.get(User, ana.id).password_hash
    for secret in (new, one_time, PASSWORD, stored, "argon2"):
        assert secret not in page
    assert "password_hash: [changed] → [changed]" in raw_diff(client)


def test_encrypted_values_never_appear_in_sentences_or_the_raw_diff(client, kim, db):
    company = make_client(name="Secretive Ltd", tax_id="12-3456789")
    user = make_user("designer", full_name="Dee Signer")
    forget(db)
    with acting_as(kim.username, kim.role, kim.id):  # as outside a request (a CLI command)
        company.tax_id = "98-7654321"
        user.totp_secret = "JBSWY3DPEHPK3PXP"
        db.session.flush()
    said = sentences(client)
    assert "Kim changed the tax id of Secretive Ltd" in said
    assert "Kim turned on two-factor sign-in for Dee Signer" in said
    page = client.get("/admin/audit").get_data(as_text=True)
    for secret in ("12-3456789", "98-7654321", "JBSWY3DPEHPK3PXP"):
        assert secret not in page
    assert "tax_id: [encrypted] → [encrypted]" in raw_diff(client)


def test_a_refused_write_reads_as_a_sentence(client, login_as, hughes, db):
    project, ana = hughes
    dee = make_user("designer", full_name="Dee Signer")
    db.session.add(ProjectMembership(project_id=project.id, user_id=dee.id))
    db.session.flush()
    login_as(dee)
    assert client.post(f"/projects/{project.id}/edit", data=_form(project, name="Hijacked")).status_code == 403
    login_as(ana)  # the project's PM reads the attempt
    said = sentences(client, f"/admin/audit?project={project.id}&result=denied")
    assert said == ["Dee Signer was refused: tried to edit the project Hughes deck stain (POST projects.update)"]


def test_every_column_of_every_audited_model_has_a_label_or_is_bookkeeping():
    """Adding a column to an audited model means saying how the audit log names it."""
    undeclared = {}
    for name, model in audited_models().items():
        labels = getattr(model, "__audit_labels__", None)
        assert labels is not None and getattr(model, "__audit_noun__", None), f"{name} declares no audit labels"
        spoken = (
            set(labels) | set(getattr(model, "__audit_phrases__", {})) | set(getattr(model, "__audit_exclude__", ()))
        )
        missing = {a.key for a in _db.inspect(model).column_attrs} - spoken
        if missing:
            undeclared[name] = missing
    assert undeclared == {}


def test_the_audit_page_fetches_names_per_page_not_per_row(client, kim, db, count_queries):

    def add_projects(n):
        for _ in range(n):
            make_project(members=[make_user("designer")], budget=Decimal("100.00"))

    add_projects(1)
    with count_queries() as few:
        one = sentences(client)
    add_projects(12)
    with count_queries() as many:
        lots = sentences(client)
    assert len(lots) > len(one) >= 3
    assert all(" #" not in s for s in lots)  # every id became a name
    # A full page also counts the entries (a page that is not full is the last one and
    # needs no count: tests/test_audit.py); names are one query per model either way.
    skip = ("SAVEPOINT", "RELEASE", "SELECT COUNT(")
    statements = [s for s in many.statements if not s.lstrip().upper().startswith(skip)]
    fewer = [s for s in few.statements if not s.lstrip().upper().startswith(skip)]
    assert len(statements) == len(fewer), "\n\n".join(statements)


def test_names_are_fetched_only_for_sentences_that_word_them(client, kim, db, count_queries):
    """ "created the project X" names no client, so no client is read for it; a team entry
    names its project and person, read in one query per model (a project with its client
    when a client is wanted too); rows the request already holds are not read again."""
    ana = make_user("project_manager_full", full_name="Ana Ruiz")
    make_project(client=make_client(name="Hughes Family"), name="Hughes deck stain", members=[ana])
    db.session.expunge_all()  # as a new request would: nothing held yet
    with count_queries() as counted:
        said = sentences(client)
    assert any("created the project Hughes deck stain" in s for s in said)
    assert any("added Ana Ruiz to Hughes deck stain as project manager" in s for s in said)
    reads = [s for s in counted.statements if s.lstrip().upper().startswith("SELECT")]
    assert not [s for s in reads if "FROM clients" in s], reads
    assert len([s for s in reads if "FROM projects" in s]) == 1, reads


def test_a_row_already_held_is_named_without_a_query(app, db, kim, count_queries):
    from app.core.audit_text import _Names

    names = _Names()
    names.want(type(kim), kim.id)
    with count_queries() as counted:
        names.fetch()
    assert names.obj(type(kim), kim.id) is kim and counted.n == 0  # the session's own object


def test_a_refused_api_delete_and_a_refused_admin_action_read_as_sentences(client, login_as, hughes, db):
    project, ana = hughes
    from tests.conftest import bearer

    trainee = make_user("pm_trainee", full_name="Tim Trainee")
    db.session.add(ProjectMembership(project_id=project.id, user_id=trainee.id))
    db.session.flush()
    assert client.delete(f"/api/projects/{project.id}/", headers=bearer(client, trainee)).status_code == 403
    login_as(ana)
    assert client.post(f"/admin/users/{trainee.id}/role", data={"role": "admin"}).status_code == 403
    login_as("admin")
    assert sentences(client, "/admin/audit?result=denied") == [
        "Ana Ruiz was refused: tried to change a user's role (POST users.change_role)",
        "Tim Trainee was refused: tried to delete the project Hughes deck stain (DELETE api.projects.api_delete)",
    ]


def test_adding_a_client_contact_reads_as_a_sentence(client, kim, db):
    company = make_client(name="Lakeview HOA")
    forget(db)
    data = {"name": "Dana Park", "email": "dana@lakeview.example"}
    assert client.post(f"/clients/{company.id}/contacts", data=data).status_code == 303
    assert sentences(client) == ["Kim added the contact Dana Park to Lakeview HOA"]


def _refused(db, action, project_id=None, seconds=0):
    from datetime import UTC, datetime, timedelta

    db.session.add(
        AuditLog(
            username="mallory",
            role="employee",
            action=action,
            object_type="route",
            object_id="",
            object_label="",
            project_id=project_id,
            changes={},
            result="denied",
            created_at=datetime(2026, 3, 1, 12, tzinfo=UTC) + timedelta(seconds=seconds),
        )
    )
    db.session.flush()


def test_a_refused_endpoint_without_a_declared_phrase_reads_neutrally(client, kim, hughes, db):
    """Phrases come from the features' declarations by full endpoint: a future
    `tasks.create` is not "tried to create a project", nor `tasks.update` "edit the project"."""
    project, _ = hughes
    _refused(db, "POST tasks.create", seconds=1)
    _refused(db, "POST tasks.update", project_id=project.id, seconds=2)
    _refused(db, "POST projects.create", seconds=3)  # declared by the projects feature
    assert sentences(client, "/admin/audit?result=denied") == [
        "mallory was refused: tried to create a project (POST projects.create)",
        "mallory was refused: POST tasks.update on the project Hughes deck stain",
        "mallory was refused: POST tasks.create",
    ]


def test_every_declared_refusal_phrase_names_an_endpoint_of_the_app(app):
    from app.core.features import audit_refusals

    phrases = audit_refusals(app)
    assert "api.projects.api_delete" in phrases and "users.change_role" in phrases
    assert sorted(set(phrases) - set(app.view_functions)) == []
