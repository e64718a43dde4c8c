"""/api/files/ (SPEC.md §5 File): list (filters, ordering, pages), upload (multipart),
detail, share/unshare, delete. Routes translate HTTP; rules and reads are
app/files/services.py's."""

from __future__ import annotations

from flask import Blueprint, url_for
from flask_login import current_user

from app.core import storage, uploads
from app.core.api import api_ok, apply_ordering, paginate, ref
from app.core.openapi import operation
from app.core.permissions import require
from app.core.schemas import request_form, request_query
from app.core.uploads import accepts_uploads
from app.files import services
from app.files.schemas import Deleted, FileDownloadQuery, FileOut, FileQuery, FileUpload

bp = Blueprint("files", __name__)


def file_json(document, version) -> dict:
    return {
        "id": document.id,
        "project": ref(document.project),
        "client": ref(document.client),
        "name": document.name,
        "category": document.category,
        "version": version.number,
        "content_type": version.content_type,
        "size": version.size,
        "is_client_visible": document.is_client_visible,
        "client_provided": version.client_provided,
        "uploaded_by": ref(services.uploader_shown(current_user, version)),
        "created_at": version.created_at.isoformat(),
        "url": url_for("files.download", document_id=document.id, _external=True),
    }


def _one(document) -> dict:
    return file_json(document, services.latest_versions([document])[document.id])


@bp.get("/files/")
@operation("List documents", returns=FileOut, paged=True, query=FileQuery)
def api_list():
    require(current_user, "file.view")
    query = request_query()
    stmt = services.document_list(current_user, query.project_id, query.client_id, query.category)
    stmt = apply_ordering(stmt, services.ORDERING, services.DEFAULT_ORDER)

    def serialize_page(documents):
        latest = services.latest_versions(documents)
        return [file_json(d, latest[d.id]) for d in documents]

    return paginate(stmt, serialize_page=serialize_page)


@bp.post("/files/")
@accepts_uploads(1)
@operation(
    "Upload a document",
    body=FileUpload,
    multipart=True,
    returns=FileOut,
    status=201,
    description=(
        "`file`: a PDF, a Word, Excel or PowerPoint document (.docx, .xlsx, .pptx) or a photo, judged by its "
        "content; `project_id` or `client_id` (exactly one). A file with the name of a document already there "
        "(compared case-insensitively) becomes its next version."
    ),
)
def api_upload():
    require(current_user, "file.view")
    form, upload = request_form()
    place = services.place_of(current_user, form.project_id, form.client_id)
    data = upload.read(uploads.largest_upload() + 1)
    (version,) = services.upload(
        current_user,
        place,
        [(upload.filename or "", data)],
        category=form.category,
        is_client_visible=form.is_client_visible,
    )
    return api_ok(_one(version.document), 201)


@bp.get("/files/<int:document_id>/")
@operation("A document", returns=FileOut)
def api_detail(document_id):
    require(current_user, "file.view")
    return api_ok(_one(services.get_document(current_user, document_id)))


@bp.post("/files/<int:document_id>/share/")
@operation("Share a document with the client", returns=FileOut)
def api_share(document_id):
    require(current_user, "file.view")
    document = services.set_shared(current_user, services.get_document(current_user, document_id), True)
    return api_ok(_one(document))


@bp.post("/files/<int:document_id>/unshare/")
@operation("Stop sharing a document with the client", returns=FileOut)
def api_unshare(document_id):
    require(current_user, "file.view")
    document = services.set_shared(current_user, services.get_document(current_user, document_id), False)
    return api_ok(_one(document))


@bp.delete("/files/<int:document_id>/")
@operation("Delete a document (administrators)", returns=Deleted)
def api_delete(document_id):
    require(current_user, "file.view")
    document = services.get_document(current_user, document_id)
    services.delete_document(current_user, document)
    return api_ok({"id": document.id, "deleted": True})


@bp.get("/files/<int:document_id>/download/")
@operation(
    "Download a document",
    query=FileDownloadQuery,
    description=(
        "For bearer-token clients: the latest version (or `version`), as a 302 to a presigned URL valid for a few "
        "minutes (S3) or the bytes themselves (local storage), named by Content-Disposition."
    ),
)
def api_download(document_id):
    require(current_user, "file.view")
    query = request_query()
    _document, version = services.version_of(current_user, document_id, query.version)
    inline = version.content_type.startswith("image/")
    return storage.send(version.storage_key, version.filename, version.content_type, inline)
