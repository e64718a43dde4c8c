"""Live events of tasks and comments reach exactly the people entitled to see the object,
nobody else — for each of the seven roles, through the real delivery path: the service
queues the event, the commit publishes it to Redis, the hub fans it out and each
signed-in user's `GET /events` stream forwards it or not (tests/test_events.py's Stream).

The world: a project whose team is a PM, a trainee, a designer and a superintendent; an
employee assigned to its ordinary task and another one assigned to nothing; a user of
the project's client; an admin (on no team); a PM of other projects. Its design task is
assigned to nobody. Who may see what is the matrix (core/permissions.py): task.view is
✓ A A D A O — (a designer design tasks only, an employee their own, never a client);
comments are read by whoever sees their task or project, never a client
(comments.services.may_read), so a project's thread is the staff of its team (an
employee has no project.view).
"""

from __future__ import annotations

import json

import pytest
from flask import current_app

from app.comments import services as comments
from app.core.events import send_now
from app.tasks import services as tasks
from app.tasks.models import COMPLETED, IN_PROGRESS
from tests.factories import make_client, make_project, make_user
from tests.test_events import open_stream  # noqa: F401 - the fixture, used by name

PEOPLE = (
    "admin",
    "pm",
    "trainee",
    "designer",
    "superintendent",
    "assigned_employee",
    "unassigned_employee",
    "client",
    "off_team_pm",
)

# Who hears of the project's ordinary task (assigned to the employee) and of its thread.
ORDINARY_TASK = {"admin", "pm", "trainee", "superintendent", "assigned_employee"}
# Its design task, assigned to nobody: the designer sees design tasks of their projects.
DESIGN_TASK = {"admin", "pm", "trainee", "designer", "superintendent"}
# The project's own thread: the staff of its team (and admins); no employee, no client.
PROJECT_THREAD = {"admin", "pm", "trainee", "designer", "superintendent"}


@pytest.fixture()
def world(db):
    owner = make_client(name="Cedar Homes")
    people = {
        "admin": make_user("admin"),
        "pm": make_user("project_manager_full"),
        "trainee": make_user("pm_trainee"),
        "designer": make_user("designer"),
        "superintendent": make_user("superintendent"),
        "assigned_employee": make_user("employee"),
        "unassigned_employee": make_user("employee"),
        "client": make_user("client", client=owner),
        "off_team_pm": make_user("project_manager_full"),
    }
    elsewhere = make_project(members=[people["off_team_pm"]], name="Birch Row")
    project = make_project(
        client=owner,
        name="Cedar Bend",
        members=[people[k] for k in ("pm", "trainee", "designer", "superintendent")],
    )
    pm = people["pm"]
    ordinary = tasks.create_task(pm, project, {"title": "Prime the hall"}, [people["assigned_employee"].id])
    design = tasks.create_task(pm, project, {"title": "Choose the palette", "is_design": True})
    db.session.commit()  # the setup's own events go out now, before any stream opens
    return {"people": people, "project": project, "elsewhere": elsewhere, "ordinary": ordinary, "design": design}


def receivers(db, open_stream, people: dict, act, event: str, match: dict) -> set[str]:  # noqa: F811
    """Open each person's live stream, `act()`, commit (the events go out after the
    commit), and answer whose stream forwarded `event` with data containing `match`.
    A marker sent to everyone afterwards proves absence: events reach a stream in the
    order they were published, so once the marker is there, nothing earlier is missing."""
    streams = {name: open_stream(user) for name, user in people.items()}
    act()
    db.session.commit()
    everyone = [user.id for user in people.values()]
    send_now(current_app._get_current_object(), {"event": "marker", "data": {}, "users": everyone, "roles": []})
    got = set()
    for name, stream in streams.items():
        assert stream.wait_for("marker"), f"{name}'s stream never got the marker"
        with stream.arrived:
            events = list(stream.events)
        for each in events:
            if each.get("event") == event and match.items() <= json.loads(each["data"]).items():
                got.add(name)
    return got


