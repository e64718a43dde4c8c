"""A change order as the API shows it (SPEC.md §5 "Change order"): money as two-place
strings; its cost lines' costs and markups for staff only (the client sees prices)."""

from __future__ import annotations

from app.change_orders.models import ChangeOrder
from app.core.money import money_str


def _plain(value) -> str:
    return format(value.normalize(), "f")


def change_order_json(co: ChangeOrder, client_view: bool) -> dict:
    lines = []
    for line in co.lines:
        item = {"kind": line.kind, "description": line.description, "quantity": _plain(line.quantity),
                "line_total": money_str(line.line_total)}  # fmt: skip
        if not client_view:
            item |= {"unit_cost": money_str(line.unit_cost), "markup_pct": _plain(line.markup_pct),
                     "cost": money_str(line.cost)}  # fmt: skip
        lines.append(item)
    data = {
        "id": co.id,
        "number": co.number,
        "project": {"id": co.project_id, "name": co.project.name},
        "title": co.title,
        "description": co.description,
        "reason": co.reason,
        "amount": money_str(co.amount),
        "schedule_impact_days": co.schedule_impact_days,
        "status": co.status,
        "line_items": lines,
        "approved_by": (
            {"id": co.decided_by_id, "name": co.decided_by.name} if co.is_approved and co.decided_by else None
        ),
        "approved_at": co.decided_at.isoformat() if co.is_approved and co.decided_at else None,
        "signature_name": co.signature_name,
        "decision_comment": co.decision_comment,
        "version": co.version,
    }
    if not client_view:
        data["on_behalf_reason"] = co.on_behalf_reason
        data["internal_comment"] = co.internal_comment
    return data
