"""An estimate as the API shows it (SPEC.md §5 "Estimate"): money as two-place strings;
a client sees descriptions, quantities, amounts and totals — their lines' labour hours
and gallons are null (the shape keeps the keys) and rates, costs and internal notes are
left out."""

from __future__ import annotations

from app.core.money import money_str
from app.estimates.models import Estimate


def _plain(value) -> str | None:
    return None if value is None else format(value.normalize(), "f")


def _line(line, client_view: bool) -> dict:
    item = {
        "surface": line.surface,
        "description": line.description,
        "quantity": _plain(line.quantity),
        "unit": line.unit,
        "coats": line.coats,
        "labor_hours": None if client_view else str(line.labor_hours),
        "material_gallons": None if client_view else line.material_gallons,
        # the client reads prices (the markup inside, never shown apart); staff the cost side
        "amount": money_str(line.price if client_view else line.amount),
        "is_optional": line.is_optional,
        "is_selected": line.is_selected,
    }
    if not client_view:
        item |= {
            "production_rate": money_str(line.production_rate),
            "labor_rate": money_str(line.labor_rate),
            "labor_amount": money_str(line.labor_amount),
            "coverage": money_str(line.coverage),
            "price_per_gallon": money_str(line.price_per_gallon),
            "material_amount": money_str(line.material_amount),
            "unit_price": money_str(line.unit_price),
        }
    return item


def estimate_json(estimate: Estimate, client_view: bool) -> dict:
    project = estimate.project
    data = {
        "id": estimate.id,
        "number": estimate.number,
        "client": {"id": estimate.client_id, "name": estimate.client.name},
        "project": {"id": project.id, "name": project.name} if project is not None else None,
        "title": estimate.title,
        "status": estimate.status,
        "subtotal": money_str(estimate.total if client_view else estimate.subtotal),
        "markup_pct": None if client_view else _plain(estimate.markup_pct),
        "total": money_str(estimate.total),
        "valid_until": estimate.valid_until.isoformat() if estimate.valid_until else None,
        "lines": [_line(line, client_view) for line in estimate.lines],
        "version": estimate.version,
        "terms": estimate.terms,
        "address": estimate.address,
        "markup_amount": None if client_view else money_str(estimate.markup_amount),
        "approved_at": estimate.approved_at.isoformat() if estimate.approved_at else None,
        "signature_name": estimate.signature_name,
        "decline_reason": estimate.decline_reason,
    }
    if not client_view:
        data |= {
            "internal_notes": estimate.internal_notes,
            "on_behalf_reason": estimate.on_behalf_reason,
            "sent_at": estimate.sent_at.isoformat() if estimate.sent_at else None,
        }
    return data
