"""Comment threads under a task or a project: the thread fragment, posting, editing and
deleting one's own, and the @mention suggestions. Thin: parse, call a service, render."""

from __future__ import annotations

from flask import render_template, request
from flask_login import current_user, login_required

from app.comments import bp, services
from app.comments.markdown import mentions_in, render
from app.core.errors import ConflictError, ValidationError
from app.core.htmx import render_for
from app.core.permissions import PermissionDenied
from app.core.transaction import attempt
from app.core.versioning import StaleObject, meanwhile
from app.projects.services import get_project
from app.tasks.services import get_task


def _thread(target, kind: str, errors=None, typed: str = "", status: int = 200, stale=None):
    """The thread: only its content when aimed at its wrapper (a post, an edit, a live
    refresh: `HX-Target` comments-<kind>-<id>), else with the wrapper (the page's slot)."""
    comments = services.comments_on(current_user, target)
    return render_for(
        {f"comments-{kind}-{target.id}": "comments/_thread_body.html"},
        "comments/_thread.html",
        status,
        target=target,
        kind=kind,
        comments=comments,
        errors=errors or {},
        typed=typed,
        rendered={c.id: render(c.body, set(mentions_in(c.body))) for c in comments},
        can_change=lambda c: services.can_change(current_user, c),
        meanwhile=stale,
    )


def _target(kind: str, object_id: int):
    if kind == "task":
        return get_task(current_user, object_id)
    if kind == "client":
        return services.ClientThread(get_project(current_user, object_id))
    return get_project(current_user, object_id)


def _show(kind: str, object_id: int):
    target = _target(kind, object_id)
    services.require_read(current_user, target)
    return _thread(target, kind)


def _post(kind: str, object_id: int):
    target = _target(kind, object_id)
    body = request.form.get("body", "")
    try:
        with attempt():
            services.add_comment(current_user, target, body)
    except ValidationError as exc:
        return _thread(target, kind, exc.fields, body, 422)
    except PermissionDenied as exc:
        return _thread(target, kind, {"body": exc.message}, body, 403)
    return _thread(target, kind)


@bp.get("/tasks/<int:task_id>/comments")
@login_required
def task_thread(task_id):
    return _show("task", task_id)


@bp.get("/projects/<int:project_id>/comments")
@login_required
def project_thread(project_id):
    return _show("project", project_id)


@bp.get("/projects/<int:project_id>/client-comments")
@login_required
def client_thread(project_id):
    """The project's conversation with its client (both sides read and write it)."""
    return _show("client", project_id)


@bp.post("/projects/<int:project_id>/client-comments")
@login_required
def client_post(project_id):
    return _post("client", project_id)


@bp.get("/projects/<int:project_id>/client-mention-options")
@login_required
def client_mentions(project_id):
    return _mentions("client", project_id)


@bp.post("/tasks/<int:task_id>/comments")
@login_required
def task_post(task_id):
    return _post("task", task_id)


@bp.post("/projects/<int:project_id>/comments")
@login_required
def project_post(project_id):
    return _post("project", project_id)


def _change(comment_id: int, do):
    """Edit or delete one's own comment, from the version the thread showed (its hidden
    field); the thread comes back (with the refusal in place). A stale version: nothing is
    changed, 409 and the thread as saved now with "changed meanwhile" (what was typed
    beside it), its forms carrying the current version."""
    comment, target = services.get_comment(current_user, comment_id)
    kind = "client" if comment.for_client else "task" if comment.task_id else "project"
    body = request.form.get("body", "")
    version = request.form.get("version")
    try:
        with attempt():
            do(comment, target, body, version)
    except StaleObject:
        typed = {"body": body} if "body" in request.form else {}
        return _thread(target, kind, status=409, stale=meanwhile(comment, typed, ("body",)))
    except ValidationError as exc:
        return _thread(target, kind, exc.fields, body, 422)
    except (ConflictError, PermissionDenied) as exc:
        return _thread(target, kind, {"body": exc.message}, "", 422)
    return _thread(target, kind)


@bp.post("/comments/<int:comment_id>/edit")
@login_required
def edit(comment_id):
    return _change(
        comment_id,
        lambda comment, target, body, version: services.edit_comment(current_user, comment, target, body, version),
    )


@bp.post("/comments/<int:comment_id>/delete")
@login_required
def delete(comment_id):
    return _change(
        comment_id,
        lambda comment, target, body, version: services.delete_comment(current_user, comment, target, version),
    )


def _mentions(kind: str, object_id: int):
    target = _target(kind, object_id)
    people = services.mentionable(current_user, target, request.args.get("q", "").strip()[:50])
    return render_template("comments/_mention_options.html", people=people)


@bp.get("/tasks/<int:task_id>/mention-options")
@login_required
def task_mentions(task_id):
    return _mentions("task", task_id)


@bp.get("/projects/<int:project_id>/mention-options")
@login_required
def project_mentions(project_id):
    return _mentions("project", project_id)
