"""Pay application rules (SPEC.md §2 rows pay_application.*, §5 "Pay application"), the
same for pages, the API, the PDF and live events.

- Seeing: pay_application.view — admins all, PMs and trainees their projects, the
  project's client the certified ones (`PayApplication.is_client_visible`), never a draft
  nor the internal notes. One visibility (`visible_pay_applications`).
- Writing: pay_application.edit. One draft at a time per project; its period ends after
  every earlier application's; the schedule must sum to the contract value; each line's
  work this period (an amount, or a per cent of its scheduled value) and materials
  presently stored are checked by g702.problems (over 100 %, below zero, negative
  without a reason) — nothing is written when any line is wrong.
- Certifying (pay_application.certify: admins, PMs) takes PA-YYYY-NNNN (core.numbering),
  writes the G702 on the row and each line's D, rate, I and A–C, and locks it: a
  certified application never changes, and a later one reads it, never alters it. It
  makes a DRAFT standard invoice for the current payment due (none when nothing is due),
  with no retention of its own: the payment due is already net of retainage.
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, lazyload

from app.core.errors import ConflictError, ObjectNotFound, ValidationError
from app.core.events import entitled, project_audience, publish
from app.core.models import utcnow
from app.core.money import ZERO, parse_price, parse_rate, percent_of, round_money
from app.core.numbering import next_number
from app.core.numbers import to_int
from app.core.permissions import can, require, scope_query
from app.core.roles import ADMIN, CLIENT
from app.core.text import LONG_TEXT, check_lengths, declare_limits
from app.core.versioning import bump, checks_version, expect_version
from app.extensions import db
from app.progress_billing import g702, schedule
from app.progress_billing.models import CERTIFIED, DRAFT, PayApplication, PayApplicationLine, SovLine
from app.projects.models import Project

VIEW = "pay_application.view"
EDIT = "pay_application.edit"
CERTIFY = "pay_application.certify"
LIMITS = declare_limits("pay_application", {"notes": LONG_TEXT, "reason": 500})
EARLIEST = dt.date(2000, 1, 1)


def today() -> dt.date:
    from app.timeclock.queries import today as company_today

    return company_today()


def for_client(user) -> bool:
    return getattr(user, "role", None) == CLIENT


# --- reading -------------------------------------------------------------------------


def visible_pay_applications(user, stmt=None):
    """The one visibility rule of pages, the API, the portal, the PDF and live events."""
    return scope_query(stmt if stmt is not None else select(PayApplication), user, VIEW, PayApplication)


def get_pay_application(user, pay_application_id, action: str = VIEW, lines: bool = True) -> PayApplication:
    """The application `user` may see (404 otherwise) and may `action` (403); `lines=False`
    when only its own columns are read (its lines then load if touched)."""
    require(user, VIEW)
    pay_application_id = to_int(pay_application_id)
    # its project (joined) without the project's team (read only where it is used)
    options = (joinedload(PayApplication.project).lazyload(Project.memberships),)
    if not lines:
        options += (lazyload(PayApplication.lines),)
    found = (db.session.get(PayApplication, pay_application_id, options=options)
             if pay_application_id is not None else None)  # fmt: skip
    if found is None or not can(user, VIEW, found):
        raise ObjectNotFound("That pay application does not exist or you cannot see it.")
    require(user, action, found)
    return found


def pay_application_list(user, project_id=None, status=None):
    require(user, VIEW)
    stmt = visible_pay_applications(user)
    if project_id is not None:
        stmt = stmt.where(PayApplication.project_id == project_id)
    if status is not None:
        stmt = stmt.where(PayApplication.status == status)
    return stmt.order_by(PayApplication.project_id, PayApplication.application_no.desc())


def pay_applications_of(user, project_id: int) -> list[PayApplication]:
    """A project's applications for its billing page: their own columns (the list shows
    number, period, line 4, line 8 and status), not their lines."""
    return list(db.session.scalars(_header_only(pay_application_list(user, project_id))))


def project_for_billing(user, project_id, action: str = VIEW):
    """The project of a billing page: 404 unless `user` sees it, 403 unless they may `action`."""
    from app.projects.services import get_project

    project_id = to_int(project_id)
    if project_id is None:
        raise ObjectNotFound("That project does not exist or you cannot see it.")
    project = get_project(user, project_id)
    require(user, action, project)
    return project


def _header_only(stmt):
    """An application read for its own columns: its lines and project not loaded with it
    (24 certified applications of 60 lines would be 1,440 line objects on the billing page)."""
    return stmt.options(lazyload(PayApplication.lines), lazyload(PayApplication.project))


def draft_of(project_id: int) -> PayApplication | None:
    return db.session.scalar(
        _header_only(select(PayApplication))
        .where(PayApplication.project_id == project_id, PayApplication.status == DRAFT)
    )  # fmt: skip


def latest_certified(project_id: int, before_no: int | None = None) -> PayApplication | None:
    stmt = _header_only(select(PayApplication)).where(
        PayApplication.project_id == project_id, PayApplication.status == CERTIFIED
    )
    if before_no is not None:
        stmt = stmt.where(PayApplication.application_no < before_no)
    return db.session.scalar(stmt.order_by(PayApplication.application_no.desc()).limit(1))


# Per-process memo of history(): certified applications never change, so what they add up
# to is fixed by the latest of them (its id and certification time: a recreated database
# reusing an id certifies at another time). Bounded, least recently used out.
_HISTORY: OrderedDict[tuple, dict[int, tuple[Decimal, Decimal, Decimal]]] = OrderedDict()
HISTORY_MEMO = 256
_LATEST = object()  # "read the latest certified application yourself"


def history(
    project_id: int, before_no: int | None = None, latest=_LATEST
) -> dict[int, tuple[Decimal, Decimal, Decimal, Decimal]]:
    """Per line, from the certified applications (before `before_no`): D (Σ work), the
    exact retainage basis of the work, the materials presently stored on the latest of
    them and their exact basis — g702.advance replayed over the certified periods in
    order (one statement), then remembered (`latest`: that application, when the caller
    has it)."""
    if latest is _LATEST:
        latest = latest_certified(project_id, before_no)
    if latest is None:
        return {}
    key = (project_id, latest.id, latest.certified_at)
    found = _HISTORY.get(key)
    if found is not None:
        _HISTORY.move_to_end(key)
        return dict(found)
    rows = db.session.execute(
        select(
            PayApplicationLine.sov_line_id,
            PayApplicationLine.this_period,
            PayApplicationLine.materials_stored,
            PayApplicationLine.retainage_pct,
        )
        .join(PayApplication, PayApplication.id == PayApplicationLine.pay_application_id)
        .where(
            PayApplication.project_id == project_id,
            PayApplication.status == CERTIFIED,
            PayApplication.application_no <= latest.application_no,
        )
        .order_by(PayApplication.application_no)
    ).all()
    held: dict[int, g702.Held] = {}
    for line_id, work, stored, rate in rows:
        held[line_id] = g702.advance(held.get(line_id, g702.Held()), work or ZERO, stored or ZERO, rate or ZERO)
    found = {line_id: (h.work, h.work_basis, h.stored, h.stored_basis) for line_id, h in held.items()}
    _HISTORY[key] = found
    while len(_HISTORY) > HISTORY_MEMO:
        _HISTORY.popitem(last=False)
    return dict(found)


def _previous(app: PayApplication | None) -> g702.Previous | None:
    if app is None:
        return None
    return g702.Previous(app.g702_contract_sum_to_date, app.g702_total_completed_and_stored,
                         app.g702_total_earned_less_retainage)  # fmt: skip


def terms_for(project_id: int) -> g702.Terms:
    terms = schedule.terms_of(project_id)
    return g702.Terms(terms.retainage_pct, terms.step_down_at_pct, terms.step_down_pct)


def _inputs(
    project_id: int, entered: dict[int, dict], before_no: int | None, sov_lines=None, previous=_LATEST
) -> list[g702.LineIn]:
    """The calculator's lines: every line of the schedule (archived ones carried as billed);
    `sov_lines` the schedule's lines when the caller has read them already."""
    past = history(project_id, before_no, previous)
    lines = []
    for sov in schedule.lines_of(project_id) if sov_lines is None else sov_lines:
        work, basis, stored, stored_basis = past.get(sov.id, (ZERO, ZERO, ZERO, ZERO))
        if sov.is_archived and sov.id not in past:
            continue
        mine = entered.get(sov.id, {})
        lines.append(
            g702.LineIn(
                key=sov.id,
                item=sov.item,
                description=sov.description,
                scheduled_value=sov.scheduled_value,
                this_period=ZERO if sov.is_archived else mine.get("this_period", ZERO),
                materials_stored=stored if sov.is_archived else mine.get("materials_stored", stored),
                retainage_pct=sov.retainage_pct,
                is_change_order=sov.change_order_id is not None,
                previous_work=work,
                previous_held_basis=basis,
                reason=mine.get("reason", ""),
                previous_stored=stored,
                previous_stored_basis=stored_basis,
            )
        )
    return lines


