"""Task rules (SPEC.md §3 "Tasks and assignments"; app/tasks/services.py), the same for
every caller: dates, assignees, dependencies and their loops, deletion, starting before
a dependency, completing and reopening, double booking, the project's lifecycle and
progress — and what each role may do."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.core.audit import AuditLog
from app.core.errors import ConflictError, ValidationError
from app.core.permissions import PermissionDenied
from app.extensions import db
from app.notifications.models import Notification
from app.projects.models import ACTIVE, CREATED, Project, ProjectMembership
from app.tasks import services
from app.tasks.conflicts import conflicts_for
from app.tasks.models import BLOCKED, COMPLETED, IN_PROGRESS, PENDING, Task, TaskDependency
from app.tasks.services import Move
from tests.factories import make_project, make_user


@pytest.fixture()
def crew(db):
    pm = make_user("project_manager_full")
    superintendent = make_user("superintendent")
    painter = make_user("employee", full_name="Pat Painter")
    designer = make_user("designer")
    project = make_project(members=[pm, superintendent], name="Harbor lofts")
    return pm, superintendent, painter, designer, project


def new(actor, project, title="Paint walls", people=(), needs=(), **data):
    return services.create_task(actor, project, {"title": title, **data}, [p.id for p in people], [t.id for t in needs])


# --- input ------------------------------------------------------------------------


def test_every_bad_field_is_reported_at_once_and_nothing_is_written(db, crew):
    pm, _, painter, _, project = crew
    other = make_project()
    foreign = new(pm, make_project(members=[pm]), "Elsewhere")
    before = db.session.scalar(select(Task.id).order_by(Task.id.desc()).limit(1))
    with pytest.raises(ValidationError) as caught:
        services.create_task(
            pm,
            project,
            {
                "title": "  ",
                "start_date": "2026-03-10",
                "due_date": "2026-03-01",
                "progress_percent": 150,
                "actual_hours": "-2",
                "estimated_hours": "lots",
                "schedule_weight": "101",
                "checklist": [{"item": f"step {n}", "checked": False} for n in range(10_000)],
                "priority": "whenever",
            },
            [painter.id, 999_999],
            [foreign.id],
        )
    fields = caught.value.fields
    assert set(fields) >= {
        "title",
        "due_date",
        "progress_percent",
        "actual_hours",
        "estimated_hours",
        "schedule_weight",
        "checklist",
        "priority",
        "assigned_to_ids",
        "dependency_ids",
    }
    assert "10,000" in fields["checklist"] and "999999" in fields["assigned_to_ids"]
    assert "Dependencies must be tasks of this project" in fields["dependency_ids"]
    assert db.session.scalar(select(Task.id).order_by(Task.id.desc()).limit(1)) == before
    assert other.status == CREATED


def test_assignees_are_active_employees_or_the_projects_team(db, crew):
    pm, superintendent, painter, designer, project = crew
    task = new(pm, project, people=[painter, superintendent])  # an employee from anywhere; a team member
    assert task.assignee_ids == {painter.id, superintendent.id}
    with pytest.raises(ValidationError) as caught:
        new(pm, project, "Trim", people=[designer])
    assert "not on this project's team" in caught.value.fields["assigned_to_ids"]
    gone = make_user("employee", is_active_flag=False)
    with pytest.raises(ValidationError) as caught:
        new(pm, project, "Trim", people=[gone])
    assert "deactivated" in caught.value.fields["assigned_to_ids"]
    with pytest.raises(ValidationError):
        new(pm, project, "Trim", people=[make_user("client")])


# --- dependencies -----------------------------------------------------------------


def test_a_dependency_loop_is_refused_and_named(db, crew):
    pm, *_, project = crew
    prime = new(pm, project, "Prime walls")
    paint = new(pm, project, "Paint walls", needs=[prime])
    with pytest.raises(ValidationError) as caught:
        services.update_task(pm, prime, {}, dependency_ids=[paint.id], partial=True)
    assert caught.value.fields["dependency_ids"] == "That would make a loop: Prime walls → Paint walls → Prime walls."
    with pytest.raises(ValidationError) as caught:
        services.update_task(pm, prime, {}, dependency_ids=[prime.id], partial=True)
    assert "itself" in caught.value.fields["dependency_ids"]
    assert prime.dependency_ids == []


def test_a_task_others_depend_on_cannot_be_deleted_and_they_are_named(db, crew):
    pm, *_, project = crew
    prime = new(pm, project, "Prime walls")
    new(pm, project, "Paint walls", needs=[prime])
    new(pm, project, "Cut in trim", needs=[prime])
    with pytest.raises(ConflictError) as caught:
        services.delete_task(pm, prime)
    assert "“Cut in trim”, “Paint walls” depend on “Prime walls”" in caught.value.message
    assert db.session.get(Task, prime.id) is not None


def test_starting_before_a_dependency_needs_whoever_runs_the_project_and_a_reason(db, crew):
    pm, superintendent, painter, _, project = crew
    prime = new(pm, project, "Prime walls")
    paint = new(pm, project, "Paint walls", people=[painter], needs=[prime])
    for actor in (painter, superintendent):
        with pytest.raises(ConflictError) as caught:
            services.set_status(actor, paint, Move(IN_PROGRESS))
        assert "waits for “Prime walls” (to do)" in caught.value.message
    with pytest.raises(ValidationError) as caught:
        services.set_status(pm, paint, Move(IN_PROGRESS))
    assert "say why" in caught.value.fields["reason"]
    assert paint.status == PENDING
    services.set_status(pm, paint, Move(IN_PROGRESS, "primer cured overnight on the north wall"))
    db.session.flush()
    assert paint.status == IN_PROGRESS
    entries = db.session.scalars(select(AuditLog).where(AuditLog.object_id == str(paint.id))).all()
    assert any("primer cured overnight" in str(e.changes) for e in entries if e.object_type == "Task")
    # once the dependency is done, anyone who may change the task starts it
    services.complete_task(pm, prime)
    other = new(pm, project, "Second coat", people=[painter], needs=[prime])
    services.set_status(painter, other, Move(IN_PROGRESS))
    assert other.status == IN_PROGRESS


# --- completing, read-only, reopening -------------------------------------------


def test_completing_records_who_and_when_and_freezes_the_task(db, crew):
    pm, _, painter, _, project = crew
    task = new(pm, project, "Touch-up", people=[painter])
    services.report_progress(painter, task, {"progress_percent": 60, "actual_hours": "3.5"})
    assert task.status == IN_PROGRESS and task.actual_hours == Decimal("3.50")
    services.complete_task(painter, task, notes="All corners done")
    assert (task.status, task.progress_percent, task.completed_by_id) == (COMPLETED, 100, painter.id)
    assert task.completed_at is not None and task.completion_notes == "All corners done"
    with pytest.raises(ConflictError, match="read-only"):
        services.update_task(pm, task, {"title": "Touch-up again"}, partial=True)
    with pytest.raises(PermissionDenied):
        services.set_status(painter, task, Move(IN_PROGRESS, "missed a spot"))
    with pytest.raises(ValidationError):
        services.set_status(pm, task, Move(PENDING))  # a reopening says why
    services.set_status(pm, task, Move(PENDING, "client found drips in the hall"))
    assert task.status == PENDING and task.completed_at is None and task.progress_percent == 90


def test_a_blocker_tells_the_projects_pms(db, crew):
    pm, _, painter, _, project = crew
    task = new(pm, project, "Exterior stain", people=[painter])
    with pytest.raises(ValidationError):
        services.set_status(painter, task, Move(BLOCKED))
    services.set_status(painter, task, Move(BLOCKED, "rain all day, siding wet"))
    assert task.status == BLOCKED and task.blocked_reason == "rain all day, siding wet"
    told = db.session.scalars(select(Notification).where(Notification.user_id == pm.id)).all()
    assert any(n.kind == "task_blocked" and "rain all day" in n.title for n in told)
    assigned = db.session.scalars(select(Notification).where(Notification.user_id == painter.id)).all()
    assert [n.kind for n in assigned] == ["task_assigned"]


# --- who may do what ------------------------------------------------------------


def test_an_employee_reports_progress_on_their_own_tasks_and_nothing_else(db, crew):
    pm, _, painter, _, project = crew
    mine = new(pm, project, "Mask windows", people=[painter])
    theirs = new(pm, project, "Sand doors")
    with pytest.raises(PermissionDenied):
        services.update_task(painter, mine, {"title": "Mask the windows"}, partial=True)
    with pytest.raises(PermissionDenied):
        services.update_task(painter, mine, {}, assignee_ids=[painter.id], partial=True)
    services.update_task(
        painter, mine, {"notes": "north side done", "checklist": [{"item": "tape", "checked": True}]}, partial=True
    )
    assert mine.notes == "north side done"
    seen = db.session.scalars(services.visible_tasks(painter)).all()
    assert [t.id for t in seen] == [mine.id]
    assert theirs.id not in [t.id for t in seen]
    with pytest.raises(PermissionDenied):
        services.delete_task(painter, mine)


def test_a_designer_sees_and_changes_design_tasks_of_their_projects_only(db, crew):
    pm, _, _, designer, project = crew
    from app.projects.models import ProjectMembership

    db.session.add(ProjectMembership(project_id=project.id, user_id=designer.id))
    db.session.flush()
    db.session.expire(project, ["memberships"])
    colours = new(pm, project, "Choose the trim colour", is_design=True)
    walls = new(pm, project, "Paint walls")
    assert [t.id for t in db.session.scalars(services.visible_tasks(designer))] == [colours.id]
    services.update_task(designer, colours, {"notes": "SW 7005"}, partial=True)
    with pytest.raises(PermissionDenied):
        services.update_task(designer, walls, {"notes": "x"}, partial=True)
    with pytest.raises(PermissionDenied):
        services.create_task(designer, project, {"title": "More colours"})


# --- double booking ----------------------------------------------------------------


def test_double_booking_is_saved_and_flagged_on_both_tasks(db, crew):
    pm, _, painter, _, project = crew
    elsewhere = make_project(members=[pm], name="Birch Row")
    a = new(pm, project, "Walls", people=[painter], start_date="2026-03-02", due_date="2026-03-05")
    b = new(pm, elsewhere, "Fence", people=[painter], start_date="2026-03-05", due_date="2026-03-06")
    c = new(pm, project, "Doors", people=[painter], start_date="2026-03-09", due_date="2026-03-10")
    found = conflicts_for([a.id, b.id, c.id], pm)
    assert [x.other_id for x in found[a.id]] == [b.id] and [x.other_id for x in found[b.id]] == [a.id]
    assert c.id not in found
    assert found[a.id][0].message == "Pat Painter is also booked on “Fence” (2026-03-05)."
    # someone who cannot see Birch Row is not told what is on it
    other_pm = make_user("project_manager_full")
    db.session.add(ProjectMembership(project_id=project.id, user_id=other_pm.id))
    db.session.flush()
    hidden = conflicts_for([a.id], other_pm)[a.id][0]
    assert hidden.message == "Pat Painter is also booked on another job (2026-03-05)." and hidden.other_title is None
    assert conflicts_for([a.id])[a.id][0].other_title is None  # no reader: nothing named
    services.complete_task(pm, b)  # a finished task books nobody
    assert conflicts_for([a.id]) == {}


def _computed_pairs() -> set[tuple[int, int, int]]:
    """The double bookings worked out from the tasks themselves, in Python: what the
    kept rows must always equal."""
    from app.tasks.models import OPEN_STATUSES, TaskAssignment

    booked = [
        (a.user_id, t.id, t.start_date, t.due_date)
        for a, t in db.session.execute(select(TaskAssignment, Task).join(Task, Task.id == TaskAssignment.task_id))
        if t.status in OPEN_STATUSES and t.start_date and t.due_date
    ]
    return {
        (t1, t2, u1)
        for u1, t1, s1, e1 in booked
        for u2, t2, s2, e2 in booked
        if u1 == u2 and t1 != t2 and s2 <= e1 and e2 >= s1
    }


def _kept_pairs() -> set[tuple[int, int, int]]:
    from app.schedule.models import ScheduleConflict

    rows = select(ScheduleConflict.task_id, ScheduleConflict.other_task_id, ScheduleConflict.user_id).where(
        ScheduleConflict.kind == "double_booking",
        ScheduleConflict.task_id.is_not(None),
        ScheduleConflict.other_task_id.is_not(None),
    )
    return set(db.session.execute(rows).all())


def test_kept_double_bookings_follow_every_kind_of_change(db, crew):
    """The pairs are rows kept up to date by the flush (the schedule's engine): after each
    change that can alter them they equal the pairs computed from scratch."""
    import random

    pm, _, painter, _, project = crew
    sam = make_user("employee", full_name="Sam Sander")
    elsewhere = make_project(members=[pm], name="Birch Row")
    rng = random.Random(8)  # noqa: S311 - a fixed plan of changes, not a secret
    tasks = []
    for i in range(8):
        start = date(2026, 3, 1) + timedelta(days=rng.randint(0, 10))
        tasks.append(
            new(
                pm,
                rng.choice([project, elsewhere]),
                f"Task {i}",
                people=rng.sample([painter, sam], rng.randint(1, 2)),
                start_date=str(start),
                due_date=str(start + timedelta(days=rng.randint(0, 4))),
            )
        )
        assert _kept_pairs() == _computed_pairs()
    assert _kept_pairs(), "the random plan should double-book someone"
    done = set()
    for step in range(40):
        task = rng.choice(tasks)
        action = rng.choice(["dates", "people", "status", "undate", "delete"])
        if task.status in ("completed", "cancelled") and action != "delete":
            action = "status"  # a finished task is read-only until reopened
        if action == "dates":
            start = date(2026, 3, 1) + timedelta(days=rng.randint(0, 10))
            services.update_task(
                pm, task, {"start_date": str(start), "due_date": str(start + timedelta(days=2))}, partial=True
            )
        elif action == "people":
            services.update_task(
                pm, task, {}, partial=True, assignee_ids=[p.id for p in rng.sample([painter, sam], rng.randint(0, 2))]
            )
        elif action == "status":
            if task.status in ("completed", "cancelled"):
                services.reopen_task(pm, task, Move("pending", reason="more work"))
            else:
                services.complete_task(pm, task, override="checked on site")
        elif action == "undate":
            services.update_task(pm, task, {"start_date": None, "due_date": None}, partial=True)
        elif len(tasks) > 4 and not db.session.scalar(
            select(TaskDependency.id).where(TaskDependency.depends_on_id == task.id)
        ):
            services.delete_task(pm, task)
            tasks.remove(task)
        else:
            action = "kept"  # depended on, or too few left
        done.add(action)
        db.session.flush()
        assert _kept_pairs() == _computed_pairs(), f"step {step}: {action} on {task.title}"
    assert done >= {"dates", "people", "status", "undate", "delete"}  # every kind of change was tried


# --- the project --------------------------------------------------------------------


def test_the_first_task_starts_a_project_with_a_pm_and_not_one_without(db, crew):
    pm, *_, project = crew
    assert project.status == CREATED
    new(pm, project)
    assert project.status == ACTIVE
    admin = make_user("admin")
    orphan = make_project(name="No PM yet")
    new(admin, orphan)
    assert orphan.status == CREATED


def test_project_progress_is_the_schedule_weighted_progress_of_its_tasks(db, crew):
    pm, *_, project = crew
    big = new(pm, project, "Walls", schedule_weight=75)
    small = new(pm, project, "Trim", schedule_weight=25)
    version = project.version
    services.report_progress(pm, big, {"progress_percent": 40})
    services.report_progress(pm, small, {"progress_percent": 100})
    db.session.expire_all()
    project = db.session.get(Project, project.id)
    assert project.progress_percent == 55  # (40×75 + 100×25) / 100
    assert project.version == version  # derived: an open edit form of the project is not stale
    services.set_status(pm, small, Move("cancelled"))
    db.session.expire_all()
    assert db.session.get(Project, project.id).progress_percent == 40


def test_dates_out_of_order_are_refused_on_edit_too(db, crew):
    pm, *_, project = crew
    task = new(pm, project, start_date="2026-03-02", due_date="2026-03-05")
    with pytest.raises(ValidationError) as caught:
        services.update_task(pm, task, {"due_date": "2026-03-01"}, partial=True)
    assert caught.value.fields == {"due_date": "The due date cannot be before the start date."}
    assert task.due_date == date(2026, 3, 5)
