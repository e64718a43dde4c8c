"""The whole permission matrix of SPEC.md §2, row by row, for all seven roles, through
`can()` and `scope_query()` (the service layer).

The expected table below is typed in again from SPEC.md on purpose — it is not imported
from app.core.permissions, so a wrong cell in MATRIX_TABLE makes a test fail.

Symbols: Y allowed everywhere · A only on assigned projects · O only own items
· D assigned and a design item · L assigned and a small action · - denied.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from flask_login import AnonymousUserMixin
from sqlalchemy import Integer, String, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from app.core import permissions
from app.core.permissions import PermissionConfigError, PermissionDenied, Scope, can, require, scope_query
from app.core.roles import ROLES
from app.projects.models import Project, ProjectMembership
from tests.factories import make_client, make_project, make_user

# Columns: admin, project_manager_full, pm_trainee, designer, superintendent, employee, client.
EXPECTED_TABLE = """
# view all projects / view assigned projects
project.view_all              Y - - - - - -
project.view                  Y A A A A - O
project.create                Y Y Y - - - -
project.edit                  Y A A - - - -
project.delete                Y - - - - - -
project.close                 Y A - - - - -
# issue 5: reopening a closed project (admin, or the project's full PM)
project.reopen                Y A - - - - -
# client: "O (invoices and change orders only, never costs)"
project.view_financials       Y A A - - - O
calendar.view                 Y A A - A O O
calendar.create_event         Y A A - A - -
# move events (drag & drop) / delete events
calendar.move_event           Y A A - - - -
calendar.comment              Y A A A A O O
calendar.sync_external        Y Y Y - - - -
task.view                     Y A A D A O -
# create / assign tasks
task.create                   Y A A - A - -
# employee "O (progress only, no reassign)"; reassigning follows the create / assign row
task.modify                   Y A A D A O -
task.reassign                 Y A A - A - -
task.delete                   Y A A - - - -
task.complete                 Y A A D A O -
photo.upload                  Y A A A A O O
# create / edit invoice (trainee: always a draft for review)
invoice.create                Y A A - - - -
invoice.delete                Y - - - - - -
# send invoice / mark paid
invoice.send                  Y A - - - - -
# SPEC §3: "an admin approves it before it can be sent"
invoice.approve_draft         Y - - - - - -
# view internal costs, reports
costs.view                    Y A A - - - -
budget.modify                 Y A - - - - -
change_order.view             Y A A - - - O
# create / edit change order, submit for approval
change_order.edit             Y A A - - - -
change_order.delete           Y A - - - - -
change_order.approve          Y A - - - - O
inventory.view                Y A A A A O -
# "add inventory, transfer": the superintendent's "A (transfer)" is transfer only
inventory.add                 Y A A - - - -
inventory.transfer            Y A A - A - -
inventory.bulk_transfer       Y A - - - - -
material.request              Y Y Y Y Y Y -
material.view_costs           Y A A - - - -
notification.receive          Y Y Y Y Y Y Y
notification.send_system      Y - - - - - -
# trainee "A (internal only)"; external email: PM yes (§1), trainee no (§1)
notification.send_project     Y A A - - - -
notification.send_external    Y A - - - - -
ai.quick_mode                 Y Y Y Y Y Y -
ai.generate_tasks             Y Y Y - - - -
ai.risk_alerts                Y Y Y - Y - -
ai.recommendations            Y Y Y Y Y - -
# trainee: "limited"
ai.approve_actions            Y Y L - - - -
team.view                     Y A A - A - -
# create users, change roles, delete users, system settings
user.manage                   Y - - - - - -
settings.manage               Y - - - - - -
audit.view                    Y A - - - - -
# "Payroll and wages: admin only"
payroll.view                  Y - - - - - -
# client records: admin and PMs (they pick the client of a new project); clients never see other clients
client.view                   Y Y Y - - - -
# adding / editing client records goes with creating projects (a new customer's first job)
client.edit                   Y Y Y - - - -
# "Deleting anything a client added needs an admin"
client_content.delete         Y - - - - - -
api.reference                 Y Y Y Y Y Y -
# not a row of SPEC.md §2: issue 8 — admins and PMs manage project templates
template.manage               Y Y - - - - -
# issue 9: SPEC.md names the modules, not their actions (docs/architecture.md, "Field and client rows")
# photos: "upload photos" row; clients see admin-approved photos of their own projects,
# employees the photos of their own tasks; approving for the client is the admin's or a PM's
photo.view                    Y A A A A O O
photo.approve                 Y A - - - - -
# documents: clients see those shared with them and may upload ("may comment and upload")
file.view                     Y A A A A - O
file.upload                   Y A A A A - O
file.share                    Y A A - - - -
# the time clock: every staff role punches ("clocks in/out", "check-in/out")
timeclock.punch               Y Y Y Y Y Y -
# employees their own timesheets; superintendents and PMs approve their projects'
timesheet.view                Y A A - A O -
timesheet.approve             Y A - - A - -
# payroll's CSV: hours, never wages
timesheet.export              Y Y - - - - -
# daily logs: by the superintendent or a PM; clients only those marked client-visible
daily_log.view                Y A A - A - O
daily_log.edit                Y A A - A - -
daily_log.unlock              Y A - - - - -
client.invite                 Y Y Y - - - -
# issue 12: estimates belong to a client before any project exists (docs/architecture.md,
# "Estimates"): staff all of them, a client their own company's once sent; trainees write
# them, PMs and admins send, delete and record the client's decision
estimate.view                 Y Y Y - - - O
estimate.edit                 Y Y Y - - - -
estimate.send                 Y Y - - - - -
estimate.delete               Y Y - - - - -
estimate.approve              Y Y - - - - O
# issue 13 (docs/architecture.md, "Money out"): the client sees certified pay applications
# of their projects; PMs certify and release retainage on their projects
pay_application.view          Y A A - - - O
pay_application.edit          Y A A - - - -
pay_application.certify       Y A - - - - -
retainage.release             Y A - - - - -
# expenses follow "view internal costs" (A); whoever paid out of pocket sees their own claim
expense.view                  Y A A O O O -
expense.create                Y A A - - - -
# SPEC.md §5: every staff role claims; the project's PM or an admin reviews; an admin pays
reimbursement.submit          Y Y Y Y Y Y -
reimbursement.review          Y A - - - - -
reimbursement.pay             Y - - - - - -
# "view internal costs, reports"
report.view                   Y A A - - - -
# the accountant's export: an admin's (it carries every project's money)
accounting.export             Y - - - - - -
"""


def _expected() -> dict[str, dict[str, str]]:
    table = {}
    for line in EXPECTED_TABLE.strip().splitlines():
        if line.startswith("#"):
            continue
        action, *cells = line.split()
        assert len(cells) == 7, line
        table[action] = dict(zip(ROLES, cells, strict=True))
    return table


EXPECTED = _expected()
ACTIONS = list(EXPECTED)


def test_every_row_of_the_matrix_is_covered_and_nothing_else_exists():
    assert set(EXPECTED) == set(permissions.MATRIX)


def test_unknown_actions_are_a_programming_error(db):
    with pytest.raises(KeyError):
        can(make_user("admin"), "project.fly")


@pytest.fixture()
def world(db):
    """Two client companies; `mine` is the project the acting user is on (member / owner),
    `theirs` a project they have nothing to do with."""
    own_company, other_company = make_client(), make_client()
    mine = make_project(client=own_company)
    theirs = make_project(client=other_company)
    return SimpleNamespace(own_company=own_company, mine=mine, theirs=theirs)


def _actor(role: str, world, **kwargs):
    user = make_user(role, client=world.own_company, **kwargs) if role == "client" else make_user(role, **kwargs)
    if role in ("project_manager_full", "pm_trainee", "designer", "superintendent"):
        from app.extensions import db

        db.session.add(ProjectMembership(project_id=world.mine.id, user_id=user.id))
        db.session.flush()
    return user


class _Declared(SimpleNamespace):
    """A thing of a module that has no model yet, declaring its scope like a model must."""

    __scope__ = Scope(project="project_id", client_visible="is_visible_to_client", owner="assignee_ids")


def _item(project, user=None, design=False, small=False, visible=True):
    """A thing of a module that has no model yet (task, invoice, event…)."""
    return _Declared(
        project_id=project.id,
        client_id=project.client_id,
        assignee_ids=[user.id] if user is not None else [],
        is_design=design,
        is_small_action=small,
        is_visible_to_client=visible,
    )


@pytest.fixture()
def actors(world):
    return {role: _actor(role, world) for role in ROLES}


def _cell_problems(action: str, role: str, user, world) -> list[str]:
    """Every way `can()` disagrees with the expected symbol for this (action, role)."""
    symbol = EXPECTED[action][role]
    # The employee's own items are the ones assigned to them; everybody else's "assigned"
    # objects live on the project they are on (a client: the project of their company).
    # A staff role whose cell is O (a designer's own expense claims) owns its items too.
    assignee = user if role == "employee" or (symbol == "O" and role != "client") else None
    cases = {
        # (a) no object: may they do it anywhere at all (navigation, "new" buttons)?
        "no object": (None, symbol != "-"),
        # (b) on their project / their own item — a design item and a small action …
        "own design/small item": (_item(world.mine, assignee, design=True, small=True), symbol != "-"),
        # … and an ordinary one
        "own plain item": (_item(world.mine, assignee), symbol in ("Y", "A", "O")),
        # (c) on a project they are not on / someone else's item
        "foreign item": (_item(world.theirs, None, design=True, small=True), symbol == "Y"),
    }
    problems = []
    for case, (obj, expected) in cases.items():
        got = can(user, action, obj)
        if got is not expected:
            problems.append(f"{action} / {role} / {case}: can() is {got}, SPEC says {symbol!r}")
        try:
            require(user, action, obj)
            raised = False
        except PermissionDenied:
            raised = True
        if raised is expected:
            problems.append(f"{action} / {role} / {case}: require() disagrees with can()")
    return problems


@pytest.mark.parametrize("action", ACTIONS)
def test_matrix_row(action, world, actors):
    problems = [p for role in ROLES for p in _cell_problems(action, role, actors[role], world)]
    assert problems == []


@pytest.mark.parametrize("role", ROLES)
def test_project_rows_on_real_projects(role, world):
    user = _actor(role, world)
    for action in (a for a in EXPECTED if a.startswith("project.")):
        symbol = EXPECTED[action][role]
        # An employee owns no project: their "own" things are tasks, never projects.
        on_mine = symbol == "Y" or (symbol in ("A", "O") and role != "employee")
        assert can(user, action, world.mine) is on_mine, action
        assert can(user, action, world.theirs) is (symbol == "Y"), action


@pytest.mark.parametrize("role", ROLES)
def test_a_row_of_columns_is_judged_like_its_object(role, world, db):
    """RowOf (a list read as columns, not objects): every project action gives the same
    answer for the row as for the Project it was read from."""
    from sqlalchemy import select as _select

    from app.core.permissions import RowOf

    user = _actor(role, world)
    columns = (Project.id, Project.client_id, Project.status)
    for project in (world.mine, world.theirs):
        row = db.session.execute(_select(*columns).where(Project.id == project.id)).one()
        for action in (a for a in EXPECTED if a.startswith(("project.", "costs.", "team."))):
            assert can(user, action, RowOf(Project, row)) is can(user, action, project), (action, project.name)


@pytest.mark.parametrize("role", ROLES)
def test_asking_once_for_many_rows_answers_like_can(role, world, db):
    """permissions.can_each (a page's rows, the scope resolved once) gives for every
    action, project and declared item exactly the answer can() gives; so does an
    inactive user's."""
    from app.core.permissions import can_each

    for user in (_actor(role, world), _actor(role, world, is_active_flag=False)):
        for action in EXPECTED:
            check = can_each(user, action, Project)
            for project in (world.mine, world.theirs):
                assert check(project) is can(user, action, project), (action, project.name)
            declared = can_each(user, action, _Declared)
            for item in (_item(world.mine, user), _item(world.theirs), _item(world.mine, design=True, small=True)):
                assert declared(item) is can(user, action, item), (action, item)


def test_a_row_without_a_column_its_check_reads_is_refused_loudly(world, db):
    from sqlalchemy import select as _select

    from app.core.permissions import RowOf

    client_user = _actor("client", world)
    row = db.session.execute(_select(Project.id).where(Project.id == world.mine.id)).one()
    with pytest.raises(PermissionConfigError):
        can(client_user, "project.view", RowOf(Project, row))  # a client's check reads client_id


class _Owned(SimpleNamespace):
    __scope__ = Scope(project="project_id", owner="owner_id")


class _Timesheet(SimpleNamespace):
    __scope__ = Scope(project="project_id", owner="user_id")


def test_employee_owns_what_is_assigned_to_them_or_theirs_only(world):
    employee = _actor("employee", world)
    other = make_user("employee")
    owned = _Owned(project_id=world.theirs.id, owner_id=employee.id)
    timesheet = _Timesheet(project_id=world.theirs.id, user_id=employee.id)
    assert can(employee, "task.modify", owned)
    assert can(employee, "photo.upload", timesheet)
    assert not can(other, "task.modify", owned)
    assert not can(other, "photo.upload", timesheet)
    assert not can(employee, "task.modify", _item(world.theirs, other))
    # Being on the project would not matter: employees are never project members.
    assert not can(employee, "task.delete", owned)
    assert not can(employee, "task.reassign", owned)


def test_client_sees_only_client_visible_items_of_their_own_company(world):
    client_user = _actor("client", world)
    assert can(client_user, "calendar.view", _item(world.mine))
    assert not can(client_user, "calendar.view", _item(world.mine, visible=False))
    assert not can(client_user, "calendar.view", _item(world.theirs))
    # a client user whose company link is missing owns nothing
    orphan = _actor("client", world)
    orphan.client_id = None
    assert not can(orphan, "project.view", world.mine)
    assert not can(orphan, "change_order.approve", _item(world.mine))


def test_being_on_a_project_is_per_project(world):
    pm = _actor("project_manager_full", world)
    second = make_project(members=[pm])
    assert can(pm, "project.close", second)
    assert not can(pm, "project.close", world.theirs)
    assert not can(pm, "project.delete", second)


@pytest.mark.parametrize("role", ROLES)
def test_inactive_users_can_do_nothing(role, world):
    user = _actor(role, world, is_active_flag=False)
    for action in EXPECTED:
        assert not can(user, action), action
        assert not can(user, action, _item(world.mine, user, design=True, small=True)), action
        assert not can(user, action, world.mine), action
    from app.extensions import db

    assert db.session.scalars(scope_query(select(Project), user, "project.view", Project)).all() == []


def test_anonymous_and_missing_users_can_do_nothing(world):
    for action in EXPECTED:
        assert not can(AnonymousUserMixin(), action)
        assert not can(None, action, world.mine)


# --- scope_query: rows a user may not see never leave the database ---------------------


@pytest.fixture()
def estate(db):
    """Five projects with different teams and owners, and one user per role."""
    acme, birch = make_client(), make_client()
    users = {role: make_user(role, client=acme) if role == "client" else make_user(role) for role in ROLES}
    pm, trainee, designer, sup = (
        users[r] for r in ("project_manager_full", "pm_trainee", "designer", "superintendent")
    )
    projects = {
        "pm_and_designer": make_project(client=acme, members=[pm, designer]),
        "trainee_and_super": make_project(client=birch, members=[trainee, sup]),
        "everyone": make_project(client=birch, members=[pm, trainee, designer, sup]),
        "nobody_acme": make_project(client=acme, status="closed"),
        "nobody_birch": make_project(client=birch),
    }
    return SimpleNamespace(users=users, projects=projects)


SCOPE_EXPECTED = {
    "admin": {"pm_and_designer", "trainee_and_super", "everyone", "nobody_acme", "nobody_birch"},
    "project_manager_full": {"pm_and_designer", "everyone"},
    "pm_trainee": {"trainee_and_super", "everyone"},
    "designer": {"pm_and_designer", "everyone"},
    "superintendent": {"trainee_and_super", "everyone"},
    "employee": set(),
    "client": {"pm_and_designer", "nobody_acme"},
}


@pytest.mark.parametrize("role", ROLES)
def test_scope_query_returns_exactly_the_visible_projects(role, estate, db):
    user = estate.users[role]
    ids = set(db.session.scalars(scope_query(select(Project.id), user, "project.view", Project)))
    names = {key for key, p in estate.projects.items() if p.id in ids}
    assert names == SCOPE_EXPECTED[role]
    # and it agrees with can() row by row
    for project in estate.projects.values():
        assert can(user, "project.view", project) is (project.id in ids)
    # view_all: only the admin gets the unfiltered list
    all_ids = set(db.session.scalars(scope_query(select(Project.id), user, "project.view_all", Project)))
    assert all_ids == ({p.id for p in estate.projects.values()} if role == "admin" else set())


def test_scope_query_on_child_rows_follows_the_project(estate, db):
    """Membership rows stand in for any model with a project_id."""
    pm = estate.users["project_manager_full"]
    rows = db.session.scalars(scope_query(select(ProjectMembership), pm, "team.view", ProjectMembership)).all()
    assert {r.project_id for r in rows} == {estate.projects["pm_and_designer"].id, estate.projects["everyone"].id}
    designer = estate.users["designer"]
    assert (
        db.session.scalars(scope_query(select(ProjectMembership), designer, "team.view", ProjectMembership)).all() == []
    )
    client_user = estate.users["client"]
    owned = db.session.scalars(
        scope_query(select(ProjectMembership), client_user, "project.view", ProjectMembership)
    ).all()
    assert {r.project_id for r in owned} == {estate.projects["pm_and_designer"].id}


def test_scope_query_for_a_client_without_a_company_is_empty(estate, db):
    client_user = estate.users["client"]
    client_user.client_id = None
    assert db.session.scalars(scope_query(select(Project), client_user, "project.view", Project)).all() == []


def test_membership_cache_is_per_session_and_forgotten_when_memberships_change(app, estate, db, count_queries):
    """The member projects are loaded once per session (request or job); writing a
    membership — adding or removing — empties the cache by itself."""
    pm = estate.users["project_manager_full"]
    fresh = make_project()
    with app.test_request_context("/"):
        assert not can(pm, "project.edit", fresh)
        with count_queries() as counted:
            assert not can(pm, "project.edit", fresh)
        assert counted.n == 0  # cached
        membership = ProjectMembership(project_id=fresh.id, user_id=pm.id)
        db.session.add(membership)
        db.session.flush()
        assert can(pm, "project.edit", fresh)
        db.session.delete(membership)
        db.session.flush()
        assert not can(pm, "project.edit", fresh)
    # outside any request too (a job or CLI command)
    db.session.add(ProjectMembership(project_id=fresh.id, user_id=pm.id))
    db.session.flush()
    assert can(pm, "project.edit", fresh)


# --- scope_query on a module model that does not exist yet ------------------------------


class _ScratchBase(DeclarativeBase):
    pass


class ScopedItem(_ScratchBase):
    """Stands in for tasks, events, AI actions…: created inside the test's transaction
    (PostgreSQL DDL is transactional), so it vanishes with the rollback."""

    __tablename__ = "test_scoped_items"
    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(40))
    project_id: Mapped[int] = mapped_column(Integer)
    assignee_id: Mapped[int | None] = mapped_column(Integer)
    is_design: Mapped[bool] = mapped_column(default=False)
    is_small_action: Mapped[bool] = mapped_column(default=False)
    is_visible_to_client: Mapped[bool] = mapped_column(default=True)

    __scope__ = Scope(project="project_id", client_visible="is_visible_to_client", owner="assignee_id")


