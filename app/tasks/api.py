"""/api/tasks/: list (filters, ordering, pagination), detail, create, PUT, PATCH, DELETE,
…/progress/ and …/complete/ (SPEC.md §4–5). Routes translate HTTP; the rules are the
service's (app/tasks/services.py), the reads the queries' (app/tasks/queries.py)."""

from __future__ import annotations

from flask import Blueprint, request
from flask_login import current_user

from app.core.api import api_ok, conflicts_show, paginate, sent_version, with_etag
from app.core.errors import ValidationError
from app.core.openapi import operation
from app.core.permissions import require
from app.core.schemas import given, request_body, request_query
from app.core.uploads import accepts_uploads
from app.tasks import attachments, queries, services
from app.tasks.conflicts import conflicts_for
from app.tasks.models import Task
from app.tasks.schemas import (
    CompleteInput,
    Deleted,
    ProgressInput,
    TaskCreate,
    TaskOut,
    TaskPatch,
    TaskPut,
    TaskQuery,
)
from app.tasks.serialize import task_json

bp = Blueprint("tasks", __name__)

FIELDS = services.EDITABLE


def _input(body) -> tuple[dict, list | None, list | None]:
    data = given(body, exclude=("assigned_to_ids", "dependency_ids", "version", "project_id", "status", "reason"))
    if body.checklist is not None:
        data["checklist"] = [given(item) for item in body.checklist]
    return data, body.assigned_to_ids, body.dependency_ids


def _one(task: Task) -> dict:
    return task_json(task, conflicts_for([task.id], current_user).get(task.id, []), services.today())


@bp.get("/tasks/")
@operation("List tasks", returns=TaskOut, paged=True, query=TaskQuery)
def api_list():
    require(current_user, "task.view")
    query = request_query()
    filters = queries.TaskFilters(
        project_id=query.project_id,
        assignee_id=query.assigned_to,
        status=query.status or "",
        due_from=query.due_date_from,
        due_to=query.due_date_to,
        overdue=None if query.is_overdue is None else query.is_overdue == "true",
        conflict=None if query.has_conflict is None else query.has_conflict == "true",
        search=(query.search or "").strip(),
        ordering=queries.parse_ordering(request.args.get("ordering")),
    )
    stmt = queries.task_list(current_user, filters)
    today = services.today()

    def serialize_page(tasks):
        found = conflicts_for([t.id for t in tasks], current_user)
        return [task_json(t, found.get(t.id, []), today) for t in tasks]

    return paginate(stmt, serialize_page=serialize_page)


@bp.post("/tasks/")
@operation("Create a task", body=TaskCreate, returns=TaskOut, status=201)
def api_create():
    require(current_user, "task.create")
    body = request_body()
    project = services.project_for_new_task(current_user, body.project_id)
    data, people, needs = _input(body)
    task = services.create_task(current_user, project, data, people, needs)
    return with_etag(api_ok(_one(task), 201), task)


@bp.get("/tasks/<int:task_id>/")
@operation("A task", returns=TaskOut, headers={"ETag": 'The version, as "3".'})
def api_detail(task_id):
    task = services.get_task(current_user, task_id)
    return with_etag(api_ok(_one(task)), task)


def _current(task: Task) -> dict:
    return _one(task)


@bp.route("/tasks/<int:task_id>/", methods=["PUT", "PATCH"])
@operation(
    "Replace (PUT) or change (PATCH) a task",
    body=TaskPut,
    patch=TaskPatch,
    returns=TaskOut,
    if_match=True,
    description=(
        "Send `version` (or If-Match) to refuse the write if the task changed meanwhile. A PATCH with `status` "
        "moves the task through the rules (with `reason` where one is needed)."
    ),
)
def api_update(task_id):
    task = services.get_task(current_user, task_id, "task.modify")
    body = request_body()
    data, people, needs = _input(body)
    version = sent_version(body.version)
    partial = request.method == "PATCH"
    if not partial and "title" not in data:
        raise ValidationError({"title": "This field is required."})
    with conflicts_show(_current):
        if data or people is not None or needs is not None or not partial:
            services.update_task(current_user, task, data, people, needs, partial=partial, version=version)
            version = None  # checked once
        if body.status is not None:
            services.set_status(current_user, task, services.Move(body.status, body.reason), version=version)
    return with_etag(api_ok(_one(task)), task)


@bp.patch("/tasks/<int:task_id>/progress/")
@operation("Report progress on a task", body=ProgressInput, returns=TaskOut, if_match=True)
def api_progress(task_id):
    task = services.get_task(current_user, task_id, "task.modify")
    body = request_body()
    with conflicts_show(_current):
        services.report_progress(
            current_user, task, given(body, exclude=("version",)), version=sent_version(body.version)
        )
    return with_etag(api_ok(_one(task)), task)


@bp.post("/tasks/<int:task_id>/complete/")
@accepts_uploads(2)
@operation("Complete a task", body=CompleteInput, returns=TaskOut, if_match=True)
def api_complete(task_id):
    task = services.get_task(current_user, task_id, "task.complete")
    body = request_body()
    photo = attachments.decode_photo(body.completion_photo) if body.completion_photo else None
    with conflicts_show(_current):
        services.complete_task(
            current_user, task, notes=body.completion_notes, override=body.reason, version=sent_version(body.version)
        )
        if photo is not None:
            services.add_photo(current_user, task, photo[0], caption="Completion photo")
    return with_etag(api_ok(_one(task)), task)


@bp.delete("/tasks/<int:task_id>/")
@operation("Delete a task", returns=Deleted, if_match=True, description="Refused while other tasks depend on it.")
def api_delete(task_id):
    task = services.get_task(current_user, task_id, "task.delete")
    with conflicts_show(_current):
        services.delete_task(current_user, task, version=sent_version(None))
    return api_ok({"id": task_id, "deleted": True})
