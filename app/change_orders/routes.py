"""Change order pages: a project's change orders (live), one change order (its lines,
the client's signature form or the staff's decision form, submit, schedule impact,
tasks from its lines), the draft form (lines as rows, problems inline, "changed
meanwhile"). Thin: parse, call the service, render."""

from __future__ import annotations

from flask import flash, jsonify, request, url_for
from flask_login import current_user, login_required

from app.change_orders import bp, photos, services
from app.change_orders.models import KINDS, ChangeOrder
from app.core import storage
from app.core.errors import ConflictError, ValidationError
from app.core.htmx import redirect_to, render_for
from app.core.numbers import id_list, page_number
from app.core.pagination import paginate
from app.core.permissions import can, permission_required
from app.core.rows import line_rows
from app.core.signatures import signed
from app.core.transaction import attempt
from app.core.uploads import accepts_uploads
from app.core.versioning import StaleObject, meanwhile
from app.projects.services import get_project

VIEW = services.VIEW
LINE_FIELDS = ("kind", "description", "quantity", "unit_cost", "markup_pct")
BLANK_ROWS = 3


@bp.get("/projects/<int:project_id>/change-orders")
@login_required
@permission_required(VIEW)
def project_list(project_id):
    project = get_project(current_user, project_id, VIEW)
    page = paginate(services.change_order_list(current_user, project.id), page_number(request.args.get("page")), 25)
    return render_for(
        {"change-order-list": "change_orders/_list.html"},
        "change_orders/list.html",
        project=project,
        page=page,
        client_view=services.for_client(current_user),
        may_create=not project.is_closed and can(current_user, "change_order.edit", project),
    )


def _context(co: ChangeOrder) -> dict:
    editable = photos.may_edit_photos(current_user, co)
    return {
        "photos": list(co.photos),
        "may_edit_photos": editable,
        "photo_choices": photos.photo_choices(current_user, co) if editable else [],
        "co": co,
        "project": co.project,
        "client_view": services.for_client(current_user),
        "may_edit": services.may_edit(current_user, co),
        "may_delete": services.may_delete(current_user, co),
        "may_submit": services.may_submit(current_user, co),
        "may_decide": services.may_decide(current_user, co),
        "for_client": services.decides_for_client(current_user, co),
        "may_override": co.is_internal and current_user.role == "admin",
        "may_apply_schedule": services.may_apply_schedule(current_user, co),
        "may_create_tasks": services.may_create_tasks(current_user, co),
    }


def _detail(co: ChangeOrder, status: int = 200, **extra):
    context = _context(co) | {"problem": "", "decision": {}, "errors": {}} | extra
    return render_for({"change-order": "change_orders/_detail.html"}, "change_orders/detail.html", status, **context)


@bp.get("/change-orders/<int:change_order_id>")
@login_required
@permission_required(VIEW)
def detail(change_order_id):
    return _detail(services.get_change_order(current_user, change_order_id))


# --- the draft form ------------------------------------------------------------------


def _submitted() -> tuple[dict, list[dict]]:
    form = request.form
    data = {key: form.get(key, "") for key in services.EDITABLE}
    return data, line_rows(form, LINE_FIELDS, ("description", "quantity", "unit_cost"))


def _rows_of(co: ChangeOrder) -> list[dict]:
    return [
        {
            "kind": line.kind,
            "description": line.description,
            "quantity": format(line.quantity.normalize(), "f"),
            "unit_cost": str(line.unit_cost),
            "markup_pct": format(line.markup_pct.normalize(), "f"),
        }
        for line in co.lines
    ]


def _render_form(project, co, data, rows, errors, status=200, changed=None):
    return render_for(
        {"change-order-form": "change_orders/_form.html"},
        "change_orders/form.html",
        status,
        project=project,
        co=co,
        data=data,
        rows=list(rows) + [{}] * BLANK_ROWS,
        errors=errors,
        meanwhile=changed,
        kinds=list(KINDS.items()),
    )


