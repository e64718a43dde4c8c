"""The tasks' rows of the HTTP permission walk (tests/test_permissions_http.py).
Statuses in ROLES order: admin pm trainee designer super employee client.
{task}: a task of `mine` assigned to the employee; {design_task}: a design task of
`mine`, nobody on it; {their_task}: a task of `theirs`, whose team is empty."""

from __future__ import annotations

from app.core.features import WalkRoute as R


def _new_task(world):
    return {"project_id": world.mine.id, "title": "Mask the windows"}


def _their_new_task(world):
    return {"project_id": world.theirs.id, "title": "Mask the windows"}


def _photo(_world):
    """A small PNG, as a phone's camera would send it (a fresh stream for each request)."""
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (4, 3), (200, 120, 40)).save(out, "PNG")
    return {"photo": (io.BytesIO(out.getvalue()), "site.png")}


ROUTES = (
    R("GET", "/tasks", "200 200 200 200 200 200 403"),
    R("GET", "/projects/{mine}/tasks", "200 200 200 200 200 404 403"),
    R("GET", "/projects/{theirs}/tasks", "200 404 404 404 404 404 403"),
    # the people pickers' suggestions (task.view; a project the user cannot see is 404)
    R("GET", "/tasks/people-options?assignee_search=a", "200 200 200 200 200 200 403"),
    R("GET", "/tasks/people-options?project_id={mine}&value_search=a", "200 200 200 200 200 404 403"),
    R("GET", "/tasks/people-options?project_id={theirs}&assignee_search=a", "200 404 404 404 404 404 403"),
    R("GET", "/projects/{mine}/board", "200 200 200 200 200 404 403"),
    R("GET", "/projects/{mine}/tasks/time", "200 200 200 200 200 404 403"),
    R("GET", "/projects/{mine}/tasks/time.csv", "200 200 200 200 200 404 403"),
    R("GET", "/projects/{theirs}/tasks/time.csv", "200 404 404 404 404 404 403"),
    R(
        "POST",
        "/tasks/{task}/inline",
        "200 200 200 404 200 200 403",
        {"field": "progress_percent", "progress_percent": "30"},
    ),
    R("GET", "/tasks/{task}/row", "200 200 200 404 200 200 403"),
    R("GET", "/tasks/{task}/people-editor", "200 200 200 403 200 403 403"),
    R("POST", "/tasks/{task}/move", "200 200 200 404 200 200 403", {"status": "in_progress"}),
    R("GET", "/tasks/my-day", "200 200 200 200 200 200 403"),
    # the home page's cards (tasks/home_routes.py): only the roles whose home carries each
    R("GET", "/tasks/home/crews", "403 403 403 403 200 403 403"),
    R("GET", "/tasks/home/attention", "403 200 200 200 403 403 403"),
    R("GET", "/tasks/home/company", "200 403 403 403 403 403 403"),
    R("GET", "/tasks/{task}", "200 200 200 404 200 200 403"),
    R("GET", "/tasks/{task}/card", "200 200 200 404 200 200 403"),
    R("POST", "/tasks/{task}/start", "200 200 200 404 200 200 403", {"version": "1"}),
    R("POST", "/tasks/{task}/progress", "200 200 200 404 200 200 403", {"progress_percent": "40"}),
    R("POST", "/tasks/{task}/note", "200 200 200 404 200 200 403", {"note": "North side masked"}),
    R("POST", "/tasks/{task}/block", "200 200 200 404 200 200 403", {"reason": "Rain"}),
    R("POST", "/tasks/{task}/complete", "200 200 200 404 200 200 403", {"completion_notes": "Done"}),
    R("POST", "/tasks/{task}/photo", "200 200 200 404 200 200 403", _photo),
    R("GET", "/tasks/{task}/files/{photo}", "200 200 200 404 200 200 403"),
    R("GET", "/tasks/{design_task}/files/{photo}", "404 404 404 404 404 404 403"),  # not its file
    R("POST", "/tasks/{their_task}/progress", "200 404 404 404 404 404 403", {"progress_percent": "40"}),
    R("GET", "/tasks/{design_task}", "200 200 200 200 200 404 403"),
    # the task's own form (tasks/form_routes.py): add, edit, delete
    R("GET", "/projects/{mine}/tasks/new", "200 200 200 403 200 403 403"),
    R("GET", "/projects/{theirs}/tasks/new", "200 404 404 403 404 403 403"),
    R("POST", "/projects/{mine}/tasks/new", "303 303 303 403 303 403 403", {"title": "Mask the doors"}),
    R("GET", "/tasks/{task}/edit", "200 200 200 404 200 403 403"),
    R("GET", "/tasks/{design_task}/edit", "200 200 200 200 200 404 403"),
    R("POST", "/tasks/{design_task}/edit", "303 303 303 303 303 404 403", {"title": "Pick the trim colour"}),
    R("POST", "/tasks/{task}/delete", "303 303 303 404 403 403 403"),
    R("GET", "/tasks/{their_task}", "200 404 404 404 404 404 403"),
    R("GET", "/api/tasks/", "200 200 200 200 200 200 403"),
    R("GET", "/api/tasks/{task}/", "200 200 200 404 200 200 403"),
    R("GET", "/api/tasks/{their_task}/", "200 404 404 404 404 404 403"),
    R("POST", "/api/tasks/", "201 201 201 403 201 403 403", _new_task),
    R("POST", "/api/tasks/", "201 400 400 403 400 403 403", _their_new_task),
    R("PATCH", "/api/tasks/{task}/", "200 200 200 404 200 403 403", {"title": "Mask every window"}),
    R("PATCH", "/api/tasks/{design_task}/", "200 200 200 200 200 404 403", {"title": "Pick the trim colour"}),
    R("PATCH", "/api/tasks/{their_task}/", "200 404 404 404 404 404 403", {"title": "Mask every window"}),
    R("PUT", "/api/tasks/{task}/", "200 200 200 404 200 403 403", {"title": "Mask every window"}),
    R("PATCH", "/api/tasks/{task}/progress/", "200 200 200 404 200 200 403", {"progress_percent": 40}),
    R("POST", "/api/tasks/{task}/complete/", "200 200 200 404 200 200 403", {"completion_notes": "All masked"}),
    R("DELETE", "/api/tasks/{task}/", "200 200 200 404 403 403 403"),
    R("DELETE", "/api/tasks/{their_task}/", "200 404 404 404 404 404 403"),
)