@pytest.mark.parametrize(
    ("role", "action", "visible"),
    [
        ("admin", "task.view", {"plain", "design", "small", "hidden", "assigned", "foreign"}),
        ("project_manager_full", "task.view", {"plain", "design", "small", "hidden", "assigned"}),
        ("designer", "task.view", {"design"}),
        ("pm_trainee", "ai.approve_actions", {"small"}),
        ("project_manager_full", "ai.approve_actions", {"plain", "design", "small", "hidden", "assigned", "foreign"}),
        ("employee", "task.view", {"assigned"}),
        ("client", "change_order.view", {"plain", "design", "small", "assigned"}),
        ("client", "task.view", set()),
        ("superintendent", "invoice.create", set()),
    ],
)
def test_scope_query_on_child_rows_honours_design_small_own_and_client_visibility(role, action, visible, world, db):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("needs transactional DDL")
    _ScratchBase.metadata.create_all(db.session.connection())
    user = _actor(role, world)
    rows = {
        "plain": ScopedItem(label="plain", project_id=world.mine.id),
        "design": ScopedItem(label="design", project_id=world.mine.id, is_design=True),
        "small": ScopedItem(label="small", project_id=world.mine.id, is_small_action=True),
        "hidden": ScopedItem(label="hidden", project_id=world.mine.id, is_visible_to_client=False),
        "assigned": ScopedItem(label="assigned", project_id=world.mine.id, assignee_id=user.id),
        "foreign": ScopedItem(label="foreign", project_id=world.theirs.id, is_design=True, is_small_action=True),
    }
    db.session.add_all(rows.values())
    db.session.flush()
    found = set(db.session.scalars(scope_query(select(ScopedItem.label), user, action, ScopedItem)))
    assert found == visible


