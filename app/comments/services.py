"""Comment rules: who may read and write comments on a task or a project, what a comment
may hold, @mentions (only of people who may see the object; each told once), editing and
deleting one's own within 15 minutes — from the version the thread showed (a stale one is
refused, core/versioning.py)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app.auth.models import User
from app.comments.markdown import mentions_in
from app.comments.models import Comment
from app.core.errors import ConflictError, ObjectNotFound, ValidationError
from app.core.events import publish
from app.core.models import utcnow
from app.core.permissions import PermissionDenied, can, require
from app.core.roles import ADMIN, CLIENT
from app.core.versioning import checks_version, expect_version
from app.extensions import db
from app.notifications.services import notify

MAX_LENGTH = 5000
EDIT_WINDOW = timedelta(minutes=15)
MAX_MENTIONS = 20


class ClientThread:
    """A project's conversation with its client (the portal's comments): read and written
    by the client's users and by the staff who may see the project."""

    def __init__(self, project):
        self.project = project
        self.id = project.id
        self.project_id = project.id
        self.name = project.name

    def __eq__(self, other):
        return isinstance(other, ClientThread) and other.id == self.id

    def __hash__(self):
        return hash(("client-thread", self.id))


def _target(comment_or_args):
    """The task, project or client thread a comment is on."""
    if getattr(comment_or_args, "for_client", False):
        from app.projects.models import Project

        project = db.session.get(Project, comment_or_args.project_id)
        return ClientThread(project) if project is not None else None
    if getattr(comment_or_args, "task_id", None):
        from app.tasks.models import Task

        return db.session.get(Task, comment_or_args.task_id)
    from app.projects.models import Project

    return db.session.get(Project, comment_or_args.project_id)


def may_read(user, target) -> bool:
    """Staff who may see the task (or the project) read its comments; a client only the
    client thread of their own company's projects."""
    if isinstance(target, ClientThread):  # the matrix's project.view: a client owns their company's
        return can(user, "project.view", target.project)
    if user.role == CLIENT:
        return False
    from app.tasks.models import Task

    if isinstance(target, Task):
        return can(user, "task.view", target)
    return can(user, "project.view", target)


def _check_read(user, target) -> None:
    if not may_read(user, target):
        raise PermissionDenied("You cannot see the comments here.")


def comments_on(user, target) -> list[Comment]:
    _check_read(user, target)
    from app.tasks.models import Task

    stmt = select(Comment).order_by(Comment.created_at, Comment.id)
    if isinstance(target, Task):
        stmt = stmt.where(Comment.task_id == target.id)
    else:
        for_client = isinstance(target, ClientThread)
        stmt = stmt.where(
            Comment.project_id == target.id, Comment.task_id.is_(None), Comment.for_client.is_(for_client)
        )
    return db.session.scalars(stmt.limit(500)).all()


def mentionable(user, target, text: str = "", limit: int = 8) -> list[User]:
    """People who may see `target`, by username or name (the @ autocomplete); none for a
    client (the staff's names and usernames are not theirs to browse)."""
    _check_read(user, target)
    if user.role == CLIENT:
        return []
    from app.core.search import contains

    candidates = db.session.scalars(
        select(User)
        .where(User.is_active_flag.is_(True), User.role != CLIENT)
        .where(contains((User.username, User.full_name), text))
        .order_by(User.full_name, User.username)
        .limit(200)
    ).all()
    return [person for person in candidates if may_read(person, target)][:limit]


def _clean(body) -> str:
    text = str(body or "").replace("\x00", "").strip()
    if not text:
        raise ValidationError({"body": "Write the comment first."})
    if len(text) > MAX_LENGTH:
        raise ValidationError({"body": f"Keep a comment under {MAX_LENGTH:,} characters (this one has {len(text):,})."})
    return text


def _mentioned_people(target, body: str) -> list[User]:
    names = mentions_in(body)
    if len(names) > MAX_MENTIONS:
        raise ValidationError({"body": f"Mention at most {MAX_MENTIONS} people in one comment."})
    if not names:
        return []
    people = {
        u.username.lower(): u for u in db.session.scalars(select(User).where(func.lower(User.username).in_(names)))
    }
    unknown = [f"@{n}" for n in names if n not in people]
    if unknown:
        raise ValidationError({"body": f"No one is called {', '.join(unknown)}."})
    blind = [f"@{people[n].username}" for n in names if not people[n].is_active or not may_read(people[n], target)]
    if blind:
        what = "task" if getattr(target, "project_id", None) and hasattr(target, "title") else "project"
        raise ValidationError({"body": f"{', '.join(blind)} cannot see this {what}, so they cannot be mentioned here."})
    return [people[n] for n in names]


