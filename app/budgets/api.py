"""/api/financials/budgets/{project_id}/: a project's budget lines with their actuals,
variance and forecast (GET, costs.view), and PUT to replace the lines (budget.modify; a
line sent with a stale version answers 409 CONFLICT with the current budget). Routes
translate HTTP; the rules are app/budgets/services.py's."""

from __future__ import annotations

from flask import Blueprint
from flask_login import current_user

from app.budgets import services
from app.budgets.schemas import BudgetIn, BudgetOut
from app.budgets.serialize import budget_json
from app.core.api import api_ok, conflicts_show
from app.core.openapi import operation
from app.core.permissions import require
from app.core.schemas import given, request_body

bp = Blueprint("budgets", __name__)
BASE = "/financials/budgets/<int:project_id>/"


@bp.get(BASE)
@operation(
    "A project's budget",
    returns=BudgetOut,
    description="Lines with actuals (expenses and approved labour), variance, share used and forecast; "
    "the unallocated costs; the project's totals. Never a person's cost rate.",
)
def api_budget(project_id):
    require(current_user, services.VIEW)
    project = services.project_for_budget(current_user, project_id)
    return api_ok(budget_json(services.budget_for(current_user, project)))


@bp.put(BASE)
@operation(
    "Replace a project's budget lines",
    body=BudgetIn,
    returns=BudgetOut,
    description="The lines sent, in order, become the project's lines: one with an `id` changes that line "
    "(checked against its `version`), one without is added, a line not sent is deleted.",
)
def api_put_budget(project_id):
    require(current_user, services.EDIT)
    project = services.project_for_budget(current_user, project_id, services.EDIT)
    body = request_body()
    rows = [given(line) for line in body.lines]
    with conflicts_show(lambda _line: budget_json(services.figures(project))):
        services.save_lines(current_user, project, rows)
    return api_ok(budget_json(services.budget_for(current_user, project)))
