"""/api/project-templates/: the templates a project can start from (POST /api/projects/
with `template_id` lays one out). Managed on the pages; read-only here."""

from __future__ import annotations

from flask import Blueprint
from flask_login import current_user
from pydantic import Field

from app.core.api import paginate
from app.core.openapi import operation
from app.core.schemas import ListQuery, Output, request_query
from app.project_templates import services
from app.project_templates.models import ProjectTemplate

bp = Blueprint("project_templates", __name__)


class TemplateStep(Output):
    title: str
    description: str
    start_day: int = Field(description="1 = the project's start date.")
    days: int = Field(description="How many calendar days the task takes (its due date is the last).")
    estimated_hours: str | None = Field(description='Decimal as text, e.g. "6.00".')
    schedule_weight: int
    after: list[int] = Field(description="Numbers (1-based) of the steps this one waits for.")


class TemplateOut(Output):
    id: int
    name: str
    description: str
    steps: list[TemplateStep]
    version: int


def template_json(template: ProjectTemplate) -> dict:
    return {
        "id": template.id,
        "name": template.name,
        "description": template.description,
        "steps": template.steps,
        "version": template.version,
    }


@bp.get("/project-templates/")
@operation("List project templates", returns=TemplateOut, paged=True, query=ListQuery)
def api_list():
    request_query()  # page and page_size checked like every list's
    return paginate(services.template_list(current_user), serialize_page=lambda rows: [template_json(t) for t in rows])
