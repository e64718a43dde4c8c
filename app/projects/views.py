"""What each viewer may see of a project — for the pages and the API alike.

Decision (docs/architecture.md): the budget, profitability and internal notes are
internal figures shown only with `costs.view` (clients see invoices and change orders,
"never costs"); the team roster follows `team.view` (the PMs stay visible to everyone
who sees the project, as their point of contact)."""

from __future__ import annotations

from app.core.views import FieldView
from app.projects.models import Project

PROJECT_VIEW = FieldView(
    "project",
    Project,
    {
        "budget": "costs.view",
        "contract_value": "project.view_financials",  # what the client agreed to pay (issue 12)
        "profitability": "costs.view",
        "internal_notes": "costs.view",
        "team": "team.view",
    },
)
