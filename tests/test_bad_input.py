"""Hostile or odd input gets a clear 4xx, never a 500, and writes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.projects.models import Project
from tests.conftest import bearer
from tests.factories import make_client, make_project, make_user

HUGE = "99999999999999999999"


@pytest.mark.parametrize(
    ("path", "status"),
    [
        # a filter or page that is not a number is ignored; a page beyond the range is a page
        ("/projects?pm=²", 200),
        ("/projects?client=²", 200),
        ("/projects?page=²", 200),
        (f"/projects?page={HUGE}", 200),
        ("/admin/audit?page=²", 200),
        ("/admin/audit?project=²", 200),
        (f"/admin/users?page={HUGE}", 200),
        (f"/clients?page={HUGE}", 200),
        # a NUL byte is refused once, before any route
        ("/projects?q=%00", 400),
        ("/clients?q=%00", 400),
    ],
)
def test_odd_query_strings_on_pages(client, login_as, db, path, status):
    login_as("admin")
    assert client.get(path).status_code == status


@pytest.mark.parametrize("path", [f"/projects/{HUGE}", f"/clients/{HUGE}", f"/projects/{HUGE}/edit"])
def test_ids_beyond_the_database_range_are_not_found(client, login_as, db, path):
    login_as("admin")
    assert client.get(path).status_code == 404


def test_api_odd_input(client, db):
    admin = make_user("admin")
    headers = bearer(client, admin)
    company = make_client()
    for path in (
        "/api/projects/?client=²",
        f"/api/projects/?assigned_pm={HUGE}",
        f"/api/projects/?page={HUGE}",
        f"/api/clients/?page={HUGE}",
        "/api/projects/?search=%00",
    ):
        response = client.get(path, headers=headers)
        assert response.status_code == 400, path
        assert response.json["error"]["code"] == "VALIDATION_ERROR"
    assert client.get(f"/api/projects/{HUGE}/", headers=headers).status_code == 404
    before = db.session.scalar(select(func.count()).select_from(Project))
    for body in (
        {"name": "X", "client_id": 1e20, "location": {"address": "1 A St"}},
        {"name": "X", "client_id": company.id, "location": {"address": "1 A St"}, "assigned_pm_ids": [1e20]},
        {"name": "X", "client_id": company.id, "location": {"address": "1 A St"}, "assigned_pm_ids": [HUGE]},
        {"name": "A\u0000", "client_id": company.id, "location": {"address": "1 A St"}},
        {"name": "X", "client_id": company.id, "location": {"address": "1 A St"}, "budget": "1e30"},
        {"name": "X", "client_id": company.id, "location": {"address": "1 A St"}, "budget": "9" * 29},
    ):
        response = client.post("/api/projects/", json=body, headers=headers)
        assert response.status_code == 400, (body, response.json)
    assert db.session.scalar(select(func.count()).select_from(Project)) == before


def test_nul_in_sign_in_is_refused_cleanly(client, db):
    assert client.post("/login", data={"username": "a\x00b", "password": "x"}).status_code == 400
    response = client.post("/api/auth/login/", json={"username": "a\u0000b", "password": "x"})
    assert response.status_code == 400 and response.json["error"]["code"] == "VALIDATION_ERROR"


def test_oversized_form_values_are_field_errors(client, login_as, db):
    login_as("admin")
    too_long = client.post(
        "/admin/users/new",
        data={"username": "longname", "email": "l@x.example", "role": "employee", "full_name": "x" * 200},
    )
    assert too_long.status_code == 422 and "under 160" in too_long.text
    tax = client.post("/clients/new", data={"name": "Big Tax Co", "tax_id": "9" * 200})
    assert tax.status_code == 422 and "at most 40" in tax.text
    budget = client.post(
        "/projects", data={"name": "Huge", "client_id": make_client().id, "address": "1 A St", "budget": "1e30"}
    )
    assert budget.status_code == 422


def test_pms_change_only_through_an_admin(client, db):
    pm = make_user("project_manager_full")
    trainee = make_user("pm_trainee")
    other_pm = make_user("project_manager_full")
    project = make_project(members=[pm, trainee])
    headers = bearer(client, trainee)
    response = client.patch(f"/api/projects/{project.id}/", json={"assigned_pm_ids": [trainee.id]}, headers=headers)
    assert response.status_code == 400
    assert "administrator" in response.json["error"]["details"]["assigned_pm_ids"]
    same = client.patch(
        f"/api/projects/{project.id}/",
        json={"assigned_pm_ids": [pm.id, trainee.id], "name": "Same team"},
        headers=headers,
    )
    assert same.status_code == 200
    db.session.refresh(project)
    assert project.member_ids == {pm.id, trainee.id}
    admin_headers = bearer(client, make_user("admin"))
    assert (
        client.patch(
            f"/api/projects/{project.id}/", json={"assigned_pm_ids": [other_pm.id]}, headers=admin_headers
        ).status_code
        == 200
    )
    db.session.refresh(project)
    assert project.member_ids == {other_pm.id}


def test_pm_saving_the_edit_form_keeps_the_team(client, login_as, db):
    pm = login_as("project_manager_full")
    second = make_user("project_manager_full")
    project = make_project(members=[pm, second])
    form = client.get(f"/projects/{project.id}/edit").text
    assert 'name="pm_ids"' not in form and "an administrator manages the team" in form
    saved = client.post(
        f"/projects/{project.id}/edit", data={"name": "Kept team", "client_id": project.client_id, "address": "1 A St"}
    )
    assert saved.status_code == 303
    db.session.refresh(project)
    assert project.member_ids == {pm.id, second.id}


def test_admin_form_with_no_pm_selected_clears_the_pms(client, login_as, db):
    login_as("admin")
    pm = make_user("project_manager_full")
    project = make_project(members=[pm])
    form = client.get(f"/projects/{project.id}/edit").text
    assert 'name="pm_ids_field"' in form and 'name="pm_ids"' in form
    base = {"name": project.name, "client_id": project.client_id, "address": "1 A St"}
    assert client.post(f"/projects/{project.id}/edit", data=base).status_code == 303
    db.session.refresh(project)
    assert project.member_ids == {pm.id}  # no PM field in the post: the team is untouched
    cleared = client.post(f"/projects/{project.id}/edit", data={**base, "pm_ids_field": "1"})
    assert cleared.status_code == 303
    db.session.refresh(project)
    assert project.member_ids == set()