def _task(task) -> dict:
    return {"id": task.id, "project_id": task.project_id}


# --- tasks ---------------------------------------------------------------------------


@pytest.mark.parametrize(("which", "expected"), [("ordinary", ORDINARY_TASK), ("design", DESIGN_TASK)])
def test_task_created_reaches_who_may_see_the_task(db, open_stream, world, which, expected):  # noqa: F811
    people, project, pm = world["people"], world["project"], world["people"]["pm"]
    assignees = [people["assigned_employee"].id] if which == "ordinary" else []

    def act():
        tasks.create_task(pm, project, {"title": "Sand the trim", "is_design": which == "design"}, assignees)

    got = receivers(db, open_stream, people, act, "task-created", {"project_id": project.id})
    assert got == expected


@pytest.mark.parametrize(("which", "expected"), [("ordinary", ORDINARY_TASK), ("design", DESIGN_TASK)])
def test_task_updated_reaches_who_may_see_the_task(db, open_stream, world, which, expected):  # noqa: F811
    task, pm = world[which], world["people"]["pm"]
    got = receivers(
        db,
        open_stream,
        world["people"],
        lambda: tasks.update_task(pm, task, {"description": "Two coats"}, partial=True),
        "task-updated",
        _task(task),
    )
    assert got == expected


@pytest.mark.parametrize(("which", "expected"), [("ordinary", ORDINARY_TASK), ("design", DESIGN_TASK)])
def test_task_moved_on_the_board_reaches_who_may_see_the_task(db, open_stream, world, which, expected):  # noqa: F811
    task, pm = world[which], world["people"]["pm"]
    got = receivers(
        db,
        open_stream,
        world["people"],
        lambda: tasks.set_status(pm, task, tasks.Move(IN_PROGRESS)),
        "task-updated",
        {**_task(task), "status": IN_PROGRESS},
    )
    assert got == expected


@pytest.mark.parametrize(("which", "expected"), [("ordinary", ORDINARY_TASK), ("design", DESIGN_TASK)])
def test_task_completed_reaches_who_may_see_the_task(db, open_stream, world, which, expected):  # noqa: F811
    task, pm = world[which], world["people"]["pm"]
    got = receivers(
        db,
        open_stream,
        world["people"],
        lambda: tasks.complete_task(pm, task, notes="Done"),
        "task-updated",
        {**_task(task), "status": COMPLETED},
    )
    assert got == expected


@pytest.mark.parametrize(("which", "expected"), [("ordinary", ORDINARY_TASK), ("design", DESIGN_TASK)])
def test_task_deleted_reaches_who_could_see_the_task(db, open_stream, world, which, expected):  # noqa: F811
    task, pm = world[which], world["people"]["pm"]
    match = _task(task)
    got = receivers(db, open_stream, world["people"], lambda: tasks.delete_task(pm, task), "task-deleted", match)
    assert got == expected


def test_the_employee_completing_their_own_task_is_heard_by_the_same_people(db, open_stream, world):  # noqa: F811
    task, painter = world["ordinary"], world["people"]["assigned_employee"]
    got = receivers(
        db,
        open_stream,
        world["people"],
        lambda: tasks.complete_task(painter, task),
        "task-updated",
        {**_task(task), "status": COMPLETED},
    )
    assert got == ORDINARY_TASK


def test_a_task_leaving_the_designs_is_no_longer_heard_by_the_designer(db, open_stream, world):  # noqa: F811
    """The audience is who may see the task after the change: made an ordinary task, the
    design task no longer reaches the designer."""
    task, pm = world["design"], world["people"]["pm"]
    got = receivers(
        db,
        open_stream,
        world["people"],
        lambda: tasks.update_task(pm, task, {"is_design": False}, partial=True),
        "task-updated",
        _task(task),
    )
    assert got == DESIGN_TASK - {"designer"}


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ("task-updated", ORDINARY_TASK - {"assigned_employee"} | {"unassigned_employee"}),
        ("task-withdrawn", {"assigned_employee"}),
    ],
)
def test_an_employee_taken_off_a_task_hears_it_is_withdrawn_and_nothing_more(
    db,
    open_stream,  # noqa: F811
    world,
    event,
    expected,
):
    """Taken off the task, the painter may no longer see it: the update goes to who may
    see it now, and "task-withdrawn" (its id only) to the painter alone, so their My day
    drops it live."""
    task, pm, people = world["ordinary"], world["people"]["pm"], world["people"]

    def act():
        tasks.update_task(pm, task, {}, assignee_ids=[people["unassigned_employee"].id], partial=True)

    assert receivers(db, open_stream, people, act, event, _task(task)) == expected