def figures(app: PayApplication) -> g702.G702:
    """The application's G702 with its G703 rows: a certified one as written when it was
    certified (never recomputed), a draft from the current schedule and its lines."""
    if app.is_certified:
        return _certified_figures(app)
    entered = {li.sov_line_id: {"this_period": li.this_period, "materials_stored": li.materials_stored,
                                "reason": li.reason} for li in app.lines}  # fmt: skip
    previous = latest_certified(app.project_id, app.application_no)
    return g702.compute(_inputs(app.project_id, entered, app.application_no, previous=previous),
                        terms_for(app.project_id),
                        _previous(previous))  # fmt: skip


def _certified_figures(app: PayApplication) -> g702.G702:
    rows = []
    before = history(app.project_id, app.application_no)  # each line's I split as it was held
    for li in app.lines:
        c, d, e, f = li.scheduled_value, li.from_previous, li.this_period, li.materials_stored
        g = d + e + f
        held = g702.advance(g702.Held(*before.get(li.sov_line_id, (ZERO, ZERO, ZERO, ZERO))), e, f,
                            li.retainage_pct or ZERO)  # fmt: skip
        stored_part = round_money(held.stored_basis / 100)
        rows.append(g702.G703Row(
            key=li.sov_line_id, item=li.item or "", description=li.description or "", scheduled_value=c,
            from_previous=d, this_period=e, materials_stored=f, total_completed_and_stored=g,
            percent=None if c == 0 else (g * 100 / c).quantize(g702.PERCENT_PLACES, rounding=ROUND_HALF_UP),
            balance_to_finish=c - g, retainage_on_work=li.retainage - stored_part, retainage_on_stored=stored_part,
            rate=li.retainage_pct or ZERO, held_basis=ZERO,
        ))  # fmt: skip
    kwargs = {name: getattr(app, f"g702_{name}") for name in g702.G702.__dataclass_fields__ if
              name not in ("rows", "stepped_down")}  # fmt: skip
    return g702.G702(**kwargs, rows=tuple(rows))


