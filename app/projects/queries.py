"""Project reads shared by the pages and the API: what a user may see, the one list
function (filters, ordering, visibility), and the small lookups pages need."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import NamedTuple

from sqlalchemy import and_, func, select, union
from sqlalchemy.orm import aliased, contains_eager, raiseload

from app.auth.models import User
from app.clients.models import Client
from app.core.cached_reads import lookup_of, rows_of
from app.core.errors import ValidationError
from app.core.pagination import paginate
from app.core.permissions import Viewer, can, has_in_list, require, scope_query
from app.core.roles import PM_ROLES, ROLE_LABELS
from app.core.search import contains, contains_tested
from app.core.statements import inline
from app.core.text import name_key
from app.extensions import db
from app.projects.models import CLOSED, STATUSES, Project, ProjectMembership
from app.projects.views import PROJECT_VIEW  # noqa: F401 - registers the view for `shows()`

# What `status` may be: "" = open (not started + active), "all", or one status.
OPEN, ALL_STATUSES = "", "all"

# Fields a list may be ordered by (page column headers, API `ordering`).
SORTS = {
    "id": Project.id,
    "name": Project.name,
    "client": Client.name,
    "status": Project.status,
    "start_date": Project.start_date,
    "end_date": Project.end_date,
    "budget": Project.budget,
    "progress_percent": Project.progress_percent,
    "created_at": Project.created_at,
    "updated_at": Project.updated_at,
}


@dataclass(frozen=True)
class ProjectFilters:
    search: str = ""
    status: str = OPEN
    pm_id: int | None = None
    client_id: int | None = None
    ordering: tuple[tuple[str, bool], ...] = (("name", False),)  # (field, descending)

    @property
    def sort(self) -> str:
        return self.ordering[0][0] if self.ordering else "name"

    @property
    def descending(self) -> bool:
        return bool(self.ordering and self.ordering[0][1])


def sort_fields(user) -> dict:
    """The ordering fields this user may use: the budget only with `costs.view`, so the
    order cannot reveal what the column hides."""
    return {k: v for k, v in SORTS.items() if k != "budget" or can(user, "costs.view")}


def visible_projects(user, columns=None):
    """select() of the projects `user` may see (or of `columns` of them), with the client
    joined for sorting."""
    stmt = select(*columns) if columns else select(Project)
    stmt = stmt.select_from(Project).join(Project.client)
    return scope_query(stmt, user, "project.view", Project)


def managed_by(user_id: int):
    """The condition "this user manages the project (as PM or trainee)" — the "PM"
    filter. Only PM roles count, so the filter cannot reveal where other staff are
    assigned. PostgreSQL reads the project's own team column (one GIN index); SQLite the
    memberships."""
    is_pm = select(User.id).where(User.id == inline(user_id), User.role.in_(inline(PM_ROLES))).exists()
    if db.engine.dialect.name == "postgresql":
        return and_(has_in_list(Project.team_ids, user_id), is_pm)
    members = select(ProjectMembership.project_id).where(ProjectMembership.user_id == inline(user_id))
    return and_(Project.id.in_(members), is_pm)


def check_filters(user, filters: ProjectFilters) -> None:
    """Every problem with these filters for this user, at once (keys are the field
    names of ProjectFilters). Decision: the PM filter is refused — on the page and in
    the API alike — for roles without `team.view`, since it tells who manages what."""
    errors = {}
    if filters.status not in (OPEN, ALL_STATUSES, *STATUSES):
        errors["status"] = f"One of {', '.join(STATUSES)} or all."
    if filters.pm_id is not None and not can(user, "team.view"):
        errors["pm_id"] = "Your role cannot filter by team member."
    allowed = sort_fields(user)
    unknown = [name for name, _ in filters.ordering if name not in allowed]
    if unknown:
        errors["ordering"] = f"Cannot order by {unknown[0]!r}. Allowed: {', '.join(sorted(allowed))}."
    if errors:
        raise ValidationError(errors)


def search_matches(text: str, viewer=None):
    """Ids of the projects whose name, address or city, or whose client's name, contains
    `text` (core.search.contains) — of those `viewer` may see, if given. Two selects in a
    UNION, not one OR across the join: an OR over two tables cannot use an index, each
    half here uses the trigram indexes (migration 0006) — at 10,000 projects a rare term
    is answered in under a millisecond instead of reading every project (docs/performance.md
    "Flat as data grows"). The viewer's scope inside each half lets PostgreSQL AND a PM's
    team index (projects.team_ids) with the trigram indexes: a common word's 1,900
    matches are never gathered to keep the PM's 100."""
    own = select(Project.id).where(contains((Project.name, Project.address, Project.city), text))
    client = aliased(Client)
    by_client = select(Project.id).where(Project.client_id.in_(select(client.id).where(contains((client.name,), text))))
    if viewer is not None:
        own, by_client = (scope_query(half, viewer, "project.view", Project) for half in (own, by_client))
    # each half reads projects itself (not the outer statement's row)
    return union(own.correlate(None), by_client.correlate(None))


