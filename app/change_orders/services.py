"""Change order rules (SPEC.md §2 rows change_order.*, §3 "Change orders", §5), the same
for pages, the API and the portal.

- Seeing: change_order.view — admins all, PMs and trainees their projects, the
  project's client once it is put to them (pending_client, approved, rejected), without
  costs or markups (`for_client`).
- Writing: change_order.edit (admins, PMs, trainees on their projects); only a draft is
  changed; deleting (change_order.delete: admins, PMs) only a draft or a rejected one.
- Submitting: a trainee's change order goes to pending_internal_approval (a full PM or
  an admin approves it inside first); anyone else's to pending_client.
- Deciding (change_order.approve): on pending_internal_approval a PM or admin approves
  (→ pending_client) or rejects — an admin who gives a reason approves it outright (the
  override); on pending_client the client approves or rejects with a
  typed-name signature (name, time, address, browser recorded), or a PM or admin records
  it for the client with a reason; an admin may override at either step (with a reason).
  A decided change order is final (a second approval is a 409).
- Approval changes the project's contract value and budget by the amount (audited with
  the change order named), offers the schedule impact (shift the project's end) and
  makes the change order's lines available to the next invoice.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.change_orders.models import (
    APPROVED,
    CLIENT,
    DRAFT,
    INTERNAL,
    KINDS,
    REJECTED,
    STATUSES,
    ChangeOrder,
    ChangeOrderLine,
)
from app.core.audit import note_reason
from app.core.errors import ConflictError, ObjectNotFound, ValidationError
from app.core.events import entitled, project_audience, publish, publish_project
from app.core.models import utcnow
from app.core.money import MAX_AMOUNT, ZERO, line_total, parse_price, parse_quantity, parse_rate, percent_of
from app.core.numbering import next_number
from app.core.numbers import to_int
from app.core.permissions import PermissionDenied, can, require, scope_query
from app.core.roles import ADMIN, PM_TRAINEE
from app.core.roles import CLIENT as CLIENT_ROLE
from app.core.signatures import UNSIGNED, Signature
from app.core.text import LONG_TEXT, check_lengths, declare_limits
from app.core.versioning import bump, checks_version, expect_version
from app.extensions import db
from app.projects.models import Project

VIEW = "change_order.view"
LIMITS = declare_limits(
    "change_order",
    {
        "title": 200,
        "description": LONG_TEXT,
        "reason": LONG_TEXT,
        "signature_name": 200,
        "comment": 2000,
        "on_behalf_reason": 500,
    },
)
EDITABLE = ("title", "description", "reason", "schedule_impact_days")
MAX_LINES = 100
MAX_IMPACT = 365


def today() -> dt.date:
    from app.timeclock.queries import today as company_today

    return company_today()


def for_client(user) -> bool:
    return getattr(user, "role", None) == CLIENT_ROLE


# --- reading -------------------------------------------------------------------------


def visible_change_orders(user, stmt=None):
    """The one visibility rule of pages, the API, the portal and live events."""
    return scope_query(stmt if stmt is not None else select(ChangeOrder), user, VIEW, ChangeOrder)


def get_change_order(user, change_order_id, action: str = VIEW) -> ChangeOrder:
    require(user, VIEW)
    change_order_id = to_int(change_order_id)
    found = db.session.get(ChangeOrder, change_order_id) if change_order_id is not None else None
    if found is None or not can(user, VIEW, found):
        raise ObjectNotFound("That change order does not exist or you cannot see it.")
    require(user, action, found)
    return found


def change_order_list(user, project_id=None, status=None):
    require(user, VIEW)
    stmt = visible_change_orders(user)
    if project_id is not None:
        stmt = stmt.where(ChangeOrder.project_id == project_id)
    if status is not None:
        stmt = stmt.where(ChangeOrder.status == status)
    return stmt.options(selectinload(ChangeOrder.decided_by)).order_by(ChangeOrder.id.desc())


def approved_unbilled(project_id: int) -> list[ChangeOrder]:
    """The project's approved change orders no invoice (not cancelled) has billed yet."""
    from app.invoices.models import CANCELLED, Invoice, InvoiceLine

    billed = (
        select(InvoiceLine.source_id)
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(InvoiceLine.source == "change_order", Invoice.status != CANCELLED)
    )
    return list(
        db.session.scalars(
            select(ChangeOrder)
            .where(ChangeOrder.project_id == project_id, ChangeOrder.status == APPROVED, ChangeOrder.id.not_in(billed))
            .order_by(ChangeOrder.id)
        )
    )


