"""Project pages: list (search, filter, sort, paginate as fragment swaps), detail,
create, edit, close, delete. Thin: parse, call one service, render."""

from __future__ import annotations

from typing import NamedTuple

from flask import flash, render_template, request, session, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from app.auth.models import User
from app.clients.models import Client
from app.core.errors import ValidationError
from app.core.htmx import redirect_to
from app.core.numbers import page_number, to_int
from app.core.permissions import can, permission_required, scope_query
from app.core.roles import PM_ROLES, ROLE_LABELS
from app.extensions import db
from app.projects import bp, services

PAGE_SIZE = 25


class PmChoice(NamedTuple):
    id: int
    name: str
    role_label: str


def _filters() -> services.ProjectFilters:
    args = request.args

    def as_int(name):
        value = args.get(name, "")
        return to_int(value)

    return services.ProjectFilters(
        search=args.get("q", "").strip()[:100],
        status=args.get("status", ""),
        pm_id=as_int("pm") if can(current_user, "team.view") else None,
        client_id=as_int("client"),
        sort=args.get("sort", "name") if args.get("sort") in services.SORTS else "name",
        descending=args.get("dir") == "desc",
    )


def _pm_choices():
    """(id, name) of active PMs and trainees, for the filter and the form (no User objects)."""
    stmt = (
        select(User.id, User.full_name, User.username, User.role)
        .where(User.role.in_(PM_ROLES), User.is_active_flag.is_(True))
        .order_by(User.full_name, User.username)
    )
    return [PmChoice(row.id, row.full_name or row.username, ROLE_LABELS[row.role]) for row in db.session.execute(stmt)]


def _client_choices():
    return db.session.scalars(select(Client).order_by(Client.name)).all()


@bp.get("/projects")
@login_required
@permission_required("project.view")
def index():
    filters = _filters()
    page_arg = request.args.get("page", "1")
    page = db.paginate(
        services.filtered_projects(current_user, filters),
        page=page_number(page_arg),
        per_page=PAGE_SIZE,
        error_out=False,
    )
    context = {
        "page": page,
        "filters": filters,
        "args": request.args.to_dict(),
        "managers": services.project_managers([p.id for p in page.items]),
    }
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "project-results":
        return render_template("projects/_results.html", **context)
    return render_template("projects/index.html", pms=_pm_choices(), **context)


def _form_data() -> tuple[dict, list[str] | None]:
    """The form's fields, and its PM list — None when the form had no PM field (it is
    read-only for non-admins), so an empty multi-select still means "no PMs"."""
    data = request.form.to_dict()
    return data, request.form.getlist("pm_ids") if "pm_ids_field" in request.form else None


def _render_form(project, data, errors, pm_ids, status=200):
    # only the form's own htmx submit wants the fragment; a boosted link needs the page
    template = "projects/_form.html" if request.headers.get("HX-Target") == "project-form" else "projects/form.html"
    return (
        render_template(
            template,
            project=project,
            data=data,
            errors=errors,
            pm_ids={str(i) for i in pm_ids or ()},
            clients=_client_choices(),
            pms=_pm_choices(),
        ),
        status,
    )


DRAFT_KEY = "project_draft"


@bp.get("/projects/new")
@login_required
@permission_required("project.create")
def new():
    pm_ids = [current_user.id] if current_user.role in PM_ROLES else []
    data = {}
    draft = session.pop(DRAFT_KEY, None) if request.args.get("draft") else None
    if draft:  # back from "Add a client first": what was typed, with the new client chosen
        data = dict(draft.get("data") or {})
        pm_ids = draft["pm_ids"] if draft.get("pm_ids") is not None else pm_ids
    data["client_id"] = request.args.get("client_id") or data.get("client_id", "")
    return _render_form(None, data, {}, pm_ids)


@bp.post("/projects/new/add-client")
@login_required
@permission_required("project.create")
def add_client_first():
    """ "Add a client first" on the new-project form: keep what was typed (in the
    session) while the client is added; the client form comes back with it."""
    data, pm_ids = _form_data()
    data.pop("csrf_token", None)
    session[DRAFT_KEY] = {"data": data, "pm_ids": pm_ids}
    return redirect_to(url_for("clients.new", next="new-project", draft=1))


@bp.post("/projects")
@login_required
@permission_required("project.create")
def create():
    data, pm_ids = _form_data()
    try:
        project = services.create_project(current_user, data, pm_ids)
    except ValidationError as exc:
        return _render_form(None, data, exc.fields, pm_ids, 422)
    flash(f"Project {project.name} created.", "success")
    return redirect_to(url_for("projects.detail", project_id=project.id))


@bp.get("/projects/<int:project_id>")
@login_required
def detail(project_id):
    project = services.get_project(current_user, project_id)
    from app.core.audit import AuditLog

    history = []
    if can(current_user, "audit.view", project):
        history = db.session.scalars(
            scope_query(select(AuditLog), current_user, "audit.view", AuditLog)
            .where(AuditLog.project_id == project.id)
            .order_by(AuditLog.created_at.desc(), AuditLog.id.desc())
            .limit(10)
        ).all()
    template = (
        "projects/_detail.html" if request.headers.get("HX-Target") == "project-detail" else "projects/detail.html"
    )
    return render_template(template, project=project, history=history)


@bp.get("/projects/<int:project_id>/edit")
@login_required
def edit(project_id):
    project = services.get_project(current_user, project_id, "project.edit")
    data = {key: getattr(project, key) for key in services.EDITABLE}
    return _render_form(project, data, {}, [u.id for u in project.pms])


@bp.post("/projects/<int:project_id>/edit")
@login_required
def update(project_id):
    project = services.get_project(current_user, project_id, "project.edit")
    data, pm_ids = _form_data()
    try:
        services.update_project(current_user, project, data, pm_ids)
    except ValidationError as exc:
        db.session.rollback()
        project = services.get_project(current_user, project_id, "project.edit")
        return _render_form(
            project, data, exc.fields, pm_ids if pm_ids is not None else [u.id for u in project.pms], 422
        )
    flash("Project saved.", "success")
    return redirect_to(url_for("projects.detail", project_id=project.id))


@bp.post("/projects/<int:project_id>/close")
@login_required
def close(project_id):
    project = services.get_project(current_user, project_id, "project.close")
    services.close_project(current_user, project)
    flash(f"Project {project.name} is closed and archived.", "success")
    return redirect_to(url_for("projects.detail", project_id=project.id))


@bp.post("/projects/<int:project_id>/delete")
@login_required
def delete(project_id):
    project = services.get_project(current_user, project_id, "project.delete")
    name = project.name
    services.delete_project(current_user, project)
    flash(f"Project {name} deleted.", "success")
    return redirect_to(url_for("projects.index"))
