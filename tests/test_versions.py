"""Lost updates (issue 6): every editable object carries a version; a stale form comes
back with what changed meanwhile, a stale API write answers 409 CONFLICT with the current
object, and a concurrent write between the read and the flush is a 409, never a 500."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from sqlalchemy import select, text

from app.auth.models import User
from app.clients.models import Client
from app.projects.models import Project
from tests.conftest import bearer
from tests.factories import make_client, make_project, make_user


def signed_in(app, user):
    """Another browser: its own test client and session."""
    browser = app.test_client()
    with browser.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True
    return browser


def hidden_version(html: str, form: str = "") -> str:
    """The version field of the page (or of the form whose testid is `form`)."""
    if form:
        html = html[html.index(f'data-testid="{form}"') :]
    return re.search(r'name="version" value="(\d+)"', html).group(1)


def project_form(project, **changes) -> dict:
    data = {
        "name": project.name,
        "client_id": str(project.client_id),
        "address": project.address,
        "city": project.city,
        "budget": str(project.budget or ""),
        "start_date": project.start_date.isoformat() if project.start_date else "",
        "end_date": project.end_date.isoformat() if project.end_date else "",
        "description": project.description,
        "notes": project.notes,
        "internal_notes": project.internal_notes,
    }
    return data | {k: str(v) for k, v in changes.items()}


@pytest.fixture()
def kim(db):
    return make_user("admin", full_name="Kim Bray", username="kim")


@pytest.fixture()
def pam(db):
    return make_user("project_manager_full", full_name="Pam Ortiz", username="pam")


def test_rows_start_at_version_1_and_every_update_is_the_next(db):
    project = make_project()
    assert project.version == 1
    project.city = "Round Rock"
    db.session.flush()
    assert project.version == 2
    stored = db.session.execute(text("SELECT version FROM projects WHERE id = :id"), {"id": project.id}).scalar()
    assert stored == 2
    assert make_client().version == 1 and make_user("designer").version == 1


# --- two people, one project form -------------------------------------------------------


def test_two_sessions_submit_the_same_form_the_second_sees_what_changed_meanwhile(app, db, kim, pam):
    project = make_project(members=[pam], name="Hughes deck stain", budget=Decimal("12000.00"), city="Austin")
    kims, pams = signed_in(app, kim), signed_in(app, pam)
    kim_form = kims.get(f"/projects/{project.id}/edit").text
    pam_form = pams.get(f"/projects/{project.id}/edit").text
    assert hidden_version(kim_form) == hidden_version(pam_form) == "1"
    pams_typing = project_form(project, city="Round Rock", version=1)  # what her form holds

    first = kims.post(f"/projects/{project.id}/edit", data=project_form(project, budget="14500", version=1))
    assert first.status_code == 303

    # Pam's form was opened before Kim saved: nothing of hers is written
    second = pams.post(f"/projects/{project.id}/edit", data=pams_typing)
    assert second.status_code == 409
    page = second.text
    assert 'data-testid="changed-meanwhile"' in page
    assert re.search(
        r"Changed by Kim Bray at \w{3} \d{1,2}, \d{4} \d{1,2}:\d\d [AP]M \w+ — review and save again", page
    )
    rows = dict(re.findall(r'<th scope="row">([^<]+)</th><td data-testid="saved-value">([^<]*)</td>', page))
    # the other person's saved value beside what was typed, for each field that differs
    assert rows == {"Budget": "$14,500.00", "City": "Austin"}
    assert re.search(r'saved-value">\$14,500.00</td><td data-testid="typed-value">\$12,000.00<', page)
    assert 'value="Round Rock"' in page  # what Pam typed is still in the form
    assert hidden_version(page) == "2"  # the current version: a second submit saves
    db.session.refresh(project)
    assert (project.budget, project.city, project.version) == (Decimal("14500.00"), "Austin", 2)

    # Pam reviews, keeps Kim's budget, and saves again with the version she was shown
    again = pams.post(
        f"/projects/{project.id}/edit", data=pams_typing | {"budget": "14500", "version": hidden_version(page)}
    )
    assert again.status_code == 303
    db.session.refresh(project)
    assert (project.budget, project.city, project.version) == (Decimal("14500.00"), "Round Rock", 3)


def test_the_stale_form_comes_back_as_the_htmx_fragment(app, db, kim, pam):
    project = make_project(members=[pam])
    kims, pams = signed_in(app, kim), signed_in(app, pam)
    assert (
        kims.post(f"/projects/{project.id}/edit", data=project_form(project, name="Renamed", version=1)).status_code
        == 303
    )
    response = pams.post(
        f"/projects/{project.id}/edit",
        data=project_form(project, name="Mine", version=1),
        headers={"HX-Request": "true", "HX-Target": "project-form"},
    )
    assert response.status_code == 409
    assert response.text.lstrip().startswith('<form id="project-form"')
    assert 'data-testid="changed-meanwhile"' in response.text and "Renamed" in response.text


def test_a_pm_change_makes_an_open_form_stale(app, db, kim):
    ana, bob = (
        make_user("project_manager_full", full_name="Ana Ruiz"),
        make_user("project_manager_full", full_name="Bob Lee"),
    )
    project = make_project(members=[ana])
    first, second = signed_in(app, kim), signed_in(app, kim)
    with_pms = {"pm_ids_field": "1", "version": "1"}
    assert (
        first.post(
            f"/projects/{project.id}/edit", data=project_form(project, **with_pms) | {"pm_ids": [str(bob.id)]}
        ).status_code
        == 303
    )
    stale = second.post(
        f"/projects/{project.id}/edit", data=project_form(project, **with_pms) | {"pm_ids": [str(ana.id)]}
    )
    assert stale.status_code == 409
    assert re.search(
        r'Project managers</th><td data-testid="saved-value">Bob Lee</td><td data-testid="typed-value">Ana Ruiz<',
        stale.text,
    )
    db.session.refresh(project)
    assert [u.name for u in project.pms] == ["Bob Lee"]


def test_adding_a_pm_on_the_team_page_is_a_new_version_but_a_superintendent_is_not(client, login_as, db, kim):
    login_as(kim)
    project = make_project()
    client.post(f"/admin/projects/{project.id}/team", data={"user_id": str(make_user("superintendent").id)})
    db.session.refresh(project)
    assert project.version == 1
    client.post(f"/admin/projects/{project.id}/team", data={"user_id": str(make_user("project_manager_full").id)})
    db.session.refresh(project)
    assert project.version == 2


def test_a_form_without_a_version_is_not_checked(client, login_as, db, pam):
    """Older clients of the form (and scripts) that send no version: the last write wins."""
    login_as(pam)
    project = make_project(members=[pam])
    project.city = "Elsewhere"
    db.session.flush()
    assert client.post(f"/projects/{project.id}/edit", data=project_form(project, name="No version")).status_code == 303


def test_validation_errors_keep_the_version_the_form_started_from(client, login_as, db, pam):
    login_as(pam)
    project = make_project(members=[pam])
    response = client.post(f"/projects/{project.id}/edit", data=project_form(project, name="", version=1))
    assert response.status_code == 422 and hidden_version(response.text) == "1"


# --- a concurrent write between the read and the flush ---------------------------------


@pytest.fixture()
def concurrent_write(monkeypatch, db):
    """Between the request's read of the project and its flush, someone else commits:
    the row's version and name change by SQL, behind the session's back."""
    from app.projects import services

    loaded = services.get_project

    def get_then_someone_writes(user, project_id, action="project.view"):
        project = loaded(user, project_id, action)
        db.session.execute(
            text("UPDATE projects SET version = version + 1, name = 'Written meanwhile' WHERE id = :id"),
            {"id": project_id},
        )
        return project

    monkeypatch.setattr(services, "get_project", get_then_someone_writes)


def test_a_write_between_load_and_flush_is_a_409_with_the_current_object_not_a_500(client, db, pam, concurrent_write):
    project = make_project(members=[pam], name="Original")
    headers = bearer(client, pam)
    response = client.patch(f"/api/projects/{project.id}/", json={"name": "Mine", "version": 1}, headers=headers)
    assert response.status_code == 409, response.json
    error = response.json["error"]
    assert error["code"] == "CONFLICT"
    assert error["details"]["version"] == 2 and error["details"]["name"] == "Written meanwhile"
    assert response.headers["ETag"] == '"2"'
    # without a version too: the UPDATE … WHERE version = 1 matches nothing
    response = client.patch(f"/api/projects/{project.id}/", json={"name": "Mine"}, headers=headers)
    assert response.status_code == 409 and response.json["error"]["details"]["name"] == "Written meanwhile"


def test_a_write_between_load_and_flush_gives_the_form_back(client, login_as, db, pam, concurrent_write):
    login_as(pam)
    project = make_project(members=[pam], name="Original")
    response = client.post(f"/projects/{project.id}/edit", data=project_form(project, name="Mine", version=1))
    assert response.status_code == 409
    assert 'data-testid="changed-meanwhile"' in response.text
    assert re.search(r'saved-value">Written meanwhile</td><td data-testid="typed-value">Mine<', response.text)
    assert hidden_version(response.text) == "2"


def test_a_stale_write_where_nobody_expected_one_is_still_a_409(app, client, login_as, db, kim, monkeypatch):
    """The safety net: any StaleDataError (here deactivating a user someone just edited)
    answers 409, on pages and in the API."""
    from app.users import services

    login_as(kim)
    dee = make_user("designer")
    loaded = services.managed_user

    def load_then_someone_writes(actor, user_id):
        user = loaded(actor, user_id)
        db.session.execute(text("UPDATE users SET version = version + 1 WHERE id = :id"), {"id": user_id})
        return user

    monkeypatch.setattr(services, "managed_user", load_then_someone_writes)
    response = client.post(f"/admin/users/{dee.id}/active", data={"active": "0"})
    assert response.status_code == 409 and "changed this meanwhile" in response.text
    db.session.refresh(dee)
    assert dee.is_active


# --- the API -----------------------------------------------------------------------------


def test_api_detail_sends_the_version_and_its_etag(client, db, pam):
    project = make_project(members=[pam])
    response = client.get(f"/api/projects/{project.id}/", headers=bearer(client, pam))
    assert response.json["data"]["version"] == 1 and response.headers["ETag"] == '"1"'


@pytest.mark.parametrize("if_match", ['"1"', "1", 'W/"1"'])
def test_api_stale_if_match_is_a_409_with_the_current_object(client, db, pam, if_match):
    project = make_project(members=[pam], name="Before")
    headers = bearer(client, pam)
    ok = client.patch(f"/api/projects/{project.id}/", json={"name": "First"}, headers=headers | {"If-Match": if_match})
    assert ok.status_code == 200 and ok.json["data"]["version"] == 2 and ok.headers["ETag"] == '"2"'
    stale = client.patch(
        f"/api/projects/{project.id}/", json={"name": "Second"}, headers=headers | {"If-Match": if_match}
    )
    assert stale.status_code == 409
    body = stale.json
    assert body["success"] is False and body["error"]["code"] == "CONFLICT" and "timestamp" in body
    assert body["error"]["details"]["name"] == "First" and body["error"]["details"]["version"] == 2
    assert body["error"]["details"]["id"] == project.id and "profitability" in body["error"]["details"]
    db.session.refresh(project)
    assert project.name == "First"


def test_api_version_in_the_body_works_like_if_match(client, db, pam):
    project = make_project(members=[pam])
    headers = bearer(client, pam)
    put = {
        "name": "Put",
        "client_id": project.client_id,
        "location": {"address": "1 A St"},
        "version": 1,
    }
    assert client.put(f"/api/projects/{project.id}/", json=put, headers=headers).status_code == 200
    again = client.put(f"/api/projects/{project.id}/", json=put | {"name": "Again"}, headers=headers)
    assert again.status_code == 409 and again.json["error"]["details"]["name"] == "Put"
    # no version at all: the API's last write wins
    assert client.patch(f"/api/projects/{project.id}/", json={"name": "Last"}, headers=headers).status_code == 200


@pytest.mark.parametrize(
    ("body", "header"),
    [
        ({"version": "abc"}, None),
        ({"version": True}, None),
        ({"version": 1.5}, None),
        ({"version": 0}, None),
        ({"version": 10**12}, None),
        ({}, '"x"'),
        ({}, '"1", "2"'),
        ({"version": 2}, '"1"'),  # the two disagree
    ],
)
def test_api_bad_versions_are_field_errors(client, db, pam, body, header):
    project = make_project(members=[pam])
    headers = bearer(client, pam) | ({"If-Match": header} if header else {})
    response = client.patch(f"/api/projects/{project.id}/", json={"name": "X"} | body, headers=headers)
    assert response.status_code == 400, response.json
    assert response.json["error"]["code"] == "VALIDATION_ERROR" and "version" in response.json["error"]["details"]


def test_api_if_match_star_means_any_version(client, db, pam):
    project = make_project(members=[pam])
    project.city = "Moved"
    db.session.flush()
    response = client.patch(
        f"/api/projects/{project.id}/", json={"name": "X"}, headers=bearer(client, pam) | {"If-Match": "*"}
    )
    assert response.status_code == 200


def test_api_delete_with_a_stale_if_match_is_refused(client, db, kim):
    project = make_project()
    headers = bearer(client, kim)
    project.city = "Changed"
    db.session.flush()
    response = client.delete(f"/api/projects/{project.id}/", headers=headers | {"If-Match": '"1"'})
    assert response.status_code == 409 and response.json["error"]["details"]["version"] == 2
    assert db.session.get(Project, project.id) is not None
    assert client.delete(f"/api/projects/{project.id}/", headers=headers | {"If-Match": '"2"'}).status_code == 200


def test_client_json_has_its_version_and_etag(client, db, kim):
    company = make_client()
    headers = bearer(client, kim)
    response = client.get(f"/api/clients/{company.id}/", headers=headers)
    assert response.json["data"]["version"] == 1 and response.headers["ETag"] == '"1"'
    listed = client.get("/api/clients/", headers=headers).json["data"]["results"]
    assert all("version" in row for row in listed)


# --- clients and users -------------------------------------------------------------------


def test_two_sessions_edit_a_client_the_second_sees_both_values(app, db, kim):
    company = make_client(name="Lakeview HOA", phone="555-0100")
    other = make_user("admin", full_name="Ola Admin")
    kims, olas = signed_in(app, kim), signed_in(app, other)
    version = hidden_version(olas.get(f"/clients/{company.id}/edit").text)
    base = {"name": company.name, "email": company.email, "phone": company.phone, "version": version}
    assert kims.post(f"/clients/{company.id}/edit", data=base | {"phone": "555-0199"}).status_code == 303
    stale = olas.post(f"/clients/{company.id}/edit", data=base | {"notes": "Gate code 4412"})
    assert stale.status_code == 409 and "Changed by Kim Bray at" in stale.text
    assert re.search(
        r'Phone</th><td data-testid="saved-value">555-0199</td><td data-testid="typed-value">555-0100<', stale.text
    )
    db.session.refresh(company)
    assert (company.phone, company.notes) == ("555-0199", "")
    again = olas.post(
        f"/clients/{company.id}/edit", data=base | {"notes": "Gate code 4412", "version": hidden_version(stale.text)}
    )
    assert again.status_code == 303
    db.session.refresh(company)
    assert (company.phone, company.notes, company.version) == ("555-0100", "Gate code 4412", 3)


def test_two_admins_edit_a_profile_the_second_sees_what_changed(app, db, kim):
    dee = make_user("designer", full_name="Dee Signer", email="dee@example.com")
    other = make_user("admin", full_name="Ola Admin")
    kims, olas = signed_in(app, kim), signed_in(app, other)
    version = hidden_version(olas.get(f"/admin/users/{dee.id}").text, "profile-form")
    assert (
        kims.post(
            f"/admin/users/{dee.id}/profile",
            data={"full_name": "Dee Signer", "email": "dee@new.example", "version": version},
        ).status_code
        == 303
    )
    stale = olas.post(
        f"/admin/users/{dee.id}/profile",
        data={"full_name": "Deanna Signer", "email": "dee@example.com", "version": version},
    )
    assert stale.status_code == 409 and "Changed by Kim Bray at" in stale.text
    assert re.search(
        r'Email</th><td data-testid="saved-value">dee@new.example</td><td data-testid="typed-value">dee@example.com<',
        stale.text,
    )
    db.session.refresh(dee)
    assert (dee.full_name, dee.email) == ("Dee Signer", "dee@new.example")


def test_a_stale_role_form_changes_nothing(app, db, kim):
    dee = make_user("designer", full_name="Dee Signer")
    other = make_user("admin", full_name="Ola Admin")
    kims, olas = signed_in(app, kim), signed_in(app, other)
    version = hidden_version(olas.get(f"/admin/users/{dee.id}").text, "role-form")
    assert (
        kims.post(
            f"/admin/users/{dee.id}/profile", data={"full_name": "Dee S.", "email": dee.email, "version": version}
        ).status_code
        == 303
    )
    stale = olas.post(f"/admin/users/{dee.id}/role", data={"role": "superintendent", "version": version})
    assert stale.status_code == 409 and "Changed by Kim Bray at" in stale.text
    db.session.refresh(dee)
    assert dee.role == "designer"
    again = olas.post(
        f"/admin/users/{dee.id}/role",
        data={"role": "superintendent", "version": hidden_version(stale.text, "role-form")},
    )
    assert again.status_code == 303
    db.session.refresh(dee)
    assert dee.role == "superintendent"


def test_signing_in_is_not_a_new_version_of_the_user(client, db, pam):
    bearer(client, pam)
    db.session.refresh(pam)
    assert pam.last_login_at is not None and pam.version == 1


def test_the_version_is_bookkeeping_in_the_audit_log(client, login_as, db, kim):
    from app.core.audit import AuditLog

    login_as(kim)
    project = make_project(city="Austin")
    assert (
        client.post(
            f"/projects/{project.id}/edit", data=project_form(project, city="Round Rock", version=1)
        ).status_code
        == 303
    )
    entry = db.session.scalars(
        select(AuditLog).where(AuditLog.object_type == "Project", AuditLog.action == "update")
    ).one()
    assert "version" not in entry.changes and entry.changes["city"] == ["Austin", "Round Rock"]
    from app.core.audit_text import describe

    assert describe([entry])[0].sentence == f"Kim Bray changed the city of {project.name}: Austin → Round Rock"


@pytest.mark.parametrize("model", [Project, Client, User])
def test_editable_models_are_versioned(model):
    assert model.__mapper__.version_id_col is model.__table__.c.version
