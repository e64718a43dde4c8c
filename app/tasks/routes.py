"""Task pages. Thin: parse, call one service, render."""

from __future__ import annotations

from flask import make_response, render_template, request
from flask_login import current_user, login_required

from app.core.errors import ConflictError, ValidationError
from app.core.permissions import PermissionDenied, permission_required
from app.core.transaction import attempt
from app.core.uploads import accepts_uploads
from app.core.versioning import StaleObject, current
from app.photos import queries as photo_queries
from app.tasks import bp, queries, services
from app.tasks.conflicts import conflicts_for
from app.tasks.models import BLOCKED, IN_PROGRESS, PRIORITY_LABELS, STATUS_LABELS


@bp.get("/tasks/<int:task_id>")
@login_required
@permission_required("task.view")
def detail(task_id):
    task = services.get_task(current_user, task_id)
    return render_template(
        "tasks/detail.html",
        task=task,
        conflicts=conflicts_for([task.id], current_user).get(task.id, []),
        waiting=services.unfinished_dependencies(task),
        files=services.attachments_of(task),
        photos=photo_queries.task_photos(current_user, task),
        may_edit=services.may_edit(current_user, task),
        today=services.today(),
        status_labels=STATUS_LABELS,
        priority_labels=PRIORITY_LABELS,
    )


# --- "My day": the crew's phone page, and its one-thumb actions ---------------------


@bp.get("/tasks/my-day")
@login_required
@permission_required("task.view")
def my_day():
    return render_template("tasks/my_day.html", day=queries.my_day(current_user), **labels())


def labels() -> dict:
    return {
        "status_labels": STATUS_LABELS,
        "priority_labels": PRIORITY_LABELS,
        "today": services.today(),
        "waiting_of": services.unfinished_dependencies,
    }


def _card(task, notice: str = "", errors: dict | None = None, status: int = 200):
    """The task's card as My day shows it, with what just happened (or what went wrong)."""
    return make_response(
        render_template(
            "tasks/_card.html",
            task=task,
            conflicts=conflicts_for([task.id], current_user).get(task.id, []),
            waiting=services.unfinished_dependencies(task),
            notice=notice,
            errors=errors or {},
            **labels(),
        ),
        status,
    )


def _act(task_id: int, action: str, do, notice: str):
    """Run one card action through the service; the card comes back with a confirmation,
    or with the problem in place (nothing saved): a refused rule 422, a stale card 409."""
    task = services.get_task(current_user, task_id, action)
    version = request.form.get("version")
    try:
        with attempt():
            do(task, version)
    except ValidationError as exc:
        return _card(task, errors=exc.fields or {"form": exc.message}, status=422)
    except StaleObject as exc:
        return _card(
            current(exc.obj), errors={"form": "This task changed meanwhile; here it is as it is now."}, status=409
        )
    except ConflictError as exc:
        return _card(task, errors={"form": exc.message}, status=422)
    except PermissionDenied as exc:
        return _card(task, errors={"form": exc.message}, status=403)
    return _card(task, notice=notice)


@bp.post("/tasks/<int:task_id>/start")
@login_required
def start(task_id):
    reason = request.form.get("reason")
    return _act(
        task_id,
        "task.modify",
        lambda t, v: services.set_status(current_user, t, services.Move(IN_PROGRESS, reason), version=v),
        "Started. Good luck!",
    )


@bp.post("/tasks/<int:task_id>/progress")
@login_required
def progress(task_id):
    data = {
        k: request.form.get(k) for k in ("progress_percent", "actual_hours") if request.form.get(k) not in (None, "")
    }
    return _act(
        task_id,
        "task.modify",
        lambda t, v: services.report_progress(current_user, t, data, version=v),
        "Progress saved.",
    )


@bp.post("/tasks/<int:task_id>/checklist/<int:position>")
@login_required
def tick(task_id, position):
    return _act(
        task_id, "task.modify", lambda t, v: services.tick(current_user, t, position, version=v), "Checklist saved."
    )


@bp.post("/tasks/<int:task_id>/note")
@login_required
def note(task_id):
    text = request.form.get("note", "")
    return _act(task_id, "task.modify", lambda t, v: services.add_note(current_user, t, text, version=v), "Note added.")


@bp.post("/tasks/<int:task_id>/block")
@login_required
def block(task_id):
    reason = request.form.get("reason", "")
    return _act(
        task_id,
        "task.modify",
        lambda t, v: services.set_status(current_user, t, services.Move(BLOCKED, reason), version=v),
        "Blocker reported; the project's PMs have been told.",
    )


@bp.post("/tasks/<int:task_id>/complete")
@accepts_uploads(1)
@login_required
def complete(task_id):
    notes = request.form.get("completion_notes", "")
    upload = request.files.get("photo")

    def do(task, version):
        photo = _photo(upload)
        services.complete_task(current_user, task, notes=notes, override=request.form.get("reason"), version=version)
        if photo is not None:
            services.add_photo(current_user, task, photo, caption="Completion photo")

    return _act(task_id, "task.complete", do, "Done — nice work.")


def _photo(upload) -> bytes | None:
    """An uploaded photo's bytes (at most one past the limit, so an oversize one is told
    so without reading it all); None when none was sent. app/photos judges the content."""
    from app.photos.services import read_upload

    if upload is None or not upload.filename:
        return None
    return read_upload(upload)


@bp.post("/tasks/<int:task_id>/photo")
@accepts_uploads(1)
@login_required
def photo(task_id):
    """A photo from the phone's camera on the task; the card comes back saying so."""
    upload = request.files.get("photo")

    def do(task, _version):
        found = _photo(upload)
        if found is None:
            raise ValidationError({"photo": "Choose a photo to add."})
        services.add_photo(current_user, task, found)

    return _act(task_id, "task.modify", do, "Photo added.")


@bp.get("/tasks/<int:task_id>/files/<int:attachment_id>")
@login_required
@permission_required("task.view")
def file(task_id, attachment_id):
    """A file of a task, to whoever may see the task (never a public URL): images shown
    in the page, anything else downloaded."""
    from app.core import storage

    task = services.get_task(current_user, task_id)
    found = services.attachment_of(task, attachment_id)
    inline = found.content_type.startswith("image/")
    name = found.filename or f"file-{found.id}"
    # ?size=thumb|web: the photo's smaller copy once the job has made it, else the original
    key, content_type = found.storage_key, found.content_type
    smaller = {"thumb": found.thumb_key, "web": found.web_key}.get(request.args.get("size", ""))
    if smaller:
        key, content_type = smaller, "image/jpeg"
    return storage.send(key, name, content_type, inline)


@bp.get("/tasks/<int:task_id>/card")
@login_required
@permission_required("task.view")
def card(task_id):
    """The card alone (a live refresh after someone else changed the task)."""
    return _card(services.get_task(current_user, task_id))