def approved_total(project_id: int) -> Decimal:
    return Decimal(
        db.session.scalar(
            select(func.coalesce(func.sum(ChangeOrder.amount), 0)).where(
                ChangeOrder.project_id == project_id, ChangeOrder.status == APPROVED
            )
        )
    )


# --- may -----------------------------------------------------------------------------


def may_edit(user, co: ChangeOrder) -> bool:
    return co.is_draft and not co.project.is_closed and can(user, "change_order.edit", co)


def may_delete(user, co: ChangeOrder) -> bool:
    return co.status in (DRAFT, REJECTED) and can(user, "change_order.delete", co)


def may_submit(user, co: ChangeOrder) -> bool:
    return co.is_draft and bool(co.lines) and can(user, "change_order.edit", co)


def may_decide(user, co: ChangeOrder) -> bool:
    """May `user` approve or reject it at the step it is at?"""
    if not can(user, "change_order.approve", co):
        return False
    if co.is_internal:
        return not for_client(user)
    return co.is_with_client


def decides_for_client(user, co: ChangeOrder) -> bool:
    """A staff member deciding at the client's step records it for the client (a reason)."""
    return co.is_with_client and not for_client(user)


def may_apply_schedule(user, co: ChangeOrder) -> bool:
    return (
        co.is_approved
        and co.schedule_impact_days != 0
        and not co.schedule_applied
        and co.project.end_date is not None
        and can(user, "project.edit", co.project)
        and not for_client(user)
    )


def may_create_tasks(user, co: ChangeOrder) -> bool:
    return co.is_approved and not for_client(user) and can(user, "task.create", co.project)


# --- input ---------------------------------------------------------------------------


def project_for_change_order(actor, project_id) -> Project:
    """The project of a new change order: 404 unless `actor` sees it, 403 unless they may write one."""
    from app.projects.services import get_project

    project_id = to_int(project_id)
    if project_id is None:
        raise ValidationError({"project_id": "Choose a project you work on."})
    project = get_project(actor, project_id)
    require(actor, "change_order.edit", project)
    return project


def clean(data: dict, base: dict) -> dict:
    merged = {**base, **{k: v for k, v in data.items() if k in EDITABLE}}
    errors: dict[str, str] = {}
    values = {key: str(merged.get(key) or "").strip() for key in ("title", "description", "reason")}
    if not values["title"]:
        errors["title"] = "Give the change order a title."
    raw = merged.get("schedule_impact_days")
    if raw in (None, ""):
        values["schedule_impact_days"] = 0
    else:
        days = to_int(str(raw).lstrip("-"), MAX_IMPACT, 0) if not isinstance(raw, bool) else None
        if days is None:
            errors["schedule_impact_days"] = f"Enter whole days from -{MAX_IMPACT} to {MAX_IMPACT}."
        else:
            values["schedule_impact_days"] = -days if str(raw).strip().startswith("-") else days
    check_lengths(values, LIMITS, errors)
    if errors:
        raise ValidationError(errors)
    return values


@dataclass
class LineIn:
    kind: str
    description: str
    quantity: Decimal
    unit_cost: Decimal
    markup_pct: Decimal

    @property
    def cost(self) -> Decimal:
        return line_total(self.quantity, self.unit_cost)

    @property
    def total(self) -> Decimal:
        """The price: cost plus its markup, each rounded once."""
        return self.cost + percent_of(self.cost, self.markup_pct)


def clean_lines(raw, errors: dict) -> list[LineIn]:
    if not isinstance(raw, list | tuple):
        errors["line_items"] = "Send the lines as a list."
        return []
    if len(raw) > MAX_LINES:
        errors["line_items"] = f"At most {MAX_LINES} lines."
        return []
    lines, problems = [], []
    for number, item in enumerate(raw, start=1):
        if not isinstance(item, dict):
            problems.append(f"Line {number}: send an object.")
            continue
        try:
            kind = item.get("kind") or "labor"
            if kind not in KINDS:
                raise ValueError("the kind is materials, labor or other.")
            description = str(item.get("description") or "").strip()
            if not description:
                raise ValueError("enter a description.")
            if len(description) > 500:
                raise ValueError("the description is too long (at most 500 characters).")
            quantity = parse_quantity(item.get("quantity") if item.get("quantity") not in (None, "") else 1)
            cost = parse_price(item.get("unit_cost"), "unit cost")
            markup = item.get("markup_pct")
            markup = parse_rate(markup if markup not in (None, "") else 0, "markup")
        except ValueError as exc:
            message = str(exc)
            problems.append(f"Line {number}: {message[0].lower() + message[1:]}")
            continue
        line = LineIn(kind, description, quantity, cost, markup)
        if line.total >= MAX_AMOUNT:
            problems.append(f"Line {number}: the price is too large (at most 9,999,999,999.99).")
            continue
        lines.append(line)
    if not problems and sum((li.total for li in lines), ZERO) >= MAX_AMOUNT:
        problems.append("The change order's total is too large (at most 9,999,999,999.99).")
    if problems:
        errors["line_items"] = " ".join(problems[:5]) + (" …" if len(problems) > 5 else "")
    return lines


