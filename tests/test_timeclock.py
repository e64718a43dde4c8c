"""The time clock (issue 9; app/timeclock/services.py): clocking in and out, breaks and
hours, one open punch per person, who may punch where, closed projects, times in the
future, locations, the nightly close of forgotten punches, the live audience, the crew
board and the pages — for every role."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.core.errors import ConflictError, ValidationError
from app.core.permissions import PermissionDenied
from app.extensions import db
from app.notifications.models import Notification
from app.tasks.models import Task, TaskAssignment
from app.timeclock import services
from app.timeclock.models import Punch, PunchBreak
from app.timeclock.queries import crew_on
from tests.factories import make_client, make_project, make_punch, make_user

# Monday 2026-03-02, 7:02 AM in Denver (MST, UTC−7)
MONDAY_7_02 = datetime(2026, 3, 2, 14, 2, tzinfo=UTC)


@pytest.fixture()
def clock(monkeypatch):
    """The server's clock, set by the test (services, models and queries read it)."""
    state = SimpleNamespace(now=MONDAY_7_02)

    def now():
        return state.now

    import app.timeclock.models as models
    import app.timeclock.queries as queries

    for module in (services, models, queries):
        monkeypatch.setattr(module, "utcnow", now)
    return state


@pytest.fixture()
def site(db):
    """`project` with its PM, trainee, designer and superintendent; employees `worker` and
    `mate` on its task `task`; `other` (nobody on it) with `other_task`; `closed` with
    the same team and `worker` on a task there."""
    company = make_client()
    pm, trainee = make_user("project_manager_full"), make_user("pm_trainee")
    designer, superintendent = make_user("designer"), make_user("superintendent")
    worker = make_user("employee", full_name="Walt Worker")
    mate = make_user("employee", full_name="Mia Mate")
    loner = make_user("employee", full_name="Lou Loner")
    admin, client_user = make_user("admin"), make_user("client", client=company)
    team = [pm, trainee, designer, superintendent]
    project = make_project(client=company, members=team, name="Harbor lofts", status="active")
    other = make_project(name="Birch Row")
    closed = make_project(client=company, members=team, name="Harbor boathouse", status="closed")
    task = Task(project_id=project.id, title="Mask the windows")
    second = Task(project_id=project.id, title="Prime the trim")
    other_task = Task(project_id=other.id, title="Scrape the fence")
    closed_task = Task(project_id=closed.id, title="Stain the dock")
    db.session.add_all([task, second, other_task, closed_task])
    db.session.flush()
    db.session.add_all(
        [
            TaskAssignment(task_id=task.id, user_id=worker.id),
            TaskAssignment(task_id=task.id, user_id=mate.id),
            TaskAssignment(task_id=closed_task.id, user_id=worker.id),
        ]
    )
    db.session.flush()
    return SimpleNamespace(**locals())


def _count() -> int:
    return db.session.scalar(select(func.count(Punch.id)))


# --- hours and breaks ----------------------------------------------------------------


def test_hours_are_the_time_between_less_the_breaks_as_decimal_hundredths(site, clock):
    clock.now = MONDAY_7_02
    punch = services.clock_in(site.worker, site.project.id, site.task.id)
    assert punch.clock_in == MONDAY_7_02 and punch.hours is None and punch.is_open
    clock.now = MONDAY_7_02 + timedelta(hours=4)
    services.start_break(site.worker)
    clock.now += timedelta(minutes=31)
    services.end_break(site.worker)
    clock.now += timedelta(hours=4, minutes=1, seconds=20)
    services.clock_out(site.worker)
    # 8 h 32 min 20 s less 31 min = 8 h 1 min 20 s = 8.0222… → 8.02
    assert punch.hours == Decimal("8.02") and isinstance(punch.hours, Decimal)
    assert [(b.start, b.end) for b in punch.breaks] == [
        (MONDAY_7_02 + timedelta(hours=4), MONDAY_7_02 + timedelta(hours=4, minutes=31))
    ]


