"""Expenses and reimbursement claims (issue 13), /api/financials/expenses/. Rules:
services.py."""

from app.core.features import Feature
from app.expenses import models  # noqa: F401

feature = Feature(name="expenses")
