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

from flask import jsonify, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from app.change_orders import bp, services
from app.change_orders.models import ChangeOrder, ChangeOrderPhoto
from app.core import storage
from app.core.errors import ConflictError, ObjectNotFound, ValidationError
from app.core.htmx import redirect_to
from app.core.models import utcnow
from app.core.numbers import id_list, to_int
from app.core.permissions import PermissionDenied, permission_required
from app.core.transaction import after_commit, attempt
from app.core.uploads import accepts_uploads
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


# --- routes ---------------------------------------------------------------------------


def _co(change_order_id) -> ChangeOrder:
    return services.get_change_order(current_user, change_order_id)


@bp.post("/change-orders/<int:change_order_id>/photos")
@login_required
@permission_required("change_order.edit")
def attach_photos(change_order_id):
    co = _co(change_order_id)
    errors: dict = {}
    ids = id_list(request.form.getlist("photo_ids"), "photo_ids", errors, MAX_PHOTOS) or []
    from flask import flash

    try:
        if errors:
            raise ValidationError(errors)
        with attempt():
            made = attach(current_user, co, ids)
    except ValidationError as exc:
        flash(" ".join(exc.fields.values()) or exc.message, "error")
        return redirect_to(url_for("change_orders.detail", change_order_id=co.id))
    flash(f"{len(made)} photo(s) added. Draw on them to point out the work.", "success")
    return redirect_to(url_for("change_orders.detail", change_order_id=co.id))


@bp.post("/change-orders/<int:change_order_id>/photos/<int:link_id>/remove")
@login_required
@permission_required("change_order.edit")
def remove_photo(change_order_id, link_id):
    co = _co(change_order_id)
    detach(current_user, co, get_link(current_user, co, link_id))
    return redirect_to(url_for("change_orders.detail", change_order_id=co.id))


@bp.get("/change-orders/<int:change_order_id>/photos/<int:link_id>/draw")
@login_required
@permission_required("change_order.edit")
def draw(change_order_id, link_id):
    from app.core.htmx import render_for

    co = _co(change_order_id)
    link = get_link(current_user, co, link_id)
    if not may_edit_photos(current_user, co):
        raise ConflictError(f"{co.number} is {co.status_label.lower()}: its drawings no longer change.")
    return render_for({}, "change_orders/draw.html", co=co, link=link, project=co.project)


@bp.post("/change-orders/<int:change_order_id>/photos/<int:link_id>/drawing")
@login_required
@permission_required("change_order.edit")
@accepts_uploads()
def save(change_order_id, link_id):
    """The browser's drawing (multipart `layer`, a PNG): JSON {ok} or {error}."""
    co = _co(change_order_id)
    link = get_link(current_user, co, link_id)
    upload = request.files.get("layer")
    try:
        with attempt():
            save_drawing(current_user, co, link, upload.read() if upload else b"")
    except ValidationError as exc:
        return jsonify({"ok": False, "error": " ".join(exc.fields.values()) or exc.message}), 422
    return jsonify({"ok": True, "url": url_for("change_orders.photo_image", change_order_id=co.id, link_id=link.id,
                                               layer="drawing")})  # fmt: skip


@bp.get("/change-orders/<int:change_order_id>/photos/<int:link_id>/image")
@login_required
@permission_required("change_order.view")
def photo_image(change_order_id, link_id):
    """The photo (?layer=photo, its web copy) or the drawing over it (?layer=drawing), to
    whoever may see the change order."""
    co = _co(change_order_id)
    link = get_link(current_user, co, link_id)
    layer = "drawing" if request.args.get("layer") == "drawing" else "photo"
    key, content_type = image_key(link, layer)
    return storage.send(key, f"{co.number}-{link.id}-{layer}.{'png' if layer == 'drawing' else 'jpg'}",
                        content_type, inline=True)  # fmt: skip


def photo_choices(user, co: ChangeOrder, limit: int = 24):
    """The project's newest photos `user` may see and the change order has not yet."""
    from app.photos.models import Photo
    from app.photos.queries import visible

    have = {cp.photo_id for cp in co.photos}
    stmt = visible(user, select(Photo)).where(Photo.project_id == co.project_id).order_by(Photo.created_at.desc())
    return [p for p in db.session.scalars(stmt.limit(limit + len(have))) if p.id not in have][:limit]