def test_clocking_out_during_a_break_ends_the_break(site, clock):
    punch = services.clock_in(site.worker, site.project.id)
    clock.now += timedelta(hours=2)
    services.start_break(site.worker)
    clock.now += timedelta(minutes=30)
    services.clock_out(site.worker)
    assert punch.breaks[0].end == clock.now and punch.hours == Decimal("2.00")


def test_break_rules(site, clock):
    with pytest.raises(ConflictError, match="not clocked in"):
        services.start_break(site.worker)
    services.clock_in(site.worker, site.project.id)
    with pytest.raises(ConflictError, match="not on a break"):
        services.end_break(site.worker)
    services.start_break(site.worker)
    with pytest.raises(ConflictError, match="already running"):
        services.start_break(site.worker)
    assert db.session.scalar(select(func.count(PunchBreak.id))) == 1


def test_an_open_punch_counts_until_now(site, clock):
    punch = services.clock_in(site.worker, site.project.id)
    clock.now += timedelta(hours=3, minutes=15)
    assert punch.worked_hours() == Decimal("3.25")


# --- one open punch ------------------------------------------------------------------


def test_a_second_clock_in_is_refused_with_where_and_since_when(site, clock):
    services.clock_in(site.worker, site.project.id)
    clock.now += timedelta(hours=1)
    with pytest.raises(ConflictError) as refused:
        services.clock_in(site.worker, site.project.id, site.task.id)
    assert "You are already clocked in on Harbor lofts since 7:02 AM" in refused.value.message
    assert _count() == 1


def test_the_database_itself_allows_one_open_punch_per_person(site, clock):
    make_punch(site.worker, site.project, hours=None)
    with pytest.raises(IntegrityError), db.session.begin_nested():
        make_punch(site.worker, site.project, hours=None, clock_in=MONDAY_7_02 + timedelta(hours=1))


def test_clock_out_with_nothing_open_is_refused(site, clock):
    with pytest.raises(ConflictError, match="You are not clocked in"):
        services.clock_out(site.worker)


def test_a_new_punch_cannot_start_before_the_last_one_ended(site, clock):
    make_punch(site.worker, site.project, clock_in=MONDAY_7_02 - timedelta(hours=1), hours=4)
    with pytest.raises(ValidationError) as refused:
        services.clock_in(site.worker, site.project.id)
    assert "clock_in" in refused.value.fields


# --- who punches where ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "on_project", "on_other"),
    [
        ("admin", True, True),
        ("pm", True, False),
        ("trainee", True, False),
        ("designer", True, False),
        ("superintendent", True, False),
        ("worker", True, False),  # assigned to a task of the project
        ("loner", False, False),  # an employee on no task
    ],
)
def test_who_may_clock_in_where(site, clock, who, on_project, on_other):
    person = getattr(site, who)
    for project, allowed in ((site.project, on_project), (site.other, on_other)):
        if allowed:
            services.clock_in(person, project.id)
            services.clock_out(person)
            clock.now += timedelta(minutes=5)
        else:
            before = _count()
            with pytest.raises(ValidationError) as refused:
                services.clock_in(person, project.id)
            assert "project_id" in refused.value.fields
            assert _count() == before
    expected = {site.project.id} if on_project else set()
    expected |= {site.other.id} if on_other else set()
    assert {p.id for p in services.punchable_projects(person)} >= expected
    assert site.closed.id not in {p.id for p in services.punchable_projects(person)}
    if who != "admin":
        assert {p.id for p in services.punchable_projects(person)} == expected


def test_a_client_never_punches(site, clock):
    with pytest.raises(PermissionDenied):
        services.clock_in(site.client_user, site.project.id)
    assert services.punchable_projects(site.client_user) == []


def test_a_closed_project_refuses(site, clock):
    with pytest.raises(ConflictError, match="Harbor boathouse is closed"):
        services.clock_in(site.worker, site.closed.id)
    assert _count() == 0
    assert site.closed not in services.punchable_projects(site.worker)