def project_list(user, filters: ProjectFilters, shape: str = "objects"):
    """select() of the projects `user` may see that match `filters`, ordered: of Project
    objects, or of the columns of a SHAPES entry and the client's name (`shape="page"`:
    the list page's, `"api"`: the API list's). Raises ValidationError for filters this
    user may not use (see check_filters).

    Built once per viewer, filters and kind and then remembered (the last 128): a
    statement reused costs nothing to build, nor to count or page (core.statements)."""
    check_filters(user, filters)
    return _project_list(Viewer.of(user), filters, shape)


@lru_cache(maxsize=128)
def _project_list(user: Viewer, filters: ProjectFilters, shape: str, walk: bool = False):
    if shape == "objects":
        # The client is already joined for search and sorting: fill Project.client from
        # that join instead of joining the table a second time (its default eager load).
        stmt = visible_projects(user).options(
            contains_eager(Project.client).load_only(Client.id, Client.name), raiseload(Project.memberships)
        )
    else:
        stmt = visible_projects(user, (*SHAPES[shape], Client.name.label("client_name")))
    # values from small sets are written into the SQL (core.statements.inline): each
    # viewer's list is a statement PostgreSQL plans once per connection
    if filters.status in STATUSES:
        stmt = stmt.where(Project.status == inline(filters.status))
    elif filters.status == OPEN:
        stmt = stmt.where(Project.status != inline(CLOSED))
    if filters.search.strip() and walk:
        # the same matches as search_matches, tested on each row the ordering walks to
        stmt = stmt.where(contains_tested((Project.name, Project.address, Project.city, Client.name), filters.search))
    elif filters.search.strip():
        stmt = stmt.where(Project.id.in_(search_matches(filters.search, user)))
    if filters.pm_id is not None:
        stmt = stmt.where(managed_by(filters.pm_id))
    if filters.client_id is not None:
        stmt = stmt.where(Project.client_id == inline(filters.client_id))
    order = [(SORTS[name].desc() if desc else SORTS[name].asc()).nulls_last() for name, desc in filters.ordering]
    return stmt.order_by(*order, Project.id)


# What a row of the list page shows (and its permission checks read): only these columns
# are read, as plain rows — not the descriptions and notes (up to 10,000 characters
# each), and no ORM objects (25 Projects and their Clients cost more than the query).
ROW_COLUMNS = (
    Project.id,
    Project.name,
    Project.client_id,
    Project.status,
    Project.address,
    Project.city,
    Project.start_date,
    Project.budget,
)
# …and what the API list answers (api.project_json): every column of its shape, read
# as plain rows too — not the notes and internal notes the list does not show.
API_COLUMNS = (
    *ROW_COLUMNS,
    Project.description,
    Project.state,
    Project.zip,
    Project.end_date,
    Project.progress_percent,
    Project.contract_value,
    Project.version,
    Project.created_at,
    Project.updated_at,
)
SHAPES = {"page": ROW_COLUMNS, "api": API_COLUMNS}


@lru_cache(maxsize=4)
def team_column(dialect: str):
    """A column of a select of projects: the ids of the project's team members — a
    correlated subquery per row (an index-only read of the memberships) instead of a
    second statement with the page's ids. `managers_of` turns it into the PMs' names
    from `pm_names` (cached): joining the users here cost more than the page itself
    (1.3 ms of a 2.3 ms statement at 2,000 projects)."""
    if dialect == "postgresql":
        return Project.team_ids.label("team_ids")  # kept by PostgreSQL (migration 0007)
    # SQLite (the embedded app) has no triggers keeping it: the members as JSON text
    member = aliased(ProjectMembership)
    ids = func.json_group_array(member.user_id)
    return select(ids).where(member.project_id == Project.id).correlate(Project).scalar_subquery().label("team_ids")


@lru_cache(maxsize=1)
def _pm_names_statement():
    name = func.coalesce(func.nullif(User.full_name, ""), User.username)
    rank = func.row_number().over(order_by=(User.full_name, User.username, User.id))
    return select(User.id, rank, name).where(User.role.in_(inline(PM_ROLES)))


def pm_names() -> Mapping[int, tuple[int, str]]:
    """{user id: (rank in name order, name)} of every PM and trainee, active or not —
    how a project's managers are shown. Cached until the users table is written
    (core.cached_reads) and kept decoded in each worker."""
    return lookup_of(_pm_names_statement(), db.session)