# --- fail closed: a model that does not declare its scope --------------------------------


class UndeclaredItem(_ScratchBase):
    """A module model that forgot `__scope__`: every scoped check must refuse to guess."""

    __tablename__ = "test_undeclared_items"
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(Integer)
    client_id: Mapped[int | None] = mapped_column(Integer)


@pytest.mark.parametrize("role", ROLES)
def test_checks_on_a_model_without_a_scope_declaration_raise_for_every_role(role, world):
    user = _actor(role, world)
    item = UndeclaredItem(id=1, project_id=world.mine.id, client_id=world.own_company.id)
    for action in ("photo.upload", "project.view", "task.view", "invoice.delete"):
        with pytest.raises(PermissionConfigError):
            can(user, action, item)
        with pytest.raises(PermissionConfigError):
            scope_query(select(UndeclaredItem), user, action, UndeclaredItem)
    # a plain object without the declaration is refused the same way
    with pytest.raises(PermissionConfigError):
        can(user, "photo.upload", SimpleNamespace(project_id=world.mine.id, client_id=world.own_company.id))


def test_every_model_that_belongs_to_a_project_declares_its_scope(app):
    """Read from the metadata, not a list: a model with a `project_id` column (or Project
    itself) must say whose it is, and name attributes it really has — a new feature's
    model fails here before any check could guess."""
    from app.extensions import db
    from app.models import import_all_models

    import_all_models(app.config.get("FEATURES"))
    problems, checked = [], set()
    for mapper in db.Model.registry.mappers:
        model = mapper.class_
        if "project_id" not in mapper.columns and model is not Project:
            continue
        checked.add(model.__name__)
        declared = getattr(model, "__scope__", None)
        if not isinstance(declared, Scope):
            problems.append(f"{model.__name__}: no __scope__ = Scope(...)")
            continue
        named = [declared.project, declared.owner] + (
            [declared.client_visible] if isinstance(declared.client_visible, str) else []
        )
        problems += [
            f"{model.__name__}.{name}: no such attribute" for name in named if name and not hasattr(model, name)
        ]
    assert problems == []
    assert {"Project", "ProjectMembership", "AuditLog", "Notification"} <= checked