def _write_lines(co: ChangeOrder, lines: list[LineIn]) -> None:
    co.lines.clear()
    db.session.flush()
    for position, line in enumerate(lines):
        co.lines.append(
            ChangeOrderLine(
                position=position,
                kind=line.kind,
                description=line.description,
                quantity=line.quantity,
                unit_cost=line.unit_cost,
                markup_pct=line.markup_pct,
                cost=line.cost,
                line_total=line.total,
            )
        )
    co.amount = sum((line.total for line in lines), ZERO)


# --- writing -------------------------------------------------------------------------


def _ensure_open(project: Project) -> None:
    if project.is_closed:
        raise ConflictError("This project is closed: its change orders can no longer change.")


def create_change_order(actor, project: Project, data: dict, raw_lines) -> ChangeOrder:
    require(actor, "change_order.edit", project)
    _ensure_open(project)
    values = clean(data, {})
    errors: dict[str, str] = {}
    lines = clean_lines(raw_lines if raw_lines is not None else [], errors)
    if errors:
        raise ValidationError(errors)
    co = ChangeOrder(
        project=project,
        number=next_number("change_order", today()),
        status=DRAFT,
        created_by_id=actor.id,
        amount=ZERO,
        signature_name="",
        signature_ip="",
        signature_user_agent="",
        on_behalf_reason="",
        decision_comment="",
        internal_comment="",
        schedule_applied=False,
        **values,
    )
    db.session.add(co)
    _write_lines(co, lines)
    db.session.flush()
    _publish(co)
    return co


@checks_version("co")
def update_change_order(actor, co: ChangeOrder, data: dict, raw_lines=None, version=None) -> ChangeOrder:
    require(actor, "change_order.edit", co)
    _ensure_open(co.project)
    if not co.is_draft:
        raise ConflictError(f"{co.number} is {co.status_label.lower()}: only a draft changes.")
    expect_version(co, version)
    values = clean(data, {key: getattr(co, key) for key in EDITABLE})
    errors: dict[str, str] = {}
    lines = clean_lines(raw_lines, errors) if raw_lines is not None else None
    if errors:
        raise ValidationError(errors)
    for key, value in values.items():
        setattr(co, key, value)
    if lines is not None:
        _write_lines(co, lines)
        bump(co)
    db.session.flush()
    _publish(co)
    return co


def delete_change_order(actor, co: ChangeOrder) -> None:
    require(actor, "change_order.delete", co)
    if co.status not in (DRAFT, REJECTED):
        raise ConflictError(f"{co.number} is {co.status_label.lower()}: only a draft or a rejected one is deleted.")
    audience, ids = _audience(co), {"id": co.id, "project_id": co.project_id}
    db.session.delete(co)
    db.session.flush()
    publish("change-order-changed", ids, users=audience, roles=[ADMIN])


@checks_version("co")
def submit(actor, co: ChangeOrder, version=None) -> ChangeOrder:
    """Put a draft forward: a trainee's to a PM inside, anyone else's to the client."""
    require(actor, "change_order.edit", co)
    _ensure_open(co.project)
    if not co.is_draft:
        raise ConflictError(f"{co.number} has been submitted already.")
    expect_version(co, version)
    if not co.lines:
        raise ValidationError({"line_items": "Add at least one cost line before submitting."})
    co.submitted_at = utcnow()
    co.status = INTERNAL if actor.role == PM_TRAINEE else CLIENT
    if co.status == CLIENT:
        co.put_to_client_at = co.submitted_at
    db.session.flush()
    _tell_pending(actor, co)
    _publish(co)
    return co