@bp.get("/change-orders/new")
@login_required
@permission_required("change_order.edit")
def new():
    project = services.project_for_change_order(current_user, request.args.get("project_id") or 0)
    return _render_form(project, None, {"schedule_impact_days": "0"}, [], {})


@bp.post("/change-orders/new")
@login_required
@permission_required("change_order.edit")
def create():
    project = services.project_for_change_order(current_user, request.form.get("project_id") or 0)
    data, rows = _submitted()
    try:
        with attempt():
            co = services.create_change_order(current_user, project, data, rows)
    except ValidationError as exc:
        return _render_form(project, None, data, rows, exc.fields or {"form": exc.message}, 422)
    except ConflictError as exc:
        return _render_form(project, None, data, rows, {"form": exc.message}, 409)
    flash(f"Change order {co.number} saved as a draft.", "success")
    return redirect_to(url_for("change_orders.detail", change_order_id=co.id))


@bp.get("/change-orders/<int:change_order_id>/edit")
@login_required
@permission_required("change_order.edit")
def edit(change_order_id):
    co = services.get_change_order(current_user, change_order_id, "change_order.edit")
    if not co.is_draft:
        raise ConflictError(f"{co.number} has been submitted: only a draft changes.")
    data = {key: getattr(co, key) for key in services.EDITABLE} | {"version": co.version}
    return _render_form(co.project, co, data, _rows_of(co), {})


@bp.post("/change-orders/<int:change_order_id>/edit")
@login_required
@permission_required("change_order.edit")
def update(change_order_id):
    co = services.get_change_order(current_user, change_order_id, "change_order.edit")
    data, rows = _submitted()
    version = request.form.get("version")
    try:
        with attempt():
            services.update_change_order(current_user, co, data, rows, version=version)
    except StaleObject as exc:
        changed = meanwhile(exc.obj, data, services.EDITABLE)
        return _render_form(co.project, exc.obj, data | {"version": exc.obj.version}, rows, {}, 409, changed)
    except ValidationError as exc:
        return _render_form(co.project, co, data | {"version": version}, rows,
                            exc.fields or {"form": exc.message}, 422)  # fmt: skip
    except ConflictError as exc:
        return _render_form(co.project, co, data | {"version": version}, rows, {"form": exc.message}, 409)
    flash("Draft saved.", "success")
    return redirect_to(url_for("change_orders.detail", change_order_id=co.id))


# --- actions ---------------------------------------------------------------------------


def _act(co: ChangeOrder, do, done: str, decision: dict | None = None):
    try:
        with attempt():
            do()
    except ValidationError as exc:
        return _detail(co, 422, problem="Nothing was recorded. " + " ".join(exc.fields.values()),
                       errors=exc.fields, decision=decision or {})  # fmt: skip
    except ConflictError as exc:
        shown = exc.obj if isinstance(exc, StaleObject) else co
        return _detail(shown, 409, problem=exc.message)
    flash(done, "success")
    return redirect_to(url_for("change_orders.detail", change_order_id=co.id))


@bp.post("/change-orders/<int:change_order_id>/submit")
@login_required
@permission_required("change_order.edit")
def submit(change_order_id):
    co = services.get_change_order(current_user, change_order_id, "change_order.edit")
    return _act(
        co,
        lambda: services.submit(current_user, co, version=request.form.get("version")),
        "Submitted: a project manager approves it first."
        if current_user.role == "pm_trainee"
        else "Submitted to the client for approval.",  # fmt: skip
    )


def _decision() -> tuple[dict, services.Signature]:
    form = request.form
    decision = {key: form.get(key, "") for key in ("signature_name", "comment", "on_behalf_reason")}
    signature = signed(decision["signature_name"])
    return decision, signature


@bp.post("/change-orders/<int:change_order_id>/approve")
@login_required
@permission_required("change_order.approve")
def approve(change_order_id):
    co = services.get_change_order(current_user, change_order_id, "change_order.approve")
    decision, signature = _decision()
    return _act(
        co,
        lambda: services.approve(
            current_user,
            co,
            signature,
            decision["comment"],
            decision["on_behalf_reason"],
            version=request.form.get("version"),
        ),  # fmt: skip
        "Approved.",
        decision,
    )


