"""The home page's project counters as a small cached aggregate, so they cost the same
at 10,000 projects as at 200 (docs/performance.md "Flat as data grows").

The counts are computed by `queries.status_counts` (the viewer's permission scope, in
SQL) and kept in Redis under the *scope* they were computed for — every admin sees all
projects, so they share one entry; a client's company or a team member get their own —
and a generation number. Any write to a project or a team membership (ORM flush or a
bulk statement) bumps the generation when it is flushed and again after its commit
(the moment the live `project-*` events go out), so the next home page recomputes;
entries also expire after `TTL` seconds, a backstop for writes made outside the app. A session that has written
projects and not yet committed neither reads nor fills the cache (it sees its own
writes; nothing uncommitted is shared)."""

from __future__ import annotations

import json

from sqlalchemy import event

from app.core.permissions import ALL, NONE, OWN, scope_of
from app.core.transaction import after_commit
from app.extensions import db, redis_store

TTL = 300
_DIRTY = "kibray_projects_written"


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


def status_counts(user) -> dict[str, int]:
    """{status: number of projects} this user may see — cached (see the module)."""
    from app.projects import queries

    scope = _scope_key(user)
    if scope is None or db.session.info.get(_DIRTY):
        return queries.status_counts(user)
    client = redis_store.client
    generation = int(client.get(_generation_key()) or 0)
    key = redis_store.key("projects", "counts", generation, scope)
    cached = client.get(key)
    if cached is not None:
        return json.loads(cached)
    counts = queries.status_counts(user)
    client.set(key, json.dumps(counts), ex=TTL)
    return counts


def bump() -> None:
    """A new generation: every cached count is stale (old entries expire on their own)."""
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
    from app.projects.models import Project, ProjectMembership

    counted = (Project, ProjectMembership)

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
