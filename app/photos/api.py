"""/api/photos/ (SPEC.md §4–5): list by project and task, upload (multipart), detail,
PATCH caption/tags/phase, approve/unapprove (one, or many with approve-many/), DELETE
(admins). Routes translate HTTP; the rules are app/photos/services.py's."""

from __future__ import annotations

from flask import Blueprint
from flask_login import current_user

from app.core.api import api_ok, conflicts_show, paginate, sent_version, with_etag
from app.core.openapi import operation
from app.core.permissions import require
from app.core.schemas import given, request_body, request_form, request_query
from app.core.uploads import accepts_uploads
from app.photos import queries, services
from app.photos.schemas import Approved, BulkApprove, Deleted, PhotoOut, PhotoPatch, PhotoQuery, PhotoUpload
from app.photos.serialize import photo_json
from app.projects.services import get_project

bp = Blueprint("photos", __name__)


@bp.get("/photos/")
@operation("List photos", returns=PhotoOut, paged=True, query=PhotoQuery)
def api_list():
    query = request_query()
    stmt = queries.list_statement(current_user, query.project_id, query.task_id)
    return paginate(stmt, photo_json)


@bp.post("/photos/")
@accepts_uploads(1)
@operation("Upload a photo", body=PhotoUpload, returns=PhotoOut, status=201, multipart=True)
def api_upload():
    require(current_user, "photo.upload")
    body, upload = request_form()
    project = services.project_for_upload(current_user, body.project_id)
    photo = services.add(
        current_user,
        project,
        services.read_upload(upload),
        task=services.task_of(project, body.task_id),
        caption=body.caption or "",
        tags=body.tags or "",
        phase=body.phase,
    )
    return with_etag(api_ok(photo_json(photo), 201), photo)


@bp.get("/photos/<int:photo_id>/")
@operation("A photo", returns=PhotoOut, headers={"ETag": 'The version, as "3".'})
def api_detail(photo_id):
    photo = services.get_photo(current_user, photo_id)
    return with_etag(api_ok(photo_json(photo)), photo)


@bp.patch("/photos/<int:photo_id>/")
@operation("Change a photo's caption, tags or before/after", body=PhotoPatch, returns=PhotoOut, if_match=True)
def api_update(photo_id):
    photo = services.get_photo(current_user, photo_id)
    body = request_body()
    data = given(body, exclude=("version",))
    with conflicts_show(photo_json):
        services.edit(
            current_user,
            photo,
            version=sent_version(body.version),
            caption=data.get("caption"),
            tags=data.get("tags"),
            phase=(data["phase"] or None) if "phase" in data else ...,
        )
    return with_etag(api_ok(photo_json(photo)), photo)


@bp.post("/photos/<int:photo_id>/approve/")
@operation("Show a photo to the client", returns=PhotoOut)
def api_approve(photo_id):
    require(current_user, "photo.approve")
    photo = services.get_photo(current_user, photo_id)
    services.set_client_visible(current_user, [photo], True)
    return api_ok(photo_json(photo))


@bp.post("/photos/<int:photo_id>/unapprove/")
@operation("Make a photo internal again", returns=PhotoOut)
def api_unapprove(photo_id):
    require(current_user, "photo.approve")
    photo = services.get_photo(current_user, photo_id)
    services.set_client_visible(current_user, [photo], False)
    return api_ok(photo_json(photo))


@bp.post("/projects/<int:project_id>/photos/approve/")
@operation("Show many photos of a project to the client", body=BulkApprove, returns=Approved)
def api_approve_many(project_id):
    require(current_user, "photo.approve")
    project = get_project(current_user, project_id)
    photos = services.photos_by_ids(current_user, project, request_body().ids)
    services.set_client_visible(current_user, photos, True)
    return api_ok({"results": [photo_json(p) for p in photos]})


@bp.delete("/photos/<int:photo_id>/")
@operation("Delete a photo (admins; the record is kept)", returns=Deleted)
def api_delete(photo_id):
    require(current_user, "client_content.delete")
    photo = services.get_photo(current_user, photo_id)
    services.delete(current_user, photo)
    return api_ok({"id": photo.id, "deleted": True})
