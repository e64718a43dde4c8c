"""Document pages: the documents fragment of a project's page and of a client's page
(list, versions, sharing, the upload form), uploads, share/unshare, delete, and the one
authorising download route. Rules and reads are files/services.py's."""

from __future__ import annotations

from flask import jsonify, make_response, request, url_for
from flask_login import current_user, login_required

from app.core import storage, uploads
from app.core.errors import ObjectNotFound, ValidationError
from app.core.htmx import is_htmx, redirect_to, render_for
from app.core.numbers import to_int
from app.core.roles import CLIENT
from app.core.transaction import attempt
from app.core.uploads import accepts_uploads
from app.files import bp, services
from app.files.models import CATEGORIES

UPLOAD_HEADER = "X-Kibray-Upload"  # app.js's per-file upload (form[data-upload]): a JSON answer per file


def human_size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def place_url(place: services.Place) -> str:
    """The page the documents of `place` are shown on, for this viewer."""
    if place.project is not None:
        return url_for("projects.detail", project_id=place.id)
    if current_user.role == CLIENT:
        return url_for("home.index")
    return url_for("clients.detail", client_id=place.id)


def _fragment(place, errors=None, notice: str = "", status: int = 200):
    """The place's documents: the list alone for its live wrapper (a live refresh, the
    share, unshare and delete buttons: HX-Target `document-list-<kind>-<id>`), else the
    whole fragment with the upload form (the page's section loading it, an upload)."""
    viewer = current_user
    list_id = f"document-list-{place.kind}-{place.id}"
    return render_for(
        {list_id: "files/_document_list.html"},
        "files/_documents.html",
        status,
        place=place,
        list_id=list_id,
        documents=services.documents_in(viewer, place),
        may_upload=services.may_upload(viewer, place),
        may_share=services.may_share_in(viewer, place),
        may_delete=services.may_delete(viewer),
        from_client=viewer.role == CLIENT,
        categories=CATEGORIES,
        errors=errors or {},
        notice=notice,
        human_size=human_size,
        uploader=lambda version: getattr(services.uploader_shown(viewer, version), "name", None) or "the team",
        list_url=url_for(f"files.{place.kind}_documents", **{f"{place.kind}_id": place.id}),
    )


@bp.get("/projects/<int:project_id>/files")
@login_required
def project_documents(project_id):
    return _fragment(services.project_place(current_user, project_id))


@bp.get("/clients/<int:client_id>/files")
@login_required
def client_documents(client_id):
    return _fragment(services.client_place(current_user, client_id))


def _sent_files() -> list[tuple[str, bytes]]:
    """The files of the form's `file` field (one or several); an empty file input (a
    part without a name and without content) is no file."""
    limit = uploads.largest_upload()
    sent = []
    for upload in request.files.getlist("file"):
        data = upload.read(limit + 1)
        if upload.filename or data:
            sent.append((upload.filename or "", data))
    return sent


def _upload(place):
    share = request.form.get("is_client_visible") in ("on", "true", "1")
    try:
        with attempt():
            added = services.upload(
                current_user,
                place,
                _sent_files(),
                category=request.form.get("category") or None,
                is_client_visible=True if share else None,
            )
    except ValidationError as exc:
        if request.headers.get(UPLOAD_HEADER) == "1":
            return make_response(jsonify({"ok": False, "error": " ".join(exc.fields.values())}), 422)
        return _fragment(place, errors=exc.fields, status=422)
    names = ", ".join(f"{v.filename} (version {v.number})" if v.number > 1 else v.filename for v in added)
    if request.headers.get(UPLOAD_HEADER) == "1":
        return jsonify({"ok": True, "ids": [v.document_id for v in added], "message": f"Uploaded {names}."})
    if not is_htmx():
        return redirect_to(place_url(place))
    return _fragment(place, notice=f"Uploaded {names}.")


@bp.post("/projects/<int:project_id>/files")
@login_required
@accepts_uploads(services.MAX_FILES)
def project_upload(project_id):
    return _upload(services.project_place(current_user, project_id))


@bp.post("/clients/<int:client_id>/files")
@login_required
@accepts_uploads(services.MAX_FILES)
def client_upload(client_id):
    return _upload(services.client_place(current_user, client_id))


def _place_of(document) -> services.Place:
    if document.project_id is not None:
        return services.Place(project=document.project)
    return services.Place(client=document.client)


def _after(document, notice: str):
    place = _place_of(document)
    if not is_htmx():
        return redirect_to(place_url(place))
    return _fragment(place, notice=notice)


@bp.post("/files/<int:document_id>/share")
@login_required
def share(document_id):
    document = services.set_shared(current_user, services.get_document(current_user, document_id), True)
    return _after(document, f"{document.name} is shared with the client.")


@bp.post("/files/<int:document_id>/unshare")
@login_required
def unshare(document_id):
    document = services.set_shared(current_user, services.get_document(current_user, document_id), False)
    return _after(document, f"{document.name} is no longer shared with the client.")


@bp.post("/files/<int:document_id>/delete")
@login_required
def delete(document_id):
    document = services.get_document(current_user, document_id)
    services.delete_document(current_user, document)
    return _after(document, f"{document.name} deleted.")


@bp.get("/files/<int:document_id>/download")
@login_required
def download(document_id):
    """A document (its latest version, or `?version=N`) to whoever may see it: 302 to a
    short-lived presigned URL on S3, streamed from local disk; never a public address.
    Images open in the browser, everything else is downloaded."""
    number = None
    if "version" in request.args:
        number = to_int(request.args.get("version"))
        if number is None:
            raise ObjectNotFound("That version of the document does not exist.")
    _document, version = services.version_of(current_user, document_id, number)
    inline = version.content_type.startswith("image/")
    return storage.send(version.storage_key, version.filename, version.content_type, inline)
