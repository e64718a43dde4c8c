"""/api/tasks/ (SPEC.md §4–5): the Task shape, filters, ordering, versions, progress,
completion with a photo, and each role's view of the list."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.photos.models import Photo
from app.tasks import services
from app.tasks.models import Task
from tests.conftest import bearer
from tests.factories import make_project, make_user
from tests.images import png

PNG = base64.b64encode(png()).decode()


@pytest.fixture()
def setup(db):
    pm = make_user("project_manager_full")
    painter = make_user("employee", full_name="Pat Painter")
    project = make_project(members=[pm], name="Harbor lofts")
    today = services.today()
    late = services.create_task(
        pm,
        project,
        {
            "title": "Prime walls",
            "start_date": str(today - timedelta(days=5)),
            "due_date": str(today - timedelta(days=1)),
        },
        [painter.id],
    )
    later = services.create_task(
        pm, project, {"title": "Paint walls", "due_date": str(today + timedelta(days=7))}, [], [late.id]
    )
    return pm, painter, project, late, later


def ids(response) -> list[int]:
    assert response.status_code == 200, response.json
    return [t["id"] for t in response.json["data"]["results"]]


def test_the_task_shape(client, db, setup):
    pm, painter, project, late, later = setup
    data = client.get(f"/api/tasks/{later.id}/", headers=bearer(client, pm)).json["data"]
    assert data["project"] == {"id": project.id, "name": "Harbor lofts"}
    assert data["dependencies"] == [late.id] and data["status"] == "pending"
    assert data["actual_hours"] == "0.00" and data["estimated_hours"] is None
    assert data["checklist"] == [] and data["is_overdue"] is False and data["version"] == 1
    first = client.get(f"/api/tasks/{late.id}/", headers=bearer(client, pm)).json["data"]
    assert first["assigned_to"] == [{"id": painter.id, "name": "Pat Painter"}] and first["is_overdue"] is True


def test_filters_and_ordering(client, db, setup):
    pm, painter, project, late, later = setup
    headers = bearer(client, pm)
    assert ids(client.get("/api/tasks/?is_overdue=true", headers=headers)) == [late.id]
    assert ids(client.get("/api/tasks/?is_overdue=false", headers=headers)) == [later.id]
    assert ids(client.get(f"/api/tasks/?assigned_to={painter.id}", headers=headers)) == [late.id]
    assert ids(client.get(f"/api/tasks/?project_id={project.id}&ordering=-due_date", headers=headers)) == [
        later.id,
        late.id,
    ]
    assert ids(client.get("/api/tasks/?status=completed", headers=headers)) == []
    wrong = client.get("/api/tasks/?ordering=colour", headers=headers)
    assert wrong.status_code == 400 and "Allowed:" in wrong.json["error"]["details"]["ordering"]
    assert client.get("/api/tasks/?status=done", headers=headers).status_code == 400


def test_each_role_lists_what_it_may_see(client, db, setup):
    pm, painter, project, late, later = setup
    assert ids(client.get("/api/tasks/", headers=bearer(client, painter))) == [late.id]
    stranger = make_user("project_manager_full")
    assert ids(client.get("/api/tasks/", headers=bearer(client, stranger))) == []
    customer = make_user("client", client=project.client)
    denied = client.get("/api/tasks/", headers=bearer(client, customer))
    assert denied.status_code == 403 and denied.json["error"]["code"] == "PERMISSION_DENIED"


def test_a_stale_write_is_a_409_with_the_current_task(client, db, setup):
    pm, painter, project, late, later = setup
    headers = bearer(client, pm)
    ok = client.patch(f"/api/tasks/{later.id}/", json={"title": "Paint the walls", "version": 1}, headers=headers)
    assert ok.status_code == 200 and ok.json["data"]["version"] == 2 and ok.headers["ETag"] == '"2"'
    stale = client.patch(f"/api/tasks/{later.id}/", json={"title": "Paint walls again", "version": 1}, headers=headers)
    assert stale.status_code == 409
    assert stale.json["error"]["details"]["title"] == "Paint the walls"


def test_a_status_move_through_patch_follows_the_rules(client, db, setup):
    pm, painter, project, late, later = setup
    headers = bearer(client, pm)
    refused = client.patch(f"/api/tasks/{later.id}/", json={"status": "in_progress"}, headers=headers)
    assert refused.status_code == 400 and "Prime walls" in refused.json["error"]["details"]["reason"]
    moved = client.patch(
        f"/api/tasks/{later.id}/", json={"status": "in_progress", "reason": "dry enough"}, headers=headers
    )
    assert moved.status_code == 200 and moved.json["data"]["status"] == "in_progress"


def test_progress_and_completion_with_a_photo(client, db, setup, app, tmp_path):
    pm, painter, project, late, later = setup
    headers = bearer(client, painter)
    progress = client.patch(
        f"/api/tasks/{late.id}/progress/", json={"progress_percent": 70, "actual_hours": "6.5"}, headers=headers
    )
    assert progress.status_code == 200
    assert progress.json["data"]["progress_percent"] == 70 and progress.json["data"]["actual_hours"] == "6.50"
    bad = client.patch(f"/api/tasks/{late.id}/progress/", json={"progress_percent": 101}, headers=headers)
    assert bad.status_code == 400 and "0 to 100" in bad.json["error"]["details"]["progress_percent"]
    not_a_photo = client.post(
        f"/api/tasks/{late.id}/complete/",
        json={"completion_photo": base64.b64encode(b"GIF89a not allowed").decode()},
        headers=headers,
    )
    assert (
        not_a_photo.status_code == 400
        and "JPEG, PNG, WebP or HEIC" in not_a_photo.json["error"]["details"]["completion_photo"]
    )
    assert db.session.get(Task, late.id).status == "in_progress"
    done = client.post(
        f"/api/tasks/{late.id}/complete/",
        json={"completion_notes": "Two coats", "completion_photo": PNG},
        headers=headers,
    )
    assert done.status_code == 200, done.json
    data = done.json["data"]
    assert data["status"] == "completed" and data["progress_percent"] == 100
    assert data["completed_by"] == {"id": painter.id, "name": "Pat Painter"}
    photo = db.session.scalars(select(Photo).where(Photo.task_id == late.id)).one()
    assert photo.content_type == "image/png" and photo.caption == "Completion photo"
    assert photo.storage_key.startswith(f"photos/{late.project_id}/") and photo.storage_key.endswith(".png")


def test_delete_is_refused_while_others_depend_on_it(client, db, setup):
    pm, painter, project, late, later = setup
    headers = bearer(client, pm)
    refused = client.delete(f"/api/tasks/{late.id}/", headers=headers)
    assert refused.status_code == 409 and "“Paint walls” depends on “Prime walls”" in refused.json["error"]["message"]
    later_id = later.id
    assert client.delete(f"/api/tasks/{later_id}/", headers=headers).json["data"] == {"id": later_id, "deleted": True}
    assert db.session.scalar(select(func.count()).select_from(Task).where(Task.project_id == project.id)) == 1


def test_create_checks_the_project_and_the_body(client, db, setup):
    pm, painter, project, late, later = setup
    headers = bearer(client, pm)
    made = client.post("/api/tasks/", json={"project_id": project.id, "title": "Caulk"}, headers=headers)
    assert made.status_code == 201 and made.json["data"]["title"] == "Caulk"
    hidden = make_project()
    refused = client.post("/api/tasks/", json={"project_id": hidden.id, "title": "Caulk"}, headers=headers)
    assert refused.status_code == 400 and "cannot see it" in refused.json["error"]["details"]["project_id"]
    assert client.post("/api/tasks/", json={"title": "Caulk"}, headers=headers).status_code == 400
    wrong_type = client.post(
        "/api/tasks/", json={"project_id": project.id, "title": "Caulk", "actual_hours": -1}, headers=headers
    )
    assert wrong_type.status_code == 400 and "actual_hours" in wrong_type.json["error"]["details"]


def test_api_users_lists_the_people_a_caller_works_with(client, db, setup):
    pm, painter, project, late, later = setup
    superintendent = make_user("superintendent", full_name="Sam Super")
    from app.projects.models import ProjectMembership

    db.session.add(ProjectMembership(project_id=project.id, user_id=superintendent.id))
    db.session.flush()
    make_user("employee", full_name="Stranger Danger")  # works on nothing of theirs
    admin = make_user("admin")

    def names(user, query=""):
        response = client.get(f"/api/users/{query}", headers=bearer(client, user))
        assert response.status_code == 200, response.json
        return {u["full_name"] for u in response.json["data"]["results"]}

    seen = names(pm)
    assert {"Pat Painter", "Sam Super", pm.full_name} <= seen and "Stranger Danger" not in seen
    assert names(superintendent, "?role=employee") == {"Pat Painter"}
    assert names(pm, "?search=sam") == {"Sam Super"}
    assert "Stranger Danger" in names(admin)
    assert client.get("/api/users/", headers=bearer(client, painter)).status_code == 403
    assert client.get("/api/users/?role=boss", headers=bearer(client, admin)).status_code == 400


def test_the_list_reads_a_page_in_the_same_statements_whatever_it_holds(client, db, setup, count_queries):
    """Completed tasks name who completed them: read for the page at once, not per task."""
    pm, painter, project, late, later = setup
    headers = bearer(client, pm)

    def statements(n_done: int) -> int:
        for i in range(n_done):  # each finished by someone not on it (an admin each)
            task = services.create_task(pm, project, {"title": f"Done {n_done}-{i}"}, [painter.id])
            services.complete_task(make_user("admin"), task)
        db.session.commit()
        with count_queries() as counted:
            answer = client.get("/api/tasks/?status=completed&page_size=50", headers=headers)
        assert answer.status_code == 200
        assert all(t["completed_by"]["id"] != pm.id for t in answer.json["data"]["results"])
        return counted.n

    assert statements(1) == statements(6)