def retainage_held(project_id: int) -> Decimal:
    """Retainage the certificates hold: the latest certified application's line 5."""
    held = db.session.scalar(
        select(PayApplication.g702_retainage)
        .where(PayApplication.project_id == project_id, PayApplication.status == CERTIFIED)
        .order_by(PayApplication.application_no.desc())
        .limit(1)
    )
    return held if held is not None else ZERO


@dataclass(frozen=True)
class BillingState:
    held: Decimal  # retainage the latest certificate holds (its line 5)
    complete: bool  # the latest certificate shows the contract sum to date completed
    may_create: bool  # a new application may be started (no draft, the project open, may edit)


def billing_state(user, project, apps: list[PayApplication]) -> BillingState:
    """What the billing page shows beside the list, read from `pay_applications_of(user,
    project)` (newest first) instead of asking again: for staff that list is the whole
    project's (a client, who sees certified ones only, never starts one)."""
    certified = [app for app in apps if app.is_certified]
    latest = max(certified, key=lambda app: app.application_no, default=None)
    return BillingState(
        held=latest.g702_retainage if latest is not None else ZERO,
        complete=latest is not None and latest.g702_total_completed_and_stored == latest.g702_contract_sum_to_date,
        may_create=not project.is_closed and can(user, EDIT, project) and not any(not app.is_certified for app in apps),
    )


