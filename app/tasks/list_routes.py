"""The PM's task views: a project's task list (filters, sort, inline edits, bulk actions
on a multi-selection), the board, the company-wide list. Thin: parse, call a service,
render the fragment htmx swaps (or the whole page without JavaScript)."""

from __future__ import annotations

from datetime import date

from flask import make_response, render_template, request, url_for
from flask_login import current_user, login_required

from app.core.errors import ConflictError, ValidationError
from app.core.htmx import render_for
from app.core.numbers import page_number, to_int
from app.core.permissions import PermissionDenied, permission_required
from app.core.transaction import attempt
from app.core.versioning import StaleObject, current
from app.projects.queries import OPTIONS_LIMIT, typed_choice
from app.projects.services import get_project
from app.tasks import bp, bulk, queries, services
from app.tasks.conflicts import conflicts_for
from app.tasks.lines import TaskLine
from app.tasks.models import PRIORITY_LABELS, STATUS_LABELS, STATUSES

PER_PAGE = 25  # as the project list; rows are cards on a phone, and a live refresh redraws the page
STATUS_OPTIONS = [(s, STATUS_LABELS[s]) for s in STATUSES]
FILTER_STATUS_OPTIONS = [("open", "Open (to do, in progress, blocked)"), *STATUS_OPTIONS, ("", "All")]
SORTS = {
    "due": "due_date",
    "priority": "priority",
    "status": "status",
    "title": "title",
    "progress": "progress_percent",
}


def _day(value) -> date | None:
    """A date filter from the query string; one that is not a date is ignored (a list's
    filter, not a form: nothing to correct)."""
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _filters(args, project=None) -> tuple[queries.TaskFilters, list | None]:
    """The list's filters from its query (the query string, or a bulk action's form), and
    the Assignee picker's suggestions, or None. The picker's box sent without a click (no
    JavaScript: `assignee_search`) is resolved here among the people the user may assign
    (projects.queries.typed_choice): blank is anyone; the chosen one still matching, the
    only match or the one whose whole name it is filters; else the list is not filtered
    by person and the matches come back as suggestions."""
    sort = args.get("sort", "due")
    field = SORTS.get(sort, "due_date")
    status = args.get("status", "open")
    assignee_id, suggestions = to_int(args.get("assignee", "")), None
    if "assignee_search" in args:
        typed = _typed(args, "assignee_search")
        found = queries.people_options(current_user, project, typed) if typed else []
        assignee_id, suggestions = typed_choice(found, assignee_id, typed)
    filters = queries.TaskFilters(
        project_id=project.id if project else None,
        assignee_id=assignee_id,
        status=status if status in ("open", "", *STATUSES) else "open",
        overdue=True if args.get("overdue") == "1" else None,
        conflict=True if args.get("conflict") == "1" else None,
        due_from=_day(args.get("due_from")),
        due_to=_day(args.get("due_to")),
        search=args.get("q", "").strip()[:100],
        ordering=((field, args.get("dir") == "desc"), ("priority", False)),
    )
    return filters, suggestions


def _typed(args, name: str) -> str:
    """A picker's box as sent (its text, trimmed to what a name search needs)."""
    return args.get(name, "").strip()[:100]


def _args(args) -> dict:
    return {
        k: v
        for k, v in args.items()
        if k in ("status", "assignee", "overdue", "conflict", "due_from", "due_to", "q", "sort", "dir")
    }


