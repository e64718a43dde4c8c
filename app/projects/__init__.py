"""Projects: the job at a site, its client, team, dates and budget."""

from flask import Blueprint

from app.core.features import Feature, LiveEvent, NavEntry, Widget

bp = Blueprint("projects", __name__)

from app.projects import routes, walk, widgets  # noqa: E402,F401
from app.projects.api import bp as api_bp  # noqa: E402

# Fragments listing projects refresh on any of these (hx-trigger="kibray:projects from:body").
_LIST = ("kibray:projects",)

feature = Feature(
    name="projects",
    blueprints=(bp,),
    api=(api_bp,),
    nav=(NavEntry("projects", "Projects", "projects.index", permission="project.view", order=10),),
    live_events=(
        LiveEvent("project-created", dom=_LIST),
        LiveEvent("project-updated", dom=_LIST),
        LiveEvent("project-deleted", dom=_LIST),
    ),
    notification_kinds=("project_assigned",),
    widgets=(Widget("projects/_home.html", order=10, permission="project.view", context=widgets.home_summary),),
    audit_refusals={
        "projects.create": "create a project",
        "api.projects.api_create": "create a project",
        "projects.update": "edit the project {project}",
        "api.projects.api_update": "edit the project {project}",
        "projects.delete": "delete the project {project}",
        "api.projects.api_delete": "delete the project {project}",
        "projects.close": "close the project {project}",
        "projects.reopen": "reopen the project {project}",
        "api.projects.api_reopen": "reopen the project {project}",
    },
    walk=walk.ROUTES,
    walk_skip=("/projects/new/add-client",),  # writes nothing but a session draft (tests/test_pages_ui.py)
)
