"""Expenses and reimbursement claims (issue 13): company expenses with receipts on a
project, claims paid out of pocket (submitted → under_review → approved → paid, or
rejected), the review queue, "My expenses", /api/financials/expenses/. Rules:
services.py."""

from flask import Blueprint

from app.core.features import Feature, LiveEvent, NavEntry

bp = Blueprint("expenses", __name__)

from app.expenses import models, routes, walk  # noqa: E402,F401
from app.expenses.api import bp as api_bp  # noqa: E402

feature = Feature(
    name="expenses",
    blueprints=(bp,),
    api=(api_bp,),
    nav=(
        NavEntry(
            "expenses",
            "Expenses",
            "expenses.mine",
            permission="reimbursement.submit",
            order=27,
            active=("expenses.",),
        ),
    ),
    # a project's expenses, an expense's page, "My expenses" and the queue refresh on it
    # (kibray:expenses); budgets listen to it (their thresholds)
    live_events=(LiveEvent("expense-changed", dom=("kibray:expenses",)),),
    notification_kinds=("expense_claim_submitted", "expense_claim_decided"),
    audit_refusals={
        "expenses.create": "record an expense",
        "expenses.update": "change an expense",
        "expenses.delete": "delete an expense",
        "expenses.submit_claim": "submit a reimbursement claim",
        "expenses.review": "review a reimbursement claim",
        "expenses.approve": "approve a reimbursement claim",
        "expenses.reject": "reject a reimbursement claim",
        "expenses.reimburse": "pay a reimbursement claim",
        "api.expenses.api_create": "record an expense",
        "api.expenses.api_put": "change an expense",
        "api.expenses.api_patch": "change an expense",
        "api.expenses.api_delete": "delete an expense",
        "api.expenses.api_attach_receipt": "attach a receipt",
        "api.expenses.api_review": "review a reimbursement claim",
        "api.expenses.api_approve": "approve a reimbursement claim",
        "api.expenses.api_reject": "reject a reimbursement claim",
        "api.expenses.api_reimburse": "pay a reimbursement claim",
    },
    walk=walk.ROUTES,
)