@bp.post("/change-orders/<int:change_order_id>/reject")
@login_required
@permission_required("change_order.approve")
def reject(change_order_id):
    co = services.get_change_order(current_user, change_order_id, "change_order.approve")
    decision, signature = _decision()
    return _act(
        co,
        lambda: services.reject(
            current_user,
            co,
            signature,
            decision["comment"],
            decision["on_behalf_reason"],
            version=request.form.get("version"),
        ),  # fmt: skip
        "Rejected.",
        decision,
    )


@bp.post("/change-orders/<int:change_order_id>/delete")
@login_required
@permission_required("change_order.delete")
def delete(change_order_id):
    co = services.get_change_order(current_user, change_order_id, "change_order.delete")
    project_id = co.project_id
    try:
        with attempt():
            services.delete_change_order(current_user, co)
    except ConflictError as exc:
        return _detail(co, 409, problem=exc.message)
    flash("Change order deleted.", "success")
    return redirect_to(url_for("change_orders.project_list", project_id=project_id))


@bp.post("/change-orders/<int:change_order_id>/schedule")
@login_required
@permission_required("project.edit")
def apply_schedule(change_order_id):
    co = services.get_change_order(current_user, change_order_id)
    return _act(
        co,
        lambda: services.apply_schedule(current_user, co, version=request.form.get("version")),
        "The project's end date moved by the schedule impact.",
    )


@bp.post("/change-orders/<int:change_order_id>/tasks")
@login_required
@permission_required("task.create")
def create_tasks(change_order_id):
    co = services.get_change_order(current_user, change_order_id)
    made: list = []
    response = _act(co, lambda: made.extend(services.create_tasks(current_user, co)), "Tasks created.")
    if made:
        flash(f"{len(made)} task(s) created from the lines, linked to {co.number}.", "info")
    return response


# --- photos and drawings (their rules: change_orders/photos.py) --------------------------


def _co(change_order_id) -> ChangeOrder:
    return services.get_change_order(current_user, change_order_id)


@bp.post("/change-orders/<int:change_order_id>/photos")
@login_required
@permission_required("change_order.edit")
def attach_photos(change_order_id):
    co = _co(change_order_id)
    errors: dict = {}
    ids = id_list(request.form.getlist("photo_ids"), "photo_ids", errors, photos.MAX_PHOTOS) or []
    from flask import flash

    try:
        if errors:
            raise ValidationError(errors)
        with attempt():
            made = photos.attach(current_user, co, ids)
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
    photos.detach(current_user, co, photos.get_link(current_user, co, link_id))
    return redirect_to(url_for("change_orders.detail", change_order_id=co.id))


@bp.get("/change-orders/<int:change_order_id>/photos/<int:link_id>/draw")
@login_required
@permission_required("change_order.edit")
def draw(change_order_id, link_id):
    from app.core.htmx import render_for

    co = _co(change_order_id)
    link = photos.get_link(current_user, co, link_id)
    if not photos.may_edit_photos(current_user, co):
        raise ConflictError(f"{co.number} is {co.status_label.lower()}: its drawings no longer change.")
    return render_for({}, "change_orders/draw.html", co=co, link=link, project=co.project)


@bp.post("/change-orders/<int:change_order_id>/photos/<int:link_id>/drawing")
@login_required
@permission_required("change_order.edit")
@accepts_uploads()
def save(change_order_id, link_id):
    """The browser's drawing (multipart `layer`, a PNG): JSON {ok} or {error}."""
    co = _co(change_order_id)
    link = photos.get_link(current_user, co, link_id)
    upload = request.files.get("layer")
    try:
        with attempt():
            photos.save_drawing(current_user, co, link, upload.read() if upload else b"")
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
    link = photos.get_link(current_user, co, link_id)
    layer = "drawing" if request.args.get("layer") == "drawing" else "photo"
    key, content_type = photos.image_key(link, layer)
    return storage.send(key, f"{co.number}-{link.id}-{layer}.{'png' if layer == 'drawing' else 'jpg'}",
                        content_type, inline=True)  # fmt: skip