@checks_version("co")
def approve(actor, co: ChangeOrder, signature: Signature = UNSIGNED, comment="", on_behalf_reason="",
            version=None) -> ChangeOrder:  # fmt: skip
    """Approve at the step it is at: inside (→ pending_client) or the client's (→ approved,
    the project's contract value and budget change by the amount)."""
    _check_decision(actor, co, version)
    name, comment, reason = _decision_texts(actor, co, signature, comment, on_behalf_reason)
    override = co.is_internal and actor.role == ADMIN and bool(reason)  # the admin's override: straight to approved
    if co.is_internal and not override:
        co.status = CLIENT
        co.put_to_client_at = utcnow()
        co.internal_approved_by_id = actor.id
        if comment:
            co.internal_comment = comment
        db.session.flush()
        _tell_pending(actor, co)
        _publish(co)
        return co
    co.status = APPROVED
    _record_decision(actor, co, signature, name, comment, reason)
    _apply_to_project(actor, co)
    db.session.flush()
    _tell_decided(actor, co)
    _publish(co)
    return co


@checks_version("co")
def reject(actor, co: ChangeOrder, signature: Signature = UNSIGNED, comment="", on_behalf_reason="",
           version=None) -> ChangeOrder:  # fmt: skip
    _check_decision(actor, co, version)
    name, comment, reason = _decision_texts(actor, co, signature, comment, on_behalf_reason)
    inside = co.is_internal
    co.status = REJECTED
    _record_decision(actor, co, signature, name, comment, reason, inside=inside)
    db.session.flush()
    _tell_decided(actor, co)
    _publish(co)
    return co


def _check_decision(actor, co: ChangeOrder, version) -> None:
    require(actor, "change_order.approve", co)
    if co.is_decided:
        raise ConflictError(f"{co.number} was {co.status_label.lower()} already: a decision is final.")
    if co.is_draft:
        raise ConflictError(f"{co.number} is a draft: submit it first.")
    if co.is_internal and for_client(actor):
        raise PermissionDenied("This change order is not yours to decide yet.")
    _ensure_open(co.project)
    expect_version(co, version)


def _decision_texts(actor, co: ChangeOrder, signature: Signature, comment, on_behalf_reason):
    name = str(signature.name or "").strip()
    comment = str(comment or "").strip()
    reason = str(on_behalf_reason or "").strip()
    errors: dict[str, str] = {}
    if co.is_with_client and for_client(actor) and not name:
        errors["signature_name"] = "Type your full name to sign."
    if decides_for_client(actor, co) and not reason:
        errors["on_behalf_reason"] = "Say why you record the client's decision (e.g. signed on paper on site)."
    check_lengths({"signature_name": name, "comment": comment, "on_behalf_reason": reason}, LIMITS, errors)
    if errors:
        raise ValidationError(errors)
    return name, comment, reason


def _record_decision(actor, co: ChangeOrder, signature: Signature, name: str, comment: str, reason: str,
                     inside: bool = False) -> None:  # fmt: skip
    co.decided_by_id = actor.id
    co.decided_at = utcnow()
    co.signature_name = name
    co.signature_ip = (signature.ip or "")[:64]
    co.signature_user_agent = (signature.user_agent or "")[:300]
    if inside:  # decided before it reached the client: a staff matter
        co.internal_comment = comment
    else:
        co.decision_comment = comment
    co.on_behalf_reason = reason
    if reason:
        note_reason(co, reason)


def _apply_to_project(actor, co: ChangeOrder) -> None:
    """The contract value and budget move by the amount, in the project's own audited
    entry naming the change order; the project's open pages redraw (project-updated)."""
    project = co.project
    if max((project.contract_value or ZERO), (project.budget or ZERO)) + co.amount >= MAX_AMOUNT:
        raise ValidationError({"amount": "The project's contract value or budget would pass 9,999,999,999.99."})
    project.contract_value = (project.contract_value or ZERO) + co.amount
    project.budget = (project.budget or ZERO) + co.amount
    note_reason(project, f"change order {co.number} approved ({co.amount})")
    from app.progress_billing.schedule import add_change_order_line

    add_change_order_line(co)  # its line on the schedule of values (G702 line 2)
    db.session.flush()
    publish_project("project-updated", project)


