"""Project pages: list (search, filter, sort, paginate as fragment swaps), detail,
create, edit, close, reopen, delete. Thin: parse, call one service, render."""

from __future__ import annotations

from dataclasses import replace

from flask import flash, render_template, request, session, url_for
from flask_login import current_user, login_required

from app.core.errors import ValidationError
from app.core.htmx import redirect_to, render_for
from app.core.numbers import page_number, to_int
from app.core.permissions import can, permission_required, signed_in_user
from app.core.roles import PM_ROLES
from app.core.templating import money
from app.core.transaction import attempt
from app.core.versioning import StaleObject, meanwhile
from app.projects import bp, queries, services
from app.projects.models import Project
from app.projects.rows import project_rows, sort_links
from app.projects.views import PROJECT_VIEW

PAGE_SIZE = 25
# The page's query parameter for each filter field (the service's error keys).
PARAMS = {"pm_id": "pm", "ordering": "sort"}


def _filters() -> queries.ProjectFilters:
    args = request.args
    sort = args.get("sort", "name")
    if sort not in queries.sort_fields(current_user):
        sort = "name"  # the column links only offer allowed fields; anything else is the default
    pm = args.get("pm", "")
    return queries.ProjectFilters(
        search=args.get("q", "").strip()[:100],
        status=args.get("status", "") if args.get("status", "") in ("all", *queries.STATUSES) else "",
        # a value that is not an id is no filter; an id is checked by the service
        pm_id=to_int(pm),
        client_id=to_int(args.get("client", "")),
        ordering=((sort, args.get("dir") == "desc"),),
    )


def _typed_pm(filters: queries.ProjectFilters, typed: str):
    """The PM picker's box as submitted (no JavaScript, or nothing clicked): blank is
    "any PM"; else `queries.typed_choice` (several or no matches come back as suggestions)."""
    found = queries.pm_options(current_user, typed) if typed else []
    pm_id, suggestions = queries.typed_choice(found, filters.pm_id, typed)
    return replace(filters, pm_id=pm_id), suggestions


def _choose_pm(args: dict):
    """The URL of the list with the PM `pm_id` chosen (a suggestion's link)."""
    kept = {k: v for k, v in args.items() if k not in ("pm", "pm_search", "page")}
    return lambda pm_id: url_for("projects.index", **kept, pm=pm_id)


@bp.get("/projects")
@login_required
@permission_required("project.view")
def index():
    filters = _filters()
    args = request.args.to_dict()
    suggestions = None
    if "pm_search" in request.args and can(current_user, "team.view"):
        filters, suggestions = _typed_pm(filters, request.args["pm_search"].strip()[:100])
        args = {k: v for k, v in args.items() if k != "pm_search"} | (
            {"pm": filters.pm_id} if filters.pm_id is not None else {}
        )
        if filters.pm_id is None:
            args.pop("pm", None)
    context = {"filters": filters, "args": args, "errors": {}, "archived": 0}
    status = 200
    try:
        page = queries.project_page(current_user, filters, page_number(request.args.get("page", "1")), PAGE_SIZE)
    except ValidationError as exc:
        context.update(page=None, rows=[], errors={PARAMS.get(k, k): v for k, v in exc.fields.items()})
        status = 422
    else:
        viewer = signed_in_user()
        context.update(
            page=page,
            rows=project_rows(viewer, page.items),
            sorts=sort_links(filters, args, PROJECT_VIEW.shows(viewer, Project, "budget")),
        )
        if not page.total and filters.search:
            context["archived"] = queries.archived_matches(current_user, filters)
    return render_for(
        {"project-results": "projects/_results.html"},
        "projects/index.html",
        status,
        # the PM filter's choices, loaded only by the whole page (not the results swap)
        pm_filter=lambda: queries.pm_filter_choices(current_user, filters.pm_id),
        pm_suggestions=suggestions,
        pm_typed=request.args.get("pm_search", "").strip()[:100],
        choose=_choose_pm(args),
        limit=queries.OPTIONS_LIMIT,
        **context,
    )


