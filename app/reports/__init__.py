"""The owner's reports (issue 13): profitability per project and across the company, WIP
(over/under billing), receivables aging, and the accountant's QuickBooks export."""

from app.core.features import Feature
from app.reports import models  # noqa: F401

feature = Feature(name="reports")
