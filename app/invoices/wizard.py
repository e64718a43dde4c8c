"""The invoice wizard (issue 12): four steps, each an htmx fragment swapped in place, the
whole of what was typed carried along in the form, so Back keeps it:

1. project, type and the period worked;
2. lines — prefilled with the period's completed tasks and the approved change orders not
   yet billed, the deposits' credit to apply (a final invoice: the retention held), and
   rows for extra charges;
3. terms — issue date, payment terms and due date, tax, retention, message;
4. review — the figures as core.money makes them, then save as a draft or send.

Each step is checked by the service before the next one opens (problems inline on the
step that has them); nothing is written before the last step's button."""

from __future__ import annotations

import datetime as dt

from flask import flash, request, url_for
from flask_login import current_user, login_required

from app.core.dates import parse_date
from app.core.errors import ConflictError, ValidationError
from app.core.htmx import redirect_to, render_for
from app.core.numbers import to_int
from app.core.permissions import can, permission_required
from app.core.rows import line_rows
from app.core.transaction import attempt
from app.invoices import bp, services
from app.invoices.models import INVOICE_TYPES

STEPS = ("project", "lines", "terms", "review")
LINE_FIELDS = ("description", "quantity", "unit_price", "tax_rate", "source", "source_id")
FIELDS = (*services.EDITABLE, "project_id", "period_start", "period_end")
TERMS = [("due_on_receipt", "Due on receipt"), ("net_15", "Net 15"), ("net_30", "Net 30"), ("net_45", "Net 45"),
         ("net_60", "Net 60")]  # fmt: skip
EXTRA_ROWS = 2


def _typed() -> tuple[dict, list[dict] | None]:
    """Everything the steps so far sent (hidden fields carry the other steps')."""
    form = request.form
    data = {key: form.get(key, "") for key in FIELDS}
    if "line_description" not in form:
        return data, None
    return data, line_rows(form, LINE_FIELDS, (), keep=_kept)


def _kept(row: dict) -> bool:
    """A row with a description; an offered row whose description was cleared is left out,
    a typed one without a description is kept (and told to have one)."""
    offered = bool(str(row["source"]).strip())
    return bool(str(row["description"]).strip()) or (
        not offered and any(str(row[key]).strip() for key in ("quantity", "unit_price"))
    )


def _project(data: dict, errors: dict):
    project_id = to_int(data.get("project_id"))
    if project_id is None:
        errors["project_id"] = "Choose the project to invoice."
        return None
    from app.projects.services import get_project

    try:
        project = get_project(current_user, project_id)
    except Exception:  # noqa: BLE001 - not found or not theirs: the same message
        errors["project_id"] = "Choose a project you may invoice."
        return None
    if not can(current_user, "invoice.create", project) or project.is_closed:
        errors["project_id"] = "Choose an open project you may invoice."
        return None
    return project


def _period(data: dict, errors: dict) -> tuple[dt.date | None, dt.date | None]:
    start = parse_date(data.get("period_start"), "period_start", errors)
    end = parse_date(data.get("period_end"), "period_end", errors)
    if start and end and end < start:
        errors["period_end"] = "The period cannot end before it starts."
    return start, end


def _prefill(project, data: dict) -> list[dict]:
    start, end = _period(data, {})
    kind = data.get("invoice_type") or "standard"
    rows = services.tasks_done_between(project, start, end) if kind != "deposit" else []
    rows += [r for r in services.prefilled_lines(project, kind) if r["source"] != "task"]
    return rows


def _render(step: str, data: dict, rows: list[dict] | None, errors: dict | None = None, status: int = 200,
            project=None, preview=None):  # fmt: skip
    shown_rows = list(rows or [])
    if step == "lines":
        shown_rows += [{}] * EXTRA_ROWS
    return render_for(
        {"invoice-wizard": "invoices/_wizard.html"},
        "invoices/wizard.html",
        status,
        step=step,
        steps=STEPS,
        data=data,
        rows=shown_rows,
        carried_rows=rows,
        errors=errors or {},
        project=project,
        preview=preview,
        projects=services.invoiceable_projects(current_user) if step == "project" else [],
        types=list(INVOICE_TYPES.items()),
        terms=TERMS,
        may_send=project is not None and can(current_user, "invoice.send", project),
    )


@bp.get("/invoices/wizard")
@login_required
@permission_required("invoice.create")
def wizard():
    data = dict.fromkeys(FIELDS, "")
    data["project_id"] = request.args.get("project_id", "")
    data["invoice_type"] = request.args.get("type") if request.args.get("type") in INVOICE_TYPES else "standard"
    errors: dict = {}
    project = _project(data, errors) if data["project_id"] else None
    return _render("project", data, None, {}, project=project)


@bp.post("/invoices/wizard")
@login_required
@permission_required("invoice.create")
def wizard_step():
    """Move from the step sent (`step`) forward (`go=next`) or back (`go=back`), checking
    the step left forward; the last step saves (`go=save` or `go=send`)."""
    data, rows = _typed()
    step = request.form.get("step") if request.form.get("step") in STEPS else "project"
    go = request.form.get("go", "next")
    at = STEPS.index(step)
    if go == "back":
        target = STEPS[max(at - 1, 0)]
        project = _project(data, {}) if data.get("project_id") else None
        if target == "lines" and rows is None and project is not None:
            rows = _prefill(project, data)
        return _render(target, data, rows, project=project)
    errors: dict = {}
    project = _project(data, errors)
    if step == "project":
        _period(data, errors)
        if errors:
            return _render("project", data, rows, errors, 422, project)
        if rows is None:
            rows = _prefill(project, data)
            defaults = services.new_defaults(project, data.get("invoice_type") or "standard")
            for key, value in defaults.items():
                if not data.get(key):
                    data[key] = value
        return _render("lines", data, rows, project=project)
    if errors:  # the project vanished or was closed meanwhile
        return _render("project", data, rows, errors, 422, project)
    try:
        preview = services.preview(current_user, project, data, rows or [])
    except ValidationError as exc:
        # back to the step that has the problem: the lines' on the lines step, the rest on terms
        fields = exc.fields or {"form": exc.message}
        at_fault = "lines" if "line_items" in fields else "terms"
        return _render(at_fault, data, rows, fields, 422, project)
    if step == "lines":
        return _render("terms", data, rows, project=project)
    if step == "terms":
        return _render("review", data, rows, project=project, preview=preview)
    return _save(project, data, rows or [], send=go == "send")


def _save(project, data: dict, rows: list[dict], send: bool):
    try:
        with attempt():
            invoice = services.create_invoice(current_user, project, data, rows)
            if send and can(current_user, "invoice.send", project) and not invoice.is_draft_for_review:
                services.send_invoice(current_user, invoice)
    except ValidationError as exc:
        return _render("review", data, rows, exc.fields or {"form": exc.message}, 422, project,
                       services.preview(current_user, project, data, rows))  # fmt: skip
    except ConflictError as exc:
        return _render("review", data, rows, {"form": exc.message}, 409, project)
    if invoice.is_draft:
        flash("Draft saved." + (" An administrator reviews it before it is sent." if invoice.is_draft_for_review else ""),
              "success")  # fmt: skip
    else:
        flash(f"Invoice {invoice.number} issued: the PDF is being emailed to the client.", "success")
    return redirect_to(url_for("invoices.detail", invoice_id=invoice.id))
