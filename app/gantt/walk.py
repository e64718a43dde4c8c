"""The Gantt's rows of the HTTP permission walk (tests/test_permissions_http.py).
Statuses in ROLES order: admin pm trainee designer super employee client.
The project's Gantt answers as its task list does (tasks/walk.py); dragging a bar is for
admins and PMs (calendar.move_event) who may edit the task."""

from __future__ import annotations

from app.core.features import WalkRoute as R


def _move(world):
    return {"start_date": "2026-03-04", "due_date": "2026-03-05", "version": str(world.task.version)}


def _their_move(world):
    return {"start_date": "2026-03-04", "due_date": "2026-03-05", "version": str(world.their_task.version)}


ROUTES = (
    R("GET", "/projects/{mine}/gantt", "200 200 200 200 200 404 403"),
    R("GET", "/projects/{mine}/gantt?scale=day&start=2026-03-01", "200 200 200 200 200 404 403"),
    R("GET", "/projects/{theirs}/gantt", "200 404 404 404 404 404 403"),
    R("POST", "/gantt/tasks/{task}/move", "200 200 200 404 403 403 403", _move),
    R("POST", "/gantt/tasks/{their_task}/move", "200 404 404 404 404 404 403", _their_move),
    R("POST", "/gantt/tasks/{design_task}/move", "200 200 200 403 403 404 403", _move),
    # the company's projects (calendar.view, then project.view: the employee sees none)
    R("GET", "/calendar/gantt", "200 200 200 403 200 403 200"),
    R("GET", "/calendar/gantt?scale=month", "200 200 200 403 200 403 200"),
)