# --- may -----------------------------------------------------------------------------


def may_edit(user, app: PayApplication) -> bool:
    return not app.is_certified and not app.project.is_closed and can(user, EDIT, app)


def may_certify(user, app: PayApplication) -> bool:
    return not app.is_certified and not app.project.is_closed and can(user, CERTIFY, app)


def may_see_invoice(user, app: PayApplication) -> bool:
    """The link to the application's invoice: only for whoever may see that invoice, and
    for a client only once it is issued to them (sent, overdue or paid — never a draft nor
    a cancelled one). The one rule of the pages (releases.released_for is the figures')."""
    from app.invoices.models import Invoice
    from app.invoices.services import VIEW as INVOICE_VIEW

    if app.invoice_id is None:
        return False
    invoice = db.session.get(Invoice, app.invoice_id, options=(lazyload("*"),))  # its row, not its lines
    if invoice is None or not can(user, INVOICE_VIEW, invoice):
        return False
    return invoice.is_issued or not for_client(user)


def invoice_id_shown(app: PayApplication, client_view: bool) -> int | None:
    """The application's invoice id as the API shows it: a client's only once that invoice
    is issued to them (the rule of may_see_invoice; staff see the draft's id to send it)."""
    from app.invoices.models import Invoice

    if app.invoice_id is None or not client_view:
        return app.invoice_id
    invoice = db.session.get(Invoice, app.invoice_id, options=(lazyload("*"),))  # its row, not its lines
    return app.invoice_id if invoice is not None and invoice.is_issued else None


def may_create(user, project) -> bool:
    return not project.is_closed and can(user, EDIT, project) and draft_of(project.id) is None


# --- input ---------------------------------------------------------------------------


def clean_entries(raw, lines_by_id: dict[int, SovLine]) -> dict[int, dict]:
    """Each line's {sov_line_id, this_period | this_period_pct, materials_stored, reason}:
    an amount or a per cent of the line's scheduled value (rounded once). Problems under
    `lines` ("Line 2: …")."""
    if raw is None:
        return {}
    if not isinstance(raw, list | tuple):
        raise ValidationError({"lines": "Send the lines as a list."})
    entered: dict[int, dict] = {}
    problems = []
    for number, item in enumerate(raw, start=1):
        if not isinstance(item, dict):
            problems.append(f"Line {number}: send an object.")
            continue
        line_id = to_int(item.get("sov_line_id"))
        sov = lines_by_id.get(line_id)
        label = f"Line {sov.item}" if sov is not None else f"Line {number}"
        try:
            if sov is None or sov.is_archived:
                raise ValueError("that is not a line of this project's schedule of values.")
            if line_id in entered:
                raise ValueError("it is sent twice.")
            pct = item.get("this_period_pct")
            if pct not in (None, ""):
                negative = str(pct).strip().startswith("-")
                rate = parse_rate(str(pct).strip().lstrip("-") if negative else pct, "per cent this period")
                amount = percent_of(sov.scheduled_value, rate)
                this_period = -amount if negative else amount
            else:
                raw_amount = item.get("this_period")
                this_period = parse_price(raw_amount if raw_amount not in (None, "") else 0, "work this period",
                                          signed=True)  # fmt: skip
            raw_stored = item.get("materials_stored")
            stored = parse_price(raw_stored, "materials stored") if raw_stored not in (None, "") else None
            reason = str(item.get("reason") or "").strip()
            if len(reason) > 500:
                raise ValueError("the reason is too long (at most 500 characters).")
        except ValueError as exc:
            message = str(exc)
            problems.append(f"{label}: {message[0].lower() + message[1:]}")
            continue
        entry = {"this_period": this_period, "reason": reason}
        if stored is not None:
            entry["materials_stored"] = stored
        entered[line_id] = entry
    if problems:
        raise ValidationError({"lines": " ".join(problems[:5]) + (" …" if len(problems) > 5 else "")})
    return entered


