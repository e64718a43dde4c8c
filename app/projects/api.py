"""/api/projects/: list (filters, ordering, pagination), detail, create, PUT, PATCH, DELETE."""

from __future__ import annotations

from flask import Blueprint, request
from flask_login import current_user

from app.core.api import api_ok, conflicts_show, paginate, ref, sent_version, with_etag
from app.core.errors import ValidationError
from app.core.money import money_str
from app.core.openapi import operation
from app.core.permissions import RowOf, require, signed_in_user
from app.core.schemas import given, request_body, request_query
from app.extensions import db
from app.projects import queries, services
from app.projects.models import Project
from app.projects.schemas import (
    Deleted,
    ProjectCreate,
    ProjectDetail,
    ProjectInput,
    ProjectOut,
    ProjectPatch,
    ProjectPut,
    ProjectQuery,
    ReopenInput,
)
from app.projects.views import PROJECT_VIEW

# Under the one /api blueprint (app/api): /api/projects/…
bp = Blueprint("projects", __name__)

# What a PUT replaces: the fields this API exposes (internal notes are not among them).
API_FIELDS = (
    "name",
    "client_id",
    "description",
    "budget",
    "start_date",
    "end_date",
    "notes",
    "address",
    "city",
    "state",
    "zip",
)


def project_json(project: Project, detail: bool = False) -> dict:
    """The API shape of a Project; its PMs in the list's order (queries.managers_of)."""
    hidden = PROJECT_VIEW.hidden(current_user, project)
    team = [m.user_id for m in project.memberships]
    managers = [{"id": i, "name": n} for i, n in queries.managers_of(team, queries.pm_names())]
    data = _shape(project, ref(project.client), managers, hidden)
    return _with_profitability(data, hidden) if detail else data


def list_json(row, names, hidden_of) -> dict:
    """The API shape of a row of the list (queries.API_COLUMNS, the client's name and the
    team column): the same fields as project_json, without building a Project.
    `hidden_of`: PROJECT_VIEW.hidden_each(viewer)."""
    hidden = hidden_of(RowOf(Project, row))
    managers = [{"id": i, "name": n} for i, n in queries.managers_of(row.team_ids, names)]
    return _shape(row, {"id": row.client_id, "name": row.client_name}, managers, hidden)


def _shape(project, client, managers, hidden) -> dict:
    return {
        "id": project.id,
        "name": project.name,
        "description": project.description,
        "client": client,
        "status": project.status,
        "assigned_pms": managers,
        "budget": money_str(project.budget) if "budget" not in hidden else None,
        "contract_value": money_str(project.contract_value) if "contract_value" not in hidden else None,
        "start_date": project.start_date.isoformat() if project.start_date else None,
        "end_date": project.end_date.isoformat() if project.end_date else None,
        "progress_percent": project.progress_percent,
        "location": {"address": project.address, "city": project.city, "state": project.state, "zip": project.zip},
        "version": project.version,
        "created_at": project.created_at.isoformat(),
        "updated_at": project.updated_at.isoformat(),
    }


def _with_profitability(data: dict, hidden) -> dict:
    if "profitability" not in hidden:
        # the reports' own figures (app/reports/services.py), so the detail and
        # /api/financials/profitability/{id}/ always agree
        from app.reports.services import project_profitability

        money = project_profitability(current_user, data["id"])
        data["profitability"] = {
            "total_invoiced": money_str(money.invoiced),
            "total_paid": money_str(money.collected),
            "total_expenses": money_str(money.expenses),
            "profit": money_str(money.profit),
            "roi": None if money.roi is None else str(money.roi),
        }
    return data


def _input(body: ProjectInput) -> tuple[dict, list[int] | None]:
    """The parsed body → the service's field names (location's fields are top level)."""
    data = given(body, exclude=("location", "assigned_pm_ids", "version"))
    if body.location is not None:
        data.update(given(body.location))
    return data, body.assigned_pm_ids


def _ordering() -> tuple[tuple[str, bool], ...]:
    """`ordering=-budget,name` → (("budget", True), ("name", False)); checked by the service."""
    fields = []
    for part in request.args.get("ordering", "").split(","):
        part = part.strip()
        if part:
            fields.append((part.lstrip("-"), part.startswith("-")))
    return tuple(fields) or (("name", False),)


