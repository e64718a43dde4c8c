"""Client pages: list with search, create, detail (billing, contacts, projects), edit."""

from __future__ import annotations

from flask import flash, render_template, request, url_for
from flask_login import current_user, login_required

from app.clients import bp, services
from app.core.errors import ValidationError
from app.core.htmx import redirect_to, render_for
from app.core.numbers import page_number
from app.core.permissions import permission_required
from app.core.transaction import attempt
from app.core.urls import url_pattern
from app.core.versioning import StaleObject, meanwhile


@bp.get("/clients")
@login_required
@permission_required("client.view")
def index():
    q = request.args.get("q", "").strip()[:100]
    page = services.client_page(current_user, q, page_number(request.args.get("page", "1")))
    return render_for(
        {"client-results": "clients/_results.html"},
        "clients/index.html",
        page=page,
        q=q,
        client_url=url_pattern("clients.detail", "client_id"),
    )


@bp.route("/clients/new", methods=["GET", "POST"])
@login_required
@permission_required("client.edit")
def new():
    data, errors = {}, {}
    if request.method == "POST":
        data = request.form.to_dict()
        try:
            with attempt():
                client = services.create_client(current_user, data)
        except ValidationError as exc:
            errors = exc.fields
        else:
            flash(f"Client {client.name} added.", "success")
            target = request.args.get("next")
            if target == "new-project":
                draft = {"draft": 1} if request.args.get("draft") else {}  # the project form kept
                return redirect_to(url_for("projects.new", client_id=client.id, **draft))
            return redirect_to(url_for("clients.detail", client_id=client.id))
    back = url_for("projects.new", draft=1) if request.args.get("draft") else None
    return render_template("clients/form.html", client=None, data=data, errors=errors, back_to_project=back), (
        422 if errors else 200
    )


@bp.get("/clients/<int:client_id>")
@login_required
def detail(client_id):
    page = services.client_page_data(current_user, client_id)
    return render_template("clients/detail.html", page=page, client=page.client, errors={}, data={})


@bp.route("/clients/<int:client_id>/edit", methods=["GET", "POST"])
@login_required
@permission_required("client.edit")
def edit(client_id):
    client = services.get_client(current_user, client_id)
    fields = (*services.FIELDS, "notes")
    data, errors, stale = {k: getattr(client, k) for k in fields} | {"version": client.version}, {}, None
    if request.method == "POST":
        data = request.form.to_dict()
        try:
            with attempt():
                services.update_client(current_user, client, data, version=data.get("version"))
        except ValidationError as exc:
            errors = exc.fields
        except StaleObject:
            # Saved by someone else since the form was opened: nothing is overwritten;
            # both values side by side, and the current version for a second submit.
            stale = meanwhile(client, data, fields)
            data = data | {"version": client.version}
        else:
            flash("Client saved.", "success")
            return redirect_to(url_for("clients.detail", client_id=client.id))
    status = 409 if stale else 422 if errors else 200
    return render_template("clients/form.html", client=client, data=data, errors=errors, meanwhile=stale), status


@bp.post("/clients/<int:client_id>/contacts")
@login_required
@permission_required("client.edit")
def add_contact(client_id):
    client = services.get_client(current_user, client_id)
    try:
        with attempt():
            services.add_contact(current_user, client, request.form.to_dict())
    except ValidationError as exc:
        page = services.client_page_data(current_user, client.id)
        return render_template(
            "clients/detail.html", page=page, client=page.client, errors=exc.fields, data=request.form
        ), 422
    flash("Contact added.", "success")
    return redirect_to(url_for("clients.detail", client_id=client.id))
