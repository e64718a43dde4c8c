"""A change order's photos and the drawings made over them (issue 12: "photos with
annotations, drawn over the photo in the browser").

- Staff who may write the change order attach photos of its project they can see (while
  it is a draft) and draw over each in the browser; the drawing is sent as a transparent
  PNG the size of the photo's web copy and kept as a separate layer (the photo itself
  never changes). A new drawing replaces the old one (deleted after the commit).
- Whoever may see the change order sees its photos and drawings through its own image
  route — the client too, once it is put to them, even if the photo itself was never
  approved for them in the gallery: attaching it to a change order is showing it.
- The drawing is judged like any upload (core.uploads: a real PNG, size limits)."""

from __future__ import annotations

from sqlalchemy import select

from app.change_orders import services
from app.change_orders.models import ChangeOrder, ChangeOrderPhoto
from app.core import storage
from app.core.errors import ObjectNotFound, ValidationError
from app.core.models import utcnow
from app.core.numbers import to_int
from app.core.permissions import PermissionDenied
from app.core.transaction import after_commit
from app.extensions import db

MAX_PHOTOS = 24


def may_edit_photos(user, co: ChangeOrder) -> bool:
    return services.may_edit(user, co)


def attach(actor, co: ChangeOrder, photo_ids: list[int]) -> list[ChangeOrderPhoto]:
    from app.photos.models import Photo
    from app.photos.queries import visible

    if not may_edit_photos(actor, co):
        raise PermissionDenied("Photos are added to a change order while it is a draft, by whoever may write it.")
    have = {cp.photo_id for cp in co.photos}
    wanted = [pid for pid in photo_ids if pid not in have]
    if len(have) + len(wanted) > MAX_PHOTOS:
        raise ValidationError({"photo_ids": f"At most {MAX_PHOTOS} photos on a change order."})
    found = {
        p.id
        for p in db.session.scalars(
            visible(actor, select(Photo)).where(Photo.id.in_(wanted), Photo.project_id == co.project_id)
        )
    }
    if set(wanted) - found:
        raise ValidationError({"photo_ids": "Choose photos of this project."})
    made = []
    for position, photo_id in enumerate(wanted, start=len(have)):
        link = ChangeOrderPhoto(change_order=co, photo_id=photo_id, position=position)
        db.session.add(link)
        made.append(link)
    db.session.flush()
    services.publish_change(co)
    return made


def get_link(user, co: ChangeOrder, link_id) -> ChangeOrderPhoto:
    link_id = to_int(link_id)
    link = db.session.get(ChangeOrderPhoto, link_id) if link_id is not None else None
    if link is None or link.change_order_id != co.id:
        raise ObjectNotFound("That photo is not on this change order.")
    return link


def detach(actor, co: ChangeOrder, link: ChangeOrderPhoto) -> None:
    if not may_edit_photos(actor, co):
        raise PermissionDenied("Photos are taken off a change order while it is a draft.")
    key = link.annotation_key
    db.session.delete(link)
    db.session.flush()
    if key:
        after_commit(lambda: storage.delete(key))
    services.publish_change(co)


def save_drawing(actor, co: ChangeOrder, link: ChangeOrderPhoto, data: bytes) -> ChangeOrderPhoto:
    """Keep the drawing (a PNG layer) over the photo; the previous one is deleted."""
    from app.core.uploads import inspect

    if not may_edit_photos(actor, co):
        raise PermissionDenied("Drawings are made while the change order is a draft.")
    upload = inspect(data, "layer", accept=("photo",))
    if upload.content_type != "image/png":
        raise ValidationError({"layer": "Send the drawing as a PNG (with transparency)."})
    old = link.annotation_key
    link.annotation_key = storage.save(storage.new_key(f"change-orders/{co.id}", "png"), upload.data, "image/png")
    link.annotated_by_id = actor.id
    link.annotated_at = utcnow()
    db.session.flush()
    if old:
        after_commit(lambda: storage.delete(old))
    services.publish_change(co)
    return link


def image_key(link: ChangeOrderPhoto, layer: str) -> tuple[str, str]:
    from app.photos import services as photos

    if layer == "drawing":
        if not link.annotation_key:
            raise ObjectNotFound("No drawing on this photo yet.")
        return link.annotation_key, "image/png"
    return photos.image_of(link.photo, "web")


def photo_choices(user, co: ChangeOrder, limit: int = 24):
    """The project's newest photos `user` may see and the change order has not yet."""
    from app.photos.models import Photo
    from app.photos.queries import visible

    have = {cp.photo_id for cp in co.photos}
    stmt = visible(user, select(Photo)).where(Photo.project_id == co.project_id).order_by(Photo.created_at.desc())
    return [p for p in db.session.scalars(stmt.limit(limit + len(have))) if p.id not in have][:limit]
