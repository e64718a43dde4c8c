"""An expense as the API shows it (SPEC.md §5 "Expense"): money as two-place strings,
dates YYYY-MM-DD; plus its budget line, receipt, claim review and version. Never shown
to a client (they cannot see expenses at all)."""

from __future__ import annotations

from flask import url_for
from flask_login import current_user

from app.core.money import money_str
from app.expenses.models import Expense


def _ref(user) -> dict | None:
    return {"id": user.id, "name": user.name} if user is not None else None


def expense_json(e: Expense, viewer=None) -> dict:
    """`viewer` (default the signed-in user) sees the budget line only with costs.view."""
    from app.expenses.services import may_see_budget

    viewer = current_user if viewer is None else viewer
    line = e.budget_line if e.budget_line_id and may_see_budget(viewer, e) else None
    return {
        "id": e.id,
        "project": {"id": e.project_id, "name": e.project.name},
        "category": e.category,
        "amount": money_str(e.amount),
        "description": e.description,
        "vendor": e.vendor,
        "expense_date": e.expense_date.isoformat(),
        "paid_by_employee": _ref(e.paid_by_employee),
        "reimbursement_status": e.reimbursement_status,
        "reimbursement_method": e.reimbursement_method,
        "reimbursement_date": e.reimbursement_date.isoformat() if e.reimbursement_date else None,
        "reimbursement_reference": e.reimbursement_reference,
        "budget_line": {"id": line.id, "name": line.audit_name()} if line is not None else None,
        "rejection_reason": e.rejection_reason,
        "receipt": (
            {
                "name": e.receipt_name,
                "content_type": e.receipt_content_type,
                "size": e.receipt_size,
                "url": url_for("api.expenses.api_receipt", expense_id=e.id, _external=True),
            }
            if e.receipt_key
            else None
        ),
        "version": e.version,
        "created_at": e.created_at.isoformat(),
    }
