"""Files on tasks, through core.storage: type decided by content (magic bytes), size
capped, a random key, the row written only once the object is stored — and the object
deleted again if the request then fails, so a failed upload leaves nothing behind."""

from __future__ import annotations

import base64
import binascii

from app.core import storage
from app.core.errors import ValidationError
from app.core.transaction import after_rollback
from app.extensions import db
from app.tasks.models import TaskAttachment


def decode_photo(encoded: str, field: str = "completion_photo") -> tuple[bytes, str, str]:
    """The bytes, content type and extension of a base64 photo (a data: URL prefix is
    accepted), as it will be stored (core.uploads); a field error otherwise."""
    from app.core import uploads

    text = encoded.strip()
    if text.startswith("data:") and "," in text:
        text = text.split(",", 1)[1]
    limit = uploads.limit_for("photo")
    if len(text) > (limit * 4) // 3 + 8:
        raise ValidationError({field: f"The photo is larger than {limit // (1024 * 1024)} MB."})
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError({field: "Send the photo as base64."}) from None
    found = uploads.inspect(data, field, accept=("photo",))
    return found.data, found.content_type, found.extension


def attach(
    actor, task, data: bytes, content_type: str, extension: str, kind: str, filename: str = ""
) -> TaskAttachment:
    key = storage.new_key(f"tasks/{task.id}", extension)
    storage.save(key, data, content_type)
    after_rollback(lambda: storage.delete(key))  # the row is not kept: neither is the object
    attachment = TaskAttachment(
        task_id=task.id,
        storage_key=key,
        filename=storage.safe_filename(filename, "")[:255],
        content_type=content_type,
        size=len(data),
        kind=kind,
        uploaded_by_id=actor.id,
    )
    db.session.add(attachment)
    db.session.flush()
    if content_type.startswith("image/"):
        from app.core.jobs import enqueue
        from workers.media import make_sizes

        enqueue(make_sizes, attachment.id)  # after the commit: the thumbnail and web copy
    return attachment
