"""The schedule's conflict engine (app/schedule): one test per conflict type, the
recomputation of items a change did not touch itself (the other side of an overlap,
before and after the move), the per-person capacity, holidays and weekends,
dependencies, illogical dates, notifications once per person, and hypothesis property
tests that an item's risk level is always the highest severity among its conflicts and
that the incrementally kept rows equal a rebuild from scratch."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from app.calendar.models import CalendarEvent, EventAssignee
from app.extensions import db
from app.notifications.models import Notification
from app.schedule import engine
from app.schedule.conflicts import for_items
from app.schedule.models import SEVERITY_RANK, CompanyHoliday, ScheduleConflict
from app.tasks.models import Task, TaskAssignment, TaskDependency
from tests.factories import make_project, make_user

DENVER = ZoneInfo("America/Denver")  # the default company zone
MON = date(2026, 3, 2)  # a Monday; the factory's projects run Mar 1–31, 2026


def day(n: int) -> date:
    return MON + timedelta(days=n)


def at(d: date, hour: float) -> datetime:
    return datetime.combine(d, time(int(hour), int((hour % 1) * 60)), tzinfo=DENVER)


def task(project, title, start, due, people=(), **kwargs) -> Task:
    item = Task(project_id=project.id, title=title, start_date=start, due_date=due, **kwargs)
    item.assignments = [TaskAssignment(user_id=p.id) for p in people]
    db.session.add(item)
    db.session.flush()
    return item


def event(project, title, start, end, people=(), **kwargs) -> CalendarEvent:
    item = CalendarEvent(
        project_id=project.id if project is not None else None, title=title, start_at=start, end_at=end, **kwargs
    )
    item.assignments = [EventAssignee(user_id=p.id) for p in people]
    db.session.add(item)
    db.session.flush()
    return item


def key(item) -> tuple[str, int]:
    return ("task" if isinstance(item, Task) else "event", item.id)


def rows(item) -> list[ScheduleConflict]:
    kind, ident = key(item)
    return list(
        db.session.scalars(
            select(ScheduleConflict).where(ScheduleConflict.item_kind == kind, ScheduleConflict.item_id == ident)
        )
    )


def kinds(item) -> set[str]:
    return {r.kind for r in rows(item)}


def risk(item) -> str:
    db.session.refresh(item)
    return item.risk_level


@pytest.fixture()
def ana(db):
    return make_user("employee", full_name="Ana Alvarez")


@pytest.fixture()
def site(db):
    return make_project(name="Hollis kitchen")


# --- double booking ------------------------------------------------------------------------


def test_double_booking_task_task_flags_both_sides_in_any_project(db, ana, site):
    elsewhere = make_project(name="Birch Row")
    a = task(site, "Paint walls", day(0), day(2), [ana])
    b = task(elsewhere, "Prime hallway", day(2), day(4), [ana])
    c = task(site, "Doors", day(7), day(8), [ana])
    # (two unestimated tasks are 16 h a day as well: over capacity too)
    assert kinds(a) == kinds(b) == {"double_booking", "over_capacity"} and kinds(c) == set()
    (row,) = [r for r in rows(a) if r.kind == "double_booking"]
    assert (row.other_kind, row.other_id, row.user_id, row.day, row.severity) == ("task", b.id, ana.id, day(2), "high")
    assert risk(a) == risk(b) == "high" and risk(c) == "none"


def test_double_booking_event_task_and_event_event(db, ana, site):
    paint = task(site, "Paint walls", day(0), day(2), [ana], estimated_hours=Decimal("6"))
    meeting = event(site, "Site meeting", at(day(1), 9), at(day(1), 10), [ana])
    assert kinds(paint) == {"double_booking"} and "double_booking" in kinds(meeting)
    # two events the same day at different times do not overlap; at the same time they do
    other = event(site, "Walkthrough", at(day(5), 9), at(day(5), 10), [ana])
    later = event(site, "Delivery", at(day(5), 10), at(day(5), 11), [ana])
    assert kinds(other) == set() and kinds(later) == set()
    clash = event(site, "Inspection", at(day(5), 9.5), at(day(5), 10.5), [ana])
    assert kinds(clash) == {"double_booking"}
    assert {r.other_id for r in rows(clash)} == {other.id, later.id}
    assert risk(other) == "high"


def test_closed_items_book_nobody(db, ana, site):
    a = task(site, "Paint walls", day(0), day(2), [ana])
    b = task(site, "Prime hallway", day(1), day(1), [ana])
    ev = event(site, "Meeting", at(day(1), 9), at(day(1), 10), [ana])
    assert risk(a) == "high"
    b.status = "completed"
    ev.status = "cancelled"
    db.session.flush()
    assert kinds(a) == set() and risk(a) == "none" and rows(b) == [] and rows(ev) == []


# --- recomputation of what a change touches ------------------------------------------------


def test_moving_one_item_away_clears_the_other_and_moving_onto_flags_it(db, ana, site):
    a = task(site, "Paint walls", day(0), day(2), [ana])
    b = task(site, "Prime hallway", day(2), day(3), [ana])
    c = task(site, "Sand trim", day(8), day(9), [ana])
    assert risk(b) == "high"
    a.start_date, a.due_date = day(14), day(15)  # A moves away: B (untouched) is clear
    db.session.flush()
    assert kinds(b) == set() and risk(b) == "none" and kinds(a) == set()
    c.start_date, c.due_date = day(3), day(3)  # C moves onto B: B is flagged again
    db.session.flush()
    assert {r.other_id for r in rows(b) if r.kind == "double_booking"} == {c.id} and risk(b) == "high"


def test_moving_an_event_rechecks_both_old_and_new_neighbours(db, ana, site):
    one = event(site, "Walkthrough", at(day(1), 9), at(day(1), 10), [ana])
    two = event(site, "Meeting", at(day(1), 9), at(day(1), 10), [ana])
    three = event(site, "Delivery", at(day(3), 13), at(day(3), 14), [ana])
    assert risk(one) == "high"
    two.start_at, two.end_at = at(day(3), 13), at(day(3), 15)
    db.session.flush()
    assert risk(one) == "none" and risk(three) == "high" and risk(two) == "high"


def test_deleting_a_project_rechecks_its_peoples_other_work(db, ana, site):
    """A project's tasks and events go with it (by cascade, no ORM event of their own): the
    double bookings and the load they made on the people's other work go too."""
    from app.projects.services import delete_project

    elsewhere = make_project(name="Birch Row")
    stays = task(elsewhere, "Prime hallway", day(1), day(1), [ana])
    task(site, "Paint walls", day(0), day(2), [ana])
    event(site, "Walkthrough", at(day(1), 13), at(day(1), 15), [ana])
    assert kinds(stays) == {"double_booking", "over_capacity"} and risk(stays) == "high"
    delete_project(make_user("admin"), site)
    db.session.expire_all()
    assert kinds(stays) == set() and risk(stays) == "none"


