"""Photo pages: a project's gallery (grid, filters, upload, bulk approval), the viewer,
and the authorising image route. Thin: parse, call one service, render."""

from __future__ import annotations

from flask import flash, jsonify, make_response, render_template, request, url_for
from flask_login import current_user, login_required

from app.core import storage
from app.core.dates import parse_date
from app.core.errors import ValidationError
from app.core.htmx import redirect_to, wants_fragment
from app.core.numbers import page_number, to_int
from app.core.permissions import PermissionDenied, permission_required
from app.core.roles import CLIENT
from app.core.transaction import attempt
from app.core.uploads import accepts_uploads
from app.core.versioning import StaleObject
from app.photos import bp, queries, services
from app.photos.models import SURFACES
from app.projects.services import get_project

UPLOAD_HEADER = "X-Kibray-Upload"  # app.js's per-file upload: answered in JSON, one file a request
UPLOAD_FILES = 10  # photos one form may post at once without script (app.js sends one a request)


def _filters() -> queries.GalleryFilters:
    errors: dict = {}
    day = parse_date(request.args.get("day"), "day", errors)
    if errors:
        raise ValidationError(errors)
    return queries.GalleryFilters(
        task_id=to_int(request.args.get("task")),
        tag=(request.args.get("tag") or "").strip().lower()[:40],
        day=day,
        shown=request.args.get("shown", ""),
    )


@bp.get("/projects/<int:project_id>/photos")
@login_required
@permission_required("photo.view")
def gallery(project_id):
    project = get_project(current_user, project_id)
    filters = _filters()
    page = queries.gallery(current_user, project, filters, page_number(request.args.get("page")))
    context = {
        "project": project,
        "page": page,
        "filters": filters,
        "may_upload": services.may_upload(current_user, project),
        "may_approve": services.may_approve(current_user, project),
        "staff": current_user.role != CLIENT,
    }
    embed = request.args.get("embed", "")
    if embed in ("1", "strip"):  # a daily log's photos of the day, the project page's strip
        return render_template("photos/_strip.html", embed=embed, **context)
    if wants_fragment():
        return render_template("photos/_grid.html", **context)
    return render_template(
        "photos/gallery.html",
        pairs=queries.pairs(current_user, project),
        surfaces=SURFACES,
        tasks=services.tasks_for_upload(current_user, project),
        **context,
    )


@bp.get("/tasks/<int:task_id>/photos")
@login_required
@permission_required("task.view")
def task_gallery(task_id):
    """A task's photos, and adding more from the phone (the crew's way in: an employee
    sees no project page, but sees their own tasks)."""
    from app.tasks.services import get_task

    task = get_task(current_user, task_id)
    context = {
        "task": task,
        "project": task.project,
        "photos": queries.task_photos(current_user, task),
        "may_upload": services.may_upload(current_user, task.project, task),
        "may_approve": services.may_approve(current_user, task.project),
        "staff": current_user.role != CLIENT,
        "surfaces": SURFACES,
    }
    if wants_fragment():
        return render_template("photos/_task_grid.html", **context)
    return render_template("photos/task_gallery.html", **context)


def _fields(project) -> dict:
    return {
        "task": services.task_of(project, request.form.get("task_id")),
        "caption": request.form.get("caption", ""),
        "tags": request.form.get("tags", ""),
        "phase": request.form.get("phase") or None,
    }


@bp.post("/projects/<int:project_id>/photos")
@accepts_uploads(UPLOAD_FILES)
@login_required
@permission_required("photo.upload")
def upload(project_id):
    """Several photos in one form (no script), or one a request from app.js's uploader
    (`X-Kibray-Upload`: a JSON answer per file, so each file has its own progress and its
    own verdict), or — on S3 — the key of one a browser put straight into the bucket."""
    project = services.project_for_upload(current_user, project_id)
    one_by_one = request.headers.get(UPLOAD_HEADER) == "1"
    files = [f for f in request.files.getlist("file") if f and f.filename]
    key = request.form.get("key", "")
    added, problems = [], []
    if not files and not key:
        problems.append(("", "Choose one or more photos to add."))
    for upload_file in files or ([None] if key else []):
        name = storage.safe_filename(upload_file.filename if upload_file else "photo", "photo")
        try:
            with attempt():
                fields = _fields(project)
                if upload_file is None:
                    added.append(services.add_uploaded(current_user, project, key, **fields))
                else:
                    added.append(services.add(current_user, project, services.read_upload(upload_file), **fields))
        except ValidationError as exc:
            problems.append((name, "; ".join((exc.fields or {"file": exc.message}).values())))
        except PermissionDenied as exc:
            problems.append((name, exc.message))
    if one_by_one:
        if problems:
            return make_response(jsonify({"ok": False, "error": problems[0][1]}), 422)
        photo = added[0]
        return jsonify(
            {"ok": True, "id": photo.id, "thumbnail": url_for("photos.image", photo_id=photo.id, size="thumb")}
        )
    if added:
        flash(f"{len(added)} photo{'s' if len(added) != 1 else ''} added.", "success")
    for name, message in problems:
        flash(f"{name}: {message}" if name else message, "error")
    return redirect_to(url_for("photos.gallery", project_id=project.id))


