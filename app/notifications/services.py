"""notify(...): the one way modules tell a person something. Live after the commit."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import func, select, update

from app.core.events import publish
from app.core.features import notification_kinds
from app.core.models import utcnow
from app.extensions import db
from app.notifications.models import Notification


def notify(
    user,
    kind: str,
    title: str,
    endpoint: str = "",
    link_args: dict | None = None,
    *,
    body: str = "",
    project_id=None,
    actor=None,
) -> Notification:
    """Store a notification for `user` and ring their bell live once committed.
    It links to `endpoint` with `link_args` (e.g. "projects.detail", {"project_id": 7}),
    turned into a URL only when shown — so this works in jobs and CLI commands too.
    Nobody is notified of their own action."""
    if kind not in notification_kinds():  # each feature declares its kinds
        raise ValueError(f"unknown notification kind {kind!r}")
    if endpoint and endpoint not in current_app.view_functions:
        raise ValueError(f"unknown endpoint {endpoint!r} for a notification link")
    note = Notification(
        user_id=user.id,
        kind=kind,
        title=title[:200],
        body=body,
        link_endpoint=endpoint,
        link_args=dict(link_args or {}),
        project_id=project_id,
    )
    if actor is not None and actor.id == user.id:
        return note
    db.session.add(note)
    db.session.flush()
    from app.notifications.channels import route

    route(note, user)  # the person's choices: the bell, an email now, held or in the digest
    if note.read_at is None:
        publish("notification", {"id": note.id}, users=[user.id])
    return note


def unread_count(user) -> int:
    return (
        db.session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        )
        or 0
    )


def recent(user, limit: int = 8):
    return db.session.scalars(
        select(Notification)
        .where(Notification.user_id == user.id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(limit)
    ).all()


def mark_read(user, notification_id: int) -> Notification | None:
    note = db.session.get(Notification, notification_id)
    if note is None or note.user_id != user.id:
        return None
    if note.read_at is None:
        note.read_at = utcnow()
        publish("notification", {"id": note.id}, users=[user.id])
    return note


def mark_all_read(user) -> int:
    result = db.session.execute(
        update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    if result.rowcount:
        publish("notification", {}, users=[user.id])
    return result.rowcount or 0


def own(user, read: bool | None = None):
    """A select of `user`'s notifications, newest first (read or unread only, if asked)."""
    stmt = select(Notification).where(Notification.user_id == user.id)
    if read is True:
        stmt = stmt.where(Notification.read_at.is_not(None))
    elif read is False:
        stmt = stmt.where(Notification.read_at.is_(None))
    return stmt.order_by(Notification.created_at.desc(), Notification.id.desc())


def link_of(note) -> str | None:
    """The URL of what `note` is about (None: no link, or the page no longer exists)."""
    from flask import url_for
    from werkzeug.routing import BuildError

    if not note.link_endpoint:
        return None
    try:
        return url_for(note.link_endpoint, **(note.link_args or {}))
    except BuildError:
        return None
