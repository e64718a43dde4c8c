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

MAX_PHOTO_BYTES = 10 * 1024 * 1024
# (content type, extension) by the file's first bytes
_IMAGES = (
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
)


def image_type(data: bytes) -> tuple[str, str] | None:
    """(content type, extension) of a JPEG, PNG or WebP judged by its content, or None."""
    for magic, content_type, extension in _IMAGES:
        if data.startswith(magic):
            return content_type, extension
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp", "webp"
    return None


def decode_photo(encoded: str, field: str = "completion_photo") -> tuple[bytes, str, str]:
    """The bytes, content type and extension of a base64 photo (a data: URL prefix is
    accepted); a field error otherwise."""
    text = encoded.strip()
    if text.startswith("data:") and "," in text:
        text = text.split(",", 1)[1]
    if len(text) > (MAX_PHOTO_BYTES * 4) // 3 + 8:
        raise ValidationError({field: f"The photo is larger than {MAX_PHOTO_BYTES // (1024 * 1024)} MB."})
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError({field: "Send the photo as base64."}) from None
    if not data:
        raise ValidationError({field: "The photo is empty."})
    if len(data) > MAX_PHOTO_BYTES:
        raise ValidationError({field: f"The photo is larger than {MAX_PHOTO_BYTES // (1024 * 1024)} MB."})
    kind = image_type(data)
    if kind is None:
        raise ValidationError({field: "Send a JPEG, PNG or WebP photo (the content is not one)."})
    return data, *kind


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
    return attachment