def test_a_notification_is_its_users_and_never_a_clients_through_the_project(world):
    from app.notifications.models import Notification

    assert Notification.__scope__ == Scope(project="project_id", client_visible=False, owner="user_id")
    client_user, other = _actor("client", world), make_user("employee")
    to_client = Notification(user_id=client_user.id, project_id=world.mine.id, kind="system", title="Hi")
    assert not permissions._owns(client_user, to_client)  # a project's client does not see staff notes
    to_other = Notification(user_id=other.id, project_id=world.mine.id, kind="system", title="Hi")
    assert permissions._owns(other, to_other)
    assert not permissions._owns(_actor("employee", world), to_other)


def test_nothing_is_visible_to_clients_unless_the_model_says_so(world):
    client_user = _actor("client", world)

    class Private(SimpleNamespace):
        __scope__ = Scope(project="project_id")  # client_visible defaults to False

    class Shared(SimpleNamespace):
        __scope__ = Scope(project="project_id", client_visible=True)

    def on(cls):
        return cls(project_id=world.mine.id, client_id=world.own_company.id)

    assert not can(client_user, "photo.upload", on(Private))
    assert can(client_user, "photo.upload", on(Shared))


def test_client_visibility_in_queries_follows_the_declaration(world, db):
    """A model declared client-invisible lists nothing to a client, whatever its rows say."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("needs transactional DDL")
    _ScratchBase.metadata.create_all(db.session.connection())
    client_user = _actor("client", world)
    db.session.add(ScopedItem(label="mine", project_id=world.mine.id))
    db.session.flush()

    class Hidden:
        __scope__ = Scope(project="project_id")
        project_id = ScopedItem.project_id

    assert db.session.scalars(scope_query(select(ScopedItem.label), client_user, "photo.upload", Hidden)).all() == []
    assert db.session.scalars(scope_query(select(ScopedItem.label), client_user, "photo.upload", ScopedItem)).all() == [
        "mine"
    ]
