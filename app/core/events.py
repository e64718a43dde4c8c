"""Live events: services queue them during the request, they are published to Redis
after the commit, and `GET /events` forwards each one only to the users in its audience.

The audience is decided when the event is queued (inside the transaction that made
the change), so a stream only compares ids: no database work per event per listener.
An event carries a name and a small payload (usually an id); pages react by fetching
the fragment they need with the viewer's own permissions, so no event ever carries
content a listener may not see.
"""

from __future__ import annotations

import json
import re

from flask import current_app
from sqlalchemy import select

from app.core.features import live_events, live_listeners
from app.core.roles import ADMIN, CLIENT
from app.core.transaction import after_commit
from app.extensions import db, redis_store

LOG_SIZE = 1000  # events kept for replay to reconnecting browsers (Last-Event-ID)


def channel() -> str:
    return redis_store.key("events")


def publish(name: str, data: dict | None = None, *, users=(), roles=()) -> None:
    """Queue event `name` for after the commit, for these user ids and roles. `name` is
    one an installed feature declares (`LiveEvent`), so the browser subscribes to it."""
    if name not in live_events():
        raise ValueError(f"unknown live event {name!r}: declare it as a LiveEvent of its feature")
    data = dict(data or {})
    origin = _origin()
    if origin:
        data["origin"] = origin  # the page that made the change ignores its own echo (app.js)
    message = {"event": name, "data": data, "users": sorted(set(users)), "roles": sorted(set(roles))}
    for listener in live_listeners():
        listener(message)
    app = current_app._get_current_object()
    after_commit(lambda: send_now(app, message))


_ORIGIN = re.compile(r"[A-Za-z0-9]{8,32}")


def _origin() -> str:
    """The id of the browser page whose request made the change (`X-Kibray-Page`, sent by
    app.js with every htmx request): that page already shows the result of its own action,
    so a live refresh would only redraw it — and wipe what the person is typing."""
    from flask import has_request_context, request

    if not has_request_context():
        return ""
    value = request.headers.get("X-Kibray-Page", "")
    return value if _ORIGIN.fullmatch(value) else ""


def send_now(app, message: dict) -> int:
    """Number the event, keep it for replay and broadcast it. Returns its id."""
    with app.app_context():
        client = redis_store.client
        seq_key, log_key = redis_store.key("events", "seq"), redis_store.key("events", "log")
        message = dict(message, id=int(client.incr(seq_key)))
        payload = json.dumps(message, separators=(",", ":"))
        pipe = client.pipeline()
        pipe.zadd(log_key, {payload: message["id"]})
        pipe.zremrangebyrank(log_key, 0, -LOG_SIZE - 1)
        pipe.publish(channel(), payload)
        pipe.execute()
        return message["id"]


def project_audience(project) -> list[int]:
    """Everyone who may see `project` by assignment or ownership (admins go by role)."""
    from app.auth.models import User
    from app.projects.models import ProjectMembership

    members = db.session.scalars(select(ProjectMembership.user_id).where(ProjectMembership.project_id == project.id))
    owners = db.session.scalars(
        select(User.id).where(User.client_id == project.client_id, User.role == CLIENT, User.is_active_flag.is_(True))
    )
    return sorted(set(members) | set(owners))


def entitled(user_ids, may) -> list[int]:
    """Of `user_ids` (the people an object's event could concern: its project's team, a
    task's assignees), those who may see the object now — `may(user)` asks the matrix,
    e.g. `lambda user: can(user, "task.view", task)`: a designer on the team hears of
    design tasks only, an employee of their own tasks, a deactivated account of nothing.
    One read of the users — as permissions.Viewer values (what a permission check reads
    of a user: id, role, company, active), not User objects with their company joined;
    asked when the event is queued, so streams compare ids only."""
    from app.auth.models import User
    from app.core.permissions import Viewer

    ids = sorted({int(i) for i in user_ids})
    if not ids:
        return []
    people = db.session.execute(
        select(User.id, User.role, User.client_id, User.is_active_flag).where(User.id.in_(ids))
    ).all()
    return sorted(row[0] for row in people if may(Viewer(row[0], row[1], row[2], row[3])))


def publish_project(name: str, project, extra_users=()) -> None:
    """A change to a project, for the people who may see it."""
    publish(name, {"id": project.id}, users=[*project_audience(project), *extra_users], roles=[ADMIN])


def visible_to(message: dict, user_id: int, role: str) -> bool:
    return user_id in message.get("users", ()) or role in message.get("roles", ())
