"""Drag and drop, resize, "Move…" and bulk actions on the calendar (app/calendar/moves.py):
for all seven roles, a stale move's 409 with the calendar redrawn, a task's offer to shift
its dependants, a crew drop that also reassigns, series occurrences, all-day events, the
keyboard's form and the bulk bar."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest

from app.calendar import services
from app.calendar.models import CalendarEvent
from app.core.roles import ROLES
from app.core.timezones import company_zone
from app.extensions import db as _db
from app.tasks import services as tasks
from app.tasks.models import Task
from tests.factories import make_project, make_user

HX = {"HX-Request": "true", "HX-Target": "calendar-body"}
DAY = date(2026, 3, 10)  # a Tuesday, inside the project's dates (Mar 1–31, 2026)
MOVERS = ("admin", "project_manager_full", "pm_trainee")


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), company_zone())


@pytest.fixture()
def world(db):
    """One user per role; the PM, trainee, designer and superintendent on `project`
    (the client's company's); two employees; an event and a task of `project` booking
    the first employee; `other`: a project with nobody on it, and its event."""
    users = {role: make_user(role) for role in ROLES}
    crew = make_user("employee", full_name="Ana Crew")
    team = [users[r] for r in ("project_manager_full", "pm_trainee", "designer", "superintendent")]
    project = make_project(client=users["client"].client, members=team, end_date=date(2026, 3, 31))
    other = make_project(end_date=date(2026, 3, 31))
    admin = users["admin"]
    employee = users["employee"]
    event = services.create_event(
        admin,
        {
            "title": "Walkthrough",
            "start_datetime": local(DAY, 9),
            "end_datetime": local(DAY, 10),
            "project_id": project.id,
            "visibility": "client_visible",
            "event_type": "inspection",
            "assigned_to_ids": [employee.id],
        },
    )
    task = tasks.create_task(
        admin,
        project,
        {"title": "Prime walls", "start_date": DAY, "due_date": DAY + timedelta(days=1)},
        assignee_ids=[employee.id],
    )
    theirs = services.create_event(
        admin,
        {
            "title": "Their delivery",
            "start_datetime": local(DAY, 8),
            "end_datetime": local(DAY, 9),
            "project_id": other.id,
        },
    )
    _db.session.flush()

    class World:
        pass

    w = World()
    w.users, w.crew, w.project, w.other, w.event, w.task, w.theirs = users, crew, project, other, event, task, theirs
    return w


def reread(obj):
    _db.session.expire_all()
    return _db.session.get(type(obj), obj.id)


def times(event) -> tuple[datetime, datetime]:
    event = reread(event)
    zone = company_zone()
    return event.start_at.astimezone(zone), event.end_at.astimezone(zone)


def move(client, **data):
    return client.post("/calendar/move", data={k: str(v) for k, v in data.items()}, headers=HX)


# --- who may move ------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_an_event_dragged_to_another_day_for_every_role(role, world, client, login_as):
    login_as(world.users[role])
    event = world.event
    answer = move(
        client, kind="event", id=event.id, version=event.version, start="2026-03-12T09:00", end="2026-03-12T10:00"
    )
    start, end = times(event)
    if role in MOVERS:
        assert answer.status_code == 200, answer.text
        assert (start, end) == (local(date(2026, 3, 12), 9), local(date(2026, 3, 12), 10))
        assert 'id="flashes"' in answer.text and "Walkthrough" in answer.text and "Saved" in answer.text
        assert "data-move-url" in answer.text  # the calendar itself, redrawn
    else:
        assert answer.status_code == 403, answer.text
        assert (start, end) == (local(DAY, 9), local(DAY, 10))


@pytest.mark.parametrize("role", ROLES)
def test_a_task_dragged_to_another_day_for_every_role(role, world, client, login_as):
    login_as(world.users[role])
    task = world.task
    answer = move(client, kind="task", id=task.id, version=task.version, start="2026-03-16", end="2026-03-17")
    task = reread(task)
    if role in MOVERS:
        assert answer.status_code == 200, answer.text
        assert (task.start_date, task.due_date) == (date(2026, 3, 16), date(2026, 3, 17))
    else:
        assert answer.status_code == 403, answer.text
        assert (task.start_date, task.due_date) == (DAY, DAY + timedelta(days=1))


@pytest.mark.parametrize("role", ROLES)
def test_bulk_move_for_every_role(role, world, client, login_as):
    login_as(world.users[role])
    answer = client.post(
        "/calendar/bulk",
        data={"items": [f"event:{world.event.id}", f"task:{world.task.id}"], "action": "move", "days": "2"},
        headers=HX,
    )
    task = reread(world.task)
    start, _ = times(world.event)
    if role in MOVERS:
        assert answer.status_code == 200, answer.text
        assert "2 done." in answer.text
        assert task.start_date == DAY + timedelta(days=2)
        assert start == local(DAY + timedelta(days=2), 9)
        assert answer.headers["X-Kibray-Kept"] == ""
    else:
        assert answer.status_code == 403
        assert task.start_date == DAY and start == local(DAY, 9)


def test_a_pm_cannot_move_what_is_on_another_project(world, client, login_as):
    login_as(world.users["project_manager_full"])
    theirs = world.theirs
    answer = move(
        client, kind="event", id=theirs.id, version=theirs.version, start="2026-03-12T08:00", end="2026-03-12T09:00"
    )
    assert answer.status_code == 404
    assert times(theirs)[0] == local(DAY, 8)
    # in a bulk action it is one refusal among the others, which go through
    answer = client.post(
        "/calendar/bulk",
        data={"items": [f"event:{theirs.id}", f"event:{world.event.id}"], "action": "move", "days": "1"},
        headers=HX,
    )
    assert answer.status_code == 200
    assert "1 done, 1 refused:" in answer.text
    assert "Their delivery" not in answer.text  # the refused item's title is not told
    assert answer.headers["X-Kibray-Kept"] == f"event:{theirs.id}"
    assert times(theirs)[0] == local(DAY, 8)
    assert times(world.event)[0] == local(DAY + timedelta(days=1), 9)


def test_a_superintendent_sees_the_event_but_cannot_drag_it(world, client, login_as):
    login_as(world.users["superintendent"])
    answer = move(client, kind="event", id=world.event.id, start="2026-03-12T09:00", end="2026-03-12T10:00")
    assert answer.status_code == 403
    assert times(world.event)[0] == local(DAY, 9)


def test_without_htmx_a_move_redirects_back_to_the_same_view(world, client, login_as):
    login_as(world.users["admin"])
    answer = client.post(
        "/calendar/move",
        data={
            "kind": "task",
            "id": world.task.id,
            "start": "2026-03-12",
            "end": "2026-03-13",
            "view": "week",
            "date": "2026-03-12",
        },
    )
    assert answer.status_code == 303
    assert answer.headers["Location"].endswith("/calendar/?view=week&date=2026-03-12")
    assert reread(world.task).start_date == date(2026, 3, 12)


# --- what a move means --------------------------------------------------------------------


def test_resizing_a_timed_event_changes_its_end_only(world, client, login_as):
    login_as(world.users["project_manager_full"])
    answer = move(
        client,
        kind="event",
        id=world.event.id,
        version=world.event.version,
        start="2026-03-10T09:00",
        end="2026-03-10T11:45",
        mode="resize",
    )
    assert answer.status_code == 200, answer.text
    assert times(world.event) == (local(DAY, 9), local(DAY, 11, 45))


def test_a_time_with_an_offset_is_taken_as_sent(world, client, login_as):
    login_as(world.users["admin"])
    answer = move(
        client, kind="event", id=world.event.id, start="2026-03-10T15:00:00+00:00", end="2026-03-10T16:00:00+00:00"
    )
    assert answer.status_code == 200, answer.text
    start, _ = times(world.event)
    assert start.utcoffset() is not None and start.astimezone(company_zone()) == local(DAY, 9)  # 15:00 UTC is 9:00 MDT


def test_an_all_day_event_moves_by_days(world, client, login_as):
    admin = login_as(world.users["admin"])
    event = services.create_event(
        admin,
        {
            "title": "Paint delivery",
            "all_day": True,
            "start_datetime": "2026-03-10",
            "end_datetime": "2026-03-11",
            "project_id": world.project.id,
        },
    )
    answer = move(client, kind="event", id=event.id, version=event.version, start="2026-03-13", end="2026-03-14")
    assert answer.status_code == 200, answer.text
    start, end = times(event)
    assert (start, end) == (
        local(date(2026, 3, 13), 0),
        local(date(2026, 3, 15), 0),
    )  # [first day, the day after the last)


def test_an_end_before_the_start_is_refused_and_nothing_moves(world, client, login_as):
    login_as(world.users["admin"])
    answer = move(client, kind="event", id=world.event.id, start="2026-03-12T10:00", end="2026-03-12T09:00")
    assert answer.status_code == 422
    assert "was not moved" in answer.text
    assert times(world.event)[0] == local(DAY, 9)
    answer = move(client, kind="task", id=world.task.id, start="2026-03-12", end="2026-03-11")
    assert answer.status_code == 422
    assert reread(world.task).start_date == DAY


@pytest.mark.parametrize("bad", ["", "tomorrow", "2026-13-40T09:00", "9" * 60])
def test_nonsense_times_are_field_errors(bad, world, client, login_as):
    login_as(world.users["admin"])
    answer = move(client, kind="event", id=world.event.id, start=bad, end="2026-03-12T10:00")
    assert answer.status_code == 422
    assert times(world.event)[0] == local(DAY, 9)


def test_unknown_kinds_and_ids_are_refused(world, client, login_as):
    login_as(world.users["admin"])
    assert move(client, kind="invoice", id=world.event.id, start="2026-03-12", end="2026-03-12").status_code == 400
    assert move(client, kind="event", id="abc", start="2026-03-12", end="2026-03-12").status_code == 400
    assert move(client, kind="event", id=999999, start="2026-03-12T09:00", end="2026-03-12T10:00").status_code == 404


def test_a_move_to_a_closed_project_s_calendar_is_refused(world, client, login_as):
    login_as(world.users["admin"])
    world.project.status = "closed"
    _db.session.flush()
    answer = move(client, kind="event", id=world.event.id, start="2026-03-12T09:00", end="2026-03-12T10:00")
    assert answer.status_code in (403, 422)
    assert times(world.event)[0] == local(DAY, 9)


# --- concurrent edits: 409 -------------------------------------------------------------------


def test_a_stale_move_gets_409_with_the_event_where_it_is_now(world, client, login_as):
    admin = login_as(world.users["admin"])
    event = world.event
    seen = event.version
    services.move_event(admin, event, local(DAY, 13), local(DAY, 14))  # someone else, meanwhile
    _db.session.flush()
    answer = move(
        client,
        kind="event",
        id=event.id,
        version=seen,
        start="2026-03-12T09:00",
        end="2026-03-12T10:00",
        view="week",
        date="2026-03-10",
    )
    assert answer.status_code == 409
    assert "changed meanwhile" in answer.text and "nothing was saved" in answer.text
    assert times(event)[0] == local(DAY, 13)
    # the calendar comes back with the block at its current place (and version)
    assert f'data-version="{reread(event).version}"' in answer.text


def test_a_stale_task_move_gets_409(world, client, login_as):
    admin = login_as(world.users["admin"])
    task = world.task
    seen = task.version
    tasks.update_task(admin, task, {"title": "Prime the walls"}, partial=True)
    _db.session.flush()
    answer = move(client, kind="task", id=task.id, version=seen, start="2026-03-12", end="2026-03-13")
    assert answer.status_code == 409
    assert "changed meanwhile" in answer.text
    assert reread(task).start_date == DAY


# --- tasks: their dependants ------------------------------------------------------------------


def test_moving_a_task_offers_to_shift_its_dependants_then_shifts_them(world, client, login_as):
    admin = login_as(world.users["project_manager_full"])
    first = world.task
    second = tasks.create_task(
        admin,
        world.project,
        {"title": "Paint walls", "start_date": date(2026, 3, 12), "due_date": date(2026, 3, 13)},
        dependency_ids=[first.id],
    )
    third = tasks.create_task(
        admin,
        world.project,
        {"title": "Touch up", "start_date": date(2026, 3, 14), "due_date": date(2026, 3, 14)},
        dependency_ids=[second.id],
    )
    _db.session.flush()
    answer = move(client, kind="task", id=first.id, version=first.version, start="2026-03-13", end="2026-03-14")
    assert answer.status_code == 200, answer.text
    assert "Also shift 2 dependent tasks by 3 days later" in answer.text
    assert reread(second).start_date == date(2026, 3, 12)  # offered, not done
    answer = client.post(
        "/calendar/move/shift-dependants", data={"task": first.id, "days": "3", "view": "week"}, headers=HX
    )
    assert answer.status_code == 200, answer.text
    assert "2 dependent tasks of “Prime walls” moved 3 days later" in answer.text
    assert reread(second).start_date == date(2026, 3, 15)
    assert (reread(third).start_date, reread(third).due_date) == (date(2026, 3, 17), date(2026, 3, 17))


def test_a_task_without_dependants_offers_nothing(world, client, login_as):
    login_as(world.users["admin"])
    answer = move(client, kind="task", id=world.task.id, start="2026-03-13", end="2026-03-14")
    assert answer.status_code == 200
    assert "shift-dependants" not in answer.text


@pytest.mark.parametrize("role", ROLES)
def test_shifting_dependants_for_every_role(role, world, client, login_as):
    admin = world.users["admin"]
    follower = tasks.create_task(
        admin,
        world.project,
        {"title": "Paint walls", "start_date": date(2026, 3, 12), "due_date": date(2026, 3, 12)},
        dependency_ids=[world.task.id],
    )
    _db.session.flush()
    login_as(world.users[role])
    answer = client.post("/calendar/move/shift-dependants", data={"task": world.task.id, "days": "1"}, headers=HX)
    if role in MOVERS:
        assert answer.status_code == 200
        assert reread(follower).start_date == date(2026, 3, 13)
    else:
        assert answer.status_code == 403
        assert reread(follower).start_date == date(2026, 3, 12)


# --- the crew view: a drop on another person's row reassigns ----------------------------------


def test_a_crew_drop_on_another_persons_row_moves_and_reassigns_an_event(world, client, login_as):
    login_as(world.users["project_manager_full"])
    employee = world.users["employee"]
    answer = move(
        client,
        kind="event",
        id=world.event.id,
        version=world.event.version,
        start="2026-03-11T09:00",
        end="2026-03-11T10:00",
        person=world.crew.id,
        from_person=employee.id,
    )
    assert answer.status_code == 200, answer.text
    assert "and given to Ana Crew" in answer.text
    event = reread(world.event)
    assert event.assignee_ids == {world.crew.id}
    assert times(event)[0] == local(date(2026, 3, 11), 9)


def test_a_crew_drop_reassigns_a_task(world, client, login_as):
    login_as(world.users["pm_trainee"])
    employee = world.users["employee"]
    answer = move(
        client,
        kind="task",
        id=world.task.id,
        start="2026-03-10",
        end="2026-03-11",
        person=world.crew.id,
        from_person=employee.id,
    )
    assert answer.status_code == 200, answer.text
    assert reread(world.task).assignee_ids == {world.crew.id}


def test_a_crew_drop_onto_someone_who_cannot_take_it_changes_nothing(world, client, login_as):
    login_as(world.users["project_manager_full"])
    outsider = world.users["client"]  # never an assignee
    answer = move(
        client,
        kind="event",
        id=world.event.id,
        start="2026-03-11T09:00",
        end="2026-03-11T10:00",
        person=outsider.id,
        from_person=world.users["employee"].id,
    )
    assert answer.status_code == 422
    event = reread(world.event)
    assert event.assignee_ids == {world.users["employee"].id}
    assert times(event)[0] == local(DAY, 9)  # the move went back too: both, or neither


# --- series -----------------------------------------------------------------------------------


def test_dragging_one_occurrence_of_a_series_moves_that_one_only(world, client, login_as):
    admin = login_as(world.users["admin"])
    series = services.create_event(
        admin,
        {
            "title": "Site meeting",
            "start_datetime": local(date(2026, 3, 2), 7),
            "end_datetime": local(date(2026, 3, 2), 8),
            "rrule": "FREQ=WEEKLY;COUNT=4",
            "project_id": world.project.id,
        },
    )
    _db.session.flush()
    occurrence = local(date(2026, 3, 9), 7).isoformat()
    answer = move(
        client,
        kind="event",
        id=series.id,
        version=series.version,
        occurrence=occurrence,
        start="2026-03-10T07:30",
        end="2026-03-10T08:30",
    )
    assert answer.status_code == 200, answer.text
    assert times(series)[0] == local(date(2026, 3, 2), 7)  # the series stays
    row = services.exception_for(reread(series), local(date(2026, 3, 9), 7))
    assert row is not None
    assert row.start_at.astimezone(company_zone()) == local(date(2026, 3, 10), 7, 30)


# --- "Move…", the keyboard's way -------------------------------------------------------------------


def test_the_move_form_opens_with_the_current_times_and_saves(world, client, login_as):
    login_as(world.users["admin"])
    form = client.get(f"/calendar/move/form?kind=event&id={world.event.id}&view=week", headers=HX)
    assert form.status_code == 200
    assert 'name="start_date" value="2026-03-10"' in form.text
    assert 'name="start_time" step="900" value="09:00"' in form.text
    assert 'name="view" value="week"' in form.text
    answer = client.post(
        "/calendar/move",
        data={
            "kind": "event",
            "id": world.event.id,
            "version": world.event.version,
            "form": "1",
            "start_date": "2026-03-11",
            "start_time": "13:15",
            "end_date": "2026-03-11",
            "end_time": "14:00",
        },
        headers=HX,
    )
    assert answer.status_code == 200, answer.text
    assert times(world.event) == (local(date(2026, 3, 11), 13, 15), local(date(2026, 3, 11), 14))


def test_the_move_form_comes_back_with_its_errors(world, client, login_as):
    login_as(world.users["admin"])
    answer = client.post(
        "/calendar/move",
        data={
            "kind": "event",
            "id": world.event.id,
            "form": "1",
            "start_date": "2026-03-11",
            "start_time": "13:15",
            "end_date": "2026-03-11",
            "end_time": "12:00",
        },
        headers=HX,
    )
    assert answer.status_code == 422
    assert 'data-testid="move-form-errors"' in answer.text
    assert answer.headers["HX-Retarget"] == f"#move-form-event-{world.event.id}"
    assert 'value="12:00"' in answer.text  # what was typed stays


def test_the_move_form_is_a_page_without_javascript(world, client, login_as):
    login_as(world.users["project_manager_full"])
    page = client.get(f"/calendar/move/form?kind=task&id={world.task.id}")
    assert page.status_code == 200
    assert "<html" in page.text and 'name="start_date" value="2026-03-10"' in page.text
    assert "hx-post" not in page.text.split('data-testid="move-form"')[0].rsplit("<form", 1)[-1]


@pytest.mark.parametrize("role", ROLES)
def test_the_move_form_for_every_role(role, world, client, login_as):
    login_as(world.users[role])
    page = client.get(f"/calendar/move/form?kind=event&id={world.event.id}", headers=HX)
    assert page.status_code == (200 if role in MOVERS else 403)


# --- bulk ----------------------------------------------------------------------------------------


def test_bulk_delete_asks_first(world, client, login_as):
    login_as(world.users["admin"])
    event_id, task_id = world.event.id, world.task.id
    items = [f"event:{event_id}", f"task:{task_id}"]
    answer = client.post("/calendar/bulk", data={"items": items, "action": "delete"}, headers=HX)
    assert answer.status_code == 200
    assert "Delete 2 items? This cannot be undone." in answer.text
    assert 'name="confirm" value="yes"' in answer.text
    assert reread(world.event) is not None and reread(world.task) is not None
    answer = client.post("/calendar/bulk", data={"items": items, "action": "delete", "confirm": "yes"}, headers=HX)
    assert answer.status_code == 200, answer.text
    assert "2 done." in answer.text
    _db.session.expire_all()
    assert _db.session.get(CalendarEvent, event_id) is None
    assert _db.session.get(Task, task_id) is None


def test_bulk_reassign_and_status(world, client, login_as):
    login_as(world.users["project_manager_full"])
    items = [f"event:{world.event.id}", f"task:{world.task.id}"]
    answer = client.post(
        "/calendar/bulk", data={"items": items, "action": "reassign", "user_ids": [str(world.crew.id)]}, headers=HX
    )
    assert answer.status_code == 200, answer.text
    assert reread(world.event).assignee_ids == {world.crew.id}
    assert reread(world.task).assignee_ids == {world.crew.id}
    answer = client.post(
        "/calendar/bulk", data={"items": items, "action": "status", "new_status": "scheduled"}, headers=HX
    )
    assert answer.status_code == 200
    assert "1 done, 1 refused:" in answer.text  # "scheduled" is an event's status, not a task's
    assert "Prime walls:" in answer.text
    assert answer.headers["X-Kibray-Kept"] == f"task:{world.task.id}"


def test_bulk_refuses_an_item_changed_since_it_was_selected(world, client, login_as):
    """The bar sends the version each item was selected on (static/js/calendar.js): one
    edited by someone else meanwhile is refused as stale and stays ticked, not
    overwritten; the other is done."""
    login_as(world.users["project_manager_full"])
    event_version, task_version = world.event.version, world.task.version
    world.task.title = "Prime walls (renamed meanwhile)"
    _db.session.flush()  # someone else's edit: the task's version moved on
    assert world.task.version == task_version + 1
    answer = client.post(
        "/calendar/bulk",
        data={
            "items": [f"event:{world.event.id}", f"task:{world.task.id}"],
            "versions": [f"event:{world.event.id}:{event_version}", f"task:{world.task.id}:{task_version}"],
            "action": "status",
            "new_status": "cancelled",
        },
        headers=HX,
    )
    assert answer.status_code == 200, answer.text
    assert "1 done, 1 refused:" in answer.text and "changed by someone else" in answer.text
    assert answer.headers["X-Kibray-Kept"] == f"task:{world.task.id}"
    assert reread(world.event).status == "cancelled" and reread(world.task).status != "cancelled"


def test_bulk_without_a_selection_or_with_nonsense(world, client, login_as):
    login_as(world.users["admin"])
    answer = client.post("/calendar/bulk", data={"action": "move", "days": "1"}, headers=HX)
    assert answer.status_code == 422 and "Nothing was changed." in answer.text
    answer = client.post("/calendar/bulk", data={"items": ["invoice:1"], "action": "move", "days": "1"}, headers=HX)
    assert answer.status_code == 422
    answer = client.post(
        "/calendar/bulk", data={"items": [f"task:{world.task.id}"], "action": "move", "days": "0"}, headers=HX
    )
    assert answer.status_code == 422
    assert reread(world.task).start_date == DAY


# --- conflicts: saved, and flagged with the reason ----------------------------------------------------


def test_a_conflicting_move_is_saved_and_says_why(world, client, login_as):
    pytest.importorskip("app.schedule.conflicts")
    admin = login_as(world.users["admin"])
    employee = world.users["employee"]
    other = services.create_event(
        admin,
        {
            "title": "Cabinet delivery",
            "start_datetime": local(date(2026, 3, 12), 9),
            "end_datetime": local(date(2026, 3, 12), 11),
            "project_id": world.project.id,
            "assigned_to_ids": [employee.id],
        },
    )
    _db.session.flush()
    answer = move(client, kind="event", id=world.event.id, start="2026-03-12T10:00", end="2026-03-12T11:00")
    assert answer.status_code == 200, answer.text
    assert "Saved, with conflicts" in answer.text
    assert 'data-testid="move-reasons"' in answer.text
    assert times(world.event)[0] == local(date(2026, 3, 12), 10)  # saved all the same
    assert reread(other).risk_level != "none"


def test_a_drop_in_the_spring_forward_gap_lands_after_it(world, client, login_as):
    """2:30 AM on Mar 8, 2026 does not exist in Denver: the wall time is read with the
    offset before the change (zoneinfo fold=0, as the series do), i.e. 3:30 AM MDT."""
    from datetime import UTC

    if company_zone().key != "America/Denver":
        pytest.skip("the gap is Denver's")
    login_as(world.users["admin"])
    answer = move(client, kind="event", id=world.event.id, start="2026-03-08T02:30", end="2026-03-08T04:00")
    assert answer.status_code == 200, answer.text
    event = reread(world.event)
    assert event.start_at.astimezone(UTC) == datetime(2026, 3, 8, 9, 30, tzinfo=UTC)
    assert event.end_at.astimezone(UTC) == datetime(2026, 3, 8, 10, 0, tzinfo=UTC)
