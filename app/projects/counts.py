"""The home page's projects card — counts by status and the five latest changes — as a
small cached aggregate, so it costs the same at 10,000 projects as at 200 and, while
nothing changes, no SQL at all (docs/performance.md "Flat as data grows", "Home, client
and user pages").

The card is computed by `queries.status_counts` and `_recent` (the viewer's
permission scope, in SQL) and kept in Redis under the *scope* it was computed for — every
admin sees all projects, so they share one entry; a client's company or a team member get
their own — tagged with the generation number it was computed at; one MGET reads the
current generation and the entry, which is used only if the two match. Any write to a
project, a team membership or a client (the card shows client names; ORM flush or a bulk
statement) bumps the generation when it is flushed and again after its commit (the moment
the live `project-*` events go out), so the next home page recomputes; entries also
expire after `TTL` seconds, a backstop for writes made outside the app. A session that
has written projects and not yet committed neither reads nor fills the cache (it sees its
own writes; nothing uncommitted is shared)."""

from __future__ import annotations

import json
from typing import NamedTuple

from sqlalchemy import event

from app.core.permissions import ALL, NONE, OWN, scope_of
from app.core.transaction import after_commit
from app.extensions import db, redis_store

TTL = 300
RECENT = 5  # projects in "Recently updated"
_DIRTY = "kibray_projects_written"


class ClientName(NamedTuple):
    name: str


class RecentProject(NamedTuple):
    """What the card shows of a project (the template reads `p.client.name`)."""

    id: int
    name: str
    status: str
    client: ClientName


class HomeProjects(NamedTuple):
    counts: dict[str, int]  # {status: number of projects}
    recent: list[RecentProject]


def _generation_key() -> str:
    return redis_store.key("projects", "counts-generation")


def _scope_key(user) -> str | None:
    scope = scope_of(user, "project.view")
    if scope == NONE:
        return None
    if scope == ALL:
        return "all"
    if scope == OWN and user.client_id is not None:
        return f"client:{user.client_id}"
    return f"user:{user.id}"


def _recent(user) -> list[RecentProject]:
    """The open projects this user may see, latest change first: rows of the four columns
    shown, not Project objects (no team, no client object; `ix_projects_updated_at`)."""
    from app.clients.models import Client
    from app.projects.models import CLOSED, Project
    from app.projects.queries import visible_projects

    stmt = (
        visible_projects(user)
        .with_only_columns(Project.id, Project.name, Project.status, Client.name)
        .where(Project.status != CLOSED)
        .order_by(Project.updated_at.desc())
        .limit(RECENT)
    )
    return [
        RecentProject(id, name, status, ClientName(client)) for id, name, status, client in db.session.execute(stmt)
    ]


def _compute(user) -> HomeProjects:
    from app.projects import queries

    return HomeProjects(queries.status_counts(user), _recent(user))


def home_projects(user) -> HomeProjects:
    """The projects card this user may see — cached (see the module)."""
    scope = _scope_key(user)
    if scope is None or db.session.info.get(_DIRTY):
        return _compute(user)
    client = redis_store.client
    key = redis_store.key("projects", "home", scope)
    generation, cached = client.mget(_generation_key(), key)
    generation = int(generation or 0)
    if cached is not None:
        entry = json.loads(cached)
        if entry["g"] == generation:
            recent = [RecentProject(id, name, status, ClientName(c)) for id, name, status, c in entry["recent"]]
            return HomeProjects(entry["counts"], recent)
    card = _compute(user)
    entry = {"g": generation, "counts": card.counts, "recent": [[*p[:3], p.client.name] for p in card.recent]}
    client.set(key, json.dumps(entry, separators=(",", ":")), ex=TTL)
    return card


def status_counts(user) -> dict[str, int]:
    """{status: number of projects} this user may see — cached (see the module)."""
    return home_projects(user).counts


def bump() -> None:
    """A new generation: every cached entry is stale (they expire on their own)."""
    redis_store.client.incr(_generation_key())


def _written(session) -> None:
    """Bump now (readers elsewhere stop using the old counts) and again after the commit
    (anything cached meanwhile, before the write was visible, is dropped too). Queued
    per write, not once per transaction: a failed `attempt()` drops what it queued."""
    session.info[_DIRTY] = True
    bump()
    after_commit(bump)


_installed = False


def init_app(app) -> None:
    """The session hooks, once per process (they hang on the Session class)."""
    global _installed
    if not _installed:
        from flask_sqlalchemy.session import Session

        install(Session)
        _installed = True


def install(session_class) -> None:
    from app.clients.models import Client
    from app.projects.models import Project, ProjectMembership

    counted = (Project, ProjectMembership, Client)

    @event.listens_for(session_class, "after_flush")
    def _flushed(session, flush_context):
        if any(isinstance(obj, counted) for obj in (*session.new, *session.dirty, *session.deleted)):
            _written(session)

    @event.listens_for(session_class, "do_orm_execute")
    def _executed(state):
        if not state.is_select and any(getattr(mapper, "class_", None) in counted for mapper in state.all_mappers):
            _written(state.session)

    @event.listens_for(session_class, "after_commit")
    def _committed(session):
        session.info.pop(_DIRTY, None)

    @event.listens_for(session_class, "after_soft_rollback")
    def _rolled_back(session, previous_transaction):
        if previous_transaction.parent is None:
            session.info.pop(_DIRTY, None)
