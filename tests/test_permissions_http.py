"""Every route that exists, for all seven roles and anonymous visitors: allowed or
refused exactly as SPEC.md §2 says (HTML 403 page / JSON PERMISSION_DENIED, 404 where
the user may not even know the object exists), the database unchanged after every
refused request, and no control rendered that the viewer may not use."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from app.core import features
from app.core.features import load
from app.core.roles import ROLES
from app.features import FEATURES
from app.projects.models import Project
from app.projects.walk import edit_project_form
from tests.conftest import bearer

ANON = "anonymous"
# Rows the audit log gains on purpose (refused writes are recorded); every other table
# of the schema must be left exactly as it was by a refused request.
UNWATCHED = {"audit_log"}


@pytest.fixture()
def world(db):
    """One user per role. `mine` is the project of the client user's company, with the
    PM, trainee, designer and superintendent on it; `theirs` belongs to another company
    and has nobody on it; `target` is an employee the admin pages act on.
    Built with three flushes: this fixture runs for every one of the ~300 cases."""
    from app.auth.models import User
    from app.clients.models import Client
    from app.projects.models import ProjectMembership
    from tests.factories import password_hash

    company, other = Client(name="Harbor Holdings"), Client(name="Birch Row LLC")

    def person(role, name):
        slug = name.lower().replace(" ", ".")
        return User(
            username=slug, email=f"{slug}@example.com", full_name=name, role=role, password_hash=password_hash()
        )

    users = {role: person(role, f"The {role.replace('_', ' ')}") for role in ROLES}
    users["client"].client = company
    target, newcomer = person("employee", "Target Person"), person("designer", "New Designer")
    db.session.add_all([company, other, *users.values(), target, newcomer])
    db.session.flush()
    mine = Project(
        name="Harbor lofts",
        client=company,
        address="1 Harbor Way",
        budget=Decimal("48250.00"),
        start_date=date(2026, 3, 1),
        end_date=date(2026, 4, 30),
        internal_notes="margin target 31%",
    )
    theirs = Project(name="Birch Row exterior", client=other, address="7 Birch Row", budget=Decimal("9100.00"))
    # a closed project of the same company and team, for reopening
    closed = Project(name="Harbor boathouse", client=company, address="3 Harbor Way", status="closed")
    db.session.add_all([mine, theirs, closed])
    db.session.flush()
    team = [users[r] for r in ("project_manager_full", "pm_trainee", "designer", "superintendent")]
    db.session.add_all([ProjectMembership(project_id=p.id, user_id=u.id) for u in team for p in (mine, closed)])
    db.session.flush()
    db.session.expire(mine, ["memberships"])
    from app.tasks.models import Task, TaskAssignment

    task = Task(project_id=mine.id, title="Mask the windows", start_date=date(2026, 3, 2), due_date=date(2026, 3, 3))
    design_task = Task(project_id=mine.id, title="Choose the trim colour", is_design=True)
    their_task = Task(project_id=theirs.id, title="Scrape the fence")
    db.session.add_all([task, design_task, their_task])
    db.session.flush()
    db.session.add(TaskAssignment(task_id=task.id, user_id=users["employee"].id))
    db.session.flush()
    from tests.factories import make_punch

    # the employee's closed punch on the task, Monday 2026-03-02 (app/timeclock/walk.py)
    punch = make_punch(users["employee"], mine, task=task)
    from app.tasks import attachments
    from tests.images import png

    # a photo on the task, stored as an upload would be (its file route is walked)
    task_file = attachments.attach(users["admin"], task, png(), "image/png", "png", "photo")
    from app.photos import services as photos

    # gallery photos ({pic} internal, {sharedpic} approved for the client, {theirpic} another company's)
    pic = photos.add(users["superintendent"], mine, png(), caption="Primer on the north wall")
    sharedpic = photos.add(users["superintendent"], mine, png(), caption="Finished hallway")
    photos.set_client_visible(users["admin"], [sharedpic], True)
    theirpic = photos.add(users["admin"], theirs, png())
    from app.daily_logs.models import DailyLog, DailyLogCrew
    from app.daily_logs.services import today as log_today

    # {dailylog}: today's log of mine, shared with the client; {oldlog}: a past, locked, internal one
    dailylog = DailyLog(project_id=mine.id, date=log_today(), work_done="Masked", is_client_visible=True)
    oldlog = DailyLog(project_id=mine.id, date=date(2026, 3, 2), work_done="Scraped")
    db.session.add_all([dailylog, oldlog])
    db.session.flush()
    db.session.add(DailyLogCrew(daily_log_id=dailylog.id, user_id=users["employee"].id))
    from tests.factories import make_documents

    # {document} internal, {shareddoc} shared (mine); {theirdoc} of theirs; {companydoc} of the client record
    document, shareddoc, theirdoc, companydoc = make_documents(users["admin"], mine, theirs, company)
    from app.project_templates.models import ProjectTemplate
    from tests.factories import make_client_records

    contact, entry, invitation = make_client_records(company, users["admin"])  # app/clients/walk.py
    # --- calendar events (issue 10, app/calendar/api_walk.py) ---------------------------
    # {event}: of mine, project team, the employee on it; {shared_event}: of mine, visible
    # to the client, nobody on it; {their_event}: of theirs; {series}: a weekly series of
    # mine (4 Mondays from 2026-03-02 14:00 UTC), the employee on it.
    from datetime import UTC, datetime, timedelta

    from app.calendar.models import CalendarEvent, EventAssignee

    def _event(project, title, **extra):
        start = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
        return CalendarEvent(
            project_id=project.id, title=title, start_at=start, end_at=start + timedelta(hours=1), **extra
        )

    event = _event(mine, "Site walk", visibility="project_team")
    shared_event = _event(mine, "Colour review with the owner", visibility="client_visible")
    their_event = _event(theirs, "Fence inspection", visibility="project_team")
    series = _event(mine, "Weekly site meeting", visibility="project_team", rrule="FREQ=WEEKLY;COUNT=4")
    db.session.add_all([event, shared_event, their_event, series])
    db.session.flush()
    db.session.add_all([EventAssignee(event_id=e.id, user_id=users["employee"].id) for e in (event, series)])
    db.session.flush()
    # --- end of calendar events ---------------------------------------------------------
    # every user's subscription feeds exist (issue 11): GET /api/calendar/feed/ makes one on
    # first ask, which the walk's "a GET changes nothing" would read as a write
    from app.calendar_sync.feeds import hash_token
    from app.calendar_sync.models import CalendarFeed

    for person in users.values():
        for project_id in (None, mine.id, theirs.id):
            token = f"walk-{person.id}-{project_id}"
            db.session.add(
                CalendarFeed(user_id=person.id, project_id=project_id, token=token, token_hash=hash_token(token))
            )
    db.session.flush()
    # CalDAV accounts (issue 11) of the three roles that may sync, and a sync conflict of
    # the PM's; the server is never called by the walk (runs are queued, not run)
    from app.calendar_sync.models import CalendarAccount, SyncConflict

    sync_accounts = {
        role: CalendarAccount(
            user_id=users[role].id,
            server_url="http://127.0.0.1:9/",
            username=role,
            password="app-password",
            calendar_url=f"http://127.0.0.1:9/{role}/kibray/",
            calendar_name="Kibray",
        )
        for role in ("admin", "project_manager_full", "pm_trainee")
    }
    db.session.add_all(sync_accounts.values())
    db.session.flush()
    sync_conflict = SyncConflict(
        account_id=sync_accounts["project_manager_full"].id,
        uid="event-1@x",
        title="Walk",
        kept="kibray",
        lost_summary="x",
    )
    db.session.add(sync_conflict)
    db.session.flush()

    from tests.factories import make_walk_invoices

    invoices = make_walk_invoices(users, mine, theirs)  # app/invoices/walk.py (issue 12)
    from tests.factories import make_walk_change_orders

    invoices |= make_walk_change_orders(users, mine, theirs)  # app/change_orders/walk.py
    from tests.factories import make_walk_estimates

    invoices |= make_walk_estimates(users, mine, theirs)  # app/estimates/walk.py
    from tests.factories import make_walk_progress_billing

    invoices |= make_walk_progress_billing(users, mine, theirs)  # app/progress_billing/walk.py
    from tests.factories import make_walk_expenses

    invoices |= make_walk_expenses(users, mine, theirs)  # app/expenses/walk.py (issue 13)
    from tests.factories import make_walk_budgets

    invoices |= make_walk_budgets(users, mine, theirs)  # app/budgets/walk.py (issue 13)
    from tests.factories import make_walk_reports

    invoices |= make_walk_reports(users, mine, theirs)  # app/reports/walk.py (issue 13)

    world = SimpleNamespace(
        invoices=invoices,
        account=sync_accounts["project_manager_full"],
        sync_conflict=sync_conflict,
        event=event,  # calendar (issue 10)
        shared_event=shared_event,
        their_event=their_event,
        series=series,
        contact=contact,
        entry=entry,
        invitation=invitation,
        dailylog=dailylog,
        oldlog=oldlog,
        template=db.session.scalars(select(ProjectTemplate).limit(1)).one(),  # the defaults (migration 0011)
        punch=punch,
        task=task,
        design_task=design_task,
        their_task=their_task,
        task_file=task_file,
        pic=pic,
        sharedpic=sharedpic,
        theirpic=theirpic,
        users=users,
        mine=mine,
        theirs=theirs,
        closed=closed,
        target=target,
        newcomer=newcomer,
        company=company,
        other=other,
        document=document,
        shareddoc=shareddoc,
        theirdoc=theirdoc,
        companydoc=companydoc,
    )
    world.ids = world_ids(world)
    return world


def world_ids(world) -> dict[str, int]:
    """The walk paths' placeholders ({mine}, {task} …), read once when the world is built:
    each role's check expires the session, and reading `world.mine.id` again would cost
    a SELECT per object per role."""
    return {
        "account": world.account.id,
        "clash": world.sync_conflict.id,
        "mine": world.mine.id,
        "theirs": world.theirs.id,
        "closed": world.closed.id,
        "target": world.target.id,
        "company": world.company.id,
        "other": world.other.id,
        "document": world.document.id,
        "shareddoc": world.shareddoc.id,
        "theirdoc": world.theirdoc.id,
        "companydoc": world.companydoc.id,
        "task": world.task.id,
        "design_task": world.design_task.id,
        "their_task": world.their_task.id,
        "photo": world.task_file.id,
        "pic": world.pic.id,
        "sharedpic": world.sharedpic.id,
        "theirpic": world.theirpic.id,
        "template": world.template.id,
        "dailylog": world.dailylog.id,
        "oldlog": world.oldlog.id,
        "punch": world.punch.id,
        "employee": world.users["employee"].id,
        "contact": world.contact.id,
        "entry": world.entry.id,
        "invitation": world.invitation.id,
        "event": world.event.id,  # calendar (issue 10)
        "shared_event": world.shared_event.id,
        "their_event": world.their_event.id,
        "series": world.series.id,
        **{name: row.id for name, row in world.invoices.items()},
        "batch": "walkbatch",  # the PM's batch of one delivery (tests/factories.make_walk_invoices)
    }


def watched_tables() -> list:
    """Every table of the models (from the metadata, so a new feature's tables are watched
    without anyone listing them), but the audit log."""
    from app.extensions import db

    return [t for t in db.metadata.sorted_tables if t.name not in UNWATCHED]


def snapshot(db) -> dict:
    """Every row of the tables a request could change (the audit log aside): on PostgreSQL
    one statement answering a digest of each table's rows (a role's check reads it twice,
    ~300 routes × 8 roles), elsewhere the rows themselves. A difference names the table."""
    from sqlalchemy import select, text

    db.session.expire_all()
    tables = watched_tables()
    if db.session.get_bind().dialect.name != "postgresql":
        return {
            table.name: db.session.execute(select(table).order_by(*table.primary_key.columns)).all() for table in tables
        }
    parts = [
        f"SELECT '{t.name}', md5(coalesce(string_agg(r::text, ',' ORDER BY r::text), '')) FROM \"{t.name}\" r"
        for t in tables
    ]
    return dict(db.session.execute(text(" UNION ALL ".join(parts))).all())


def changed(before: dict, after: dict) -> str:
    return "the tables " + ", ".join(sorted(name for name in before if before[name] != after.get(name)))


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    statuses: str  # one expected status per role, in ROLES order
    body: object = None  # a dict, or a function of the world returning one
    queues_only: bool = False  # allowed, it queues a job and writes no row

    @property
    def expected(self) -> dict[str, int]:
        return dict(zip(ROLES, map(int, self.statuses.split()), strict=True))

    @property
    def is_api(self) -> bool:
        return self.path.startswith("/api/")

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"

    def url(self, world) -> str:
        return self.path.format(**world.ids)

    def data(self, world):
        return self.body(world) if callable(self.body) else self.body


def _walk_rows(features) -> list[Route]:
    """The rows each feature registered (Feature(walk=…))."""
    return [Route(r.method, r.path, r.statuses, r.body, r.queues_only) for f in features for r in f.walk]


ALL_ROUTES = _walk_rows(load(FEATURES))


def _access_token(user) -> dict:
    """A real access token for `user` (the sign-in itself is tested once per role below;
    argon2 is deliberately slow, so the matrix does not sign in 300 times)."""
    from app.auth.tokens import issue_pair

    return {"Authorization": "Bearer " + issue_pair(user)["access_token"]}


def _send(client, route: Route, world, headers=None):
    url, body = route.url(world), route.data(world)
    kwargs = {"headers": headers or {}}
    if body is not None:
        kwargs["json" if route.is_api else "data"] = body
    return client.open(url, method=route.method, **kwargs)


def _check(route: Route, who: str, world, client, login_as, db) -> None:
    headers = {}
    if who != ANON:
        user = world.users[who]
        if route.is_api:
            headers = _access_token(user)
        else:
            login_as(user)
    before = snapshot(db)
    response = _send(client, route, world, headers)
    after = snapshot(db)

    if who == ANON:
        if route.is_api:
            assert response.status_code == 401, response.status_code
            assert response.json["error"]["code"] == "AUTHENTICATION_REQUIRED"
        else:
            assert response.status_code == 302, response.status_code
            assert "/login" in response.headers["Location"]
        assert after == before, f"an anonymous request changed {changed(before, after)}"
        return

    expected = route.expected[who]
    assert response.status_code == expected, f"status {response.status_code}, expected {expected}"
    # (422: a page's form shown again with its errors; 409: refused by the state of things)
    if expected in (400, 403, 404, 409, 422):
        assert after == before, f"a refused request changed {changed(before, after)}"
        if route.is_api:
            assert response.json["success"] is False
            codes = {400: "VALIDATION_ERROR", 403: "PERMISSION_DENIED", 404: "NOT_FOUND", 409: "CONFLICT"}
            assert response.json["error"]["code"] == codes[expected]
        else:
            assert "<html" in response.text, "the error page is not inside the layout"
            assert world.mine.internal_notes not in response.text
    elif route.method != "GET" and not route.queues_only:
        assert after != before, "an allowed write changed nothing"
    else:
        assert after == before, f"a GET changed {changed(before, after)}"


@pytest.mark.parametrize("route", ALL_ROUTES, ids=[r.id for r in ALL_ROUTES])
def test_route_for_every_role(route, world, app, client, login_as, db):
    """One world per route; each role's request runs in a savepoint rolled back afterwards,
    so every role meets the same starting state."""
    problems = []
    for who in (*ROLES, ANON):
        savepoint = db.session.begin_nested()
        try:
            _check(route, who, world, client if who != ANON else app.test_client(), login_as, db)
        except AssertionError as exc:
            problems.append(f"{route.id} as {who}: {exc}")
        finally:
            savepoint.rollback()
    assert problems == []


@pytest.mark.parametrize("role", ROLES)
def test_api_sign_in_and_me_for_every_role(role, world, client):
    user = world.users[role]
    headers = bearer(client, user)
    me = client.get("/api/auth/me/", headers=headers)
    assert me.status_code == 200
    assert me.json["data"]["role"] == role and me.json["data"]["id"] == user.id
    listing = client.get("/api/projects/", headers=headers)
    if role == "employee":
        assert listing.status_code == 403 and listing.json["error"]["code"] == "PERMISSION_DENIED"
    else:
        ids = {p["id"] for p in listing.json["data"]["results"]}
        seen = {world.mine.id, world.closed.id}  # the API lists closed projects too
        if role == "admin":  # every project (the world's money keeps some of theirs elsewhere)
            from sqlalchemy import func, select

            from app.extensions import db
            from app.projects.models import Project

            assert seen | {world.theirs.id} <= ids
            assert listing.json["data"]["pagination"]["total_count"] == db.session.scalar(
                select(func.count(Project.id))
            )
        else:
            assert ids == seen


# --- what each role sees: controls they cannot use are not rendered -----------------

# edit, close, delete, team, budget, internal notes on the detail page (None: not asserted)
DETAIL_CONTROLS = {
    "admin": (True, True, True, True, True, True),
    "project_manager_full": (True, True, False, False, True, True),
    "pm_trainee": (True, False, False, False, True, True),
    "designer": (False, False, False, False, False, None),
    "superintendent": (False, False, False, False, False, None),
    "client": (False, False, False, False, False, False),
}


@pytest.mark.parametrize("role", list(DETAIL_CONTROLS))
def test_project_detail_shows_only_usable_controls(role, world, client, login_as):
    login_as(world.users[role])
    html = client.get(f"/projects/{world.mine.id}").text
    edit, close, delete, team, budget, notes = DETAIL_CONTROLS[role]
    assert ('data-testid="edit-project"' in html) is edit
    assert ('data-testid="close-project"' in html) is close
    assert ('data-testid="delete-project"' in html) is delete
    assert (f"/admin/projects/{world.mine.id}/team" in html) is team
    assert ('data-testid="budget"' in html) is budget
    assert ("$48,250.00" in html) is budget
    if notes is not None:
        assert ("margin target 31%" in html) is notes
        assert ('data-testid="internal-notes"' in html) is notes


@pytest.mark.parametrize("role", [r for r in ROLES if r != "employee"])
def test_project_list_shows_money_and_new_button_only_to_those_allowed(role, world, client, login_as):
    login_as(world.users[role])
    html = client.get("/projects").text
    money = role in ("admin", "project_manager_full", "pm_trainee")
    assert ("sort=budget" in html) is money  # the Budget column header
    assert ("$48,250.00" in html) is money
    assert ('data-testid="new-project"' in html) is (role in ("admin", "project_manager_full", "pm_trainee"))
    assert ("Harbor lofts" in html) is True
    assert ("Birch Row exterior" in html) is (role == "admin")


@pytest.mark.parametrize(
    ("role", "budget_input"), [("admin", True), ("project_manager_full", True), ("pm_trainee", False)]
)
def test_edit_form_offers_the_budget_only_to_who_may_change_it(role, budget_input, world, client, login_as):
    login_as(world.users[role])
    html = client.get(f"/projects/{world.mine.id}/edit").text
    assert ('name="budget"' in html) is budget_input
    assert 'data-testid="close-project"' not in html


def test_trainee_cannot_change_the_budget_by_posting_it_anyway(world, client, login_as, db):
    login_as(world.users["pm_trainee"])
    before = snapshot(db)
    response = client.post(f"/projects/{world.mine.id}/edit", data={**edit_project_form(world), "budget": "99999.00"})
    assert response.status_code == 422
    assert "Please correct the highlighted fields." in response.text
    assert snapshot(db) == before
    # and through the API
    headers = _access_token(world.users["pm_trainee"])
    response = client.patch(f"/api/projects/{world.mine.id}/", json={"budget": "1.00"}, headers=headers)
    assert response.status_code == 400 and "budget" in response.json["error"]["details"]
    assert db.session.get(Project, world.mine.id).budget == Decimal("48250.00")


@pytest.mark.parametrize("role", ["designer", "superintendent", "client"])
def test_api_hides_money_from_roles_without_it(role, world, client):
    headers = _access_token(world.users[role])
    detail = client.get(f"/api/projects/{world.mine.id}/", headers=headers).json["data"]
    assert detail["budget"] is None
    assert "profitability" not in detail
    listing = client.get("/api/projects/", headers=headers).json["data"]["results"]
    assert all(p["budget"] is None for p in listing)
    # ordering by budget is not a side channel either
    ordered = client.get("/api/projects/?ordering=budget", headers=headers)
    assert ordered.status_code == 400 and ordered.json["error"]["code"] == "VALIDATION_ERROR"


NAV = {  # projects, clients, users, audit, jobs
    "admin": (True, True, True, True, True),
    "project_manager_full": (True, True, False, True, False),
    "pm_trainee": (True, True, False, False, False),
    "designer": (True, False, False, False, False),
    "superintendent": (True, False, False, False, False),
    "employee": (False, False, False, False, False),
    "client": (True, False, False, False, False),
}


@pytest.mark.parametrize("role", ROLES)
def test_navigation_shows_each_role_what_it_may_use(role, world, client, login_as):
    login_as(world.users[role])
    html = client.get("/notifications").text
    for item, shown in zip(("projects", "clients", "users", "audit", "jobs"), NAV[role], strict=True):
        assert (f'data-nav="{item}"' in html) is shown, item
    assert 'data-nav="notifications"' in html


def test_scoped_lists_never_leak_through_search_or_filters(world, client, login_as):
    """A PM searching for another company's project, or filtering by its client, gets nothing."""
    login_as(world.users["project_manager_full"])
    for query in (
        "q=Birch",
        f"client={world.other.id}",
        "status=all",
        f"pm={world.users['project_manager_full'].id}&status=all",
    ):
        assert "Birch Row exterior" not in client.get(f"/projects?{query}").text
    headers = _access_token(world.users["client"])
    found = client.get(f"/api/projects/?search=Birch&client={world.other.id}", headers=headers).json["data"]["results"]
    assert found == []