def test_a_design_task_made_ordinary_is_withdrawn_from_the_designer(db, open_stream, world):  # noqa: F811
    task, pm = world["design"], world["people"]["pm"]
    got = receivers(
        db,
        open_stream,
        world["people"],
        lambda: tasks.update_task(pm, task, {"is_design": False}, partial=True),
        "task-withdrawn",
        _task(task),
    )
    assert got == {"designer"}


def test_an_ordinary_update_withdraws_nothing(db, open_stream, world):  # noqa: F811
    task, pm = world["ordinary"], world["people"]["pm"]
    got = receivers(
        db,
        open_stream,
        world["people"],
        lambda: tasks.update_task(pm, task, {"description": "Three coats"}, partial=True),
        "task-withdrawn",
        _task(task),
    )
    assert got == set()


# --- comments ------------------------------------------------------------------------


@pytest.mark.parametrize(("which", "expected"), [("ordinary", ORDINARY_TASK), ("design", DESIGN_TASK)])
def test_a_comment_on_a_task_reaches_who_may_read_its_thread(db, open_stream, world, which, expected):  # noqa: F811
    task, pm = world[which], world["people"]["pm"]
    got = receivers(
        db,
        open_stream,
        world["people"],
        lambda: comments.add_comment(pm, task, "North wall first"),
        "comment-created",
        {"task_id": task.id, "project_id": task.project_id},
    )
    assert got == expected


def test_a_comment_on_the_project_reaches_its_staff_never_an_employee_or_the_client(db, open_stream, world):  # noqa: F811
    project, pm = world["project"], world["people"]["pm"]
    got = receivers(
        db,
        open_stream,
        world["people"],
        lambda: comments.add_comment(pm, project, "Client prefers eggshell"),
        "comment-created",
        {"task_id": None, "project_id": project.id},
    )
    assert got == PROJECT_THREAD


def test_an_employee_put_on_the_team_still_does_not_hear_the_projects_thread(db, open_stream, world):  # noqa: F811
    """A membership is not a permission: an employee on the team (a role changed after
    joining, a seed) has no project.view, so the project's comments do not reach them;
    nor does a task of the project that is not theirs."""
    from app.projects.models import ProjectMembership

    project, pm, people = world["project"], world["people"]["pm"], world["people"]
    db.session.add(ProjectMembership(project=project, user=people["unassigned_employee"]))
    db.session.commit()
    got = receivers(
        db,
        open_stream,
        people,
        lambda: comments.add_comment(pm, project, "Client prefers satin"),
        "comment-created",
        {"project_id": project.id},
    )
    assert got == PROJECT_THREAD
    task = world["ordinary"]
    got = receivers(
        db,
        open_stream,
        people,
        lambda: tasks.update_task(pm, task, {"description": "One coat"}, partial=True),
        "task-updated",
        _task(task),
    )
    assert got == ORDINARY_TASK


def test_the_audience_is_what_the_stream_filters_on(db, world):
    """The event's users are decided when it is queued (tasks.services.audience), so a
    stream compares ids only: they are the entitled people of the task, by id."""
    people = world["people"]
    ids = {person.id: name for name, person in people.items()}
    named = {ids[i] for i in tasks.audience(world["ordinary"]) if i in ids}
    assert named == ORDINARY_TASK - {"admin"}  # admins go by role
    named = {ids[i] for i in tasks.audience(world["design"]) if i in ids}
    assert named == DESIGN_TASK - {"admin"}