def test_the_task_must_be_of_the_project_and_an_employees_own(site, clock):
    with pytest.raises(ValidationError) as refused:
        services.clock_in(site.admin, site.project.id, site.other_task.id)
    assert refused.value.fields["task_id"] == "Choose a task of Harbor lofts."
    with pytest.raises(ValidationError) as refused:
        services.clock_in(site.worker, site.project.id, site.second.id)  # not assigned to it
    assert "task_id" in refused.value.fields
    assert _count() == 0
    punch = services.clock_in(site.superintendent, site.project.id, site.second.id)
    assert punch.task_id == site.second.id
    assert [t.title for t in services.tasks_for(site.worker, site.project)] == ["Mask the windows"]
    assert [t.title for t in services.tasks_for(site.pm, site.project)] == ["Mask the windows", "Prime the trim"]
    assert services.tasks_for(site.loner, site.project) == []


def test_an_unknown_project_says_so_without_telling_whose(site, clock):
    with pytest.raises(ValidationError) as refused:
        services.clock_in(site.worker, 999_999)
    assert refused.value.fields["project_id"] == "That project does not exist or you cannot see it."


# --- times ---------------------------------------------------------------------------


def test_a_punch_in_the_future_is_refused_but_a_little_clock_skew_is_fine(site, clock):
    with pytest.raises(ValidationError) as refused:
        services.clock_in(site.worker, site.project.id, at=clock.now + timedelta(minutes=10))
    assert "is in the future" in refused.value.fields["clock_in"]
    assert _count() == 0
    punch = services.clock_in(site.worker, site.project.id, at=(clock.now + timedelta(seconds=90)).isoformat())
    assert punch.clock_in == (clock.now + timedelta(seconds=90)).replace(microsecond=0)
    with pytest.raises(ValidationError) as refused:
        services.clock_out(site.worker, at=clock.now + timedelta(hours=1))
    assert "clock_out" in refused.value.fields and punch.is_open


def test_the_server_time_is_used_when_none_is_given(site, clock):
    assert services.clock_in(site.worker, site.project.id).clock_in == clock.now


# --- location ------------------------------------------------------------------------


def test_location_is_stored_and_shown_as_a_map_link(site, clock):
    punch = services.clock_in(site.worker, site.project.id, latitude="39.7392", longitude=-104.9903, accuracy="12.4")
    assert punch.latitude == Decimal("39.739200") and punch.longitude == Decimal("-104.990300")
    assert punch.accuracy_m == 12
    assert (
        punch.map_url == "https://www.openstreetmap.org/?mlat=39.739200&mlon=-104.990300#map=18/39.739200/-104.990300"
    )


@pytest.mark.parametrize(
    ("lat", "lng", "field"),
    [
        ("200", "10", "latitude"),
        ("10", "-181", "longitude"),
        ("north", "10", "latitude"),
        ("10", "", "longitude"),
        ("NaN", "1", "latitude"),
    ],
)
def test_bad_locations_are_refused(site, clock, lat, lng, field):
    with pytest.raises(ValidationError) as refused:
        services.clock_in(site.worker, site.project.id, latitude=lat, longitude=lng)
    assert field in refused.value.fields
    assert _count() == 0


def test_no_location_is_fine(site, clock):
    punch = services.clock_in(site.worker, site.project.id, latitude="", longitude="")
    assert punch.latitude is None and punch.map_url is None


# --- crew_on (the daily log's prefill) -------------------------------------------------


