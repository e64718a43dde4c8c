"""Media jobs (queue `default`): a photo's thumbnail and web-sized copy, made after the
upload so that the upload itself answers at once (core/uploads.py THUMB_SIDE, WEB_SIDE)."""

from __future__ import annotations

from workers.base import job


def _sizes(storage_key: str) -> dict[str, str]:
    """Write a photo's thumbnail and web copy next to it; their keys by column name."""
    import posixpath

    from app.core import storage, uploads

    original = storage.read(storage_key)
    folder = posixpath.dirname(storage_key)
    keys = {}
    for column, side in (("thumb_key", uploads.THUMB_SIDE), ("web_key", uploads.WEB_SIDE)):
        key = storage.new_key(folder, "jpg")
        storage.save(key, uploads.resized(original, side), "image/jpeg")
        keys[column] = key
    return keys


@job
def make_sizes(attachment_id: int) -> bool:
    """A task attachment's (an image filed as a task's file) thumbnail and web copy; False
    when there is nothing to do (gone, not a photo, already made)."""
    from sqlalchemy import update

    from app.extensions import db
    from app.tasks.models import TaskAttachment

    found = db.session.get(TaskAttachment, attachment_id, populate_existing=True)
    if found is None or not found.content_type.startswith("image/") or found.thumb_key:
        return False
    keys = _sizes(found.storage_key)
    db.session.execute(update(TaskAttachment).where(TaskAttachment.id == attachment_id).values(**keys))
    return True


@job
def make_photo_sizes(photo_id: int) -> bool:
    """A gallery photo's thumbnail and web copy (app/photos). False when there is nothing
    to do (gone, deleted, already made)."""
    from sqlalchemy import update

    from app.extensions import db
    from app.photos.models import Photo

    found = db.session.get(Photo, photo_id, populate_existing=True)  # as committed, not as remembered
    if found is None or found.deleted_at is not None or found.thumb_key:
        return False
    keys = _sizes(found.storage_key)
    # not a new version: the copies are derived, and an open caption form is not stale
    db.session.execute(update(Photo).where(Photo.id == photo_id).values(**keys))
    return True
