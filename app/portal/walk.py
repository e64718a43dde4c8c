"""The portal's rows of the HTTP permission walk (ROLES order: admin pm trainee designer
super employee client). Staff get an empty card; the employee sees no project."""

from __future__ import annotations

from app.core.features import WalkRoute as R

ROUTES = (R("GET", "/portal/home", "200 200 200 200 200 403 200"),)
