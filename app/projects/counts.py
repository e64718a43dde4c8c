"""The home page's projects card — counts by status and the five latest changes — as a
small cached aggregate, so it costs the same at 10,000 projects as at 200 and, while
nothing changes, no SQL and no round trip at all (docs/performance.md "Flat as data
grows", "Home, client and user pages").

The card is computed by `queries.status_counts` and `_recent` (the viewer's permission
scope, in SQL) and cached by core.cached_reads under the *scope* it was computed for —
every admin sees all projects, so they share one entry; a client's company or a team
member get their own — and the generations of the tables it reads: projects, team
memberships and clients (the card shows client names). Any committed write to one of
them makes the next home page recompute; a request that has written one of them itself
computes the card from the database."""

from __future__ import annotations

import json
from typing import NamedTuple

from app.core.permissions import ALL, NONE, OWN, scope_of
from app.extensions import db

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


TABLES = ("projects", "project_memberships", "clients")


def home_projects(user) -> HomeProjects:
    """The projects card this user may see — cached (see the module)."""
    from app.core import cached_reads

    scope = _scope_key(user)
    if scope is None:
        return _compute(user)
    return cached_reads.value_of(f"home-projects:{scope}", TABLES, lambda: _compute(user), _dump, _load)


def _dump(card: HomeProjects) -> str:
    return json.dumps(
        {"counts": card.counts, "recent": [[*p[:3], p.client.name] for p in card.recent]}, separators=(",", ":")
    )


def _load(raw: bytes) -> HomeProjects:
    entry = json.loads(raw)
    recent = [RecentProject(id, name, status, ClientName(c)) for id, name, status, c in entry["recent"]]
    return HomeProjects(entry["counts"], recent)


def status_counts(user) -> dict[str, int]:
    """{status: number of projects} this user may see — cached (see the module)."""
    return home_projects(user).counts
