"""A task's own form in the browser: add a task to a project, edit every field of one
(people, dependencies and checklist included), delete one. Thin: parse the form, call
the service (the same rules as the API), render the form again with the problems
inline (422), or with what was saved meanwhile (409) — never a silent overwrite.

Employees report progress from My day (tasks/routes.py); the form is for whoever may
change more than progress (the matrix's task.modify beyond "O", and designers on their
design tasks)."""

from __future__ import annotations

from flask import flash, request, url_for
from flask_login import current_user, login_required

from app.core.errors import ConflictError, ValidationError
from app.core.htmx import redirect_to, render_for
from app.core.permissions import can, permission_required
from app.core.transaction import attempt
from app.core.versioning import StaleObject, meanwhile
from app.projects.queries import OPTIONS_LIMIT, typed_choice
from app.projects.services import get_project
from app.tasks import bp, queries, services
from app.tasks.models import PRIORITIES, PRIORITY_LABELS, Task

CHECKED = "[x] "  # a checklist line ticked already (the form's textarea, one item a line)


def _checklist_text(items) -> str:
    return "\n".join(f"{CHECKED if c.get('checked') else ''}{c.get('item', '')}" for c in items or ())


def _checklist(text: str) -> list[dict]:
    """The textarea's lines as checklist items; "[x] " before an item keeps it ticked."""
    items = []
    for line in (text or "").splitlines():
        line = line.strip()
        if not line:
            continue
        ticked = line.lower().startswith(CHECKED.strip())
        item = line[len(CHECKED.strip()) :].strip() if ticked else line
        items.append({"item": item, "checked": ticked})
    return items


def _submitted(project) -> tuple[dict, list[str], list[str]]:
    """The form's fields in the service's terms, its people and its dependencies. The
    People picker's box sent without a click (no JavaScript) adds the person it settles
    on (projects.queries.typed_choice among the people the user may assign)."""
    form = request.form
    data = {key: form.get(key, "") for key in services.EDITABLE if key in form and key != "checklist"}
    if "is_design_field" in form:  # offered (not to a designer: their tasks stay design tasks)
        data["is_design"] = "is_design" in form
    if "checklist" in form:
        data["checklist"] = _checklist(form["checklist"])
    people = form.getlist("assigned_to_ids")
    typed = form.get("assigned_to_ids_search", "").strip()[:100]
    if typed:
        person_id, _ = typed_choice(queries.people_options(current_user, project, typed), None, typed)
        if person_id is not None and str(person_id) not in people:
            people.append(str(person_id))
    return data, people, form.getlist("dependency_ids")


def _shown(task: Task | None, data: dict | None = None) -> dict:
    """What the form shows: `data` as typed, else the task's values (blank for a new one)."""
    if data is not None:
        return {**data, "checklist": _checklist_text(data.get("checklist"))}
    if task is None:
        return {"priority": "normal", "schedule_weight": "10", "progress_percent": "0", "checklist": ""}
    values = {key: getattr(task, key) for key in services.EDITABLE}
    for key in ("start_date", "due_date"):
        values[key] = values[key].isoformat() if values[key] else ""
    values["estimated_hours"] = "" if task.estimated_hours is None else str(task.estimated_hours)
    values["checklist"] = _checklist_text(task.checklist)
    return values | {"version": task.version}


def _render(project, task, data, errors, people, needs, status=200, changed=None):
    chosen = {int(i) for i in people if str(i).isdigit()}
    return render_for(
        {"task-form": "tasks/_form.html"},
        "tasks/form.html",
        status,
        project=project,
        task=task,
        data=data,
        errors=errors,
        meanwhile=changed,
        people=queries.people_choices(current_user, project),
        chosen_people=queries.people_named(chosen),
        chosen_ids=chosen,
        needs={str(i) for i in needs},
        dependency_choices=queries.dependency_choices(current_user, project, task),
        people_source=url_for("tasks.people_options", project_id=project.id),
        priorities=[(p, PRIORITY_LABELS[p]) for p in PRIORITIES],
        options_limit=OPTIONS_LIMIT,
    )


def _project_for_new(project_id):
    """The project a task is added to: one the user sees (404) and may add tasks to (403)."""
    project = get_project(current_user, project_id)
    services.require_create(current_user, project)
    return project


@bp.get("/projects/<int:project_id>/tasks/new")
@login_required
@permission_required("task.create")
def new(project_id):
    return _render(_project_for_new(project_id), None, _shown(None), {}, [], [])


@bp.post("/projects/<int:project_id>/tasks/new")
@login_required
@permission_required("task.create")
def create(project_id):
    project = _project_for_new(project_id)
    data, people, needs = _submitted(project)
    try:
        with attempt():
            task = services.create_task(current_user, project, data, people, needs)
    except ValidationError as exc:
        return _render(project, None, _shown(None, data), exc.fields or {"form": exc.message}, people, needs, 422)
    except ConflictError as exc:  # a closed project
        return _render(project, None, _shown(None, data), {"form": exc.message}, people, needs, 409)
    flash(f"Task “{task.title}” added.", "success")
    return redirect_to(url_for("tasks.detail", task_id=task.id))


@bp.get("/tasks/<int:task_id>/edit")
@login_required
def edit(task_id):
    task = services.get_task(current_user, task_id, "task.modify")
    services.require_edit(current_user, task)
    return _render(task.project, task, _shown(task), {}, [str(i) for i in task.assignee_ids], task.dependency_ids)


@bp.post("/tasks/<int:task_id>/edit")
@login_required
def update(task_id):
    task = services.get_task(current_user, task_id, "task.modify")
    services.require_edit(current_user, task)
    data, people, needs = _submitted(task.project)
    version = request.form.get("version")
    may_reassign = can(current_user, "task.reassign", task)
    try:
        with attempt():
            services.update_task(
                current_user,
                task,
                data,
                people if may_reassign and "assigned_to_ids_field" in request.form else None,
                needs if "dependency_ids_field" in request.form else None,
                partial=True,  # what the form does not offer (a designer's design flag) is kept
                version=version,
            )
    except ValidationError as exc:
        shown = _shown(task, data) | {"version": version}
        return _render(task.project, task, shown, exc.fields or {"form": exc.message}, people, needs, 422)
    except StaleObject:
        # saved by someone else since this form was opened: nothing is overwritten; the
        # form comes back as typed, the saved values beside it, with the current version
        task = services.get_task(current_user, task_id, "task.modify")
        changed = meanwhile(task, data, [k for k in services.EDITABLE if k != "checklist"])
        shown = _shown(task, data) | {"version": task.version}
        return _render(task.project, task, shown, {}, people, needs, 409, changed=changed)
    except ConflictError as exc:
        shown = _shown(task, data) | {"version": version}
        return _render(task.project, task, shown, {"form": exc.message}, people, needs, 409)
    flash("Task saved.", "success")
    return redirect_to(url_for("tasks.detail", task_id=task.id))


@bp.post("/tasks/<int:task_id>/delete")
@login_required
def delete(task_id):
    """Delete the task (whoever the matrix lets: task.delete). Refused — another task
    depends on it, or it changed since the page was shown — the task's page comes back
    with the reason."""
    task = services.get_task(current_user, task_id, "task.delete")
    project_id = task.project_id
    try:
        with attempt():
            services.delete_task(current_user, task, version=request.form.get("version"))
    except ConflictError as exc:  # dependents, a stale page (StaleObject), a closed project
        flash(exc.message, "error")
        return redirect_to(url_for("tasks.detail", task_id=task_id))
    flash("Task deleted.", "success")
    return redirect_to(url_for("tasks.project_tasks", project_id=project_id))
