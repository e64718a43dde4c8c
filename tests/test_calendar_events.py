"""Calendar event rules (app/calendar/services.py) for all seven roles: create, edit,
move, delete; bad input (a 10-year event, an end before its start, a time without a
zone, +14:00, a DST gap, a never-ending or million-occurrence RRULE, a project the user
does not manage — each a field error with nothing written); versions; series and their
single occurrences; tasks moved with their dependants; bulk changes with partial
refusals; notifications; the live events' audience."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from app.calendar import services
from app.calendar.models import CalendarEvent
from app.core.errors import ConflictError, ObjectNotFound, ValidationError
from app.core.permissions import PermissionDenied
from app.core.versioning import StaleObject
from app.notifications.models import Notification
from app.tasks import services as tasks
from tests.factories import make_client, make_project, make_user

DENVER = ZoneInfo("America/Denver")
ROLES7 = ("admin", "pm", "trainee", "designer", "superintendent", "employee", "client")


@pytest.fixture()
def world(db):
    owner = make_client(name="Cedar Homes")
    people = {
        "admin": make_user("admin"),
        "pm": make_user("project_manager_full"),
        "trainee": make_user("pm_trainee"),
        "designer": make_user("designer"),
        "superintendent": make_user("superintendent"),
        "employee": make_user("employee"),
        "other_employee": make_user("employee"),
        "client": make_user("client", client=owner),
        "off_team_pm": make_user("project_manager_full"),
    }
    team = [people[k] for k in ("pm", "trainee", "designer", "superintendent")]
    mine = make_project(client=owner, name="Cedar Bend", members=team)
    theirs = make_project(name="Birch Row", members=[people["off_team_pm"]])
    closed = make_project(client=owner, name="Cedar shed", members=team, status="closed")
    return {"people": people, "mine": mine, "theirs": theirs, "closed": closed}


def at(day: int, hour: int = 7, month: int = 3) -> str:
    return datetime(2026, month, day, hour, 0, tzinfo=DENVER).isoformat()


def data(world, **extra):
    base = {
        "title": "Site walk",
        "project_id": world["mine"].id,
        "start_datetime": at(4, 9),
        "end_datetime": at(4, 10),
    }
    return {**base, **extra}


def count(db) -> int:
    return db.session.scalar(select(func.count()).select_from(CalendarEvent))


def errors_of(call) -> dict:
    with pytest.raises(ValidationError) as caught:
        call()
    return caught.value.fields


# --- create ------------------------------------------------------------------------------


def test_create_stores_utc_and_defaults(world, db):
    event = services.create_event(world["people"]["pm"], data(world))
    assert event.start_at == datetime(2026, 3, 4, 16, 0, tzinfo=UTC)
    assert (event.event_type, event.status, event.visibility) == ("meeting", "scheduled", "project_team")
    assert event.version == 1 and event.created_by_id == world["people"]["pm"].id


@pytest.mark.parametrize(
    "role, allowed",
    [
        ("admin", True),
        ("pm", True),
        ("trainee", True),
        ("designer", False),
        ("superintendent", True),
        ("employee", False),
        ("client", False),
    ],
)
def test_who_creates_events_on_their_project(world, db, role, allowed):
    actor = world["people"][role]
    before = count(db)
    if allowed:
        services.create_event(actor, data(world))
        assert count(db) == before + 1
    else:
        with pytest.raises(PermissionDenied):
            services.create_event(actor, data(world))
        assert count(db) == before


@pytest.mark.parametrize("role", ["pm", "trainee", "superintendent"])
def test_project_not_managed_is_a_field_error_nothing_written(world, db, role):
    before = count(db)
    fields = errors_of(lambda: services.create_event(world["people"][role], data(world, project_id=world["theirs"].id)))
    assert "project_id" in fields and "manage" in fields["project_id"] or "cannot see" in fields["project_id"]
    assert count(db) == before


def test_company_event_is_an_admins(world, db):
    assert services.create_event(world["people"]["admin"], data(world, project_id=None)).project_id is None
    fields = errors_of(lambda: services.create_event(world["people"]["pm"], data(world, project_id=None)))
    assert "project_id" in fields


def test_closed_project_refused(world, db):
    fields = errors_of(lambda: services.create_event(world["people"]["pm"], data(world, project_id=world["closed"].id)))
    assert "closed" in fields["project_id"]


def test_unknown_project_is_not_told(world, db):
    fields = errors_of(lambda: services.create_event(world["people"]["admin"], data(world, project_id=999999)))
    assert "does not exist" in fields["project_id"]


@pytest.mark.parametrize(
    "extra, field, words",
    [
        ({"title": ""}, "title", "title"),
        ({"title": "x" * 201}, "title", "200"),
        ({"description": "x" * 10_001}, "description", "10,000"),
        ({"end_datetime": at(4, 8)}, "end_datetime", "before the start"),
        ({"end_datetime": datetime(2036, 3, 4, 10, tzinfo=UTC).isoformat()}, "end_datetime", "at most 366 days"),
        ({"start_datetime": "2026-03-04T09:00:00"}, "start_datetime", "no time zone"),
        ({"end_datetime": datetime(2026, 3, 4, 10)}, "end_datetime", "no time zone"),
        ({"start_datetime": "2026-03-04T09:00:00+15:00"}, "start_datetime", "does not exist"),
        ({"start_datetime": "tomorrow"}, "start_datetime", "ISO 8601"),
        ({"start_datetime": "1999-03-04T09:00:00Z"}, "start_datetime", "between 2000 and 2100"),
        ({"start_datetime": 12}, "start_datetime", "ISO 8601"),
        ({"start_datetime": None}, "start_datetime", "start"),
        ({"event_type": "party"}, "event_type", "Choose one of"),
        ({"status": "maybe"}, "status", "Choose one of"),
        ({"visibility": "everyone"}, "visibility", "Choose one of"),
        ({"visibility": "admin_only"}, "visibility", "admin"),
        ({"rrule": "FREQ=WEEKLY"}, "rrule", "must end"),
        ({"rrule": "FREQ=DAILY;COUNT=1000000"}, "rrule", "at most 500"),
        ({"rrule": "FREQ=DAILY;UNTIL=20990101"}, "rrule", "more than 500"),
        ({"all_day": "perhaps"}, "all_day", "true or false"),
        ({"assigned_to_ids": ["x"]}, "assigned_to_ids", "Not an id"),
    ],
)
def test_bad_input_is_a_field_error_and_nothing_is_written(world, db, extra, field, words):
    before = count(db)
    fields = errors_of(lambda: services.create_event(world["people"]["pm"], data(world, **extra)))
    assert field in fields, fields
    assert words in fields[field], fields[field]
    assert count(db) == before


def test_every_problem_at_once(world, db):
    fields = errors_of(
        lambda: services.create_event(
            world["people"]["pm"], data(world, title="", event_type="party", end_datetime=at(4, 8))
        )
    )
    assert {"title", "event_type", "end_datetime"} <= set(fields)


def test_odd_offsets_are_normalised_to_utc(world, db):
    event = services.create_event(
        world["people"]["pm"],
        data(world, start_datetime="2026-03-05T06:00:00+14:00", end_datetime="2026-03-05T07:30:00+14:00"),
    )
    assert event.start_at == datetime(2026, 3, 4, 16, 0, tzinfo=UTC)
    assert event.end_at - event.start_at == timedelta(minutes=90)
    z = services.create_event(world["people"]["pm"], data(world, start_datetime="2026-03-04T16:00:00Z"))
    assert z.start_at == event.start_at


def test_a_time_in_the_dst_gap_with_an_offset_is_an_exact_instant(world, db):
    # 2:30 does not exist in Denver on 2026-03-08; with an offset it names one instant
    event = services.create_event(
        world["people"]["pm"],
        data(world, start_datetime="2026-03-08T02:30:00-07:00", end_datetime="2026-03-08T04:00:00-06:00"),
    )
    assert event.start_at == datetime(2026, 3, 8, 9, 30, tzinfo=UTC)


def test_ten_year_event_refused_but_a_year_is_fine(world, db):
    pm = world["people"]["pm"]
    services.create_event(pm, data(world, start_datetime=at(1, 0, 1), end_datetime=datetime(2027, 1, 1, tzinfo=DENVER)))
    fields = errors_of(lambda: services.create_event(pm, data(world, end_datetime="2036-03-04T10:00:00-07:00")))
    assert "series" in fields["end_datetime"]


# --- all-day -----------------------------------------------------------------------------


def test_all_day_dates_are_local_days_with_an_inclusive_end(world, db):
    event = services.create_event(
        world["people"]["pm"],
        data(world, all_day=True, start_datetime="2026-03-07", end_datetime="2026-03-09"),
    )
    assert event.start_at == datetime(2026, 3, 7, tzinfo=DENVER)
    assert event.end_at == datetime(2026, 3, 10, tzinfo=DENVER)  # exclusive, across the DST change
    # what the API answers (the exclusive midnight) round-trips unchanged
    again = services.update_event(
        world["people"]["pm"],
        event,
        {"start_datetime": event.start_at.isoformat(), "end_datetime": event.end_at.isoformat()},
    )
    assert again.end_at == datetime(2026, 3, 10, tzinfo=DENVER)


def test_all_day_single_day_without_end(world, db):
    event = services.create_event(
        world["people"]["pm"], data(world, all_day=True, start_datetime="2026-03-07", end_datetime=None)
    )
    assert event.end_at - event.start_at == timedelta(days=1)


def test_all_day_midnight_in_a_dst_gap_is_normalised_forward(world, db, app):
    # Havana springs forward at midnight (2026-03-08 00:00 does not exist)
    app.config["COMPANY_TIMEZONE"] = "America/Havana"
    try:
        event = services.create_event(
            world["people"]["pm"], data(world, all_day=True, start_datetime="2026-03-08", end_datetime="2026-03-08")
        )
        havana = ZoneInfo("America/Havana")
        assert event.start_at.astimezone(havana).date() == date(2026, 3, 8)
        assert event.start_at.astimezone(havana).hour == 1
    finally:
        app.config["COMPANY_TIMEZONE"] = "America/Denver"


def test_timed_event_refuses_a_plain_date(world, db):
    fields = errors_of(lambda: services.create_event(world["people"]["pm"], data(world, start_datetime="2026-03-07")))
    assert "time zone" in fields["start_datetime"] or "ISO" in fields["start_datetime"]


# --- assignees and notifications ------------------------------------------------------------


def test_assignees_follow_the_tasks_rule(world, db):
    p = world["people"]
    event = services.create_event(p["pm"], data(world, assigned_to_ids=[p["employee"].id, p["superintendent"].id]))
    assert event.assignee_ids == {p["employee"].id, p["superintendent"].id}
    for bad in (p["client"], p["off_team_pm"]):
        fields = errors_of(lambda bad=bad: services.create_event(p["pm"], data(world, assigned_to_ids=[bad.id])))
        assert "assigned_to_ids" in fields
    fields = errors_of(lambda: services.create_event(p["pm"], data(world, assigned_to_ids=[999999])))
    assert "No such user" in fields["assigned_to_ids"]


def test_newly_assigned_people_are_notified_once(world, db):
    p = world["people"]

    def notes(user):
        return db.session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.user_id == user.id, Notification.kind == "event_assigned")
        )

    event = services.create_event(p["pm"], data(world, assigned_to_ids=[p["employee"].id]))
    assert notes(p["employee"]) == 1
    services.update_event(p["pm"], event, {"assigned_to_ids": [p["employee"].id, p["other_employee"].id]})
    assert notes(p["employee"]) == 1 and notes(p["other_employee"]) == 1
    assert event.assignee_ids == {p["employee"].id, p["other_employee"].id}


def test_moving_to_another_project_checks_the_assignees_fit(world, db):
    p = world["people"]
    other = make_project(client=world["mine"].client, members=[p["pm"]])
    event = services.create_event(p["pm"], data(world, assigned_to_ids=[p["superintendent"].id]))
    fields = errors_of(lambda: services.update_event(p["pm"], event, {"project_id": other.id}))
    assert "assigned_to_ids" in fields
    fields = errors_of(lambda: services.update_event(p["pm"], event, {"project_id": world["theirs"].id}))
    assert "project_id" in fields


# --- edit, move, delete ----------------------------------------------------------------


@pytest.fixture()
def event(world, db):
    p = world["people"]
    return services.create_event(p["pm"], data(world, assigned_to_ids=[p["employee"].id]))


@pytest.mark.parametrize(
    "role, outcome",
    [
        ("admin", "ok"),
        ("pm", "ok"),
        ("trainee", "ok"),
        ("designer", PermissionDenied),
        ("superintendent", "ok"),
        ("employee", PermissionDenied),
        ("client", ObjectNotFound),
    ],
)
def test_who_edits(world, db, event, role, outcome):
    actor = world["people"][role]
    if outcome == "ok":
        assert services.update_event(actor, event, {"title": "Walk"}).title == "Walk"
    else:
        with pytest.raises((outcome, ObjectNotFound) if outcome is PermissionDenied else outcome):
            services.update_event(actor, event, {"title": "Walk"})


@pytest.mark.parametrize(
    "role, may",
    [
        ("admin", True),
        ("pm", True),
        ("trainee", True),
        ("designer", False),
        ("superintendent", False),
        ("employee", False),
        ("client", False),
    ],
)
def test_who_moves(world, db, event, role, may):
    actor = world["people"][role]
    assert services.may_move(actor, event) is may
    if may:
        moved = services.move_event(actor, event, at(5, 9), at(5, 11), version=event.version)
        assert moved.start_at == datetime(2026, 3, 5, 16, tzinfo=UTC)
    else:
        with pytest.raises((PermissionDenied, ObjectNotFound)):
            services.move_event(actor, event, at(5, 9), at(5, 11))


def test_superintendent_edits_but_does_not_reschedule(world, db, event):
    sup = world["people"]["superintendent"]
    fields = errors_of(
        lambda: services.update_event(sup, event, {"start_datetime": at(5, 9), "end_datetime": at(5, 10)})
    )
    assert "PMs" in fields["start_datetime"]
    # sending the same times back (a PUT of what was read) is not a change
    same = services.update_event(
        sup, event, {"title": "Walk", "start_datetime": event.start_at, "end_datetime": event.end_at}
    )
    assert same.title == "Walk"


def test_move_validates_like_create(world, db, event):
    pm = world["people"]["pm"]
    assert "end_datetime" in errors_of(lambda: services.move_event(pm, event, at(5, 9), at(5, 8)))
    assert "start_datetime" in errors_of(lambda: services.move_event(pm, event, "2026-03-05T09:00", at(5, 10)))
    assert "end_datetime" in errors_of(lambda: services.move_event(pm, event, at(5, 9), "2031-03-05T09:00:00Z"))


def test_stale_version_is_refused_with_the_current_event(world, db, event):
    pm = world["people"]["pm"]
    services.update_event(pm, event, {"title": "Walk one"}, version=1)
    assert event.version == 2
    with pytest.raises(StaleObject) as caught:
        services.move_event(pm, event, at(5, 9), at(5, 10), version=1)
    assert caught.value.obj is event and event.title == "Walk one"
    with pytest.raises(StaleObject):
        services.update_event(pm, event, {"title": "Walk two"}, version=1)
    with pytest.raises(StaleObject):
        services.delete_event(pm, event, version=1)
    assert services.move_event(pm, event, at(5, 9), at(5, 10), version=2).version == 3


def test_reassigning_bumps_the_version(world, db, event):
    version = event.version
    services.update_event(world["people"]["pm"], event, {"assigned_to_ids": []})
    assert event.version == version + 1 and event.assignee_ids == set()


def test_closed_project_is_read_only(world, db, event):
    pm = world["people"]["pm"]
    event.project.status = "closed"
    db.session.flush()
    with pytest.raises(ConflictError):
        services.update_event(pm, event, {"title": "x"})
    with pytest.raises(ConflictError):
        services.delete_event(pm, event)
    assert services.may_move(pm, event) is False


def test_delete(world, db, event):
    event_id = event.id
    services.delete_event(world["people"]["trainee"], event)
    assert db.session.get(CalendarEvent, event_id) is None


def test_admin_only_event_seen_and_changed_by_admins_only(world, db):
    p = world["people"]
    event = services.create_event(p["admin"], data(world, visibility="admin_only"))
    with pytest.raises(ObjectNotFound):
        services.update_event(p["pm"], event, {"title": "x"})
    assert services.may_move(p["pm"], event) is False
    assert services.may_move(p["admin"], event) is True


# --- series ------------------------------------------------------------------------------


@pytest.fixture()
def series(world, db):
    p = world["people"]
    # Mondays at 7:00 Denver from 2026-03-02, 6 times (crosses the March DST change)
    return services.create_event(
        p["pm"],
        data(
            world,
            title="Weekly site meeting",
            start_datetime=at(2, 7),
            end_datetime=at(2, 8),
            rrule="freq=weekly;count=6",
            assigned_to_ids=[p["employee"].id],
        ),
    )


def occurrence(day: int) -> datetime:
    return datetime(2026, 3, day, 7, tzinfo=DENVER).astimezone(UTC)


def test_series_is_normalised(series):
    assert series.rrule == "FREQ=WEEKLY;COUNT=6"


def test_move_one_occurrence_makes_an_exception_row(world, db, series):
    pm = world["people"]["pm"]
    row = services.move_event(pm, series, at(10, 9), at(10, 10), version=series.version, occurrence_start=occurrence(9))
    assert row.id != series.id and row.series_id == series.id
    assert row.recurrence_start == occurrence(9) and row.rrule is None
    assert row.assignee_ids == series.assignee_ids and row.title == series.title
    assert series.version == 1  # the series itself is unchanged
    # moving it again goes to the same row, checked against the row's version
    again = services.move_event(pm, series, at(10, 11), at(10, 12), version=row.version, occurrence_start=occurrence(9))
    assert again.id == row.id
    with pytest.raises(StaleObject):
        services.move_event(pm, series, at(10, 11), at(10, 12), version=1, occurrence_start=occurrence(9))


def test_edit_one_occurrence_leaves_the_series(world, db, series):
    pm = world["people"]["pm"]
    row = services.update_event(pm, series, {"title": "Meeting with the inspector"}, occurrence_start=occurrence(16))
    assert row.title == "Meeting with the inspector" and series.title == "Weekly site meeting"
    fields = errors_of(
        lambda: services.update_event(pm, series, {"rrule": "FREQ=DAILY;COUNT=2"}, occurrence_start=occurrence(16))
    )
    assert "rrule" in fields


def test_cancel_one_occurrence(world, db, series):
    pm = world["people"]["pm"]
    row = services.cancel_occurrence(pm, series, occurrence(23))
    assert row.status == "cancelled" and row.series_id == series.id
    assert series.status == "scheduled"
    # deleting an occurrence is cancelling it; deleting an exception row too
    services.delete_event(pm, series, occurrence_start=occurrence(30))
    moved = services.move_event(pm, series, at(17, 9), at(17, 10), occurrence_start=occurrence(16))
    services.delete_event(pm, moved)
    assert db.session.get(CalendarEvent, moved.id).status == "cancelled"
    exceptions = db.session.scalars(select(CalendarEvent).where(CalendarEvent.series_id == series.id)).all()
    assert len(exceptions) == 3


def test_an_occurrence_that_does_not_exist(world, db, series):
    pm = world["people"]["pm"]
    for when in (occurrence(3), datetime(2026, 3, 9, 14, tzinfo=UTC), "2026-03-09T07:00:00"):
        fields = errors_of(lambda when=when: services.cancel_occurrence(pm, series, when))
        assert "occurrence_start" in fields
    plain = services.create_event(pm, data(world))
    assert "repeat" in errors_of(lambda: services.cancel_occurrence(pm, plain, occurrence(9)))["occurrence_start"]


def test_deleting_the_series_takes_its_exceptions(world, db, series):
    pm = world["people"]["pm"]
    row = services.cancel_occurrence(pm, series, occurrence(9))
    row_id = row.id
    services.delete_event(pm, series)
    db.session.expire_all()
    assert db.session.get(CalendarEvent, row_id) is None


def test_shifting_the_series_shifts_its_exceptions(world, db, series):
    pm = world["people"]["pm"]
    services.cancel_occurrence(pm, series, occurrence(9))
    services.cancel_occurrence(pm, series, occurrence(16))
    # the whole series one week later (Mondays from Mar 9)
    services.move_event(pm, series, at(9, 7), at(9, 8))
    rows = db.session.scalars(
        select(CalendarEvent).where(CalendarEvent.series_id == series.id).order_by(CalendarEvent.recurrence_start)
    ).all()
    assert [r.recurrence_start for r in rows] == [occurrence(16), occurrence(23)]


def test_changing_the_rule_drops_exceptions_it_no_longer_has(world, db, series):
    pm = world["people"]["pm"]
    services.cancel_occurrence(pm, series, occurrence(30))
    services.update_event(pm, series, {"rrule": "FREQ=WEEKLY;COUNT=2"})
    assert db.session.scalars(select(CalendarEvent).where(CalendarEvent.series_id == series.id)).all() == []


def test_a_series_move_revalidates_its_rule(world, db):
    pm = world["people"]["pm"]
    series = services.create_event(pm, data(world, rrule="FREQ=WEEKLY;UNTIL=20260401"))
    fields = errors_of(lambda: services.move_event(pm, series, at(2, 9, 4), at(2, 10, 4)))
    assert "no occurrence" in fields["rrule"]


# --- tasks -------------------------------------------------------------------------------


@pytest.fixture()
def chain(world, db):
    """prime → paint → inspect (each waits for the one before), plus a finished one after paint."""
    pm = world["people"]["pm"]
    mine = world["mine"]
    prime = tasks.create_task(pm, mine, {"title": "Prime", "start_date": "2026-03-02", "due_date": "2026-03-03"})
    paint = tasks.create_task(
        pm, mine, {"title": "Paint", "start_date": "2026-03-04", "due_date": "2026-03-05"}, dependency_ids=[prime.id]
    )
    inspect = tasks.create_task(
        pm, mine, {"title": "Inspect", "start_date": "2026-03-06", "due_date": "2026-03-06"}, dependency_ids=[paint.id]
    )
    undated = tasks.create_task(pm, mine, {"title": "Touch up"}, dependency_ids=[paint.id])
    return prime, paint, inspect, undated


def test_dependants_to_shift_is_transitive_and_dated(chain):
    prime, paint, inspect, undated = chain
    assert services.dependants_to_shift(prime, 2) == [paint, inspect]
    assert services.dependants_to_shift(prime, 0) == []


def test_move_task_with_dependants(world, db, chain):
    prime, paint, inspect, _ = chain
    versions = (paint.version, inspect.version)
    moved = services.move_task(
        world["people"]["pm"], prime, "2026-03-04", "2026-03-05", version=prime.version, shift_dependants=True
    )
    assert moved == [prime, paint, inspect]
    assert (prime.start_date, prime.due_date) == (date(2026, 3, 4), date(2026, 3, 5))
    assert (paint.start_date, paint.due_date) == (date(2026, 3, 6), date(2026, 3, 7))
    assert (inspect.start_date, inspect.due_date) == (date(2026, 3, 8), date(2026, 3, 8))
    assert (paint.version, inspect.version) == (versions[0] + 1, versions[1] + 1)


def test_move_task_alone_and_backwards(world, db, chain):
    prime, paint, _, _ = chain
    services.move_task(world["people"]["admin"], paint, "2026-03-03", "2026-03-04")
    assert paint.start_date == date(2026, 3, 3) and prime.start_date == date(2026, 3, 2)


def test_move_task_stale_and_bad(world, db, chain):
    prime = chain[0]
    pm = world["people"]["pm"]
    with pytest.raises(StaleObject):
        services.move_task(pm, prime, "2026-03-04", "2026-03-05", version=prime.version + 5)
    assert "due_date" in errors_of(lambda: services.move_task(pm, prime, "2026-03-05", "2026-03-04"))
    assert "start_date" in errors_of(lambda: services.move_task(pm, prime, "soon", "2026-03-04"))


@pytest.mark.parametrize(
    "role, may",
    [
        ("admin", True),
        ("pm", True),
        ("trainee", True),
        ("designer", False),
        ("superintendent", False),
        ("employee", False),
        ("client", False),
        ("off_team_pm", False),
    ],
)
def test_who_moves_tasks(world, db, chain, role, may):
    prime = chain[0]
    actor = world["people"][role]
    assert services.may_move(actor, prime) is may
    if not may:
        with pytest.raises((PermissionDenied, ObjectNotFound)):
            services.move_task(actor, prime, "2026-03-04", "2026-03-05")


def test_a_failing_dependant_undoes_the_whole_move(world, db, chain, monkeypatch):
    prime, paint, inspect, _ = chain
    pm = world["people"]["pm"]
    inspect.due_date = date(2100, 12, 31)
    inspect.start_date = date(2100, 12, 30)
    db.session.flush()
    with pytest.raises(ValidationError):
        services.move_task(pm, prime, "2026-03-09", "2026-03-10", shift_dependants=True)
    db.session.expire_all()
    assert prime.start_date == date(2026, 3, 2) and paint.start_date == date(2026, 3, 4)


# --- bulk --------------------------------------------------------------------------------


def test_bulk_with_partial_refusals(world, db, chain):
    p = world["people"]
    prime = chain[0]
    mine_event = services.create_event(p["pm"], data(world))
    their_event = services.create_event(p["off_team_pm"], data(world, project_id=world["theirs"].id))
    done = services.bulk(
        p["pm"],
        [("event", mine_event.id), ("event", their_event.id), ("task", prime.id), ("event", 999999), ("goat", 1)],
        "move",
        days=2,
    )
    assert done["done"] == [{"kind": "event", "id": mine_event.id}, {"kind": "task", "id": prime.id}]
    assert [(r["kind"], r["id"]) for r in done["refused"]] == [
        ("goat", None),
        ("event", their_event.id),
        ("event", 999999),
    ] or {(r["kind"], r["id"]) for r in done["refused"]} == {
        ("goat", None),
        ("event", their_event.id),
        ("event", 999999),
    }
    assert mine_event.start_at == datetime(2026, 3, 6, 16, tzinfo=UTC)
    assert their_event.start_at == datetime(2026, 3, 4, 16, tzinfo=UTC)
    assert prime.start_date == date(2026, 3, 4)


def test_bulk_status_reassign_delete(world, db, chain):
    p = world["people"]
    a = services.create_event(p["pm"], data(world))
    b = services.create_event(p["pm"], data(world, title="Second"))
    result = services.bulk(p["pm"], [("event", a.id), ("event", b.id)], "status", status="completed")
    assert len(result["done"]) == 2 and a.status == b.status == "completed"
    result = services.bulk(p["pm"], [("event", a.id)], "status", status="nope")
    assert result["done"] == [] and "Choose one of" in result["refused"][0]["reason"]
    result = services.bulk(
        p["pm"], [("event", a.id), ("task", chain[0].id)], "reassign", user_ids=[p["employee"].id, p["client"].id]
    )
    assert result["done"] == [] and len(result["refused"]) == 2
    result = services.bulk(p["pm"], [("event", a.id), ("task", chain[0].id)], "reassign", user_ids=[p["employee"].id])
    assert len(result["done"]) == 2 and a.assignee_ids == {p["employee"].id}
    a_id = a.id
    result = services.bulk(p["pm"], [("event", a_id), ("task", chain[0].id)], "delete")
    # the task others depend on is refused; the event goes
    assert result["done"] == [{"kind": "event", "id": a_id}]
    assert "depend" in result["refused"][0]["reason"]


def test_bulk_superintendent_changes_status_but_does_not_move(world, db):
    p = world["people"]
    a = services.create_event(p["pm"], data(world))
    assert services.bulk(p["superintendent"], [("event", a.id)], "move", days=1)["done"] == []
    assert services.bulk(p["superintendent"], [("event", a.id)], "status", status="in_progress")["done"]


@pytest.mark.parametrize(
    "action, params, field",
    [
        ("fly", {}, "action"),
        ("move", {"days": 0}, "days"),
        ("move", {"days": "x"}, "days"),
        ("reassign", {}, "user_ids"),
    ],
)
def test_bulk_bad_parameters(world, db, action, params, field):
    assert field in errors_of(lambda: services.bulk(world["people"]["pm"], [("event", 1)], action, **params))


def test_bulk_limits(world, db):
    pm = world["people"]["pm"]
    assert "items" in errors_of(lambda: services.bulk(pm, [], "delete"))
    assert "items" in errors_of(lambda: services.bulk(pm, [("event", i) for i in range(1, 300)], "delete"))


# --- live events -------------------------------------------------------------------------


@pytest.fixture()
def published(monkeypatch):
    sent: list[dict] = []

    def record(name, data=None, *, users=(), roles=()):
        sent.append({"event": name, "data": dict(data or {}), "users": set(users), "roles": set(roles)})

    monkeypatch.setattr(services, "publish", record)
    return sent


def receivers(world, message) -> set[str]:
    return {
        name for name, user in world["people"].items() if user.id in message["users"] or user.role in message["roles"]
    }


@pytest.mark.parametrize(
    "visibility, expected",
    [
        ("project_team", {"admin", "pm", "trainee", "superintendent", "employee"}),
        ("internal", {"admin", "pm", "trainee", "superintendent", "employee"}),
        ("client_visible", {"admin", "pm", "trainee", "superintendent", "employee", "client"}),
        ("admin_only", {"admin"}),
    ],
)
def test_live_audience_by_visibility(world, db, published, visibility, expected):
    p = world["people"]
    services.create_event(p["admin"], data(world, visibility=visibility, assigned_to_ids=[p["employee"].id]))
    (message,) = [m for m in published if m["event"] == "calendar-event-created"]
    assert receivers(world, message) == expected


def test_live_withdrawn_for_who_no_longer_sees_it(world, db, published):
    p = world["people"]
    event = services.create_event(p["pm"], data(world, visibility="client_visible", assigned_to_ids=[p["employee"].id]))
    published.clear()
    services.update_event(p["pm"], event, {"visibility": "project_team", "assigned_to_ids": []})
    updated = [m for m in published if m["event"] == "calendar-event-updated"][0]
    withdrawn = [m for m in published if m["event"] == "calendar-event-withdrawn"][0]
    assert receivers(world, updated) == {"admin", "pm", "trainee", "superintendent"}
    assert receivers(world, withdrawn) == {"employee", "client"}
    assert withdrawn["data"] == {"id": event.id, "series_id": None}


def test_live_moved_and_deleted(world, db, published):
    p = world["people"]
    event = services.create_event(p["pm"], data(world, assigned_to_ids=[p["employee"].id]))
    published.clear()
    services.move_event(p["pm"], event, at(5, 9), at(5, 10))
    assert [m["event"] for m in published] == ["calendar-event-updated"]
    assert "employee" in receivers(world, published[0]) and "client" not in receivers(world, published[0])
    published.clear()
    services.delete_event(p["pm"], event)
    assert [m["event"] for m in published] == ["calendar-event-deleted"]
    assert receivers(world, published[0]) == {"admin", "pm", "trainee", "superintendent", "employee"}


def test_nothing_published_for_refused_input(world, db, published):
    with pytest.raises(ValidationError):
        services.create_event(world["people"]["pm"], data(world, title=""))
    assert published == []


def test_seven_roles_all_covered():
    assert len(ROLES7) == 7