@bp.get("/projects/pm-options")
@login_required
@permission_required("team.view")
def pm_options():
    """The PM pickers' suggestions for what was typed (at most OPTIONS_LIMIT): the list's
    filter sends `pm_search`, the project form's `pm_ids_search`."""
    typed = (request.args.get("pm_search") or request.args.get("pm_ids_search") or "").strip()[:100]
    return render_template(
        "_picker_options.html",
        found=queries.pm_options(current_user, typed),
        choose=_choose_pm({}),
        limit=queries.OPTIONS_LIMIT,
    )


def _form_data() -> tuple[dict, list[str] | None]:
    """The form's fields, and its PM list — None when the form had no PM field (it is
    read-only for non-admins), so an empty multi-select still means "no PMs". A client
    picker's box sent without a click (no JavaScript) is resolved to its client here;
    when it does not settle on one, `client_id` stays empty and the service says so."""
    data = request.form.to_dict()
    if "client_id_search" in data:
        typed = data["client_id_search"].strip()[:200]  # kept: a form shown again shows it
        found = queries.client_options(current_user, typed) if typed else []
        client_id, _ = queries.typed_choice(found, to_int(data.get("client_id", "")), typed)
        data["client_id"] = str(client_id) if client_id is not None else ""
    pm_ids = request.form.getlist("pm_ids") if "pm_ids_field" in request.form else None
    typed = data.get("pm_ids_search", "").strip()[:100]
    if pm_ids is not None and typed:  # the PM picker's box, sent without a click
        pm_id, _ = queries.typed_choice(queries.pm_options(current_user, typed), None, typed)
        if pm_id is not None and str(pm_id) not in pm_ids:
            pm_ids.append(str(pm_id))
    return data, pm_ids


def _render_form(project, data, errors, pm_ids, status=200, meanwhile=None):
    # only the form's own htmx submit wants the fragment; a boosted link needs the page
    return render_for(
        {"project-form": "projects/_form.html"},
        "projects/form.html",
        status,
        project=project,
        data=data,
        errors=errors,
        pm_ids={str(i) for i in pm_ids or ()},
        choose_pms=services.may_choose_pms(current_user, project),
        clients=queries.client_form_choices(current_user, to_int(str(data.get("client_id") or ""))),
        pm_picker=lambda: queries.pm_form_choices(current_user, pm_ids),  # only if the form offers the choice
        meanwhile=meanwhile,
        template_choices=lambda: _template_choices(project),
    )


def _template_choices(project) -> list:
    """The templates a new project may start from (none when editing: a template only
    lays out a project's first tasks)."""
    if project is not None:
        return []
    from app.project_templates.services import templates

    return templates(current_user)


DRAFT_KEY = "project_draft"


@bp.get("/projects/client-options")
@login_required
@permission_required("client.view")
def client_options():
    """The project form's client picker: suggestions for what was typed."""
    typed = request.args.get("client_id_search", "").strip()[:200]
    return render_template(
        "_picker_options.html",
        found=queries.client_options(current_user, typed),
        choose=lambda client_id: url_for("projects.new", client_id=client_id),
        limit=queries.OPTIONS_LIMIT,
    )


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
        with attempt():
            project = services.create_project(current_user, data, pm_ids)
    except ValidationError as exc:
        return _render_form(None, data, exc.fields, pm_ids, 422)
    flash(f"Project {project.name} created.", "success")
    return redirect_to(url_for("projects.detail", project_id=project.id))


def _render_detail(project, status=200, reopen_errors=None, reopen_reason=""):
    return render_for(
        {"project-detail": "projects/_detail.html"},
        "projects/detail.html",
        status,
        project=project,
        history=queries.project_history(current_user, project),
        reopen_errors=reopen_errors or {},
        reopen_reason=reopen_reason,
    )


