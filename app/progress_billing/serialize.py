"""Pay applications and schedules as the API shows them (SPEC.md §5): money as two-place
strings; the notes and reasons for staff only (the figures hold no costs: a client sees
the G702/G703 of their certified applications)."""

from __future__ import annotations

from app.core.money import money_str
from app.progress_billing import schedule, services
from app.progress_billing.models import PayApplication


def _pct(value) -> str | None:
    return None if value is None else format(value.normalize(), "f")


def pay_application_json(app: PayApplication, client_view: bool) -> dict:
    result = services.figures(app)
    reasons = {li.sov_line_id: li.reason for li in app.lines}
    lines = []
    for row in result.rows:
        item = {
            "sov_line_id": row.key,
            "item": row.item,
            "description": row.description,
            "scheduled_value": money_str(row.scheduled_value),
            "from_previous": money_str(row.from_previous),
            "this_period": money_str(row.this_period),
            "materials_stored": money_str(row.materials_stored),
            "total_completed_and_stored": money_str(row.total_completed_and_stored),
            "percent": None if row.percent is None else str(row.percent),
            "balance_to_finish": money_str(row.balance_to_finish),
            "retainage": money_str(row.retainage),
        }
        if not client_view:
            item["reason"] = reasons.get(row.key, "")
        lines.append(item)
    data = {
        "id": app.id,
        "number": app.number,
        "application_no": app.application_no,
        "project": {"id": app.project_id, "name": app.project.name},
        "period_to": app.period_to.isoformat(),
        "status": app.status,
        "g702": {
            name: money_str(getattr(result, name))
            for name in (
                "original_contract_sum",
                "net_change_by_change_orders",
                "contract_sum_to_date",
                "total_completed_and_stored",
                "retainage",
                "retainage_on_completed",
                "retainage_on_stored",
                "total_earned_less_retainage",
                "less_previous_certificates",
                "current_payment_due",
                "balance_to_finish_including_retainage",
            )  # fmt: skip
        },
        "lines": lines,
        "certified_at": app.certified_at.isoformat() if app.certified_at else None,
        "invoice_id": services.invoice_id_shown(app, client_view),
        "version": app.version,
    }
    if not client_view:
        data["notes"] = app.notes
    return data


def schedule_json(project) -> dict:
    terms = schedule.terms_of(project.id)
    lines = schedule.lines_of(project.id)
    return {
        "project": {"id": project.id, "name": project.name},
        "lines": [
            {
                "id": line.id,
                "item": line.item,
                "description": line.description,
                "scheduled_value": money_str(line.scheduled_value),
                "retainage_pct": _pct(line.retainage_pct),
                "change_order_id": line.change_order_id,
                "task_ids": [t.id for t in line.tasks],
                "is_archived": line.is_archived,
            }
            for line in lines
        ],
        "total": money_str(schedule.summary(project).total),
        "contract_value": money_str(project.contract_value),
        "retainage_pct": _pct(terms.retainage_pct),
        "step_down_at_pct": _pct(terms.step_down_at_pct),
        "step_down_pct": _pct(terms.step_down_pct),
        "version": terms.version or 0,
    }