def managers_of(team_ids, names: Mapping[int, tuple[int, str]]) -> list[tuple[int, str]]:
    """The PMs and trainees among a project's team (the team column's value: an array,
    or SQLite's JSON text) as [(user id, name)], in name order (full name, username, id).
    `names`: pm_names(), read once for a page's rows."""
    if isinstance(team_ids, str):
        team_ids = json.loads(team_ids)
    if not team_ids:
        return []
    found = sorted((*names[user_id], user_id) for user_id in team_ids if user_id in names)
    return [(user_id, name) for _, name, user_id in found]


def project_page(user, filters: ProjectFilters, page: int, per_page: int):
    """One page of project_list (past the end: the last page) as rows of ROW_COLUMNS,
    the client's name and the team column (managers_of reads it)."""
    stmt = project_list(user, filters, shape="page")
    return paginate(
        stmt,
        page,
        per_page,
        rows=True,
        columns=(team_column(db.session.get_bind().dialect.name),),
        source=search_page_source(user, filters, shape="page"),
    )


# A search's page is read by walking the list's order and testing each row when that
# finds the page within this many rows (the matches are common); else from the matches.
WALK_ROWS = 2000
_ALL_PROJECTS = select(Project.id)


def search_page_source(user, filters: ProjectFilters, shape: str):
    """For paginate(source=…): which statement reads a search's page. The trigram
    indexes find a rare term's matches at once (project_list's UNION), but a term that a
    fifth of the company matches yields thousands of matches, all gathered and sorted
    before the first 25 show (14 ms at 10,000 projects); walking the name index and
    testing each row finds those 25 after ~125 rows (0.5 ms) — and would read every row
    for a rare term. The search's total and the number of projects (both cached,
    core.cached_reads) tell how many rows the walk would read. Only for the name order,
    which has an index to walk."""
    if not filters.search.strip() or filters.ordering[:1] not in ((("name", False),), (("name", True),)):
        return None

    def source(total: int, offset: int, per_page: int):
        from app.core.cached_reads import count_of

        if not total:
            return project_list(user, filters, shape=shape)
        # the walk reads the whole index in name order — every project, not only this
        # viewer's or this status's — until it has passed offset + per_page matches
        everything = count_of(_ALL_PROJECTS, db.session)
        if (offset + per_page) * everything / total > WALK_ROWS:
            return project_list(user, filters, shape=shape)
        return _project_list(Viewer.of(user), filters, shape, walk=True)

    return source


def archived_matches(user, filters: ProjectFilters) -> int:
    """How many closed projects would match if the archive were included — said when
    the default (open projects only) finds nothing."""
    if filters.status != OPEN:
        return 0
    stmt = project_list(user, replace(filters, status=CLOSED, ordering=()))
    return db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0


class PmChoice(NamedTuple):
    id: int
    name: str
    role_label: str


def _active_pms():
    return (
        select(User.id, User.full_name, User.username, User.role)
        .where(User.role.in_(PM_ROLES), User.is_active_flag.is_(True))
        .order_by(User.full_name, User.username, User.id)
    )


def _pm_rows(stmt, rows=None) -> list[PmChoice]:
    return [
        PmChoice(user_id, full_name or username, ROLE_LABELS[role])
        for user_id, full_name, username, role in (db.session.execute(stmt) if rows is None else rows)
    ]


@lru_cache(maxsize=8)
def _active_pms_up_to(limit: int | None):
    return _active_pms().limit(limit)  # built once: statements are immutable, and SQLAlchemy
    # remembers each one's cache key, so a repeated read costs no statement building


def pm_choices(limit: int | None = None) -> list[PmChoice]:
    """Active PMs and trainees, for the filter and the form (no User objects); cached
    until the users table is written (core.cached_reads)."""
    stmt = _active_pms_up_to(limit)
    return _pm_rows(stmt, rows_of(stmt, db.session))


# A picker with more options than this is a search-as-you-type box (`Choices.options`
# None) rather than a <select> of every one; a search answers at most OPTIONS_LIMIT.
PICKER_LIMIT = 50
OPTIONS_LIMIT = 20


class Choices(NamedTuple):
    """A picker's choices: `options`, all of them (at most PICKER_LIMIT), or None when
    there are more — then the page shows a search box, with `chosen`, the label of the
    chosen value, in it."""

    options: list | None
    chosen: str = ""


def pm_filter_choices(actor, chosen_id: int | None) -> Choices:
    """The list page's PM filter: every active PM when there are few, else a search box
    with the chosen one's name in it (both from cached reads)."""
    require(actor, "team.view")
    rows = pm_choices(limit=PICKER_LIMIT + 1)
    if len(rows) <= PICKER_LIMIT:
        return Choices(rows)
    # the chosen one's name from the cached names of every PM (no statement of its own)
    chosen = pm_names().get(chosen_id, (0, ""))[1] if chosen_id is not None else ""
    return Choices(None, chosen)