def _context(project, endpoint: str, endpoint_args: dict, query=None) -> dict:
    """The list's context; `query` holds its filters, sort and page (the query string, or
    a bulk action's form, which carries the list's live state along)."""
    query = request.args if query is None else query
    filters, suggestions = _filters(query, project)
    page = queries.task_lines(current_user, filters, page_number(query.get("page")), PER_PAGE)
    args = {**_args(query), **endpoint_args}
    if "assignee_search" in query:  # the typed name, settled or not: what is shown carries the id
        args.pop("assignee", None)
        if filters.assignee_id is not None:
            args["assignee"] = filters.assignee_id
    kept = {k: v for k, v in args.items() if k not in ("assignee", "page")}
    return {
        "project": project,
        "page": page,
        "conflicts": conflicts_for([t.id for t in page.items], current_user),
        "filters": filters,
        "args": args,
        "endpoint": endpoint,
        # every assignable person while they are few (a select), else None (a picker)
        "people": queries.people_choices(current_user, project, filters.assignee_id),
        "people_source": url_for("tasks.people_options", **({"project_id": project.id} if project else {})),
        "assignee_suggestions": suggestions,
        "assignee_typed": _typed(query, "assignee_search"),
        "choose_assignee": lambda person_id: url_for(endpoint, **kept, assignee=person_id),
        "options_limit": OPTIONS_LIMIT,
        "bulk_typed": "",
        "status_labels": STATUS_LABELS,
        "priority_labels": PRIORITY_LABELS,
        "statuses": STATUSES,
        "status_options": STATUS_OPTIONS,
        "filter_status_options": FILTER_STATUS_OPTIONS,
        "bulk_action_options": list(bulk.ACTIONS.items()),
        "today": services.today(),
        "may_add_task": project is not None and services.may_create(current_user, project),
        "may_reassign": _may_reassign(),
    }


@bp.get("/projects/<int:project_id>/tasks")
@login_required
@permission_required("task.view")
def project_tasks(project_id):
    project = get_project(current_user, project_id)
    context = _context(project, "tasks.project_tasks", {"project_id": project.id})
    return render_for({"task-results": "tasks/_table.html"}, "tasks/list.html", **context)


@bp.get("/tasks")
@login_required
@permission_required("task.view")
def index():
    context = _context(None, "tasks.index", {})
    return render_for({"task-results": "tasks/_table.html"}, "tasks/list.html", **context)


def _list_of(project) -> tuple[str, dict]:
    """The endpoint of the task list (a project's, or the company-wide one) and its args."""
    return ("tasks.project_tasks", {"project_id": project.id}) if project else ("tasks.index", {})


@bp.get("/tasks/people-options")
@login_required
@permission_required("task.view")
def people_options():
    """The people pickers' suggestions for what was typed (at most OPTIONS_LIMIT) among
    the people the user may assign — the project's when `project_id` names one (404 when
    the user cannot see it). The Assignee filter sends `assignee_search`, the bulk bar's
    reassign `value_search`; a suggestion's link (without JavaScript) filters the list."""
    project_id = to_int(request.args.get("project_id", ""))
    project = get_project(current_user, project_id) if project_id is not None else None
    typed = (
        _typed(request.args, "assignee_search")
        or _typed(request.args, "value_search")
        or _typed(request.args, "assigned_to_ids_search")  # the task form's People
    )
    endpoint, endpoint_args = _list_of(project)
    return render_template(
        "_picker_options.html",
        found=queries.people_options(current_user, project, typed),
        choose=lambda person_id: url_for(endpoint, **endpoint_args, assignee=person_id),
        limit=OPTIONS_LIMIT,
    )


# The button beside a row's reason box, by the status the reason is for.
REASON_ACTIONS = {
    "in_progress": "Start anyway",
    "blocked": "Mark blocked",
    "pending": "Reopen",
    "completed": "Finish anyway",
}


def _row(task, errors=None, notice="", status: int = 200, wanted: str = "", editing_people: bool = False):
    editor = {}
    if editing_people or (errors and "assigned_to_ids" in errors):
        editor = {
            "editing_people": True,
            "people_choices": queries.people_choices(current_user, task.project),
            "chosen_people": queries.people_named(task.assignee_ids),
            "people_source": url_for("tasks.people_options", project_id=task.project_id),
        }
    return make_response(
        render_template(
            "tasks/_row.html",
            task=TaskLine.of(task),
            may_reassign=_may_reassign(),
            **editor,
            wanted=wanted if wanted in REASON_ACTIONS else "in_progress",
            reason_actions=REASON_ACTIONS,
            task_conflicts=conflicts_for([task.id], current_user).get(task.id, []),
            errors=errors or {},
            notice=notice,
            show_project=(request.form.get("show_project") or request.args.get("show_project")) == "1",
            status_labels=STATUS_LABELS,
            status_options=STATUS_OPTIONS,
            today=services.today(),
        ),
        status,
    )