def test_people_put_on_or_taken_off(db, ana, site):
    bo = make_user("employee", full_name="Bo Brandt")
    a = task(site, "Paint walls", day(0), day(2), [ana])
    b = task(site, "Prime hallway", day(1), day(1), [bo])
    assert risk(a) == "none"
    b.assignments.append(TaskAssignment(user_id=ana.id))
    db.session.flush()
    assert risk(a) == "high" and {r.user_id for r in rows(a)} == {ana.id}
    b.assignments = [a_ for a_ in b.assignments if a_.user_id != ana.id]
    db.session.flush()
    assert risk(a) == "none" and rows(b) == []


def test_deleting_an_item_clears_the_other_side(db, ana, site):
    a = task(site, "Paint walls", day(0), day(2), [ana])
    ev = event(site, "Meeting", at(day(1), 9), at(day(1), 10), [ana])
    assert risk(a) == "high"
    db.session.delete(ev)
    db.session.flush()
    assert rows(a) == [] and risk(a) == "none"


# --- capacity --------------------------------------------------------------------------------


def test_over_capacity_uses_the_persons_own_daily_hours(db, ana, site):
    morning = event(site, "Cabinet delivery", at(day(1), 7), at(day(1), 12), [ana])  # 5 h
    afternoon = event(site, "Touch-ups", at(day(1), 13), at(day(1), 17), [ana])  # 4 h
    assert kinds(morning) == {"over_capacity"} and kinds(afternoon) == {"over_capacity"}
    (row,) = rows(morning)
    assert (row.day, row.detail, row.severity, row.user_id) == (day(1), "9/8", "medium", ana.id)
    assert risk(morning) == "medium"
    ana.daily_capacity_hours = Decimal("10")  # a per-person setting
    db.session.flush()
    assert rows(morning) == [] and risk(afternoon) == "none"
    ana.daily_capacity_hours = Decimal("8.5")
    db.session.flush()
    assert kinds(afternoon) == {"over_capacity"}


