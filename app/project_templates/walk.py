"""Project templates' rows of the HTTP permission walk (tests/test_permissions_http.py).
Statuses in ROLES order: admin pm trainee designer super employee client."""

from __future__ import annotations

from app.core.features import WalkRoute as R

_STEPS = {"rows": "2", "step-1-title": "Grind", "step-2-title": "Epoxy", "step-2-after": "1"}

ROUTES = (
    R("GET", "/project-templates", "200 200 200 403 403 403 403"),
    R("GET", "/project-templates/new", "200 200 403 403 403 403 403"),
    R("POST", "/project-templates/new", "303 303 403 403 403 403 403", {**_STEPS, "name": "Garage floor"}),
    R("GET", "/project-templates/{template}/edit", "200 200 403 403 403 403 403"),
    R("POST", "/project-templates/{template}/edit", "303 303 403 403 403 403 403", {**_STEPS, "name": "Hall repaint"}),
    R("GET", "/api/project-templates/", "200 200 200 403 403 403 403"),
)
