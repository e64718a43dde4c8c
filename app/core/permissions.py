"""The permission matrix of SPEC.md §2, as data, and the helpers that enforce it.

Every row is enforced three times: routes call `require`/`permission_required` (403),
list queries go through `scope_query` (rows a user may not see never leave the
database), and templates ask `can(...)` before rendering a control.

Scopes: ALL ✓ · ASSIGNED A (member of the object's project; a client "owns" its
projects) · OWN O (own items) · DESIGN (assigned, design tasks only) · LIMITED
(assigned, small actions only) · NONE —.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache, wraps

from flask import abort
from flask_login import current_user
from sqlalchemy import event, false, select

from app.core.roles import CLIENT, ROLES

ALL, ASSIGNED, OWN, DESIGN, LIMITED, NONE = "✓", "A", "O", "D", "L", "—"

# Columns: admin, project_manager_full, pm_trainee, designer, superintendent, employee, client.
# One line per row of SPEC.md §2; a row with a qualifier is split into the actions it
# names (e.g. inventory.add vs inventory.transfer for the superintendent's "A (transfer)").
# template.manage is issue 8's: admins and full PMs manage project templates (everyone
# who may create a project starts one from them). Issue 9's rows (photos, files, the time
# clock, timesheets, daily logs, client invitations) are docs/architecture.md's
# "Field and client rows": the matrix names the modules but not their actions.
# The estimate rows (issue 12) are docs/architecture.md's "Estimates": an estimate is a
# client's before any project exists, so staff rows are ✓ and the client's O.
# Issue 13's rows are docs/architecture.md's "Money out": pay applications follow the
# change orders (the client sees certified ones, O); expenses follow "view internal
# costs" (A) with the out-of-pocket payer seeing their own claims (O); SPEC.md §5 says who
# reviews a claim (the project's PM or an admin) and who pays it (an admin); reports follow
# "view internal costs, reports"; the accountant's export and cost rates (payroll.view)
# are an admin's.
MATRIX_TABLE = """
project.view_all              ✓ — — — — — —
project.view                  ✓ A A A A — O
project.create                ✓ ✓ ✓ — — — —
project.edit                  ✓ A A — — — —
project.delete                ✓ — — — — — —
project.close                 ✓ A — — — — —
project.reopen                ✓ A — — — — —
project.view_financials       ✓ A A — — — O
calendar.view                 ✓ A A — A O O
calendar.create_event         ✓ A A — A — —
calendar.move_event           ✓ A A — — — —
calendar.comment              ✓ A A A A O O
calendar.sync_external        ✓ ✓ ✓ — — — —
task.view                     ✓ A A D A O —
task.create                   ✓ A A — A — —
task.modify                   ✓ A A D A O —
task.reassign                 ✓ A A — A — —
task.delete                   ✓ A A — — — —
task.complete                 ✓ A A D A O —
photo.upload                  ✓ A A A A O O
invoice.create                ✓ A A — — — —
invoice.delete                ✓ — — — — — —
invoice.send                  ✓ A — — — — —
invoice.approve_draft         ✓ — — — — — —
costs.view                    ✓ A A — — — —
budget.modify                 ✓ A — — — — —
change_order.view             ✓ A A — — — O
change_order.edit             ✓ A A — — — —
change_order.delete           ✓ A — — — — —
change_order.approve          ✓ A — — — — O
inventory.view                ✓ A A A A O —
inventory.add                 ✓ A A — — — —
inventory.transfer            ✓ A A — A — —
inventory.bulk_transfer       ✓ A — — — — —
material.request              ✓ ✓ ✓ ✓ ✓ ✓ —
material.view_costs           ✓ A A — — — —
notification.receive          ✓ ✓ ✓ ✓ ✓ ✓ ✓
notification.send_system      ✓ — — — — — —
notification.send_project     ✓ A A — — — —
notification.send_external    ✓ A — — — — —
ai.quick_mode                 ✓ ✓ ✓ ✓ ✓ ✓ —
ai.generate_tasks             ✓ ✓ ✓ — — — —
ai.risk_alerts                ✓ ✓ ✓ — ✓ — —
ai.recommendations            ✓ ✓ ✓ ✓ ✓ — —
ai.approve_actions            ✓ ✓ L — — — —
team.view                     ✓ A A — A — —
user.manage                   ✓ — — — — — —
settings.manage               ✓ — — — — — —
audit.view                    ✓ A — — — — —
payroll.view                  ✓ — — — — — —
client.view                   ✓ ✓ ✓ — — — —
client.edit                   ✓ ✓ ✓ — — — —
client_content.delete         ✓ — — — — — —
api.reference                 ✓ ✓ ✓ ✓ ✓ ✓ —
template.manage               ✓ ✓ — — — — —
photo.view                    ✓ A A A A O O
photo.approve                 ✓ A — — — — —
file.view                     ✓ A A A A — O
file.upload                   ✓ A A A A — O
file.share                    ✓ A A — — — —
timeclock.punch               ✓ ✓ ✓ ✓ ✓ ✓ —
timesheet.view                ✓ A A — A O —
timesheet.approve             ✓ A — — A — —
timesheet.export              ✓ ✓ — — — — —
daily_log.view                ✓ A A — A — O
daily_log.edit                ✓ A A — A — —
daily_log.unlock              ✓ A — — — — —
client.invite                 ✓ ✓ ✓ — — — —
estimate.view                 ✓ ✓ ✓ — — — O
estimate.edit                 ✓ ✓ ✓ — — — —
estimate.send                 ✓ ✓ — — — — —
estimate.delete               ✓ ✓ — — — — —
estimate.approve              ✓ ✓ — — — — O
pay_application.view          ✓ A A — — — O
pay_application.edit          ✓ A A — — — —
pay_application.certify       ✓ A — — — — —
retainage.release             ✓ A — — — — —
expense.view                  ✓ A A O O O —
expense.create                ✓ A A — — — —
reimbursement.submit          ✓ ✓ ✓ ✓ ✓ ✓ —
reimbursement.review          ✓ A — — — — —
reimbursement.pay             ✓ — — — — — —
report.view                   ✓ A A — — — —
accounting.export             ✓ — — — — — —
"""


def _parse(table: str) -> dict[str, dict[str, str]]:
    matrix = {}
    for line in table.strip().splitlines():
        action, *cells = line.split()
        if len(cells) != len(ROLES) or any(c not in (ALL, ASSIGNED, OWN, DESIGN, LIMITED, NONE) for c in cells):
            raise ValueError(f"bad permission row: {line!r}")
        matrix[action] = dict(zip(ROLES, cells, strict=True))
    return matrix


MATRIX: dict[str, dict[str, str]] = _parse(MATRIX_TABLE)
ACTIONS = tuple(MATRIX)


class PermissionDenied(Exception):
    """Raised by services; answered as 403 (HTML) or PERMISSION_DENIED (JSON)."""

    def __init__(self, message: str = "You do not have permission to do that."):
        super().__init__(message)
        self.message = message


def _unproxied(user):
    """Flask-Login's `current_user` proxy resolved once: each attribute read through the
    proxy costs two context lookups, and a page asks dozens of questions."""
    resolve = getattr(type(user), "_get_current_object", None)
    return user._get_current_object() if resolve is not None else user


def scope_of(user, action: str) -> str:
    user = _unproxied(user)
    if action not in MATRIX:
        raise KeyError(f"unknown permission action {action!r}")
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return NONE
    return MATRIX[action].get(user.role, NONE)


@dataclass(frozen=True)
class Scope:
    """How a model the matrix scopes says whose it is — declared on the model as
    `__scope__ = Scope(...)`; `can()`/`scope_query()` refuse models without one.

    project: the attribute holding the id of the project the row belongs to ("id" for
        Project itself); membership of that project is what the A scope means.
    client_visible: may the owning client's users see it? True, False, or the name of
        a boolean column deciding per row (e.g. a photo's "is_visible_to_client").
    owner: the column naming the staff user who owns the row (O scope), if any.
    team: the column listing the project team's user ids on the row itself, if the model
        has one (projects.team_ids, kept by PostgreSQL): the A scope then reads it through
        its GIN index instead of the memberships (PostgreSQL only; SQLite reads them).
    owner_query: when `owner` is not a column (a task's assignees, a set), the name of a
        classmethod of the model giving the SQL condition "owned by this user id", for
        scope_query; `owner` stays the attribute can() reads on an object.
    client: the column naming the owning client company when the row belongs to a client
        directly rather than through its project (an estimate, whose project exists only
        once it is approved): a client user's O scope compares it (can() and, in SQL,
        scope_query) instead of going through the project.
    """

    project: str
    client_visible: bool | str = False
    owner: str | None = None
    team: str | None = None
    owner_query: str | None = None
    client: str | None = None


class PermissionConfigError(RuntimeError):
    """A permission check met a model that does not declare its scope: a programming
    error, raised loudly instead of guessing (which could leak rows)."""


class RowOf:
    """A row of `model` read as columns (a list page's select of the columns it shows,
    not ORM objects), for can() and FieldView: it carries the model's scope declaration
    and answers attribute reads from the row. A column the model has but the row lacks
    is a programming error, raised loudly (PermissionConfigError), never a guess."""

    __slots__ = ("model", "_row")

    def __init__(self, model, row):
        self.model = model
        self._row = row

    def __getattr__(self, name):
        try:
            return getattr(self._row, name)
        except AttributeError:
            if hasattr(self.model, name):
                raise PermissionConfigError(
                    f"a {self.model.__name__} row read without its {name!r} column cannot be checked"
                ) from None
            raise


def model_of(model_or_obj) -> type:
    """The model class of a model, an instance or a RowOf."""
    if isinstance(model_or_obj, type):
        return model_or_obj
    if isinstance(model_or_obj, RowOf):
        return model_or_obj.model
    return type(model_or_obj)


def scope_declaration(model_or_obj) -> Scope:
    model = model_of(model_or_obj)
    declared = getattr(model, "__scope__", None)
    if not isinstance(declared, Scope):
        raise PermissionConfigError(
            f"{model.__name__} has no __scope__ = Scope(...) declaration; "
            "permission checks on it cannot know whose it is."
        )
    return declared


_CACHE = "kibray_member_projects"


def member_project_ids(user) -> set[int]:
    """The projects the user is a team member of; read once per database session (one
    per request or job) — from core.cached_reads while the memberships table is
    unchanged — and forgotten whenever a membership is written."""
    from app.core.cached_reads import rows_of
    from app.extensions import db

    cache = db.session.info.setdefault(_CACHE, {})
    if user.id not in cache:
        cache[user.id] = {project_id for (project_id,) in rows_of(_member_projects(user.id), db.session)}
    return cache[user.id]


@lru_cache(maxsize=1024)
def _member_projects(user_id: int):
    """The statement of member_project_ids, built once per user (statements are
    immutable; one reused costs no building, compiling or hashing)."""
    from app.core.statements import inline
    from app.projects.models import ProjectMembership

    return select(ProjectMembership.project_id).where(ProjectMembership.user_id == inline(user_id))


def install(session_class) -> None:
    """Session hooks: a flush that writes memberships, or a rollback, empties the cache."""
    from app.projects.models import ProjectMembership

    @event.listens_for(session_class, "after_flush")
    def _memberships_changed(session, flush_context):
        for obj in (*session.new, *session.deleted, *session.dirty):
            if isinstance(obj, ProjectMembership):
                session.info.pop(_CACHE, None)
                return

    @event.listens_for(session_class, "after_soft_rollback")
    def _rolled_back(session, previous_transaction):
        session.info.pop(_CACHE, None)


def _project_id(obj) -> int | None:
    return getattr(obj, scope_declaration(obj).project, None)


def _client_id(obj) -> int | None:
    declared = scope_declaration(obj)
    if declared.client is not None:
        return getattr(obj, declared.client, None)
    if getattr(obj, "client_id", None) is not None:
        return obj.client_id
    project = getattr(obj, "project", None)
    return getattr(project, "client_id", None)


def _owns(user, obj) -> bool:
    declared = scope_declaration(obj)
    if user.role == CLIENT:
        if user.client_id is None or _client_id(obj) != user.client_id:
            return False
        if isinstance(declared.client_visible, str):
            return bool(getattr(obj, declared.client_visible))
        return declared.client_visible is True
    if declared.owner is None:
        return False
    owner = getattr(obj, declared.owner, None)
    if isinstance(owner, (set, frozenset, list, tuple)):
        return user.id in owner
    return owner == user.id


def can(user, action: str, obj=None) -> bool:
    """May `user` do `action` (on `obj`)?

    Without an object the answer means "on at least something": true for every scope
    but NONE (an A-scoped PM may edit projects — the ones they are on). Navigation and
    "New …" buttons ask it this way; a form for an object that may not exist yet can
    pass `obj=None` too. With an object, its model must declare `__scope__`."""
    user = _unproxied(user)
    if obj is not None:
        scope_declaration(obj)  # fail closed for every role, admins included
    scope = scope_of(user, action)
    if scope == ALL:
        return True
    if scope == NONE:
        return False
    if obj is None:
        return True
    if scope == OWN:
        return _owns(user, obj)
    if _project_id(obj) not in member_project_ids(user):
        return False
    if scope == DESIGN:
        return bool(getattr(obj, "is_design", False))
    if scope == LIMITED:
        return bool(getattr(obj, "is_small_action", False))
    return True


def can_each(user, action: str, model):
    """`can(user, action, obj)` for many objects of `model` (a page's rows), with the
    question's scope resolved once: a function obj → bool that answers exactly as can()
    would. ALL and NONE need no object; A is a set lookup in the user's projects; other
    scopes ask can() itself."""
    user = _unproxied(user)
    declared = scope_declaration(model)  # fail closed for every role, admins included
    scope = scope_of(user, action)
    if scope == ALL:
        return lambda obj: True
    if scope == NONE:
        return lambda obj: False
    if scope == ASSIGNED:
        mine, key = member_project_ids(user), declared.project
        return lambda obj: getattr(obj, key, None) in mine
    return lambda obj: can(user, action, obj)


def require(user, action: str, obj=None) -> None:
    if not can(user, action, obj):
        raise PermissionDenied()


@dataclass(frozen=True)
class Viewer:
    """Exactly what a scoped statement depends on of its user (scope_query reads the
    role, the id and the company): the key under which a list's statement is remembered
    per viewer (projects.queries.project_list, admin.services.audit_entries)."""

    id: int
    role: str
    client_id: int | None
    is_active: bool
    is_authenticated: bool = True

    @classmethod
    def of(cls, user) -> Viewer:
        return cls(user.id, user.role, user.client_id, user.is_active)


def scope_query(stmt, user, action: str, model):
    """Restrict a select() of `model` to the rows `user` may see for `action`. The
    viewer's ids are written into the SQL (core.statements.inline): each viewer's
    statement is planned once per connection, not on every run."""
    from app.core.statements import inline
    from app.projects.models import Project, ProjectMembership

    declared = scope_declaration(model)  # fail closed for every role, admins included
    scope = scope_of(user, action)
    if scope == ALL:
        return stmt
    if scope == NONE:
        return stmt.where(false())
    project_col = getattr(model, declared.project)
    if scope == OWN:
        if user.role == CLIENT:
            if user.client_id is None or declared.client_visible is False:
                return stmt.where(false())
            client_id = inline(user.client_id)
            if declared.client is not None:
                stmt = stmt.where(getattr(model, declared.client) == client_id)
            elif model is Project:
                stmt = stmt.where(Project.client_id == client_id)
            else:
                stmt = stmt.where(project_col.in_(select(Project.id).where(Project.client_id == client_id)))
            if isinstance(declared.client_visible, str):
                stmt = stmt.where(getattr(model, declared.client_visible).is_(True))
            return stmt
        if declared.owner_query is not None:
            return stmt.where(getattr(model, declared.owner_query)(inline(user.id)))
        if declared.owner is None:
            return stmt.where(false())
        return stmt.where(getattr(model, declared.owner) == inline(user.id))
    if declared.team and _dialect() == "postgresql":
        stmt = stmt.where(has_in_list(getattr(model, declared.team), user.id))
    else:
        members = select(ProjectMembership.project_id).where(ProjectMembership.user_id == inline(user.id))
        stmt = stmt.where(project_col.in_(members))
    if scope == DESIGN:
        stmt = stmt.where(model.is_design.is_(True))
    elif scope == LIMITED:
        stmt = stmt.where(model.is_small_action.is_(True))
    return stmt


def has_in_list(column, user_id: int):
    """`column` (an integer[] of user ids) contains `user_id`: `column @> ARRAY[id]`, which
    its GIN index answers; the id written into the SQL (core.statements.inline)."""
    from sqlalchemy import literal_column

    return column.op("@>")(literal_column(f"ARRAY[{int(user_id)}]::integer[]"))


def _dialect() -> str:
    from app.extensions import db

    return db.engine.dialect.name


def permission_required(action: str):
    """Route decorator: 403 unless the signed-in user has `action` somewhere."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                from app.extensions import login_manager

                return login_manager.unauthorized()
            if not can(current_user, action):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def signed_in_user():
    """The signed-in user object itself, not Flask-Login's `current_user` proxy: a page
    asks dozens of permission questions, and each attribute read through the proxy costs
    two context lookups."""
    return current_user._get_current_object()


def template_can(action: str, obj=None) -> bool:
    """Jinja global: `{% if can('project.edit', project) %}`."""
    return can(signed_in_user(), action, obj)
