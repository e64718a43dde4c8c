"""Client pages: list with search, create, detail (billing, contacts, projects), edit."""

from __future__ import annotations

from flask import flash, render_template, request, url_for
from flask_login import current_user, login_required

from app.clients import bp, services
from app.core.errors import ValidationError
from app.core.htmx import redirect_to
from app.core.numbers import page_number
from app.core.permissions import permission_required
from app.extensions import db
from app.projects.models import Project
from app.projects.services import visible_projects


@bp.get("/clients")
@login_required
@permission_required("client.view")
def index():
    q = request.args.get("q", "").strip()[:100]
    page_arg = request.args.get("page", "1")
    page = db.paginate(
        services.search_clients(q),
        page=page_number(page_arg),
        per_page=25,
        error_out=False,
    )
    template = "clients/_results.html" if request.headers.get("HX-Target") == "client-results" else "clients/index.html"
    return render_template(template, page=page, q=q)


@bp.route("/clients/new", methods=["GET", "POST"])
@login_required
@permission_required("client.edit")
def new():
    data, errors = {}, {}
    if request.method == "POST":
        data = request.form.to_dict()
        try:
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
    client = services.get_client(current_user, client_id)
    projects = db.session.scalars(
        visible_projects(current_user).where(Project.client_id == client.id).order_by(Project.status, Project.name)
    ).all()
    return render_template("clients/detail.html", client=client, projects=projects, errors={}, data={})


@bp.route("/clients/<int:client_id>/edit", methods=["GET", "POST"])
@login_required
@permission_required("client.edit")
def edit(client_id):
    client = services.get_client(current_user, client_id)
    data, errors = {k: getattr(client, k) for k in services.FIELDS} | {"notes": client.notes}, {}
    if request.method == "POST":
        data = request.form.to_dict()
        try:
            services.update_client(current_user, client, data)
        except ValidationError as exc:
            db.session.rollback()
            client = services.get_client(current_user, client_id)
            errors = exc.fields
        else:
            flash("Client saved.", "success")
            return redirect_to(url_for("clients.detail", client_id=client.id))
    return render_template("clients/form.html", client=client, data=data, errors=errors), (422 if errors else 200)


@bp.post("/clients/<int:client_id>/contacts")
@login_required
@permission_required("client.edit")
def add_contact(client_id):
    client = services.get_client(current_user, client_id)
    try:
        services.add_contact(current_user, client, request.form.to_dict())
    except ValidationError as exc:
        db.session.rollback()
        client = services.get_client(current_user, client_id)
        projects = db.session.scalars(visible_projects(current_user).where(Project.client_id == client.id)).all()
        return render_template(
            "clients/detail.html", client=client, projects=projects, errors=exc.fields, data=request.form
        ), 422
    flash("Contact added.", "success")
    return redirect_to(url_for("clients.detail", client_id=client.id))
