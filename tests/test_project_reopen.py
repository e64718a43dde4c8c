"""A closed project can be reopened by an admin or its full PM, with a reason, audited —
from the detail page and through the API."""

from __future__ import annotations

from sqlalchemy import select

from app.core.audit import AuditLog
from app.projects.models import Project
from tests.conftest import bearer
from tests.factories import make_project, make_user


def _reopen_entries(db, project):
    return db.session.scalars(
        select(AuditLog).where(
            AuditLog.object_type == "Project", AuditLog.object_id == str(project.id), AuditLog.action == "update"
        )
    ).all()


def test_the_full_pm_reopens_from_the_detail_page_with_a_reason(client, db, login_as):
    pm = login_as("project_manager_full")
    project = make_project(name="Harbor boathouse", members=[pm], status="closed")
    page = client.get(f"/projects/{project.id}").text
    assert 'data-testid="reopen-form"' in page
    response = client.post(f"/projects/{project.id}/reopen", data={"reason": "Client asked for touch-ups"})
    assert response.status_code == 303
    db.session.refresh(project)
    assert project.status == "active"  # it has a PM
    [entry] = _reopen_entries(db, project)
    assert entry.changes["status"] == ["closed", "active"]
    assert entry.changes["reason"] == [None, "Client asked for touch-ups"]
    assert entry.username == pm.username
    # the audit viewer and the project's history read it as a sentence with the reason
    audit = client.get(f"/admin/audit?project={project.id}").text
    assert "Client asked for touch-ups" in audit and "Active" in audit
    assert "Client asked for touch-ups" in client.get(f"/projects/{project.id}").text


def test_an_empty_reason_is_an_inline_error_and_changes_nothing(client, db, login_as):
    login_as("admin")
    project = make_project(status="closed")
    response = client.post(
        f"/projects/{project.id}/reopen",
        data={"reason": "   "},
        headers={"HX-Request": "true", "HX-Target": "project-detail"},
    )
    assert response.status_code == 422
    assert "<html" not in response.text and 'id="project-detail"' in response.text
    assert 'data-error-for="reason"' in response.text and "Say why the project is reopened." in response.text
    db.session.refresh(project)
    assert project.status == "closed" and _reopen_entries(db, project) == []


def test_the_api_reopens_with_a_reason_and_refuses_without(client, db):
    admin = make_user("admin")
    project = make_project(status="closed")
    headers = bearer(client, admin)
    url = f"/api/projects/{project.id}/reopen/"
    missing = client.post(url, json={}, headers=headers)
    assert missing.status_code == 400 and "reason" in missing.json["error"]["details"]
    response = client.post(url, json={"reason": "Warranty repair"}, headers=headers)
    assert response.status_code == 200
    assert response.json["data"]["status"] == "created"  # nobody manages it yet
    again = client.post(url, json={"reason": "Twice"}, headers=headers)
    assert again.status_code == 409 and again.json["error"]["code"] == "CONFLICT"
    assert db.session.get(Project, project.id).status == "created"


def test_a_trainee_and_a_pm_of_another_project_cannot_reopen(client, db, login_as):
    trainee, other_pm = make_user("pm_trainee"), make_user("project_manager_full")
    project = make_project(members=[trainee], status="closed")
    login_as(trainee)
    assert 'data-testid="reopen-form"' not in client.get(f"/projects/{project.id}").text
    assert client.post(f"/projects/{project.id}/reopen", data={"reason": "x"}).status_code == 403
    assert (
        client.post(
            f"/api/projects/{project.id}/reopen/", json={"reason": "x"}, headers=bearer(client, other_pm)
        ).status_code
        == 404
    )
    db.session.refresh(project)
    assert project.status == "closed"
