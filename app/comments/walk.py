"""The comments' rows of the HTTP permission walk. Statuses in ROLES order: admin pm
trainee designer super employee client. {task} is assigned to the employee; the
designer cannot see it (not a design task); clients read no internal comments."""

from __future__ import annotations

from app.core.features import WalkRoute as R

ROUTES = (
    R("GET", "/tasks/{task}/comments", "200 200 200 404 200 200 403"),
    R("POST", "/tasks/{task}/comments", "200 200 200 404 200 200 403", {"body": "North wall is dry"}),
    R("GET", "/tasks/{task}/mention-options?q=the", "200 200 200 404 200 200 403"),
    R("GET", "/projects/{mine}/comments", "200 200 200 200 200 404 403"),
    R("POST", "/projects/{mine}/comments", "200 200 200 200 200 404 403", {"body": "Client asked for eggshell"}),
    R("GET", "/projects/{theirs}/comments", "200 404 404 404 404 404 404"),
    R("GET", "/projects/{mine}/mention-options?q=the", "200 200 200 200 200 404 403"),
    # the project's conversation with its client: the client's users and the staff who see the project
    R("GET", "/projects/{mine}/client-comments", "200 200 200 200 200 404 200"),
    R("POST", "/projects/{mine}/client-comments", "200 200 200 200 200 404 200", {"body": "Can we see the trim?"}),
    R("GET", "/projects/{theirs}/client-comments", "200 404 404 404 404 404 404"),
    R("POST", "/projects/{theirs}/client-comments", "200 404 404 404 404 404 404", {"body": "Hello"}),
    R("GET", "/projects/{mine}/client-mention-options?q=the", "200 200 200 200 200 404 200"),
)
