"""/api/financials/budgets/{project_id}/: a project's budget lines with their actuals,
variance and forecast (GET, costs.view), and PUT to replace the lines (budget.modify).
The budget's `version` is its set of lines' (one for the set): a PUT sending a stale one
(in the body, or `If-Match`) answers 409 CONFLICT with the current budget, so a line
someone added meanwhile is never deleted unseen; a PUT without one is not checked
against the set (only each line's `version`) — clients should send it. Routes translate
HTTP; the rules are app/budgets/services.py's."""

from __future__ import annotations

from flask import Blueprint
from flask_login import current_user

from app.budgets import services
from app.budgets.schemas import BudgetIn, BudgetOut
from app.budgets.serialize import budget_json
from app.core.api import api_ok, conflicts_show, sent_version, with_etag
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
    budget = services.budget_for(current_user, project)
    return with_etag(api_ok(budget_json(budget)), budget)


@bp.put(BASE)
@operation(
    "Replace a project's budget lines",
    body=BudgetIn,
    returns=BudgetOut,
    description="The lines sent, in order, become the project's lines: one with an `id` changes that line "
    "(checked against its `version`), one without is added, a line not sent is deleted. Send the budget's "
    "`version` (from the GET; or `If-Match`): if the lines changed since, nothing is written and the answer is "
    "409 CONFLICT with the current budget in `error.details`. Without it the set is not checked and a line "
    "added meanwhile would be deleted.",
)
def api_put_budget(project_id):
    require(current_user, services.EDIT)
    project = services.project_for_budget(current_user, project_id, services.EDIT)
    body = request_body()
    rows = [given(line) for line in body.lines]
    with conflicts_show(lambda _line: budget_json(services.figures(project))):
        services.save_lines(current_user, project, rows, version=sent_version(body.version))
    budget = services.budget_for(current_user, project)
    return with_etag(api_ok(budget_json(budget)), budget)