def _period(value, after: dt.date | None) -> dt.date:
    from app.core.dates import parse_date

    errors: dict[str, str] = {}
    period = parse_date(value, "period_to", errors, earliest=EARLIEST, latest=dt.date(2100, 12, 31))
    if period is None and not errors:
        errors["period_to"] = "Enter the date the period ends."
    if period is not None and after is not None and period <= after:
        errors["period_to"] = f"The period must end after the previous application's ({after.isoformat()})."
    if errors:
        raise ValidationError(errors)
    return period


def check_schedule(project) -> None:
    s = schedule.summary(project)
    if not schedule.lines_of(project.id, include_archived=False):
        raise ValidationError({"lines": "Write the schedule of values first."})
    if project.contract_value is None:
        raise ValidationError({"lines": "Set the project's contract value first: the schedule of values sums to it."})
    if not s.balanced:
        raise ValidationError({"lines": f"The schedule of values sums to {s.total:,.2f} but the contract value is "
                                        f"{s.contract_value:,.2f}: correct the schedule first."})  # fmt: skip


def preview(project, raw_lines, app: PayApplication | None = None) -> tuple[g702.G702, dict[int, str]]:
    """The figures as typed (the form's live totals) and each line's problem, writing nothing."""
    sov_lines = schedule.lines_of(project.id)
    entered = clean_entries(raw_lines, {line.id: line for line in sov_lines})
    before = app.application_no if app is not None else None
    previous = latest_certified(project.id, before)
    inputs = _inputs(project.id, entered, before, sov_lines, previous)
    result = g702.compute(inputs, terms_for(project.id), _previous(previous))
    return result, {inputs[i].key: message for i, message in g702.problems(inputs).items()}


def suggest_this_period(project, entries: list[dict], target) -> list[dict]:
    """ "Use the suggestion" on a line of the form (nothing is written): its per cent this
    period becomes the tied tasks' per cent complete less the work billed before, and its
    materials presently stored (as typed, else the previous certificate's) are lowered by
    what that work would carry past 100 % — the work installs them — never below zero.
    `entries` are the form's rows (strings); a copy comes back."""
    entries = [dict(entry) for entry in entries]
    line_id = to_int(target)
    suggested = schedule.suggestions(project.id)
    sov = next((li for li in schedule.lines_of(project.id, include_archived=False) if li.id == line_id), None)
    if sov is None or line_id not in suggested or not sov.scheduled_value:
        return entries
    work, _, stored, _ = history(project.id).get(line_id, (ZERO, ZERO, ZERO, ZERO))
    pct = max(suggested[line_id] - work * 100 / sov.scheduled_value, ZERO).quantize(Decimal("0.001"))
    amount = percent_of(sov.scheduled_value, pct)
    for entry in entries:
        if str(entry.get("sov_line_id")) != str(line_id):
            continue
        typed = str(entry.get("materials_stored") or "").strip()
        try:
            materials = parse_price(typed, "materials stored") if typed else stored
        except ValueError:
            materials = stored
        room = max(sov.scheduled_value - work - amount, ZERO)
        entry["this_period_pct"], entry["this_period"] = str(pct.normalize()), ""
        if materials > room:
            entry["materials_stored"] = f"{room:.2f}"
    return entries


def _validated(project, raw_lines, app: PayApplication | None) -> tuple[dict[int, dict], g702.G702]:
    sov_lines = schedule.lines_of(project.id)
    entered = clean_entries(raw_lines, {line.id: line for line in sov_lines})
    before = app.application_no if app is not None else None
    if app is not None:  # lines not sent keep what the draft has
        for li in app.lines:
            entered.setdefault(li.sov_line_id, {"this_period": li.this_period, "materials_stored": li.materials_stored,
                                                "reason": li.reason})  # fmt: skip
    previous = latest_certified(project.id, before)
    inputs = _inputs(project.id, entered, before, sov_lines, previous)
    found = g702.problems(inputs)
    if found:
        messages = list(found.values())
        raise ValidationError({"lines": " ".join(messages[:5]) + (" …" if len(messages) > 5 else "")})
    return entered, g702.compute(inputs, terms_for(project.id), _previous(previous))