@checks_version("co")
def apply_schedule(actor, co: ChangeOrder, version=None) -> ChangeOrder:
    """Shift the project's end, and its tasks not started yet, by the change order's
    schedule impact, once."""
    if not may_apply_schedule(actor, co):
        raise ConflictError("There is no schedule impact to apply, or it was applied already.")
    expect_version(co, version)
    from app.projects.services import update_project

    project = co.project
    new_end = project.end_date + dt.timedelta(days=co.schedule_impact_days)
    if project.start_date is not None and new_end < project.start_date:
        raise ValidationError({"schedule_impact_days": "That would end the project before it starts."})
    note_reason(project, f"schedule impact of change order {co.number}")
    update_project(actor, project, {"end_date": new_end}, partial=True)
    _shift_later_tasks(actor, co, project)
    co.schedule_applied = True
    db.session.flush()
    _publish(co)
    return co


def _shift_later_tasks(actor, co: ChangeOrder, project: Project) -> None:
    """The dependants of the delay: the project's tasks not started yet that start from
    today on move by the impact too (through the task rules: versions, conflicts, live
    events); the change order's own new tasks are left where the PM put them."""
    from app.tasks.models import PENDING, Task
    from app.tasks.services import update_task

    delta = dt.timedelta(days=co.schedule_impact_days)
    later = db.session.scalars(
        select(Task)
        .where(
            Task.project_id == project.id,
            Task.status == PENDING,
            Task.start_date >= today(),
            (Task.change_order_id.is_(None)) | (Task.change_order_id != co.id),
        )
        .order_by(Task.start_date, Task.id)
    ).all()
    for task in later:
        due = task.due_date + delta if task.due_date is not None else None
        update_task(actor, task, {"start_date": task.start_date + delta, "due_date": due}, partial=True)


def create_tasks(actor, co: ChangeOrder) -> list:
    """One task per cost line of an approved change order, linked to it; a labour line's
    quantity is its estimated hours. Lines that have their task already are skipped."""
    from app.tasks.models import Task
    from app.tasks.services import create_task

    if not may_create_tasks(actor, co):
        raise PermissionDenied("Tasks come from an approved change order, by whoever may create tasks.")
    # one at a time per change order: a double click waits, then finds the tasks made
    db.session.execute(select(ChangeOrder.id).where(ChangeOrder.id == co.id).with_for_update())
    existing = set(db.session.scalars(select(Task.title).where(Task.change_order_id == co.id)))
    made = []
    for line in co.lines:
        title = f"{co.number}: {line.description}"[:200]
        if title in existing:
            continue
        data = {"title": title, "description": co.description[:2000]}
        if line.kind == "labor":
            data["estimated_hours"] = str(line.quantity)
        task = create_task(actor, co.project, data)
        task.change_order_id = co.id
        made.append(task)
    db.session.flush()
    return made


# --- telling ------------------------------------------------------------------------


def _audience(co: ChangeOrder) -> list[int]:
    return entitled(project_audience(co.project), lambda user: can(user, VIEW, co))


def publish_change(co: ChangeOrder) -> None:
    _publish(co)


def _publish(co: ChangeOrder) -> None:
    publish("change-order-changed", {"id": co.id, "project_id": co.project_id}, users=_audience(co), roles=[ADMIN])


def _people(co: ChangeOrder, want):
    from app.auth.models import User

    ids = project_audience(co.project)
    return [
        u for u in db.session.scalars(select(User).where(User.id.in_(ids), User.is_active_flag.is_(True))) if want(u)
    ]


def _tell_pending(actor, co: ChangeOrder) -> None:
    """change_order_approval: the PMs for a trainee's, the client's users when it is theirs."""
    from app.notifications.services import notify

    if co.is_internal:
        people = _people(
            co, lambda u: u.role != PM_TRAINEE and can(u, "change_order.approve", co) and not for_client(u)
        )
        title = f"Change order {co.number} for {co.project.name} needs your approval before the client sees it"
    else:
        people = _people(co, lambda u: for_client(u) and can(u, VIEW, co))
        title = f"Change order {co.number} for {co.project.name} needs your approval: {co.title} ({co.amount:,})"
    for person in people:
        notify(person, "change_order_approval", title, "change_orders.detail", {"change_order_id": co.id},
               project_id=co.project_id, actor=actor)  # fmt: skip


def _tell_decided(actor, co: ChangeOrder) -> None:
    from app.notifications.services import notify

    verdict = "approved" if co.is_approved else "rejected"
    people = _people(co, lambda u: not for_client(u) and can(u, "change_order.edit", co))
    for person in people:
        notify(person, "change_order_approval", f"Change order {co.number} for {co.project.name} was {verdict}",
               "change_orders.detail", {"change_order_id": co.id}, project_id=co.project_id, actor=actor)  # fmt: skip


def status_choices() -> list[tuple[str, str]]:
    return list(STATUSES.items())