def test_task_hours_spread_over_working_days(db, ana, site):
    # 30 h over Mon–Fri: 6 h a day; a 3 h meeting on Tuesday makes 9 h (also a double booking)
    spread = task(site, "Paint walls", day(0), day(4), [ana], estimated_hours=Decimal("30"))
    short = event(site, "Meeting", at(day(1), 8), at(day(1), 10), [ana])  # 2 h: 8 h, not over
    assert kinds(short) == {"double_booking"}
    short.end_at = at(day(1), 11)
    db.session.flush()
    assert kinds(short) == {"double_booking", "over_capacity"}
    over = next(r for r in rows(spread) if r.kind == "over_capacity")
    assert over.day == day(1) and over.detail == "9/8"
    # without an estimate a task books a full 8 h day on each working day
    lone = make_user("employee")
    plain = task(site, "Caulk", day(0), day(6), [lone])  # Mon–Sun: weekend days book no hours
    assert rows(plain) == []
    holiday_week = task(site, "Trim", day(7), day(11), [lone], estimated_hours=Decimal("32"))
    assert {r.kind for r in rows(holiday_week)} == set()
    db.session.add(CompanyHoliday(day=day(8), name="Founders' day"))  # 32 h over 4 days: 8 h each
    db.session.flush()
    assert rows(holiday_week) == []
    holiday_week.estimated_hours = Decimal("36")  # 9 h a day now
    db.session.flush()
    assert {r.kind for r in rows(holiday_week)} == {"over_capacity"}


# --- dependency --------------------------------------------------------------------------------


def test_dependency_start_before_the_dependency_is_finished(db, ana, site):
    prime = task(site, "Prime walls", day(0), day(3))
    paint = task(site, "Paint walls", day(3), day(4))
    db.session.add(TaskDependency(task_id=paint.id, depends_on_id=prime.id))
    db.session.flush()
    (row,) = rows(paint)
    assert (row.kind, row.severity, row.other_id, row.day) == ("dependency", "critical", prime.id, day(3))
    assert risk(paint) == "critical" and risk(prime) == "none"
    paint.start_date, paint.due_date = day(4), day(5)
    db.session.flush()
    assert rows(paint) == [] and risk(paint) == "none"
    prime.due_date = day(6)  # the dependency moves: its dependants are rechecked
    db.session.flush()
    assert kinds(paint) == {"dependency"}
    prime.status = "completed"
    db.session.flush()
    assert rows(paint) == [] and risk(paint) == "none"


# --- dates -------------------------------------------------------------------------------------


def test_dates_after_the_project_end_and_on_a_closed_project(db, ana, site):
    late = task(site, "Punch list", day(26), day(32))  # the project ends Mar 31
    ok = task(site, "Walls", day(0), day(2))
    late_event = event(site, "Walkthrough", at(day(31), 9), at(day(31), 10))
    assert kinds(late) == {"dates"} and kinds(late_event) == {"dates"} and kinds(ok) == set()
    assert rows(late)[0].detail == "after_end:2026-03-31" and risk(late) == "high"
    site.end_date = date(2026, 4, 30)
    db.session.flush()
    assert rows(late) == [] and rows(late_event) == []
    site.status = "closed"
    db.session.flush()
    assert {r.detail for r in rows(ok)} == {"closed"} and risk(ok) == "high"