def test_crew_on_sums_the_day_per_person_in_company_time(site, clock):
    clock.now = MONDAY_7_02 + timedelta(hours=12)
    make_punch(site.worker, site.project, clock_in=MONDAY_7_02, hours=4)
    make_punch(site.worker, site.project, clock_in=MONDAY_7_02 + timedelta(hours=5), hours=3.5)
    make_punch(site.mate, site.project, clock_in=MONDAY_7_02, hours=None)  # still on: until now
    make_punch(site.superintendent, site.other, clock_in=MONDAY_7_02, hours=2)  # another project
    # Sunday 11:30 PM in Denver is Monday 06:30 UTC: not Monday's crew
    make_punch(site.pm, site.project, clock_in=datetime(2026, 3, 2, 6, 30, tzinfo=UTC), hours=1)
    day = datetime(2026, 3, 2).date()
    assert crew_on(site.project.id, day) == [
        (site.mate.id, "Mia Mate", Decimal("12.00")),
        (site.worker.id, "Walt Worker", Decimal("7.50")),
    ]
    assert [row[0] for row in crew_on(site.project.id, datetime(2026, 3, 1).date())] == [site.pm.id]


# --- the nightly job -----------------------------------------------------------------


def test_forgotten_punches_are_closed_at_fourteen_hours_flagged_and_told(site, clock):
    forgot = make_punch(site.worker, site.project, clock_in=MONDAY_7_02, hours=None)
    on_break = make_punch(site.mate, site.project, clock_in=MONDAY_7_02, hours=None)
    db.session.add(PunchBreak(punch_id=on_break.id, start=MONDAY_7_02 + timedelta(hours=9)))
    recent = make_punch(site.pm, site.project, clock_in=MONDAY_7_02 + timedelta(hours=5), hours=None)
    db.session.flush()
    db.session.expire(on_break, ["breaks"])
    clock.now = MONDAY_7_02 + timedelta(hours=15)
    assert services.close_forgotten(clock.now) == 2
    assert forgot.clock_out == MONDAY_7_02 + timedelta(hours=14) and forgot.hours == Decimal("14.00")
    assert forgot.auto_closed and forgot.needs_review
    assert on_break.clock_out == MONDAY_7_02 + timedelta(hours=9) and on_break.hours == Decimal("9.00")
    assert on_break.breaks[0].end == on_break.clock_out
    assert recent.is_open and not recent.needs_review
    notes = db.session.scalars(select(Notification).where(Notification.kind == "punch_auto_closed")).all()
    told = sorted((n.user_id, "You did not clock out" in n.title) for n in notes)
    leads = [site.pm.id, site.trainee.id, site.superintendent.id]
    expected = sorted(
        [(site.worker.id, True), (site.mate.id, True)] + [(lead, False) for lead in leads for _ in range(2)]
    )
    assert told == expected  # never the designer, never the other employee
    assert services.close_forgotten(clock.now) == 0  # once


def test_the_job_and_the_command(site, app):
    make_punch(site.worker, site.project, clock_in=datetime.now(UTC) - timedelta(hours=20), hours=None)
    from workers.timeclock import close_forgotten

    assert close_forgotten() == 1
    make_punch(site.mate, site.project, clock_in=datetime.now(UTC) - timedelta(hours=20), hours=None)
    result = app.test_cli_runner().invoke(args=["timeclock", "close-forgotten"])
    assert "Closed 1 forgotten punch." in result.output


# --- live events ---------------------------------------------------------------------


@pytest.fixture()
def published(monkeypatch):
    sent = []
    monkeypatch.setattr(
        services, "publish", lambda name, data, users=(), roles=(): sent.append((name, data, set(users), set(roles)))
    )
    return sent


def test_a_punch_is_told_to_its_person_and_the_projects_leads_never_other_employees(site, clock, published):
    services.clock_in(site.worker, site.project.id)
    name, data, users, roles = published[-1]
    assert name == "punch-changed" and data["user_id"] == site.worker.id
    assert users == {site.worker.id, site.pm.id, site.trainee.id, site.superintendent.id}
    assert roles == {"admin"}
    assert site.mate.id not in users and site.designer.id not in users and site.client_user.id not in users
    for act in (services.start_break, services.end_break, services.clock_out):
        act(site.worker)
        assert published[-1][2] == users


# --- pages ---------------------------------------------------------------------------