INLINE = ("status", "start_date", "due_date", "progress_percent", "assignees")


def _may_reassign() -> bool:
    """Does the user's role change who does tasks at all (the matrix's task.reassign)? The
    rows offer "Change" then; the service still judges each task."""
    from app.core.permissions import NONE, scope_of

    return scope_of(current_user, "task.reassign") != NONE


@bp.get("/tasks/<int:task_id>/row")
@login_required
@permission_required("task.view")
def row(task_id):
    """One row of the task list as it is now (an editor cancelled)."""
    return _row(services.get_task(current_user, task_id))


@bp.get("/tasks/<int:task_id>/people-editor")
@login_required
@permission_required("task.reassign")
def people_editor(task_id):
    """The row with its People cell as an editor: a box per person while they are few,
    else the search picker; Save sends them (inline, field "assignees")."""
    task = services.get_task(current_user, task_id, "task.reassign")
    return _row(task, editing_people=True)


@bp.post("/tasks/<int:task_id>/inline")
@login_required
def inline(task_id):
    """One field of a row changed in place (status, dates, progress, people): the row
    comes back."""
    task = services.get_task(current_user, task_id, "task.modify")
    field = request.form.get("field", "")
    if field not in INLINE:
        return _row(task, {"form": "That field cannot be changed here."}, status=422)
    value = request.form.get(field, "")
    version = request.form.get("version")
    try:
        with attempt():
            if field == "assignees":
                people = request.form.getlist("assigned_to_ids")
                services.update_task(current_user, task, {}, assignee_ids=people, partial=True, version=version)
            elif field == "status":
                services.set_status(
                    current_user, task, services.Move(value, request.form.get("reason")), version=version
                )
            else:
                services.update_task(current_user, task, {field: value}, partial=True, version=version)
    except ValidationError as exc:
        wanted = value if field == "status" else ""
        return _row(task, exc.fields or {"form": exc.message}, status=422, wanted=wanted)
    except StaleObject as exc:
        return _row(current(exc.obj), {"form": "Changed meanwhile by someone else; this is it now."}, status=409)
    except (ConflictError, PermissionDenied) as exc:
        return _row(task, {"form": exc.message}, status=422)
    return _row(task, notice="Saved.")


@bp.post("/tasks/bulk")
@login_required
@permission_required("task.modify")
def bulk_action():
    """All or nothing on the selected tasks; the list comes back with what happened."""
    project_id = to_int(request.form.get("project_id", ""))
    project = get_project(current_user, project_id) if project_id else None
    action = request.form.get("action", "")
    value = request.form.getlist("value") if action == "reassign" else request.form.get("value", "")
    ids = request.form.getlist("task_ids")
    refused, message, status, unsettled = [], "", 422, ""
    if action == "reassign" and "value_search" in request.form:
        # the Person picker's box sent without a click (no JavaScript): the typed name
        value, unsettled, refused = _typed_person(project, value, _typed(request.form, "value_search"))
    if not unsettled:
        try:
            result = bulk.apply(current_user, ids, action, value)
            message = f"Done: {result.done} task{'s' if result.done != 1 else ''} changed."
            status = 200
        except bulk.BulkRefused as exc:
            refused = bulk.refusal_lines(exc.result)
        except ValidationError as exc:
            refused = list(exc.fields.values()) or [exc.message]
    endpoint, endpoint_args = _list_of(project)
    context = _context(project, endpoint, endpoint_args, request.form)  # the shown filters and page
    context["bulk_typed"] = unsettled  # a name that did not settle on one person stays in the box
    return make_response(
        render_template("tasks/_table.html", bulk_message=message, bulk_refused=refused, selected=set(ids), **context),
        status,
    )