def _audience(target) -> list[int]:
    """Who hears of a comment: the people who may read the thread (`may_read`) among
    those the task's or project's events concern — never a client, on a project never an
    employee (project.view), on a task its task.view; admins go by role."""
    from app.core.events import entitled
    from app.tasks.models import Task

    if isinstance(target, Task):
        from app.tasks.services import audience

        candidates = audience(target)
    elif isinstance(target, ClientThread):
        from app.core.events import project_audience

        candidates = project_audience(target.project)  # the team and the client's users
    else:
        from app.projects.models import ProjectMembership

        candidates = db.session.scalars(
            select(ProjectMembership.user_id).where(ProjectMembership.project_id == target.id)
        ).all()
    return entitled(candidates, lambda user: may_read(user, target))


def _publish(name: str, comment: Comment, target) -> None:
    publish(
        name,
        {"id": comment.id, "task_id": comment.task_id, "project_id": comment.project_id},
        users=_audience(target),
        roles=[ADMIN],
    )


def _tell(actor, comment: Comment, target, people: list[User], before: set[str]) -> None:
    """Notify each newly mentioned person (an edit does not notify twice)."""
    from app.tasks.models import Task

    is_task = isinstance(target, Task)
    for person in people:
        if person.username.lower() in before:
            continue
        where = f"the task {target.title}" if is_task else f"the project {target.name}"
        notify(
            person,
            "mention",
            f"{actor.name} mentioned you on {where}"[:200],
            "tasks.detail" if is_task else "projects.detail",
            {"task_id": target.id} if is_task else {"project_id": target.id},
            body=comment.body[:500],
            project_id=comment.project_id,
            actor=actor,
        )


def add_comment(actor, target, body) -> Comment:
    _check_read(actor, target)
    text = _clean(body)
    people = [] if actor.role == CLIENT else _mentioned_people(target, text)
    from app.tasks.models import Task

    comment = Comment(
        project_id=target.project_id if isinstance(target, Task) else target.id,
        task_id=target.id if isinstance(target, Task) else None,
        author_id=actor.id,
        body=text,
        for_client=isinstance(target, ClientThread),
    )
    db.session.add(comment)
    db.session.flush()
    _tell(actor, comment, target, people, set())
    if isinstance(target, ClientThread) and actor.role == CLIENT:
        _tell_the_team(actor, comment, target)
    _publish("comment-created", comment, target)
    return comment


def _tell_the_team(actor, comment: Comment, thread: ClientThread) -> None:
    """A client wrote: the project's PMs hear of it (notification kind client_comment)."""
    for pm in thread.project.pms:
        if pm.is_active:
            notify(
                pm,
                "client_comment",
                f"{actor.name} wrote on {thread.name}"[:200],
                "projects.detail",
                {"project_id": thread.id},
                body=comment.body[:500],
                project_id=thread.id,
                actor=actor,
            )


def get_comment(user, comment_id: int) -> tuple[Comment, object]:
    comment = db.session.get(Comment, comment_id)
    target = _target(comment) if comment is not None else None
    if comment is None or target is None or not may_read(user, target):
        raise ObjectNotFound("That comment does not exist or you cannot see it.")
    return comment, target


def _own_and_recent(actor, comment: Comment) -> None:
    if comment.author_id != actor.id:
        raise PermissionDenied("Only its author can change a comment.")
    if utcnow() - comment.created_at > EDIT_WINDOW:
        raise ConflictError("Comments can be changed for 15 minutes after posting; this one can no longer be.")


@checks_version("comment")
def edit_comment(actor, comment: Comment, target, body, version=None) -> Comment:
    """Change one's own comment; `version` is the one the edit started from (the form's
    hidden field): a stale one is refused (StaleObject, 409), nothing overwritten."""
    _own_and_recent(actor, comment)
    expect_version(comment, version)
    text = _clean(body)
    people = [] if actor.role == CLIENT else _mentioned_people(target, text)
    before = set(mentions_in(comment.body))
    comment.body = text
    comment.edited_at = utcnow()
    db.session.flush()
    _tell(actor, comment, target, people, before)
    _publish("comment-updated", comment, target)
    return comment


@checks_version("comment")
def delete_comment(actor, comment: Comment, target, version=None) -> None:
    """Delete one's own comment — the version the thread showed, not one changed since."""
    _own_and_recent(actor, comment)
    expect_version(comment, version)
    db.session.delete(comment)
    db.session.flush()
    _publish("comment-deleted", comment, target)


def can_change(user, comment: Comment) -> bool:
    return comment.author_id == user.id and utcnow() - comment.created_at <= EDIT_WINDOW


def require_read(user, target) -> None:
    if isinstance(target, ClientThread):
        target = target.project  # read by whoever may see the project (may_read)
    require(user, "task.view" if hasattr(target, "title") else "project.view", target)
