"""Project templates: named task lists with relative days and dependencies ("Interior
repaint", "Exterior stain", "Cabinet refinish"); a new project can start from one."""

from flask import Blueprint

from app.core.features import Feature, NavEntry

bp = Blueprint("project_templates", __name__)

from app.project_templates import models, routes, walk  # noqa: E402,F401
from app.project_templates.api import bp as api_bp  # noqa: E402

feature = Feature(
    name="project_templates",
    blueprints=(bp,),
    api=(api_bp,),
    nav=(
        NavEntry(
            "templates",
            "Templates",
            "project_templates.index",
            permission="template.manage",
            order=13,
            active=("project_templates.index", "project_templates.new", "project_templates.edit"),
        ),
    ),
    walk=walk.ROUTES,
    walk_skip=("/project-templates/<int:template_id>/delete",),  # tests/test_project_templates.py
)
