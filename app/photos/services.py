"""The rules of photos: who may add them where, the client's approval, captions, tags,
before/after pairs, deletion. Pages, the API and the task card call these; none commits."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from app.core import storage, uploads
from app.core.errors import ObjectNotFound, ValidationError
from app.core.events import entitled, project_audience, publish
from app.core.models import utcnow
from app.core.numbers import to_int
from app.core.permissions import PermissionDenied, can, require
from app.core.roles import ADMIN, CLIENT, EMPLOYEE
from app.core.text import normalise
from app.core.timezones import to_company_time
from app.core.transaction import after_rollback
from app.core.versioning import expect_version
from app.extensions import db
from app.photos.models import MAX_TAG, MAX_TAGS, PHASES, Photo
from app.projects.models import Project

CAPTION_MAX = 500


# --- who may --------------------------------------------------------------------------


def may_upload(actor, project: Project, task=None) -> bool:
    """SPEC.md §2 "upload photos": admins anywhere; PMs, trainees, designers and
    superintendents on their projects; an employee on a project where a task is theirs
    (and on that task when one is named); a client on their own company's projects.
    Nobody adds photos to a closed project (archived: read-only)."""
    if project is None or project.status == "closed" or not can(actor, "photo.upload"):
        return False
    if task is not None and task.project_id != project.id:
        return False
    if actor.role == CLIENT:
        return actor.client_id is not None and actor.client_id == project.client_id and task is None
    if actor.role == EMPLOYEE:
        from app.tasks.models import Task

        if task is not None:
            return can(actor, "task.view", task)
        owned = select(Task.id).where(Task.project_id == project.id, Task.owned_by(actor.id)).limit(1)
        return db.session.scalar(owned) is not None
    return can(actor, "project.view", project)


def require_upload(actor, project: Project, task=None) -> None:
    if project is not None and project.status == "closed":
        raise ValidationError({"file": f"{project.name} is closed: it takes no new photos."})
    if not may_upload(actor, project, task):
        raise PermissionDenied("You cannot add photos here.")


def project_for_upload(actor, project_id) -> Project:
    """The project a photo is being added to: one the actor may see, or — for an employee,
    who sees no project page — one where a task is theirs; 404 otherwise (a project they
    cannot see is not told to exist); 403 when they see it but may not add photos."""
    project = db.session.get(Project, to_int(project_id)) if to_int(project_id) is not None else None
    if project is None:
        raise ObjectNotFound("That project does not exist or you cannot see it.")
    if not can(actor, "project.view", project) and not (actor.role == EMPLOYEE and may_upload(actor, project)):
        raise ObjectNotFound("That project does not exist or you cannot see it.")
    require_upload(actor, project)
    return project


def may_approve(actor, photo_or_project) -> bool:
    return can(actor, "photo.approve", photo_or_project)


def may_delete(actor) -> bool:
    return can(actor, "client_content.delete")


def may_edit(actor, photo: Photo) -> bool:
    """Captions, tags and before/after: whoever approves photos on the project, and the
    person who took it (while it is not deleted)."""
    if photo.deleted_at is not None:
        return False
    return may_approve(actor, photo) or (photo.uploaded_by_id == actor.id and can(actor, "photo.view", photo))


# --- reading one ------------------------------------------------------------------------


def get_photo(actor, photo_id) -> Photo:
    """The photo if `actor` may see it; 404 otherwise — a client of another company, or a
    photo not approved for the client, is told nothing exists."""
    require(actor, "photo.view")
    found = db.session.get(Photo, to_int(photo_id)) if to_int(photo_id) is not None else None
    if found is None or found.deleted_at is not None or not can(actor, "photo.view", found):
        raise ObjectNotFound("That photo does not exist or you cannot see it.")
    return found


def task_shown(actor, photo: Photo):
    """The task the photo is filed under, if the viewer may see it (the viewer's link)."""
    from app.tasks.models import Task

    task = db.session.get(Task, photo.task_id) if photo.task_id else None
    return task if task is not None and can(actor, "task.view", task) else None


SIZES = ("thumb", "web", "original")


def image_of(photo: Photo, size: str) -> tuple[str, str]:
    """The storage key and content type of the photo at `size`: a smaller copy once the
    job has made it, else the original."""
    smaller = {"thumb": photo.thumb_key, "web": photo.web_key}.get(size)
    if smaller:
        return smaller, "image/jpeg"
    return photo.storage_key, photo.content_type


def download_name(photo: Photo) -> str:
    """What a saved copy is called: the project and the photo's number — never the
    uploader's own file name (which could tell a client more than the photo does)."""
    extension = photo.content_type.split("/")[-1].replace("jpeg", "jpg")
    return f"{photo.project.name} photo {photo.id}.{extension}"


# --- input ------------------------------------------------------------------------------


def clean_tags(value) -> list[str]:
    """Tags from a list or a comma-separated text: trimmed, lower-case, unique, in order."""
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else list(value)
    tags: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise ValidationError({"tags": "Tags are words, like kitchen or trim."})
        tag = normalise(item).lower()
        if not tag:
            continue
        if len(tag) > MAX_TAG:
            raise ValidationError({"tags": f"A tag has at most {MAX_TAG} characters."})
        if tag not in tags:
            tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise ValidationError({"tags": f"A photo has at most {MAX_TAGS} tags."})
    return tags


def _caption(value) -> str:
    caption = normalise(value or "")
    if len(caption) > CAPTION_MAX:
        raise ValidationError({"caption": f"A caption has at most {CAPTION_MAX} characters."})
    return caption


def _phase(value) -> str | None:
    if value in (None, ""):
        return None
    if value not in PHASES:
        raise ValidationError({"phase": "Choose before, after or neither."})
    return value


def task_of(project: Project, task_id):
    """The task of `project` named by `task_id` (None when none is named)."""
    from app.tasks.models import Task

    if task_id in (None, ""):
        return None
    task = db.session.get(Task, to_int(task_id)) if to_int(task_id) is not None else None
    if task is None or task.project_id != project.id:
        raise ValidationError({"task_id": "Choose a task of this project."})
    return task


# --- adding -----------------------------------------------------------------------------


def read_upload(stream, field: str = "file") -> bytes:
    """At most one byte more than the photo limit of an uploaded file (so an oversize one
    is told so without reading 200 MB into memory)."""
    return stream.read(uploads.limit_for("photo") + 1)


def add(actor, project: Project, data: bytes, *, task=None, caption="", tags=(), phase=None) -> Photo:
    """A photo on the project (and task): judged by its content (core.uploads: decoded and
    written again, location removed unless kept), stored under a random key; its smaller
    copies are made by a job after the commit. A failure leaves neither row nor object."""
    require_upload(actor, project, task)
    caption, tags, phase = _caption(caption), clean_tags(tags), _phase(phase)
    found = uploads.inspect(data, "file", accept=("photo",))
    key = storage.new_key(f"photos/{project.id}", found.extension)
    storage.save(key, found.data, found.content_type)
    after_rollback(lambda: storage.delete(key))  # the row is not kept: neither is the object
    from_client = actor.role == CLIENT
    photo = Photo(
        project_id=project.id,
        task_id=task.id if task is not None else None,
        storage_key=key,
        content_type=found.content_type,
        size=len(found.data),
        width=found.width,
        height=found.height,
        caption=caption,
        tags=tags,
        phase=phase,
        taken_on=to_company_time(utcnow()).date(),
        uploaded_by_id=actor.id,
        client_provided=from_client,
        # a client's own photo is theirs to see; everyone else's waits for approval
        is_client_visible=from_client,
    )
    photo.project = project
    db.session.add(photo)
    db.session.flush()
    from app.core.jobs import enqueue
    from workers.media import make_photo_sizes

    enqueue(make_photo_sizes, photo.id)
    _publish("photo-added", photo)
    return photo


def direct_upload_form(actor, project: Project, task=None) -> dict | None:
    """On S3, the presigned POST a browser sends a big photo with, straight to the bucket
    (core.storage.presigned_post); None on local disk (the browser posts it to us)."""
    require_upload(actor, project, task)
    if not storage.on_s3():
        return None
    return storage.presigned_post(f"photos/{project.id}", uploads.limit_for("photo"))


def add_uploaded(actor, project: Project, key: str, **fields) -> Photo:
    """The photo a browser put into the bucket with `direct_upload_form`: read back,
    judged like any upload, stored under its own key; the browser's object is deleted
    whatever the verdict."""
    require_upload(actor, project, fields.get("task"))
    if not storage.on_s3() or not storage.is_incoming(key, f"photos/{project.id}"):
        raise ValidationError({"key": "That upload is not one of this project's."})
    data = storage.take_incoming(key, uploads.limit_for("photo"))
    if data is None:
        raise ValidationError({"file": "The upload did not arrive (or is too large): try again."})
    return add(actor, project, data, **fields)


# --- changing -----------------------------------------------------------------------------


def edit(actor, photo: Photo, *, version=None, caption=None, tags=None, phase=...) -> Photo:
    if not may_edit(actor, photo):
        raise PermissionDenied("You cannot change this photo.")
    expect_version(photo, version)
    if caption is not None:
        photo.caption = _caption(caption)
    if tags is not None:
        photo.tags = clean_tags(tags)
    if phase is not ...:
        photo.phase = _phase(phase)
        if photo.phase is None and photo.pair_id is not None:
            _unpair(photo)
    db.session.flush()
    _publish("photo-updated", photo)
    return photo


def set_client_visible(actor, photos: Iterable[Photo], visible: bool) -> list[Photo]:
    """Approve photos for the client (or withdraw the approval), one or many at once: all
    or none — a photo the actor may not approve refuses the whole batch."""
    photos = list(photos)
    for photo in photos:
        if photo.deleted_at is not None or not may_approve(actor, photo):
            raise PermissionDenied("You cannot approve photos of this project.")
    changed = []
    for photo in photos:
        if photo.is_client_visible == visible:
            continue
        before = _audience(photo)
        photo.is_client_visible = visible
        photo.approved_by_id = actor.id if visible else None
        photo.approved_at = utcnow() if visible else None
        changed.append((photo, before))
    db.session.flush()
    for photo, before in changed:
        _publish("photo-updated", photo, before=before)
    return [photo for photo, _ in changed]


def photos_by_ids(actor, project: Project, ids) -> list[Photo]:
    """The photos of `project` among `ids` that `actor` may see (a bulk action's choice)."""
    wanted = sorted({i for i in (to_int(x) for x in ids or ()) if i is not None})
    if not wanted:
        raise ValidationError({"ids": "Choose at least one photo."})
    found = db.session.scalars(
        select(Photo).where(Photo.id.in_(wanted), Photo.project_id == project.id, Photo.deleted_at.is_(None))
    ).all()
    visible = [p for p in found if can(actor, "photo.view", p)]
    if len(visible) != len(wanted):
        raise ValidationError({"ids": "Some of those photos are not in this gallery."})
    return visible


def pair(actor, before: Photo, after: Photo) -> None:
    """Show `before` and `after` side by side: both of one project, each in one pair."""
    if before.id == after.id or before.project_id != after.project_id:
        raise ValidationError({"pair_id": "Pair two different photos of the same project."})
    for photo in (before, after):
        if not may_edit(actor, photo):
            raise PermissionDenied("You cannot change this photo.")
    for photo in (before, after):
        if photo.pair_id is not None:
            _unpair(photo)
    before.phase, after.phase = PHASES
    before.pair_id, after.pair_id = after.id, before.id
    db.session.flush()
    _publish("photo-updated", before)
    _publish("photo-updated", after)


def _unpair(photo: Photo) -> None:
    other = db.session.get(Photo, photo.pair_id) if photo.pair_id else None
    photo.pair_id = None
    if other is not None and other.pair_id == photo.id:
        other.pair_id = None


def delete(actor, photo: Photo) -> None:
    """Only admins delete photos (client_content.delete: a client's among them). The row
    stays — who deleted it and when, in the audit log too — and the objects go after the
    commit, so nobody can fetch it again."""
    if not may_delete(actor):
        raise PermissionDenied("Only an admin can delete photos.")
    before = _audience(photo)
    if photo.pair_id is not None:
        _unpair(photo)
    photo.deleted_at, photo.deleted_by_id = utcnow(), actor.id
    photo.is_client_visible = False
    keys = [k for k in (photo.storage_key, photo.thumb_key, photo.web_key) if k]
    db.session.flush()
    from app.core.transaction import after_commit

    after_commit(lambda: [storage.delete(k) for k in keys])
    publish("photo-removed", {"id": photo.id, "project_id": photo.project_id}, users=before, roles=[ADMIN])


# --- live -------------------------------------------------------------------------------


def _audience(photo: Photo) -> list[int]:
    """Who hears of the photo: of the project's people, those who may see it now."""
    people = [*project_audience(photo.project), *([photo.uploaded_by_id] if photo.uploaded_by_id else [])]
    return entitled(people, lambda user: can(user, "photo.view", photo))


def _publish(name: str, photo: Photo, before=None) -> None:
    people = _audience(photo)
    publish(name, {"id": photo.id, "project_id": photo.project_id}, users=people, roles=[ADMIN])
    gone = sorted(set(before or ()) - set(people))
    if gone:  # an approval withdrawn: the client's open portal drops it
        publish("photo-removed", {"id": photo.id, "project_id": photo.project_id}, users=gone, roles=[])


# --- choices for forms -------------------------------------------------------------------


def tasks_for_upload(actor, project: Project) -> list[tuple[int, str]]:
    """The tasks of `project` a photo may be filed under by `actor` (the upload form's
    choice): those they may see; none for a client."""
    from app.core.permissions import scope_query
    from app.tasks.models import Task

    if not can(actor, "task.view"):
        return []
    stmt = scope_query(select(Task.id, Task.title), actor, "task.view", Task).where(Task.project_id == project.id)
    return [tuple(row) for row in db.session.execute(stmt.order_by(Task.title).limit(200)).all()]


def pair_choices(actor, photo: Photo) -> list[Photo]:
    """The photos `photo` could be paired with (the viewer's "before/after" choice)."""
    from app.photos.queries import visible

    if not may_edit(actor, photo):
        return []
    stmt = visible(actor).where(Photo.project_id == photo.project_id, Photo.id != photo.id)
    return db.session.scalars(stmt.order_by(Photo.created_at.desc()).limit(48)).all()