@bp.get("/projects/<int:project_id>")
@login_required
def detail(project_id):
    return _render_detail(services.get_project(current_user, project_id))


@bp.get("/projects/<int:project_id>/edit")
@login_required
def edit(project_id):
    project = services.get_project(current_user, project_id, "project.edit")
    data = {key: getattr(project, key) for key in services.EDITABLE} | {"version": project.version}
    return _render_form(project, data, {}, [u.id for u in project.pms])


@bp.post("/projects/<int:project_id>/edit")
@login_required
def update(project_id):
    project = services.get_project(current_user, project_id, "project.edit")
    data, pm_ids = _form_data()
    try:
        with attempt():
            services.update_project(current_user, project, data, pm_ids, version=data.get("version"))
    except ValidationError as exc:
        return _render_form(
            project, data, exc.fields, pm_ids if pm_ids is not None else [u.id for u in project.pms], 422
        )
    except StaleObject:
        # Saved by someone else since this form was opened: nothing is overwritten. The
        # form comes back with what was typed, their values beside it and the current
        # version, so that saving again is a decision taken knowing both.
        return _render_form(
            project,
            data | {"version": project.version},
            {},
            pm_ids if pm_ids is not None else [u.id for u in project.pms],
            409,
            meanwhile=_meanwhile(project, data, pm_ids),
        )
    flash("Project saved.", "success")
    return redirect_to(url_for("projects.detail", project_id=project.id))


def _meanwhile(project, data, pm_ids):
    """What changed under a stale edit form: the saved value of each field beside the typed one."""
    clients = queries.client_names([data.get("client_id"), project.client_id])
    names = {str(p.id): p.name for p in queries.pm_form_choices(current_user, pm_ids or ())[1]}
    names |= {str(p.id): p.name for p in queries.pm_choices(limit=queries.PICKER_LIMIT)}
    names |= {str(u.id): u.name for u in project.pms}
    typed = dict(data) | ({"pm_ids": pm_ids} if pm_ids is not None else {})
    return meanwhile(
        project,
        typed,
        (*services.EDITABLE, "pm_ids"),
        saved={"pm_ids": [u.id for u in project.pms]},
        labels={"pm_ids": "project managers"},
        show={
            "client_id": lambda v: clients.get(str(v), ""),
            "pm_ids": lambda ids: ", ".join(sorted(names.get(str(i), f"#{i}") for i in ids or ())),
            "budget": _budget_text,
        },
    )


def _budget_text(value) -> str:
    try:
        return money(value) if value not in (None, "") else ""
    except ValueError:
        return str(value)  # what was typed, as typed


@bp.get("/projects/<int:project_id>/close")
@login_required
def close_checklist(project_id):
    """Before closing: what is still open (tasks; invoices when they arrive), to confirm."""
    project = services.get_project(current_user, project_id, "project.close")
    return render_template("projects/close.html", project=project, checklist=services.closing_checklist(project))


@bp.post("/projects/<int:project_id>/close")
@login_required
def close(project_id):
    project = services.get_project(current_user, project_id, "project.close")
    services.close_project(current_user, project)
    flash(f"Project {project.name} is closed and archived.", "success")
    return redirect_to(url_for("projects.detail", project_id=project.id))


@bp.post("/projects/<int:project_id>/reopen")
@login_required
def reopen(project_id):
    project = services.get_project(current_user, project_id, "project.reopen")
    reason = request.form.get("reason", "")
    try:
        with attempt():
            services.reopen_project(current_user, project, reason)
    except ValidationError as exc:
        return _render_detail(project, 422, exc.fields, reason)
    flash(f"Project {project.name} is open again.", "success")
    return redirect_to(url_for("projects.detail", project_id=project.id))


@bp.post("/projects/<int:project_id>/delete")
@login_required
def delete(project_id):
    project = services.get_project(current_user, project_id, "project.delete")
    name = project.name
    services.delete_project(current_user, project)
    flash(f"Project {name} deleted.", "success")
    return redirect_to(url_for("projects.index"))
