"""The calendar's pages (issue 10, app/calendar/views*.py, queries.py): month, week, day
and crew views for all seven roles, filters and search, the URL restoring the view,
fragments vs whole pages, series with their exceptions, "+N more", the blocks' inline
editing and the event's own pages and forms."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from app.calendar import queries
from app.calendar.models import CalendarEvent, EventAssignee
from app.core.timezones import company_zone
from tests.factories import make_client, make_project, make_user

FRAGMENT = {"HX-Request": "true", "HX-Target": "calendar-body"}


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=company_zone()).astimezone(UTC)


def _event(project, title, start, hours=1, people=(), **extra):
    from app.extensions import db

    event = CalendarEvent(
        project_id=project.id if project is not None else None,
        title=title,
        start_at=start,
        end_at=start + timedelta(hours=hours),
        **extra,
    )
    db.session.add(event)
    db.session.flush()
    for person in people:
        db.session.add(EventAssignee(event_id=event.id, user_id=person.id))
    db.session.flush()
    db.session.expire(event, ["assignments"])
    return event


@pytest.fixture()
def cal(db):
    """December 2026 (the 1st is a Tuesday): one project of ours with its team, another
    company's project, a weekly series with a moved and a cancelled occurrence, a task,
    and a busy day (the 10th) with more events than a month cell shows."""
    from app.tasks.models import Task, TaskAssignment

    company = make_client(name="Harbor Holdings")
    users = {
        "admin": make_user("admin", full_name="Ada Admin"),
        "pm": make_user("project_manager_full", full_name="Pam Manager"),
        "trainee": make_user("pm_trainee", full_name="Tia Trainee"),
        "designer": make_user("designer", full_name="Dee Designer"),
        "super": make_user("superintendent", full_name="Sid Super"),
        "employee": make_user("employee", full_name="Pat Painter"),
        "client": make_user("client", client=company, full_name="Cleo Client"),
    }
    other = make_user("employee", full_name="Sam Sander")
    team = [users[r] for r in ("pm", "trainee", "designer", "super")]
    mine = make_project(client=company, members=team, name="Harbor lofts", status="active")
    theirs = make_project(name="Birch Row exterior", status="active")
    d1 = date(2026, 12, 1)
    walk = _event(
        mine, "Site walk", local(d1, 9), people=[users["employee"]], notes="gate code 4411", event_type="inspection"
    )
    review = _event(
        mine,
        "Colour review with the owner",
        local(date(2026, 12, 2), 13),
        people=[users["pm"]],
        visibility="client_visible",
        notes="owner prefers warm greys",
        event_type="meeting",
    )
    fence = _event(theirs, "Fence inspection", local(d1, 10), event_type="inspection")
    payroll = _event(None, "Payroll review", local(date(2026, 12, 3), 11), visibility="admin_only")
    series = _event(
        mine,
        "Weekly site meeting",
        local(date(2026, 11, 30), 7),
        people=[users["employee"]],
        rrule="FREQ=WEEKLY;COUNT=6",
        event_type="meeting",
    )
    moved = _event(
        mine,
        "Weekly site meeting (moved)",
        local(date(2026, 12, 8), 8),
        people=[users["employee"]],
        series_id=series.id,
        recurrence_start=local(date(2026, 12, 7), 7),
    )
    cancelled = _event(
        mine,
        "Weekly site meeting",
        local(date(2026, 12, 14), 7),
        series_id=series.id,
        recurrence_start=local(date(2026, 12, 14), 7),
        status="cancelled",
    )
    busy = [_event(mine, f"Delivery {n}", local(date(2026, 12, 10), 6 + n), event_type="delivery") for n in range(1, 9)]
    from app.extensions import db

    task = Task(project_id=mine.id, title="Paint hallway", start_date=d1, due_date=date(2026, 12, 3))
    their_task = Task(project_id=theirs.id, title="Scrape the fence", start_date=d1, due_date=d1)
    db.session.add_all([task, their_task])
    db.session.flush()
    db.session.add(TaskAssignment(task_id=task.id, user_id=users["employee"].id))
    db.session.flush()
    return SimpleNamespace(
        users=users,
        other=other,
        mine=mine,
        theirs=theirs,
        walk=walk,
        review=review,
        fence=fence,
        payroll=payroll,
        series=series,
        moved=moved,
        cancelled=cancelled,
        busy=busy,
        task=task,
        their_task=their_task,
    )


def titles(html: str) -> set[str]:
    return set(re.findall(r'<span class="cal-name">([^<]*)</span>', html))


def _problems(html: str) -> list[str]:
    return re.findall(r'data-error-for="[^"]+">[^<]*|data-testid="form-errors">[^<]*', html)


def page(client, url, **headers):
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.text[:500]
    return response.text


# --- what each role sees -------------------------------------------------------------

SEEN = {
    # role: (sees, does not see) in the week of Nov 30 – Dec 6
    "admin": (
        {"Site walk", "Colour review with the owner", "Fence inspection", "Payroll review", "Paint hallway"},
        set(),
    ),
    "pm": ({"Site walk", "Colour review with the owner", "Paint hallway"}, {"Fence inspection", "Payroll review"}),
    "trainee": ({"Site walk", "Colour review with the owner", "Paint hallway"}, {"Fence inspection", "Payroll review"}),
    "super": ({"Site walk", "Colour review with the owner", "Paint hallway"}, {"Fence inspection", "Payroll review"}),
    "employee": (
        {"Site walk", "Weekly site meeting", "Paint hallway"},
        {"Colour review with the owner", "Fence inspection", "Payroll review", "Scrape the fence"},
    ),
    "client": (
        {"Colour review with the owner"},
        {"Site walk", "Weekly site meeting", "Paint hallway", "Fence inspection", "Payroll review"},
    ),
}


@pytest.mark.parametrize("view", ["month", "week", "day"])
@pytest.mark.parametrize("role", ["admin", "pm", "trainee", "super", "employee", "client"])
def test_each_role_sees_its_layer(client, login_as, cal, role, view):
    login_as(cal.users[role])
    anchor = "2026-12-02" if view == "day" else "2026-12-01"
    html = page(client, f"/calendar/?view={view}&date={anchor}")
    shown = titles(html)
    sees, hidden = SEEN[role]
    if view == "day":  # Dec 2: the review, the task (Dec 1-3)
        sees = sees & {"Colour review with the owner", "Paint hallway"}
    assert sees <= shown, (role, view, sees - shown)
    assert not (hidden & shown), (role, view, hidden & shown)
    # a client never gets assignees or notes, whatever the view
    if role == "client":
        assert "Pam Manager" not in html and "owner prefers warm greys" not in html


def test_designer_is_refused(client, login_as, cal):
    login_as(cal.users["designer"])
    for view in ("month", "week", "day", "crew"):
        assert client.get(f"/calendar/?view={view}&date=2026-12-01").status_code == 403
    assert client.get(f"/calendar/events/{cal.walk.id}").status_code == 403


def test_client_expanded_block_has_no_people_or_notes(client, login_as, cal):
    login_as(cal.users["client"])
    html = page(client, f"/calendar/items/event/{cal.review.id}")
    assert "Colour review with the owner" in html
    assert "Pam Manager" not in html and "warm greys" not in html and "People" not in html
    assert client.get(f"/calendar/items/event/{cal.walk.id}").status_code == 404
    detail = page(client, f"/calendar/events/{cal.review.id}")
    assert "Pam Manager" not in detail and "warm greys" not in detail


def test_staff_expanded_block_shows_people_and_notes(client, login_as, cal):
    login_as(cal.users["pm"])
    html = page(client, f"/calendar/items/event/{cal.walk.id}")
    assert "Pat Painter" in html and "gate code 4411" in html
    assert "Edit here" in html
    login_as(cal.users["employee"])
    html = page(client, f"/calendar/items/event/{cal.walk.id}")
    assert "Pat Painter" in html and "Edit here" not in html


# --- crew ----------------------------------------------------------------------------


def test_crew_view(client, login_as, cal):
    login_as(cal.users["pm"])
    html = page(client, "/calendar/?view=crew&date=2026-12-01")
    assert 'data-testid="cal-crew"' in html
    rows = dict(
        re.findall(
            r'<tr data-user="(\d+)">\s*<th scope="row" class="cal-person"><span class="cal-person-name">([^<]*)<', html
        )
    )
    assert rows[str(cal.users["employee"].id)] == "Pat Painter"
    assert "Site walk" in html and "Paint hallway" in html
    assert "load-busy" in html and "load-free" in html
    # the employee sees only their own row
    login_as(cal.users["employee"])
    html = page(client, "/calendar/?view=crew&date=2026-12-01")
    assert re.findall(r'<tr data-user="(\d+)">', html) == [str(cal.users["employee"].id)]
    # a client is told the crew view is the team's
    login_as(cal.users["client"])
    html = page(client, "/calendar/?view=crew&date=2026-12-01")
    assert 'data-testid="crew-refused"' in html and "Pat Painter" not in html


# --- series, exceptions, "+N more" ---------------------------------------------------


def test_series_occurrences_and_exceptions(client, login_as, cal):
    login_as(cal.users["pm"])
    html = page(client, "/calendar/?view=month&date=2026-12-01")
    starts = re.findall(rf'data-id="{cal.series.id}"[^>]*data-occurrence="([^"]+)"', html)
    days = sorted(s[:10] for s in starts)
    # Mondays Nov 30, Dec 7 (moved → an exception row), 14 (cancelled), 21, 28; Jan 4 is the 6th
    assert days == ["2026-11-30", "2026-12-21", "2026-12-28"]
    assert "Weekly site meeting (moved)" in html
    moved = re.search(rf'data-id="{cal.moved.id}"[^>]*data-start="([^"]+)"', html).group(1)
    assert moved.startswith("2026-12-08T08:00")
    assert 'data-date="2026-12-14"' in html
    cell = html.split('data-date="2026-12-14"', 1)[1].split('<div class="cal-day', 1)[0]
    assert "Weekly site meeting" not in cell


def test_month_cells_cap_with_more_link(client, login_as, cal):
    login_as(cal.users["pm"])
    html = page(client, "/calendar/?view=month&date=2026-12-01")
    cell = html.split('data-date="2026-12-10"', 1)[1].split('<div class="cal-day', 1)[0]
    assert cell.count('class="cal-item') == 4
    more = re.search(r'href="([^"]+)"[^>]*data-testid="cal-more">\+(\d+) more', cell)
    assert more and int(more.group(2)) == 4
    assert "view=day" in more.group(1) and "date=2026-12-10" in more.group(1)
    day = page(client, more.group(1).replace("&amp;", "&"))
    assert {f"Delivery {n}" for n in range(1, 9)} <= titles(day)


def test_period_reads_few_statements(db, cal, count_queries):
    pm = cal.users["pm"]
    queries.period(pm, date(2026, 11, 30), date(2027, 1, 3), per_day=5)  # warm the caches
    with count_queries() as counted:
        found = queries.period(pm, date(2026, 11, 30), date(2027, 1, 3), per_day=5)
    # events; the exception rows of the series drawn (all of them, seen or not); tasks;
    # the people of the items drawn; the permission read of who may move
    assert counted.n <= 5, counted.n
    assert {i.title for i in found} >= {"Site walk", "Paint hallway"}


# --- drag and drop's data attributes ------------------------------------------------


def test_blocks_carry_the_drag_and_drop_attributes(client, login_as, cal):
    login_as(cal.users["pm"])
    html = page(client, "/calendar/?view=week&date=2026-12-01")
    assert 'data-move-url="/calendar/move"' in html
    walk = re.search(rf'<div class="cal-item[^"]*"[^>]*data-kind="event" data-id="{cal.walk.id}"[^>]*>', html).group(0)
    assert 'data-version="1"' in walk and 'data-movable="1"' in walk and 'data-all-day="0"' in walk
    assert 'data-start="2026-12-01T09:00:00-07:00"' in walk and 'data-end="2026-12-01T10:00:00-07:00"' in walk
    task = re.search(rf'<div class="cal-item[^"]*"[^>]*data-kind="task" data-id="{cal.task.id}"[^>]*>', html).group(0)
    assert 'data-start="2026-12-01"' in task and 'data-end="2026-12-03"' in task
    assert 'data-datetime="2026-12-01T06:00:00-07:00"' in html and 'data-date="2026-12-01"' in html
    login_as(cal.users["super"])  # superintendents see but do not drag
    html = page(client, "/calendar/?view=week&date=2026-12-01")
    assert 'data-movable="1"' not in html


# --- filters, search, URL, fragments -----------------------------------------------


def test_filters_and_search(client, login_as, cal):
    login_as(cal.users["admin"])
    base = "/calendar/?view=week&date=2026-12-01"
    assert titles(page(client, base + "&q=walk")) == {"Site walk"}
    assert titles(page(client, base + f"&project={cal.theirs.id}")) == {"Fence inspection", "Scrape the fence"}
    assert titles(page(client, base + "&type=task")) == {"Paint hallway", "Scrape the fence"}
    assert titles(page(client, base + "&type=inspection")) == {"Site walk", "Fence inspection"}
    assert "Paint hallway" in titles(page(client, base + f"&employee={cal.users['employee'].id}"))
    assert "Fence inspection" not in titles(page(client, base + f"&employee={cal.users['employee'].id}"))
    pm_view = titles(page(client, base + f"&pm={cal.users['pm'].id}"))
    assert "Site walk" in pm_view and "Fence inspection" not in pm_view
    assert titles(page(client, base + "&status=cancelled")) == set()
    assert "Site walk" not in titles(page(client, base + "&status=completed"))


def test_url_restores_the_view_and_fragments(client, login_as, cal):
    login_as(cal.users["pm"])
    url = f"/calendar/?view=week&date=2026-12-01&project={cal.mine.id}&q=walk"
    full = page(client, url)
    assert "<html" in full and 'id="calendar-filters"' in full and 'value="walk"' in full
    assert 'name="view" value="week"' in full and 'name="date" value="2026-12-01"' in full
    assert "Nov 30 – Dec 6, 2026" in full and titles(full) == {"Site walk"}
    fragment = page(client, url, **FRAGMENT)
    assert "<html" not in fragment and 'id="calendar-filters"' not in fragment
    assert titles(fragment) == {"Site walk"}
    assert 'hx-swap-oob="true"' in fragment  # the filter form's view and date follow
    # the period links keep the filters and push the URL
    nxt = re.search(r'href="([^"]+)"[^>]*data-testid="cal-next"', fragment).group(1).replace("&amp;", "&")
    assert "date=2026-12-08" in nxt and "q=walk" in nxt and f"project={cal.mine.id}" in nxt
    assert 'hx-push-url="true"' in fragment
    # live refreshes: the wrapper listens to the calendar's and the tasks' events
    assert 'hx-trigger="kibray:calendar from:body, kibray:tasks from:body"' in full
    month = page(client, "/calendar/?view=month&date=2026-12-15")
    assert "December 2026" in month and "Mon" in month


def test_bad_query_values_fall_back(client, login_as, cal):
    login_as(cal.users["pm"])
    for url in (
        "/calendar/?view=year&date=2026-13-45",
        "/calendar/?date=99999-01-01&project=abc&status=nope&type=zzz",
        "/calendar/?view=week&date=0001-01-01&employee=-3&pm=x",
    ):
        assert client.get(url).status_code == 200


# --- inline editing ------------------------------------------------------------------


def _inline(cal, **changes):
    data = {
        "title": "Site walk with the owner",
        "start_date": "2026-12-01",
        "start_time": "09:30",
        "end_date": "2026-12-01",
        "end_time": "10:30",
        "status": "scheduled",
        "assigned_to_ids_field": "1",
        "assigned_to_ids": [str(cal.users["employee"].id), str(cal.other.id)],
        "version": "1",
    }
    data.update(changes)
    return data


def test_inline_edit_saves(client, login_as, cal, db):
    login_as(cal.users["pm"])
    form = page(client, f"/calendar/events/{cal.walk.id}/inline?place=r8+s2+lane1-of1")
    assert 'data-testid="cal-inline"' in form and 'name="place" value="r8 s2 lane1-of1"' in form
    response = client.post(f"/calendar/events/{cal.walk.id}/inline", data=_inline(cal, place="r8 s2 lane1-of1"))
    assert response.status_code == 200, response.text[:600]
    assert "Saved." in response.text and "Site walk with the owner" in response.text
    assert "r8 s2 lane1-of1" in response.text
    db.session.expire_all()
    event = db.session.get(CalendarEvent, cal.walk.id)
    assert event.title == "Site walk with the owner"
    assert (
        event.start_at.astimezone(company_zone()).hour == 9 and event.start_at.astimezone(company_zone()).minute == 30
    )
    assert event.assignee_ids == {cal.users["employee"].id, cal.other.id}


def test_inline_edit_field_error_and_stale(client, login_as, cal, db):
    login_as(cal.users["pm"])
    bad = client.post(f"/calendar/events/{cal.walk.id}/inline", data=_inline(cal, title="", end_time="08:00"))
    assert bad.status_code == 422
    assert 'class="error"' in bad.text
    db.session.expire_all()
    assert db.session.get(CalendarEvent, cal.walk.id).title == "Site walk"
    assert (
        client.post(f"/calendar/events/{cal.walk.id}/inline", data=_inline(cal, title="Site walk")).status_code == 200
    )
    stale = client.post(f"/calendar/events/{cal.walk.id}/inline", data=_inline(cal, title="Lost", version="1"))
    assert stale.status_code == 409
    assert "Changed meanwhile" in stale.text and 'value="Site walk"' in stale.text
    db.session.expire_all()
    assert db.session.get(CalendarEvent, cal.walk.id).title == "Site walk"
    login_as(cal.users["employee"])
    assert client.post(f"/calendar/events/{cal.walk.id}/inline", data=_inline(cal)).status_code == 403


# --- the event's pages and forms ----------------------------------------------------


def _form(cal, **changes):
    data = {
        "title": "Drywall delivery",
        "project_id": str(cal.mine.id),
        "event_type": "delivery",
        "status": "scheduled",
        "visibility": "project_team",
        "start_date": "2026-12-04",
        "start_time": "08:00",
        "end_date": "2026-12-04",
        "end_time": "09:30",
        "description": "Side door",
        "notes": "call Joe first",
        "assigned_to_ids": [str(cal.users["employee"].id)],
    }
    data.update(changes)
    return data


def test_event_form_creates_edits_and_deletes(client, login_as, cal, db):
    login_as(cal.users["pm"])
    form = page(client, "/calendar/events/new?date=2026-12-04")
    assert 'data-testid="event-form"' in form and "Harbor lofts" in form and "Birch Row exterior" not in form
    response = client.post("/calendar/events/new", data=_form(cal))
    assert response.status_code == 303, _problems(response.text)
    event = db.session.scalars(select(CalendarEvent).where(CalendarEvent.title == "Drywall delivery")).one()
    assert response.headers["Location"].endswith(f"/calendar/events/{event.id}")
    assert event.assignee_ids == {cal.users["employee"].id} and event.notes == "call Joe first"
    detail = page(client, f"/calendar/events/{event.id}")
    assert "Drywall delivery" in detail and "Pat Painter" in detail and "call Joe first" in detail
    edit = page(client, f"/calendar/events/{event.id}/edit")
    assert 'value="Drywall delivery"' in edit
    response = client.post(
        f"/calendar/events/{event.id}/edit",
        data=_form(cal, title="Drywall delivery (late)", version=str(event.version)),
    )
    assert response.status_code == 303, _problems(response.text)
    db.session.expire_all()
    assert db.session.get(CalendarEvent, event.id).title == "Drywall delivery (late)"
    stale = client.post(f"/calendar/events/{event.id}/edit", data=_form(cal, title="Lost", version="1"))
    assert stale.status_code == 409 and 'data-testid="meanwhile"' in stale.text
    event_id, version = event.id, db.session.get(CalendarEvent, event.id).version
    response = client.post(f"/calendar/events/{event_id}/delete", data={"version": str(version)})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.scalar(select(CalendarEvent.id).where(CalendarEvent.id == event_id)) is None


def test_event_form_bad_input_writes_nothing(client, login_as, cal, db):
    login_as(cal.users["pm"])
    before = db.session.scalar(select(CalendarEvent.id).order_by(CalendarEvent.id.desc()).limit(1))
    cases = [
        ({"title": ""}, "title"),
        ({"start_date": "2026-02-30"}, "start_date"),
        ({"end_date": "2026-12-03"}, "end_date"),
        ({"project_id": str(cal.theirs.id)}, "project_id"),
        ({"repeat": "weekly"}, "repeat_until"),
        ({"repeat": "weekly", "repeat_count": "100000"}, "repeat_count"),
    ]
    for changes, wrong in cases:
        response = client.post("/calendar/events/new", data=_form(cal, **changes))
        assert response.status_code == 422, (changes, response.status_code)
        assert f'data-error-for="{wrong}"' in response.text or 'data-testid="form-errors"' in response.text, changes
    after = db.session.scalar(select(CalendarEvent.id).order_by(CalendarEvent.id.desc()).limit(1))
    assert before == after


def test_repeating_event_and_one_occurrence(client, login_as, cal, db):
    login_as(cal.users["pm"])
    response = client.post(
        "/calendar/events/new",
        data=_form(
            cal, title="Crew huddle", start_date="2026-12-07", end_date="2026-12-07", repeat="weekly", repeat_count="4"
        ),
    )
    assert response.status_code == 303, _problems(response.text)
    series = db.session.scalars(select(CalendarEvent).where(CalendarEvent.title == "Crew huddle")).one()
    assert series.rrule and "FREQ=WEEKLY" in series.rrule and "COUNT=4" in series.rrule
    detail = page(client, f"/calendar/events/{series.id}")
    assert "Every week on Monday, 4 times" in detail
    html = page(client, "/calendar/?view=month&date=2026-12-01&q=huddle")
    assert len(re.findall(rf'data-id="{series.id}"', html)) == 4
    occurrence = re.findall(rf'data-id="{series.id}"[^>]*data-occurrence="([^"]+)"', html)[1]
    one = page(client, f"/calendar/events/{series.id}?occurrence={occurrence.replace('+', '%2B')}")
    assert 'data-testid="edit-occurrence"' in one and 'data-testid="edit-series"' in one


def test_superintendent_edits_in_place_but_does_not_move(client, login_as, cal, db):
    login_as(cal.users["super"])
    form = page(client, f"/calendar/events/{cal.walk.id}/inline")
    assert 'type="time"' not in form and "move events" in form
    same = _inline(cal, start_time="09:00", end_time="10:00", title="Site walk (north side)")
    assert client.post(f"/calendar/events/{cal.walk.id}/inline", data=same).status_code == 200
    moved = _inline(cal, start_time="11:00", end_time="12:00", version="2")
    response = client.post(f"/calendar/events/{cal.walk.id}/inline", data=moved)
    assert response.status_code == 422 and 'data-error-for="start_date"' in response.text
    db.session.expire_all()
    assert db.session.get(CalendarEvent, cal.walk.id).start_at.astimezone(company_zone()).hour == 9
