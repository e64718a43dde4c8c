"""An invoice as the API shows it (SPEC.md §5 "Invoice"): money as two-place decimal
strings; internal notes and review comments for staff only."""

from __future__ import annotations

from app.core.money import money_str
from app.invoices.models import Invoice, Payment


def _quantity(value) -> str:
    text = format(value.normalize(), "f")
    return text


def payment_json(payment: Payment) -> dict:
    return {
        "id": payment.id,
        "amount": money_str(payment.amount),
        "payment_date": payment.payment_date.isoformat(),
        "method": payment.method,
        "reference": payment.reference,
        "is_void": payment.is_void,
        "void_reason": payment.void_reason,
    }


def invoice_json(invoice: Invoice, client_view: bool, payments: list[Payment] | None = None) -> dict:
    data = {
        "id": invoice.id,
        "invoice_number": invoice.number,
        "invoice_type": invoice.invoice_type,
        "status": invoice.status,
        "project": {"id": invoice.project_id, "name": invoice.project.name},
        "client": {"id": invoice.client_id, "name": invoice.client.name},
        "subtotal": money_str(invoice.subtotal),
        "tax_rate": format(invoice.tax_rate.normalize(), "f"),
        "tax_amount": money_str(invoice.tax_amount),
        "total_amount": money_str(invoice.total_amount),
        "retention_amount": money_str(invoice.retention_amount),
        "amount_paid": money_str(invoice.amount_paid),
        "net_payable": money_str(invoice.net_payable),
        "issue_date": invoice.issue_date.isoformat(),
        "due_date": invoice.due_date.isoformat(),
        "is_overdue": invoice.is_overdue,
        "is_draft_for_review": invoice.is_draft_for_review,
        "payment_terms": invoice.payment_terms,
        "client_message": invoice.client_message,
        "sent_at": invoice.sent_at.isoformat() if invoice.sent_at else None,
        "line_items": [
            {
                "description": line.description,
                "quantity": _quantity(line.quantity),
                "unit_price": money_str(line.unit_price),
                "tax_rate": format(line.tax_rate.normalize(), "f"),
                "line_total": money_str(line.line_total),
                "source": line.source,
                "source_id": line.source_id,
            }
            for line in invoice.lines
        ],
        "payments": [payment_json(p) for p in (payments if payments is not None else invoice.payments)],
        "version": invoice.version,
    }
    if not client_view:
        data["internal_notes"] = invoice.internal_notes
        data["review_comment"] = invoice.review_comment
    return data