def _write_lines(app: PayApplication, project_id: int, entered: dict[int, dict]) -> None:
    current = {li.sov_line_id: li for li in app.lines}
    past = history(project_id, app.application_no)
    for sov in schedule.lines_of(project_id, include_archived=False):
        mine = entered.get(sov.id)
        line = current.get(sov.id)
        if line is None:
            line = PayApplicationLine(project_id=project_id, sov_line_id=sov.id)
            app.lines.append(line)
        if mine is not None:
            line.this_period = mine["this_period"]
            line.reason = mine.get("reason", "")
            if "materials_stored" in mine:
                line.materials_stored = mine["materials_stored"]
        if line.this_period is None:
            line.this_period = ZERO
        if line.materials_stored is None:
            previous = past.get(sov.id)
            line.materials_stored = previous[2] if previous else ZERO
        if line.reason is None:
            line.reason = ""


# --- writing -------------------------------------------------------------------------


def create_pay_application(actor, project, data: dict, raw_lines) -> PayApplication:
    """A new draft for the period ending `period_to` (one draft at a time per project)."""
    require(actor, EDIT, project)
    if project.is_closed:
        raise ConflictError("This project is closed: it takes no more pay applications.")
    schedule._lock(project)
    if draft_of(project.id) is not None:
        raise ConflictError("This project has a draft pay application already: finish or delete it first.")
    last = db.session.scalar(
        select(PayApplication).where(PayApplication.project_id == project.id)
        .order_by(PayApplication.application_no.desc()).limit(1)
    )  # fmt: skip
    period = _period(data.get("period_to"), last.period_to if last is not None else None)
    check_schedule(project)
    notes = str(data.get("notes") or "").strip()
    errors: dict[str, str] = {}
    check_lengths({"notes": notes}, LIMITS, errors)
    if errors:
        raise ValidationError(errors)
    entered, _ = _validated(project, raw_lines, None)
    app = PayApplication(project=project, application_no=(last.application_no + 1) if last else 1,
                         period_to=period, status=DRAFT, notes=notes, created_by_id=actor.id)  # fmt: skip
    db.session.add(app)
    db.session.flush()
    _write_lines(app, project.id, entered)
    db.session.flush()
    publish_change(app)
    return app


@checks_version("app")
def update_pay_application(actor, app: PayApplication, data: dict, raw_lines=None, version=None) -> PayApplication:
    require(actor, EDIT, app)
    _ensure_draft(app)
    expect_version(app, version)
    project = app.project
    schedule._lock(project)
    if "period_to" in data:
        before = db.session.scalar(
            select(func.max(PayApplication.period_to)).where(
                PayApplication.project_id == project.id, PayApplication.application_no < app.application_no
            )
        )
        app.period_to = _period(data.get("period_to"), before)
    if "notes" in data:
        notes = str(data.get("notes") or "").strip()
        errors: dict[str, str] = {}
        check_lengths({"notes": notes}, LIMITS, errors)
        if errors:
            raise ValidationError(errors)
        app.notes = notes
    entered, _ = _validated(project, raw_lines if raw_lines is not None else [], app)
    _write_lines(app, project.id, entered)
    bump(app)
    db.session.flush()
    publish_change(app)
    return app


@checks_version("app")
def delete_pay_application(actor, app: PayApplication, version=None) -> None:
    """Delete a draft, checked against the version the caller saw (stale: 409)."""
    require(actor, EDIT, app)
    _ensure_draft(app)
    expect_version(app, version)
    ids, audience = {"id": app.id, "project_id": app.project_id}, _audience(app)
    db.session.delete(app)
    db.session.flush()
    publish("pay-application-changed", ids, users=audience, roles=[ADMIN])


def _ensure_draft(app: PayApplication) -> None:
    if app.is_certified:
        raise ConflictError(f"{app.number} is certified: it is locked and never changes.")
    if app.project.is_closed:
        raise ConflictError("This project is closed: its pay applications no longer change.")


