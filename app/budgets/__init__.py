"""Budgets and labour cost (issue 13): phase / cost-code budget lines, actuals from
expenses and approved hours × cost rates, alerts at 90 % and 100 %, forecast to
completion, the admins' cost rates and /api/financials/budgets/. Rules: services.py
(budget), rates.py (cost rates), alerts.py; cost: actuals.py."""

from flask import Blueprint

from app.core.features import Feature, LiveEvent

bp = Blueprint("budgets", __name__)

from app.budgets import alerts, models, routes, walk  # noqa: E402,F401
from app.budgets.api import bp as api_bp  # noqa: E402

feature = Feature(
    name="budgets",
    blueprints=(bp,),
    api=(api_bp,),
    # the budget page refreshes on it (and on every event of its project)
    live_events=(LiveEvent("budget-changed", dom=("kibray:budgets",)),),
    live_listeners=(alerts.on_live_event,),
    notification_kinds=(alerts.KIND,),
    audit_refusals={
        "budgets.project_budget": "see the budget of the project {project}",
        "budgets.edit": "change the budget of the project {project}",
        "budgets.update": "change the budget of the project {project}",
        "budgets.cost_rates": "see the cost rates",
        "budgets.set_cost_rate": "set a cost rate",
        "budgets.person_rates": "see a person's cost rates",
        "budgets.delete_cost_rate": "delete a cost rate",
        "api.budgets.api_budget": "see the budget of a project",
        "api.budgets.api_put_budget": "change the budget of a project",
    },
    walk=walk.ROUTES,
)