def test_end_before_start_is_a_dates_conflict():
    assert engine._dates_problem(date(2026, 3, 5), date(2026, 3, 4), None, "active") == ("order", date(2026, 3, 5))


# --- holidays and weekends -------------------------------------------------------------------


def test_client_visible_milestone_on_a_weekend_or_holiday(db, site):
    saturday = event(
        site, "Handover", at(day(5), 9), at(day(5), 10), event_type="milestone", visibility="client_visible"
    )
    internal = event(site, "Internal deadline", at(day(5), 9), at(day(5), 10), event_type="deadline")
    weekday = event(
        site, "Cabinets in", at(day(2), 9), at(day(2), 10), event_type="deadline", visibility="client_visible"
    )
    assert kinds(saturday) == {"holiday"} and rows(saturday)[0].detail == "weekend" and risk(saturday) == "low"
    assert kinds(internal) == set() and kinds(weekday) == set()
    holiday = CompanyHoliday(day=day(2), name="Founders' day")
    db.session.add(holiday)
    db.session.flush()
    assert [r.detail for r in rows(weekday)] == ["holiday:Founders' day"] and risk(weekday) == "low"
    db.session.delete(holiday)
    db.session.flush()
    assert rows(weekday) == [] and risk(weekday) == "none"


# --- the risk level is the highest severity --------------------------------------------------


def test_risk_level_is_the_highest_severity(db, ana, site):
    prime = task(site, "Prime walls", day(0), day(3))
    paint = task(site, "Paint walls", day(3), day(4), [ana])
    db.session.add(TaskDependency(task_id=paint.id, depends_on_id=prime.id))
    event(site, "Meeting", at(day(3), 9), at(day(3), 10), [ana])
    db.session.flush()
    assert kinds(paint) == {"dependency", "double_booking", "over_capacity"}
    assert risk(paint) == "critical"


# --- what the reasons say --------------------------------------------------------------------


def test_for_items_names_only_what_the_reader_may_see(db, ana, site):
    pm = make_user("project_manager_full")
    site.memberships  # noqa: B018 - loaded
    from app.projects.models import ProjectMembership

    db.session.add(ProjectMembership(project_id=site.id, user_id=pm.id))
    elsewhere = make_project(name="Birch Row")
    paint = task(site, "Paint walls", day(0), day(2), [ana], estimated_hours=Decimal("6"))
    task(elsewhere, "Prime hallway", day(2), day(4), [ana], estimated_hours=Decimal("6"))
    admin = make_user("admin")
    (reason,) = for_items(admin, [key(paint)])[key(paint)]
    assert reason.message == "Ana Alvarez is also booked on ‘Prime hallway’ (Mar 4)"
    assert reason.recommendation == "Move Paint walls to Mar 9, when Ana Alvarez is free"  # next free weekday
    (hidden,) = for_items(pm, [key(paint)])[key(paint)]
    assert hidden.message == "Ana Alvarez is also booked on another job (Mar 4)"
    assert hidden.other.id is None and "Prime" not in hidden.recommendation
    client = make_user("client", client=site.client)
    assert for_items(client, [key(paint)]) == {}
    other_pm = make_user("project_manager_full")  # sees neither project: nothing at all
    assert for_items(other_pm, [key(paint)]) == {}


def test_dependency_recommendation(db, site):
    admin = make_user("admin")
    prime = task(site, "Prime walls", day(0), day(3))
    paint = task(site, "Paint walls", day(2), day(4))
    db.session.add(TaskDependency(task_id=paint.id, depends_on_id=prime.id))
    db.session.flush()
    (reason,) = for_items(admin, [key(paint)])[key(paint)]
    assert reason.message == "Starts before ‘Prime walls’ is finished (due Mar 5)"
    assert reason.recommendation == "Start Paint walls on Mar 6, after ‘Prime walls’ is due"


# --- notifications ---------------------------------------------------------------------------


