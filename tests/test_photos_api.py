"""/api/photos/ (SPEC.md §5 Photo): list by project and task, multipart upload for every
role the matrix allows, approve/unapprove one or many, PATCH with versions, admin-only
DELETE — in the envelope and error codes of §4; URLs only through the authorising route."""

from __future__ import annotations

import io

import pytest

from app.photos import services
from app.tasks import services as tasks
from tests.conftest import bearer
from tests.factories import make_client, make_project, make_user
from tests.images import png

PNG = png()


@pytest.fixture()
def site(db):
    company = make_client(name="Harbor Holdings")
    pm, designer, sup = make_user("project_manager_full"), make_user("designer"), make_user("superintendent")
    painter, owner, stranger = make_user("employee"), make_user("client", client=company), make_user("client")
    admin, trainee = make_user("admin"), make_user("pm_trainee")
    project = make_project(client=company, members=[pm, designer, sup, trainee], name="Harbor lofts")
    task = tasks.create_task(pm, project, {"title": "Prime walls"}, [painter.id])
    db.session.commit()
    return project, task, locals()


def _upload(client, who, **fields):
    data = {"file": (io.BytesIO(PNG), "wall.png"), **{k: str(v) for k, v in fields.items()}}
    return client.post("/api/photos/", data=data, headers=bearer(client, who), content_type="multipart/form-data")


def test_every_role_the_matrix_allows_uploads_and_gets_the_photo_shape(client, db, site):
    project, task, p = site
    for who in ("admin", "pm", "designer", "sup", "trainee", "owner"):
        answer = _upload(client, p[who], project_id=project.id, caption=f"By {who}", tags="trim, walls")
        assert answer.status_code == 201, (who, answer.json)
    mine = _upload(client, p["painter"], project_id=project.id, task_id=task.id, caption="Ceiling")
    assert mine.status_code == 201
    data = mine.json["data"]
    assert data["project"] == {"id": project.id, "name": "Harbor lofts"} and data["task_id"] == task.id
    assert data["url"].endswith(f"/photos/{data['id']}/image?size=web")
    assert data["thumbnail_url"].endswith(f"/photos/{data['id']}/image?size=thumb")
    assert data["is_client_visible"] is False and data["tags"] == [] and data["version"] == 1
    owners = _upload(client, p["owner"], project_id=project.id).json["data"]
    assert owners["client_provided"] is True and owners["is_client_visible"] is True
    assert _upload(client, p["stranger"], project_id=project.id).status_code == 404
    elsewhere = make_project()
    db.session.commit()
    assert _upload(client, p["painter"], project_id=elsewhere.id).status_code == 404


def test_bad_uploads_are_validation_errors_and_store_nothing(client, db, site):
    project, task, p = site
    headers = bearer(client, p["pm"])

    def post(data, **kwargs):
        return client.post("/api/photos/", data=data, headers=headers, **kwargs)

    no_file = post({"project_id": str(project.id)}, content_type="multipart/form-data")
    assert no_file.status_code == 400 and no_file.json["error"]["details"]["file"] == "This field is required."
    as_json = client.post("/api/photos/", json={"project_id": project.id}, headers=headers)
    assert as_json.status_code == 400 and "multipart/form-data" in as_json.json["error"]["details"]["file"]
    elf = post({"project_id": str(project.id), "file": (io.BytesIO(b"\x7fELF" + b"\0" * 40), "invoice.pdf")})
    assert elf.status_code == 400 and "Choose a photo" in elf.json["error"]["details"]["file"]
    bad_id = post({"project_id": "abc", "file": (io.BytesIO(PNG), "a.png")})
    assert bad_id.status_code == 400 and "project_id" in bad_id.json["error"]["details"]
    other_task = tasks.create_task(p["pm"], make_project(members=[p["pm"]]), {"title": "Elsewhere"})
    db.session.commit()
    wrong_task = post(
        {"project_id": str(project.id), "task_id": str(other_task.id), "file": (io.BytesIO(PNG), "a.png")}
    )
    assert wrong_task.status_code == 400 and "task_id" in wrong_task.json["error"]["details"]
    assert client.get(f"/api/photos/?project_id={project.id}", headers=headers).json["data"]["results"] == []


def test_listing_filters_and_visibility(client, db, site):
    project, task, p = site
    on_task = tasks.add_photo(p["painter"], task, PNG)
    loose = services.add(p["sup"], project, PNG)
    services.set_client_visible(p["pm"], [loose], True)
    db.session.commit()
    pm = bearer(client, p["pm"])
    everything = client.get(f"/api/photos/?project_id={project.id}", headers=pm).json["data"]
    assert {r["id"] for r in everything["results"]} == {on_task.id, loose.id}
    assert everything["pagination"]["total_count"] == 2
    by_task = client.get(f"/api/photos/?task_id={task.id}", headers=pm).json["data"]["results"]
    assert [r["id"] for r in by_task] == [on_task.id]
    owner = client.get("/api/photos/", headers=bearer(client, p["owner"])).json["data"]["results"]
    assert [r["id"] for r in owner] == [loose.id] and owner[0]["uploaded_by"] is not None
    painter = client.get("/api/photos/", headers=bearer(client, p["painter"])).json["data"]["results"]
    assert [r["id"] for r in painter] == [on_task.id]
    assert client.get("/api/photos/?project_id=x", headers=pm).status_code == 400


def test_approve_unapprove_many_patch_and_delete(client, db, site):
    project, _task, p = site
    a, b = services.add(p["sup"], project, PNG), services.add(p["sup"], project, PNG)
    db.session.commit()
    pm, trainee, admin = bearer(client, p["pm"]), bearer(client, p["trainee"]), bearer(client, p["admin"])
    assert client.post(f"/api/photos/{a.id}/approve/", headers=trainee).json["error"]["code"] == "PERMISSION_DENIED"
    assert client.post(f"/api/photos/{a.id}/approve/", headers=pm).json["data"]["is_client_visible"] is True
    assert client.post(f"/api/photos/{a.id}/unapprove/", headers=pm).json["data"]["is_client_visible"] is False
    many = client.post(f"/api/projects/{project.id}/photos/approve/", json={"ids": [a.id, b.id]}, headers=pm)
    assert many.status_code == 200 and {r["id"] for r in many.json["data"]["results"]} == {a.id, b.id}
    version = next(r["version"] for r in many.json["data"]["results"] if r["id"] == a.id)
    patched = client.patch(
        f"/api/photos/{a.id}/", json={"caption": "North", "tags": ["Trim"], "version": version}, headers=pm
    )
    assert patched.status_code == 200, (version, patched.json)
    assert patched.json["data"]["tags"] == ["trim"]
    stale = client.patch(f"/api/photos/{a.id}/", json={"caption": "Old", "version": version}, headers=pm)
    assert stale.status_code == 409 and stale.json["error"]["details"]["caption"] == "North"
    assert client.delete(f"/api/photos/{a.id}/", headers=pm).status_code == 403
    gone = client.delete(f"/api/photos/{a.id}/", headers=admin)
    assert gone.status_code == 200 and gone.json["data"] == {"id": a.id, "deleted": True}
    assert client.get(f"/api/photos/{a.id}/", headers=pm).status_code == 404
