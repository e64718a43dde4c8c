"""Media jobs (queue `default`): a photo's thumbnail and web-sized copy, made after the
upload so that the upload itself answers at once (core/uploads.py THUMB_SIDE, WEB_SIDE)."""

from __future__ import annotations

from workers.base import job


@job
def make_sizes(attachment_id: int) -> bool:
    """Write the photo's thumbnail and web copy next to it and record their keys. False
    when there is nothing to do (gone, not a photo, already made)."""
    import posixpath

    from sqlalchemy import update

    from app.core import storage, uploads
    from app.extensions import db
    from app.tasks.models import TaskAttachment

    found = db.session.get(TaskAttachment, attachment_id)
    if found is None or not found.content_type.startswith("image/") or found.thumb_key:
        return False
    original = storage.read(found.storage_key)
    folder = posixpath.dirname(found.storage_key)
    keys = {}
    for column, side in (("thumb_key", uploads.THUMB_SIDE), ("web_key", uploads.WEB_SIDE)):
        key = storage.new_key(folder, "jpg")
        storage.save(key, uploads.resized(original, side), "image/jpeg")
        keys[column] = key
    db.session.execute(update(TaskAttachment).where(TaskAttachment.id == attachment_id).values(**keys))
    return True
