"""Receipts of expenses: a photo or a PDF judged by its content (core.uploads), stored
under a random key with a small JPEG copy of a photo beside it (the lists' thumbnails),
handed out only to who may see the expense (core.storage.send)."""

from __future__ import annotations

from app.core import storage, uploads
from app.core.errors import ObjectNotFound
from app.core.permissions import require
from app.core.transaction import after_commit, after_rollback
from app.expenses.models import Expense
from app.expenses.queries import VIEW

THUMB = 320


def judge(receipt: tuple[str, bytes] | None):
    """The receipt judged by its content (a photo or a PDF, size limits), or None."""
    if receipt is None or not receipt[1] and not receipt[0]:
        return None
    return uploads.inspect(receipt[1], "receipt", accept=("photo", "pdf"))


def thumb_key(key: str | None) -> str | None:
    if not key or key.endswith(".pdf"):
        return None
    return key.rsplit(".", 1)[0] + "-thumb.jpg"


def store(e: Expense, filename: str, found: uploads.Upload) -> None:
    """Write the receipt (and a small copy of a photo) and point the expense at it; the
    old one goes after the commit, the new one if the transaction rolls back."""
    old = [k for k in (e.receipt_key, thumb_key(e.receipt_key)) if k]
    key = storage.new_key(f"expenses/{e.project_id}", found.extension)
    storage.save(key, found.data, found.content_type)
    after_rollback(lambda: storage.delete(key))
    if found.kind == "photo":
        thumb = thumb_key(key)
        storage.save(thumb, uploads.resized(found.data, THUMB), "image/jpeg")
        after_rollback(lambda: storage.delete(thumb))
    stem = storage.safe_filename(filename, "receipt").rsplit(".", 1)[0][:100] or "receipt"
    e.receipt_key = key
    e.receipt_name = f"{stem}.{found.extension}"
    e.receipt_content_type = found.content_type
    e.receipt_size = len(found.data)
    if old:
        after_commit(lambda: [storage.delete(k) for k in old])


def receipt_of(user, e: Expense, thumb: bool = False) -> tuple[str, str, str]:
    """(key, filename, content type) of the receipt for someone who may see the expense."""
    require(user, VIEW, e)
    if not e.receipt_key:
        raise ObjectNotFound("This expense has no receipt.")
    if thumb and thumb_key(e.receipt_key):
        return thumb_key(e.receipt_key), "receipt-thumb.jpg", "image/jpeg"
    return e.receipt_key, e.receipt_name or "receipt", e.receipt_content_type