def test_the_time_clock_page_offers_my_projects_with_geolocation(site, client, login_as, clock):
    login_as(site.worker)
    html = client.get("/timeclock").text
    assert "data-geolocate" in html and 'name="latitude"' in html and 'name="accuracy"' in html
    assert "Harbor lofts" in html and "Birch Row" not in html and "Harbor boathouse" not in html
    options = client.get(f"/timeclock/tasks?project_id={site.project.id}").text
    assert "Mask the windows" in options and "Prime the trim" not in options
    assert "Scrape the fence" not in client.get(f"/timeclock/tasks?project_id={site.other.id}").text


def test_clocking_in_and_out_from_the_page(site, client, login_as, clock):
    login_as(site.worker)
    answer = client.post(
        "/timeclock/clock-in",
        data={"project_id": site.project.id, "task_id": site.task.id, "latitude": "39.5", "longitude": "-105.1"},
    )
    assert answer.status_code == 303
    html = client.get("/timeclock").text
    assert "Clocked in" in html and "since 7:02 AM" in html and "openstreetmap.org" in html
    again = client.post("/timeclock/clock-in", data={"project_id": site.project.id})
    assert again.status_code == 409 and "already clocked in on Harbor lofts since 7:02 AM" in again.text
    assert client.post("/timeclock/break/start").status_code == 303
    assert "On a break since" in client.get("/timeclock").text
    assert client.post("/timeclock/break/end").status_code == 303
    clock.now += timedelta(hours=1)
    assert client.post("/timeclock/clock-out").status_code == 303
    assert client.post("/timeclock/clock-out").status_code == 409


def test_page_errors_are_shown_in_place_and_nothing_is_stored(site, client, login_as, clock):
    login_as(site.worker)
    bad = client.post("/timeclock/clock-in", data={"project_id": site.project.id, "latitude": "200", "longitude": "1"})
    assert bad.status_code == 422 and "The latitude must be between -90 and 90." in bad.text
    closed = client.post("/timeclock/clock-in", data={"project_id": site.closed.id})
    assert closed.status_code == 409 and "Harbor boathouse is closed." in closed.text
    assert _count() == 0


@pytest.mark.parametrize(
    "role", ["admin", "project_manager_full", "pm_trainee", "designer", "superintendent", "employee", "client"]
)
def test_clock_out_and_breaks_for_every_role(site, client, login_as, clock, role):
    """The walk rows these routes skip (app/timeclock/walk.py): each role with its own
    open punch ends its break and clocks out; a client is refused and nothing changes."""
    user = {
        "admin": site.admin,
        "project_manager_full": site.pm,
        "pm_trainee": site.trainee,
        "designer": site.designer,
        "superintendent": site.superintendent,
        "employee": site.worker,
        "client": site.client_user,
    }[role]
    if role != "client":
        make_punch(user, site.project, clock_in=clock.now - timedelta(hours=2), hours=None)
    login_as(user)
    expected = 403 if role == "client" else 303
    for path in ("/timeclock/break/start", "/timeclock/break/end", "/timeclock/clock-out"):
        assert client.post(path).status_code == expected
    if role != "client":
        assert services.open_punch(user) is None
    assert client.get("/timeclock").status_code == (403 if role == "client" else 200)


def test_the_crew_board_shows_who_is_on_my_projects_now(site, client, login_as, clock):
    make_punch(site.worker, site.project, clock_in=clock.now - timedelta(hours=1), hours=None)
    make_punch(site.loner, site.other, clock_in=clock.now - timedelta(hours=1), hours=None)
    make_punch(site.mate, site.project, clock_in=clock.now - timedelta(hours=3), hours=2)  # gone home
    login_as(site.superintendent)
    html = client.get("/timeclock/crew").text
    assert "Walt Worker" in html and "Lou Loner" not in html and "Mia Mate" not in html
    assert 'hx-trigger="kibray:punches from:body"' in html
    login_as(site.admin)
    html = client.get("/timeclock/crew").text
    assert "Walt Worker" in html and "Lou Loner" in html
    login_as(site.mate)
    assert client.get("/timeclock/crew").status_code == 403
    login_as(site.designer)
    assert client.get("/timeclock/crew").status_code == 403