@checks_version("app")
def certify(actor, app: PayApplication, version=None) -> PayApplication:
    """Number, freeze and invoice a draft (see the module's rules)."""
    require(actor, CERTIFY, app)
    _ensure_draft(app)
    expect_version(app, version)
    project = app.project
    schedule._lock(project)
    check_schedule(project)
    entered, result = _validated(project, [], app)
    from app.progress_billing.releases import released

    if problem := g702.certify_problem(result, released(project.id)):
        raise ValidationError({"lines": problem})  # nothing written
    _write_lines(app, project.id, entered)
    db.session.flush()
    rows = {row.key: row for row in result.rows}
    for line in app.lines:
        row = rows.get(line.sov_line_id)
        if row is None:  # an archived line carried without work: not on the application
            continue
        line.from_previous = row.from_previous
        line.retainage_pct = row.rate
        line.retainage = row.retainage
        line.item, line.description, line.scheduled_value = row.item, row.description, row.scheduled_value
    # archived lines carried (billed before, no work now) are written too: the G703 stays whole
    present = {li.sov_line_id for li in app.lines}
    for row in result.rows:
        if row.key not in present:
            app.lines.append(PayApplicationLine(
                project_id=project.id, sov_line_id=row.key, this_period=ZERO, materials_stored=row.materials_stored,
                reason="", from_previous=row.from_previous, retainage_pct=row.rate, retainage=row.retainage,
                item=row.item, description=row.description, scheduled_value=row.scheduled_value,
            ))  # fmt: skip
    for name in g702.G702.__dataclass_fields__:
        if name not in ("rows", "stepped_down"):
            setattr(app, f"g702_{name}", getattr(result, name))
    certified_on = today()
    app.number = next_number("pay_application", certified_on)
    app.status = CERTIFIED
    app.certified_by_id = actor.id
    app.certified_at = utcnow()
    db.session.flush()
    if result.current_payment_due > 0:
        app.invoice_id = _invoice_for(actor, app, result.current_payment_due, certified_on).id
    db.session.flush()
    publish_change(app)
    return app


def may_recreate_invoice(user, app: PayApplication) -> bool:
    """A certified application with something due whose invoice was deleted or cancelled."""
    return (
        app.is_certified
        and not app.project.is_closed
        and (app.g702_current_payment_due or ZERO) > 0
        and (app.invoice is None or app.invoice.is_cancelled)
        and can(user, CERTIFY, app)
    )


def recreate_invoice(actor, app: PayApplication) -> PayApplication:
    """ "Create its invoice again": a new DRAFT invoice for the certified payment due when
    the application's invoice was deleted (a draft, by an admin) or cancelled."""
    require(actor, CERTIFY, app)
    if not app.is_certified:
        raise ConflictError("Certify the application first: certifying makes its invoice.")
    if app.project.is_closed:
        raise ConflictError("This project is closed: nothing more is invoiced.")
    schedule._lock(app.project)
    db.session.refresh(app, ["invoice_id"])  # read under the lock: two clicks make one invoice
    if app.invoice is not None and not app.invoice.is_cancelled:
        raise ConflictError(f"{app.number} has its invoice already ({app.invoice.label}).")
    if app.g702_current_payment_due <= 0:
        raise ConflictError(f"Nothing is due on {app.number}: it has no invoice.")
    app.invoice_id = _invoice_for(actor, app, app.g702_current_payment_due, today()).id
    db.session.flush()
    db.session.refresh(app, ["invoice"])
    publish_change(app)
    return app


def invoice_problems(invoice, invoice_type: str, lines) -> list[str]:
    """The invoices' check (invoices.services._check_sources) of what progress billing ties
    to an invoice: a "pay_application" line only on that application's own invoice; the
    invoice of a pay application is exactly its one line at its line 8 and stays standard;
    a retainage release's invoice exactly its "retainage" line at the amount released and
    of its type (final at completion, else standard)."""
    from app.invoices.models import FINAL, STANDARD
    from app.progress_billing.models import RetainageRelease

    problems = []
    tied = release = None
    if invoice is not None and invoice.id:
        tied = db.session.scalar(_header_only(select(PayApplication)).where(PayApplication.invoice_id == invoice.id))
        release = db.session.scalar(select(RetainageRelease).where(RetainageRelease.invoice_id == invoice.id))
    for number, line in enumerate(lines, start=1):
        if line.source == "pay_application" and (tied is None or line.source_id != tied.id):
            problems.append(f"Line {number}: a pay application's payment due is invoiced by certifying it.")
    if tied is not None:
        due = tied.g702_current_payment_due
        if not (len(lines) == 1 and lines[0].source == "pay_application" and lines[0].source_id == tied.id
                and lines[0].total == due):  # fmt: skip
            problems.append(f"This is the invoice of pay application {tied.number}: its one line is the current "
                            f"payment due, {due:,.2f}, and it stays as it is.")  # fmt: skip
        if invoice_type != STANDARD:
            problems.append(f"The invoice of pay application {tied.number} stays a standard invoice.")
    if release is not None:
        kind = FINAL if release.is_final else STANDARD
        if not (len(lines) == 1 and lines[0].source == "retainage" and lines[0].source_id == release.id
                and lines[0].total == release.amount):  # fmt: skip
            problems.append(f"This invoice releases retainage: its one line is the {release.amount:,.2f} released, "
                            "and it stays as it is.")  # fmt: skip
        if invoice_type != kind:
            problems.append(f"This retainage release's invoice stays a {kind} invoice.")
    return problems