def _notes(user) -> list[Notification]:
    """The person's conflict notifications, once the queued job has run (they are worded
    and sent by the `schedule_conflicts` job after the commit)."""
    from rq import SimpleWorker

    from app.core.jobs import get_queue

    queue = get_queue("notifications")
    SimpleWorker([queue], connection=queue.connection).work(burst=True)
    return list(
        db.session.scalars(
            select(Notification).where(Notification.user_id == user.id, Notification.kind == "schedule_conflict")
        )
    )


def test_a_new_conflict_notifies_each_person_once(db, ana, site):
    bo = make_user("employee", full_name="Bo Brandt")
    task(site, "Paint walls", day(0), day(2), [ana, bo])
    db.session.commit()
    assert _notes(ana) == [] and _notes(bo) == []
    # one change double-books Ana twice (two items) and Bo once: one notification each
    event(site, "Meeting", at(day(1), 9), at(day(1), 10), [ana, bo])
    task(site, "Prime hallway", day(1), day(1), [ana])
    db.session.commit()
    (note,) = _notes(ana)
    assert "schedule conflicts" in note.title or "Schedule conflict" in note.title
    assert len(_notes(bo)) == 1
    # a change that creates nothing new tells nobody again
    site_task = db.session.scalar(select(Task).where(Task.title == "Paint walls"))
    site_task.title = "Paint all walls"
    db.session.commit()
    assert len(_notes(ana)) == 1 and len(_notes(bo)) == 1


def test_a_notification_never_names_what_its_reader_cannot_see(db, site):
    from app.projects.models import ProjectMembership

    crew = make_user("superintendent", full_name="Cy Crew")
    db.session.add(ProjectMembership(project_id=site.id, user_id=crew.id))
    secret = make_project(name="Secret client job")
    task(secret, "Secret work", day(0), day(2), [crew])
    db.session.commit()
    task(site, "Paint walls", day(1), day(1), [crew])
    db.session.commit()
    notes = _notes(crew)
    assert len(notes) == 1
    assert "Secret" not in notes[0].title + notes[0].body
    assert "another job" in notes[0].title + notes[0].body


# --- rebuild and properties -----------------------------------------------------------------


def _stored() -> set[tuple]:
    return set(
        db.session.execute(
            select(
                ScheduleConflict.item_kind,
                ScheduleConflict.item_id,
                ScheduleConflict.kind,
                ScheduleConflict.other_kind,
                ScheduleConflict.other_id,
                ScheduleConflict.user_id,
                ScheduleConflict.day,
                ScheduleConflict.detail,
                ScheduleConflict.project_id,
            )
        ).all()
    )


def _risks_are_highest() -> None:
    found: dict[tuple, int] = {}
    for kind, ident, severity in db.session.execute(
        select(ScheduleConflict.item_kind, ScheduleConflict.item_id, ScheduleConflict.severity)
    ):
        found[(kind, ident)] = max(found.get((kind, ident), 0), SEVERITY_RANK[severity])
    for model, kind in ((Task, "task"), (CalendarEvent, "event")):
        for ident, level in db.session.execute(select(model.id, model.risk_level)):
            assert SEVERITY_RANK[level] == found.get((kind, ident), 0), (kind, ident, level)


_ops = st.lists(
    st.tuples(
        st.sampled_from(["task", "event", "move", "status", "unassign", "delete", "depend", "capacity", "project"]),
        st.integers(0, 12),
        st.integers(0, 3),
        st.integers(0, 3),
        st.sampled_from(["milestone", "meeting", "deadline"]),
    ),
    min_size=1,
    max_size=14,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=_ops)