def test_admin_team_page_offers_only_team_roles_not_yet_on_the_team(world, client, login_as):
    login_as(world.users["admin"])
    html = client.get(f"/admin/projects/{world.mine.id}/team").text
    select_box = html.split('data-testid="member-select"')[1].split("</select>")[0]
    assert "New Designer" in select_box
    assert "Target Person" not in select_box  # an employee is never a team member
    assert world.users["designer"].full_name not in select_box  # already on it


def missing_from_walk(app) -> list[str]:
    """URL rules of `app` that no feature's walk rows cover and no feature names as tested
    elsewhere (Feature(walk_skip=…); a trailing "*" covers a prefix)."""
    walked = {re.sub(r"\{[a-z]+\}", "<>", r.path.split("?")[0]) for r in features.walk(app)}
    skipped = features.walk_skip(app)
    prefixes = tuple(rule[:-1] for rule in skipped if rule.endswith("*"))
    missing = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.rule in skipped or (prefixes and rule.rule.startswith(prefixes)):
            continue
        if re.sub(r"<[^>]+>", "<>", rule.rule) not in walked:
            missing.append(rule.rule)
    return missing


def test_every_route_is_in_the_permission_walk(app):
    """A new page or endpoint must be in its feature's walk rows (or its walk_skip)."""
    assert missing_from_walk(app) == [], "routes without a permission walk"