# The API's query parameter for each filter field (the service's error keys).
PARAMS = {"pm_id": "assigned_pm", "client_id": "client"}


@bp.get("/projects/")
@operation("List projects", returns=ProjectOut, paged=True, query=ProjectQuery)
def api_list():
    require(current_user, "project.view")
    query = request_query()
    filters = queries.ProjectFilters(
        search=(query.search or "").strip(),
        status=query.status or queries.ALL_STATUSES,  # the API lists every status unless asked
        pm_id=query.assigned_pm,
        client_id=query.client,
        ordering=_ordering(),
    )
    try:
        stmt = queries.project_list(current_user, filters, shape="api")
    except ValidationError as exc:
        raise ValidationError({PARAMS.get(k, k): v for k, v in exc.fields.items()}) from None

    def serialize_page(rows):
        hidden_of = PROJECT_VIEW.hidden_each(signed_in_user())
        names = queries.pm_names() if rows else {}  # read once for the page's rows
        return [list_json(row, names, hidden_of) for row in rows]

    return paginate(
        stmt,
        serialize_page=serialize_page,
        columns=(queries.team_column(db.session.get_bind().dialect.name),),
        source=queries.search_page_source(current_user, filters, shape="api"),
        rows=True,
    )


@bp.post("/projects/")
@operation("Create a project", body=ProjectCreate, returns=ProjectDetail, status=201)
def api_create():
    data, pm_ids = _input(request_body())
    project = services.create_project(current_user, data, pm_ids)
    return with_etag(api_ok(project_json(project, detail=True), 201), project)


@bp.get("/projects/<int:project_id>/")
@operation("A project", returns=ProjectDetail, headers={"ETag": 'The version, as "3".'})
def api_detail(project_id):
    project = services.get_project(current_user, project_id)
    return with_etag(api_ok(project_json(project, detail=True)), project)


def _current(project: Project) -> dict:
    """The current project, as a stale write's 409 shows it in `error.details`."""
    return project_json(project, detail=True)


@bp.route("/projects/<int:project_id>/", methods=["PUT", "PATCH"])
@operation(
    "Replace (PUT) or change (PATCH) a project",
    body=ProjectPut,
    patch=ProjectPatch,
    returns=ProjectDetail,
    if_match=True,
    description="Send `version` (or If-Match) to refuse the write if someone changed the project meanwhile.",
)
def api_update(project_id):
    project = services.get_project(current_user, project_id, "project.edit")
    body = request_body()
    data, pm_ids = _input(body)
    version = sent_version(body.version)  # `version` or If-Match; none: the last write wins
    partial = request.method == "PATCH"
    if not partial:
        missing = {k: "This field is required." for k in ("name", "client_id") if k not in data}
        if "address" not in data:
            missing["location"] = "This field is required (with an address)."
        if missing:
            raise ValidationError(missing)
    with conflicts_show(_current):
        services.update_project(
            current_user, project, data, pm_ids, partial=partial, fields=API_FIELDS, version=version
        )
    return with_etag(api_ok(project_json(project, detail=True)), project)


@bp.post("/projects/<int:project_id>/reopen/")
@operation("Reopen a closed project", body=ReopenInput, returns=ProjectDetail, if_match=True)
def api_reopen(project_id):
    project = services.get_project(current_user, project_id, "project.reopen")
    body = request_body()
    with conflicts_show(_current):
        services.reopen_project(current_user, project, body.reason, version=sent_version(body.version))
    return with_etag(api_ok(project_json(project, detail=True)), project)


@bp.delete("/projects/<int:project_id>/")
@operation(
    "Delete a project", returns=Deleted, if_match=True, description="Send If-Match to delete only the version you saw."
)
def api_delete(project_id):
    project = services.get_project(current_user, project_id, "project.delete")
    with conflicts_show(_current):  # If-Match: delete only the version that was seen
        services.delete_project(current_user, project, version=sent_version(None))
    return api_ok({"id": project_id, "deleted": True})