def _typed_person(project, value: list, typed: str) -> tuple[list, str, list]:
    """The bulk bar's Person picker sent without a click: (the person to reassign to, the
    typed text when it settles on nobody, and then why). It settles on the chosen one
    still matching the text, the only match, or the one whose whole name it is
    (projects.queries.typed_choice among the people the user may assign). A blank box
    leaves the picker's value as it was."""
    if not typed:
        return value, "", []
    chosen = to_int(value[0]) if len(value) == 1 else None
    person_id, found = typed_choice(queries.people_options(current_user, project, typed), chosen, typed)
    if person_id is not None:
        return [str(person_id)], "", []
    if found:
        return [], typed, [f"Several people match “{typed}”: type more of the name."]
    return [], typed, [f"No one you may give tasks to matches “{typed}”."]


def list_url(project) -> str:
    return url_for("tasks.project_tasks", project_id=project.id) if project else url_for("tasks.index")


# --- the board -----------------------------------------------------------------------

BOARD_COLUMNS = ("pending", "in_progress", "blocked", "completed")
BOARD_LIMIT = 300  # cards per project board; a painting job rarely has more than ~60


@bp.get("/projects/<int:project_id>/board")
@login_required
@permission_required("task.view")
def board(project_id):
    project = get_project(current_user, project_id)
    tasks = queries.board(current_user, project.id, BOARD_LIMIT)
    columns = {status: [t for t in tasks if t.status == status] for status in BOARD_COLUMNS}
    return render_template(
        "tasks/board.html",
        project=project,
        columns=columns,
        conflicts=conflicts_for([t.id for t in tasks], current_user),
        status_labels=STATUS_LABELS,
        today=services.today(),
    )


@bp.post("/tasks/<int:task_id>/move")
@login_required
def move(task_id):
    """A card dropped in another column: the move goes through the rules. Refused, the
    answer (409 stale, 422 a rule) carries the reason and the board puts the card back."""
    task = services.get_task(current_user, task_id, "task.view")
    target = request.form.get("status", "")
    try:
        with attempt():
            services.set_status(
                current_user,
                task,
                services.Move(target, request.form.get("reason")),
                version=request.form.get("version"),
            )
    except StaleObject as exc:
        task = current(exc.obj)
        return _board_card(task, "Someone changed this task meanwhile; it is back where it is now.", 409)
    except ValidationError as exc:
        return _board_card(task, "; ".join(exc.fields.values()) or exc.message, 422)
    except (ConflictError, PermissionDenied) as exc:
        return _board_card(task, exc.message, 422 if isinstance(exc, ConflictError) else 403)
    return _board_card(task, "", 200)


def _board_card(task, message: str, status: int):
    response = make_response(
        render_template(
            "tasks/_board_card.html",
            task=task,
            task_conflicts=conflicts_for([task.id], current_user).get(task.id, []),
            status_labels=STATUS_LABELS,
            today=services.today(),
        ),
        status,
    )
    if message:
        response.headers["X-Kibray-Refusal"] = message.encode("ascii", "xmlcharrefreplace").decode()
    return response


# --- time analysis -------------------------------------------------------------------


@bp.get("/projects/<int:project_id>/tasks/time")
@login_required
@permission_required("task.view")
def time_analysis(project_id):
    project = get_project(current_user, project_id)
    analysis = queries.time_analysis(current_user, project.id)
    return render_template("tasks/time.html", project=project, analysis=analysis)


@bp.get("/projects/<int:project_id>/tasks/time.csv")
@login_required
@permission_required("task.view")
def time_csv(project_id):
    project = get_project(current_user, project_id)
    body = queries.time_csv(queries.time_analysis(current_user, project.id))
    response = make_response(body)
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="tasks-time-project-{project.id}.csv"'
    return response