def retention_refused(invoice) -> str | None:
    """Why `invoice` may hold no retention of its own, if it may not: a pay application's
    payment due is already net of its retainage (G702 line 5), and a release's invoice is
    retainage handed back — holding more on either would hold retainage twice (and offer it
    again on the final invoice)."""
    from app.progress_billing.models import RetainageRelease

    tied = db.session.scalar(_header_only(select(PayApplication)).where(PayApplication.invoice_id == invoice.id))
    if tied is not None:
        return (
            f"The invoice of pay application {tied.number} holds no retention: its retainage is on the "
            "application (line 5)."
        )
    if db.session.scalar(select(RetainageRelease.id).where(RetainageRelease.invoice_id == invoice.id)) is not None:
        return "This invoice releases retainage: it holds no retention of its own."
    return None


def _invoice_for(actor, app: PayApplication, due: Decimal, on: dt.date):
    """The standard DRAFT invoice for the current payment due, by the invoices' own rules;
    its PM sends it with the normal invoice flow. Retention 0: the due is net of retainage."""
    from app.invoices.services import create_invoice

    description = (
        f"Pay application {app.number} (no. {app.application_no}) for the period to {app.period_to:%B %-d, %Y}"
    )
    invoice = create_invoice(
        actor,
        app.project,
        {"invoice_type": "standard", "issue_date": on, "retention_amount": "0",
         "internal_notes": f"Current payment due of pay application {app.number}."},
        [{"description": description, "quantity": "1", "unit_price": str(due)}],
    )  # fmt: skip
    line = invoice.lines[0]  # tied to the application: the invoices' checks keep it as it is
    line.source, line.source_id = "pay_application", app.id
    db.session.flush()
    return invoice


def before_project_deleted(project) -> None:
    """A project is deleted only without certified pay applications — numbered documents
    kept for the accounts, as issued invoices are (close the project instead); its draft
    goes with it (the schedule and terms follow by the database's cascade)."""
    where = (PayApplication.project_id == project.id,)
    certified = db.session.scalar(
        select(func.count()).select_from(PayApplication).where(*where, PayApplication.status == CERTIFIED)
    )
    if certified:
        raise ConflictError(
            f"This project has {certified} certified pay application{'' if certified == 1 else 's'}, kept for "
            "the accounts: close the project instead."
        )
    for draft in db.session.scalars(select(PayApplication).where(*where, PayApplication.status == DRAFT)):
        db.session.delete(draft)
    db.session.flush()


# --- telling ------------------------------------------------------------------------


def _audience(app: PayApplication) -> list[int]:
    return entitled(project_audience(app.project), lambda user: can(user, VIEW, app))


def publish_change(app: PayApplication) -> None:
    publish("pay-application-changed", {"id": app.id, "project_id": app.project_id}, users=_audience(app),
            roles=[ADMIN])  # fmt: skip


def publish_project_billing(project) -> None:
    """The schedule or terms changed: the project's staff with billing pages open redraw."""
    staff = entitled(project_audience(project), lambda user: can(user, EDIT, project))
    publish("pay-application-changed", {"id": 0, "project_id": project.id}, users=staff, roles=[ADMIN])