@bp.post("/projects/<int:project_id>/photos/direct")
@login_required
@permission_required("photo.upload")
def direct(project_id):
    """Where a browser may put one big photo straight into the bucket (S3 only): the
    presigned POST's URL, fields and key; 204 on local disk (post it to us instead)."""
    project = services.project_for_upload(current_user, project_id)
    form = services.direct_upload_form(current_user, project)
    if form is None:
        return make_response("", 204)
    response = jsonify(form)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/projects/<int:project_id>/photos/approve")
@login_required
@permission_required("photo.approve")
def approve_many(project_id):
    """The gallery's bulk action: approve (or withdraw) the ticked photos for the client."""
    project = get_project(current_user, project_id)
    visible = request.form.get("visible", "1") == "1"
    try:
        with attempt():
            photos = services.photos_by_ids(current_user, project, request.form.getlist("ids"))
            changed = services.set_client_visible(current_user, photos, visible)
    except ValidationError as exc:
        flash(exc.fields.get("ids", exc.message) if exc.fields else exc.message, "error")
        return redirect_to(url_for("photos.gallery", project_id=project.id))
    verb = "shown to the client" if visible else "made internal"
    flash(f"{len(changed)} photo{'s' if len(changed) != 1 else ''} {verb}.", "success")
    return redirect_to(url_for("photos.gallery", project_id=project.id))


@bp.get("/photos/<int:photo_id>")
@login_required
@permission_required("photo.view")
def viewer(photo_id):
    photo = services.get_photo(current_user, photo_id)
    newer, older = queries.neighbours(current_user, photo)
    return render_template(
        "photos/viewer.html",
        photo=photo,
        newer=newer,
        older=older,
        may_edit=services.may_edit(current_user, photo),
        may_approve=services.may_approve(current_user, photo),
        may_delete=services.may_delete(current_user),
        pair_options=[
            (p.id, f"#{p.id} {p.caption} ({p.taken_on.isoformat()})".strip())
            for p in services.pair_choices(current_user, photo)
        ],
        task=services.task_shown(current_user, photo),
        errors={},
    )


@bp.get("/photos/<int:photo_id>/image")
@login_required
@permission_required("photo.view")
def image(photo_id):
    """The photo itself (?size=thumb|web|original), to whoever may see it: a short-lived
    presigned URL on S3, the bytes on local disk — never a lasting address."""
    photo = services.get_photo(current_user, photo_id)
    size = request.args.get("size", "web")
    if size not in services.SIZES:
        size = "web"
    key, content_type = services.image_of(photo, size)
    return storage.send(key, services.download_name(photo), content_type, inline=size != "original")


def _on_photo(photo_id, do, notice: str):
    photo = services.get_photo(current_user, photo_id)
    try:
        with attempt():
            do(photo)
    except StaleObject:
        flash("This photo changed meanwhile; here it is as it is now.", "error")
    except ValidationError as exc:
        flash("; ".join((exc.fields or {"form": exc.message}).values()), "error")
    else:
        flash(notice, "success")
    return redirect_to(url_for("photos.viewer", photo_id=photo.id))


@bp.post("/photos/<int:photo_id>/edit")
@login_required
@permission_required("photo.view")
def edit(photo_id):
    form = request.form
    return _on_photo(
        photo_id,
        lambda p: services.edit(
            current_user,
            p,
            version=form.get("version"),
            caption=form.get("caption", ""),
            tags=form.get("tags", ""),
            phase=form.get("phase") or None,
        ),
        "Photo saved.",
    )


@bp.post("/photos/<int:photo_id>/approve")
@login_required
@permission_required("photo.approve")
def approve(photo_id):
    return _on_photo(photo_id, lambda p: services.set_client_visible(current_user, [p], True), "Shown to the client.")


@bp.post("/photos/<int:photo_id>/unapprove")
@login_required
@permission_required("photo.approve")
def unapprove(photo_id):
    return _on_photo(photo_id, lambda p: services.set_client_visible(current_user, [p], False), "Made internal.")


@bp.post("/photos/<int:photo_id>/pair")
@login_required
@permission_required("photo.view")
def pair(photo_id):
    def do(photo):
        other = services.get_photo(current_user, request.form.get("pair_id"))
        services.pair(current_user, photo, other)

    return _on_photo(photo_id, do, "Paired: before and after are shown side by side.")


@bp.post("/photos/<int:photo_id>/delete")
@login_required
@permission_required("client_content.delete")
def delete(photo_id):
    photo = services.get_photo(current_user, photo_id)
    project_id = photo.project_id
    services.delete(current_user, photo)
    flash("Photo deleted. The audit log keeps the record.", "success")
    return redirect_to(url_for("photos.gallery", project_id=project_id))
