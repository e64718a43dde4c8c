"""The owner's reports (issue 13): profitability per project and across the company, WIP
(over/under billing), receivables aging, and the accountant's QuickBooks export. The
figures: queries.py (SQL) and services.py; the export: export.py; pages: routes.py; JSON
and CSV downloads: api.py."""

from flask import Blueprint

from app.core.features import Feature, NavEntry

bp = Blueprint("reports", __name__)

from app.reports import models, routes, walk  # noqa: E402,F401
from app.reports.api import bp as api_bp  # noqa: E402

feature = Feature(
    name="reports",
    blueprints=(bp,),
    api=(api_bp,),
    nav=(
        NavEntry(
            "reports",
            "Reports",
            "reports.profitability",
            permission="report.view",
            order=28,
            active=("reports.",),
        ),
    ),
    audit_refusals={
        "reports.export_record": "export to QuickBooks",
        "api.reports.api_record_quickbooks": "export to QuickBooks",
    },
    walk=walk.ROUTES,
)