# a task moved after expire_all(): its old dates must still be recomputed around
@example(
    ops=[
        ("task", 0, 0, 0, "milestone"),
        ("task", 1, 0, 0, "milestone"),
        ("task", 0, 0, 0, "milestone"),
        ("capacity", 0, 0, 0, "milestone"),
        ("move", 1, 0, 0, "milestone"),
    ]
)
# a double-booked task moved to another project: its rows name the new project
@example(
    ops=[
        ("task", 0, 2, 0, "milestone"),
        ("task", 1, 2, 0, "milestone"),
        ("project", 0, 1, 0, "milestone"),
    ]
)
def test_property_risk_level_is_always_the_highest_severity_and_equals_a_rebuild(db, ops):
    savepoint = db.session.begin_nested()
    try:
        people = [make_user("employee") for _ in range(2)]
        projects = [make_project(), make_project(end_date=date(2026, 3, 10))]
        items: list = []
        for op, a, b, c, etype in ops:
            if op == "task":
                items.append(
                    task(
                        projects[c % 2],
                        f"T{len(items)}",
                        day(a),
                        day(a + b),
                        people[: 1 + c % 2] if c < 3 else [people[1]],
                        estimated_hours=Decimal(b * 5) if c % 2 else None,
                    )
                )
            elif op == "event":
                items.append(
                    event(
                        projects[c % 2],
                        f"E{len(items)}",
                        at(day(a), 8 + b),
                        at(day(a), 9 + b + c),
                        [people[c % 2]],
                        event_type=etype,
                        visibility="client_visible" if c % 2 else "project_team",
                    )
                )
            elif not items:
                continue
            else:
                item = items[a % len(items)]
                if op == "move":
                    if isinstance(item, Task):
                        item.start_date, item.due_date = day(b + c), day(b + c + b)
                    else:
                        item.start_at, item.end_at = at(day(b + c), 9), at(day(b + c), 10 + b)
                elif op == "status":
                    item.status = (
                        ["completed", "cancelled", "in_progress", "pending"][b]
                        if isinstance(item, Task)
                        else ["completed", "cancelled", "in_progress", "scheduled"][b]
                    )
                elif op == "unassign":
                    item.assignments = []
                elif op == "delete":
                    db.session.delete(item)
                    items.remove(item)
                elif op == "depend":
                    other = items[b % len(items)]
                    if isinstance(item, Task) and isinstance(other, Task) and other is not item:
                        exists = db.session.scalar(
                            select(TaskDependency.id).where(
                                TaskDependency.task_id == item.id, TaskDependency.depends_on_id == other.id
                            )
                        )
                        reverse = db.session.scalar(
                            select(TaskDependency.id).where(
                                TaskDependency.task_id == other.id, TaskDependency.depends_on_id == item.id
                            )
                        )
                        if not exists and not reverse:
                            db.session.add(TaskDependency(task_id=item.id, depends_on_id=other.id))
                elif op == "capacity":
                    people[b % 2].daily_capacity_hours = Decimal(4 + c * 3)
                elif op == "project":  # its rows, the people's included, follow it to the other project
                    item.project_id = projects[b % 2].id
            db.session.flush()
            db.session.expire_all()
            _risks_are_highest()
        kept = _stored()
        engine.rebuild()
        db.session.expire_all()
        assert _stored() == kept
        _risks_are_highest()
    finally:
        savepoint.rollback()


@given(st.lists(st.sampled_from(["low", "medium", "high", "critical"]), max_size=6))
def test_property_risk_of_is_the_maximum(severities):
    expected = max(severities, key=SEVERITY_RANK.__getitem__) if severities else "none"
    assert engine.risk_of(severities) == expected
    assert SEVERITY_RANK[engine.risk_of(severities)] == max([0, *(SEVERITY_RANK[s] for s in severities)])


def test_recurring_series_books_each_occurrence_and_exceptions_replace_theirs(db, ana, site):
    series = event(site, "Weekly site meeting", at(day(0), 9), at(day(0), 10), [ana], rrule="FREQ=WEEKLY;COUNT=4")
    paint = task(site, "Paint walls", day(7), day(7), [ana], estimated_hours=Decimal("2"))  # the 2nd Monday
    assert {(r.other_kind, r.other_id, r.day) for r in rows(paint)} == {("event", series.id, day(7))}
    assert risk(series) == "high"
    # that occurrence moves to Tuesday (an exception row): the Monday is free again
    moved = event(
        site,
        "Weekly site meeting",
        at(day(8), 9),
        at(day(8), 10),
        [ana],
        series_id=series.id,
        recurrence_start=at(day(7), 9),
    )
    assert rows(paint) == [] and risk(series) == "none" and rows(moved) == []
