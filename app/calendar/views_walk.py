"""Rows of the HTTP permission walk (tests/test_permissions_http.py) for the calendar's
pages and fragments. Statuses in ROLES order: admin pm trainee designer super employee
client. {event}: of mine, project team, the employee on it; {shared_event}: of mine,
client-visible, nobody on it; {their_event}: of theirs; {series}: a weekly series of
mine (4 Mondays from 2026-03-02 14:00 UTC), the employee on it; {task}: a task of mine
assigned to the employee."""

from __future__ import annotations

from app.core.features import WalkRoute as R


def _form(world):
    return {
        "title": "Drywall delivery",
        "project_id": str(world.mine.id),
        "event_type": "delivery",
        "status": "scheduled",
        "visibility": "project_team",
        "start_date": "2026-03-04",
        "start_time": "08:00",
        "end_date": "2026-03-04",
        "end_time": "09:00",
    }


def _inline(world):
    """The title and status changed; the time as it is ({event}: Mar 2, 7:00–8:00 MST)."""
    return {
        "title": "Site walk with the owner",
        "start_date": "2026-03-02",
        "start_time": "07:00",
        "end_date": "2026-03-02",
        "end_time": "08:00",
        "status": "in_progress",
    }


def _edit(world):
    return {
        **_form(world),
        "title": "Site walk",
        "start_date": "2026-03-02",
        "start_time": "07:00",
        "end_date": "2026-03-02",
        "end_time": "08:00",
    }


ROUTES: tuple[R, ...] = (
    R("GET", "/calendar/", "200 200 200 403 200 200 200"),
    R("GET", "/calendar/?view=week&date=2026-03-02", "200 200 200 403 200 200 200"),
    R("GET", "/calendar/?view=day&date=2026-03-02&q=walk", "200 200 200 403 200 200 200"),
    R("GET", "/calendar/?view=crew&date=2026-03-02", "200 200 200 403 200 200 200"),
    R("GET", "/calendar/?view=month&date=2026-03-01&project={mine}&type=meeting", "200 200 200 403 200 200 200"),
    R("GET", "/calendar/people-options?employee_search=a", "200 200 200 403 200 200 200"),
    R("GET", "/calendar/people-options?pm_search=a", "200 200 200 403 200 200 200"),
    # a block's expanded view (the event or task as its viewer may see it)
    R("GET", "/calendar/items/task/{their_task}", "200 404 404 403 404 404 403"),
    R("GET", "/calendar/items/event/{event}", "200 200 200 403 200 200 404"),
    R("GET", "/calendar/items/event/{shared_event}", "200 200 200 403 200 404 200"),
    R("GET", "/calendar/items/event/{their_event}", "200 404 404 403 404 404 404"),
    R("GET", "/calendar/items/event/{series}?occurrence=2026-03-09T14:00:00Z", "200 200 200 403 200 200 404"),
    R("GET", "/calendar/items/task/{task}", "200 200 200 403 200 200 403"),
    # the event's page and forms
    R("GET", "/calendar/events/{event}", "200 200 200 403 200 200 404"),
    R("GET", "/calendar/events/{shared_event}", "200 200 200 403 200 404 200"),
    R("GET", "/calendar/events/{their_event}", "200 404 404 403 404 404 404"),
    R("GET", "/calendar/events/{series}?occurrence=2026-03-09T14:00:00Z", "200 200 200 403 200 200 404"),
    R("GET", "/calendar/events/new", "200 200 200 403 200 403 403"),
    R("POST", "/calendar/events/new", "303 303 303 403 303 403 403", _form),
    R("GET", "/calendar/events/{event}/edit", "200 200 200 403 200 403 403"),
    R("GET", "/calendar/events/{series}/edit?occurrence=2026-03-09T14:00:00Z", "200 200 200 403 200 403 403"),
    R("GET", "/calendar/events/{their_event}/edit", "200 404 404 403 404 403 403"),
    R("POST", "/calendar/events/{event}/edit", "303 303 303 403 303 403 403", _edit),
    R("GET", "/calendar/events/{event}/inline", "200 200 200 403 200 403 403"),
    R("POST", "/calendar/events/{event}/inline", "200 200 200 403 200 403 403", _inline),
    R("POST", "/calendar/events/{their_event}/inline", "200 404 404 403 404 403 403", _inline),
    # deleting is the matrix's "move events / delete events": not the superintendent
    R("POST", "/calendar/events/{event}/delete", "303 303 303 403 403 403 403"),
    R("POST", "/calendar/events/{their_event}/delete", "303 404 404 403 404 403 403"),
    # --- drag and drop, "Move…", bulk (app/calendar/moves.py) ------------------------
    # admin and the project's PMs and trainees move; a plain (no htmx) post answers a
    # redirect back to the calendar; one who may move but not see the item: 404.
    R(
        "POST",
        "/calendar/move",
        "303 303 303 403 403 403 403",
        lambda w: _move("event", w.ids["event"], "07:00", "08:00"),
    ),
    R(
        "POST",
        "/calendar/move",
        "303 404 404 403 403 403 403",
        lambda w: _move("event", w.ids["their_event"], "07:00", "08:00"),
    ),
    R("POST", "/calendar/move", "303 303 303 403 403 403 403", lambda w: _move("task", w.ids["task"])),
    R("GET", "/calendar/move/form?kind=task&id={task}", "200 200 200 403 403 403 403"),
    R("GET", "/calendar/move/form?kind=event&id={their_event}", "200 404 404 403 403 403 403"),
    R(
        "POST",
        "/calendar/bulk",
        "303 303 303 403 403 403 403",
        lambda w: {"items": f"task:{w.ids['task']}", "action": "move", "days": "1"},
    ),
    # the task has no dependants: 0 days is refused (400), after the permission check
    R(
        "POST",
        "/calendar/move/shift-dependants",
        "400 400 400 403 403 403 403",
        lambda w: {"task": str(w.ids["task"]), "days": "0"},
    ),
)


def _move(kind: str, item_id: int, start_time: str = "", end_time: str = "") -> dict:
    """A drop one day later: Mar 3, 2026 (the world's items are on Mar 2)."""
    if start_time:
        return {"kind": kind, "id": str(item_id), "start": f"2026-03-03T{start_time}", "end": f"2026-03-03T{end_time}"}
    return {"kind": kind, "id": str(item_id), "start": "2026-03-03", "end": "2026-03-04"}