def pm_form_choices(actor, chosen_ids) -> tuple[list[PmChoice] | None, list[PmChoice]]:
    """The project form's PMs: (every active PM when there are few, else None — a
    picker — , and the chosen ones by id, for the picker's checked boxes)."""
    require(actor, "team.view")
    rows = pm_choices(limit=PICKER_LIMIT + 1)
    if len(rows) <= PICKER_LIMIT:
        return rows, []
    from app.core.numbers import to_int

    wanted = {n for n in (to_int(str(i)) for i in chosen_ids or ()) if n is not None}
    chosen = (
        _pm_rows(
            select(User.id, User.full_name, User.username, User.role)
            .where(User.id.in_(wanted))
            .order_by(User.full_name, User.username)
        )
        if wanted
        else []
    )
    return None, chosen


def pm_options(actor, text: str, limit: int = OPTIONS_LIMIT) -> list[PmChoice]:
    """Active PMs and trainees whose name or username contains `text`, at most `limit`
    (the PM picker's suggestions). Needs `team.view`, like the filter it feeds."""
    require(actor, "team.view")
    return _pm_rows(_active_pms().where(contains((User.full_name, User.username), text)).limit(limit))


def client_choices() -> list[Client]:
    return db.session.scalars(select(Client).order_by(Client.name)).all()


def client_names(ids) -> dict[str, str]:
    """{str(id): name} of these clients (ids that are not ids are left out)."""
    from app.core.numbers import to_int

    wanted = {n for n in (to_int(str(i or "")) for i in ids) if n is not None}
    if not wanted:
        return {}
    return {str(i): name for i, name in db.session.execute(select(Client.id, Client.name).where(Client.id.in_(wanted)))}


class ClientChoice(NamedTuple):
    id: int
    name: str
    role_label: str = ""  # (the picker's suggestions show a detail when there is one)


def _client_rows(stmt) -> list[ClientChoice]:
    return [ClientChoice(row.id, row.name) for row in db.session.execute(stmt)]


def client_form_choices(actor, chosen_id: int | None) -> Choices:
    """The project form's client: every client when there are few, else a search box
    (one bounded query, and one by id for the chosen client's name). Needs `client.view`."""
    require(actor, "client.view")
    rows = _client_rows(select(Client.id, Client.name).order_by(Client.name, Client.id).limit(PICKER_LIMIT + 1))
    if len(rows) <= PICKER_LIMIT:
        return Choices(rows)
    chosen = ""
    if chosen_id is not None:
        chosen = db.session.scalar(select(Client.name).where(Client.id == chosen_id)) or ""
    return Choices(None, chosen)


def client_options(actor, text: str, limit: int = OPTIONS_LIMIT) -> list[ClientChoice]:
    """Clients whose name contains `text`, at most `limit` (the client picker's
    suggestions); a client whose whole name is `text` comes first. Needs `client.view`."""
    require(actor, "client.view")
    exact = Client.name_key == name_key(text)
    stmt = (
        select(Client.id, Client.name)
        .where(contains((Client.name,), text))
        .order_by(exact.desc(), Client.name, Client.id)
        .limit(limit)
    )
    return _client_rows(stmt)


def typed_choice(found: list, chosen_id: int | None, text: str) -> tuple[int | None, list | None]:
    """A picker's box as submitted without a click (no JavaScript, or typed over):
    (id, None) when it settles on one — the chosen one still matching the text, the
    only match, or the one whose whole name is the text — else (None, suggestions)."""
    if not text:
        return None, None
    if chosen_id is not None and any(item.id == chosen_id for item in found):
        return chosen_id, None
    if len(found) == 1:
        return found[0].id, None
    exact = [item for item in found if name_key(item.name) == name_key(text)]
    if len(exact) == 1:
        return exact[0].id, None
    return None, found


def project_history(user, project: Project, limit: int = 10):
    """The latest audit entries of a project, if this user may read its audit log."""
    from app.core.audit import AuditLog

    if not can(user, "audit.view", project):
        return []
    return db.session.scalars(
        scope_query(select(AuditLog), user, "audit.view", AuditLog)
        .where(AuditLog.project_id == project.id)
        .order_by(AuditLog.created_at.desc(), AuditLog.id.desc())
        .limit(limit)
    ).all()


def status_counts(user) -> dict[str, int]:
    """{status: number of projects} this user may see (the home page)."""
    sub = visible_projects(user).with_only_columns(Project.status, Project.id).subquery()
    return dict(db.session.execute(select(sub.c.status, func.count()).group_by(sub.c.status)).all())
