"""A project's schedule of values and retainage terms (the rules; pages and the API call them).

- Seeing and editing: pay_application.edit (admins, the project's PMs and trainees); the
  client never sees the schedule itself, only the G703 of certified applications.
- Saving replaces the set: lines not sent are removed — deleted when no certified
  application billed them, else archived (kept on later applications at what was
  billed; its scheduled value becomes that amount); a billed line's value never drops
  below what was billed to date. A line an approved change order added keeps its value
  (it follows the change order) and is never removed.
- The schedule's version is its terms row's (`billing_terms.version`), bumped by every
  save: a stale page or PUT is a 409 (one optimistic lock for the whole set).
- Before a pay application the active lines must sum to the project's contract value
  (services.check_schedule); the page shows the difference meanwhile.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import delete, func, select

from app.core.errors import ConflictError, ValidationError
from app.core.money import HUNDRED, MAX_AMOUNT, ZERO, parse_price, parse_rate, round_money
from app.core.numbers import to_int
from app.core.permissions import require
from app.core.versioning import bump
from app.extensions import db
from app.progress_billing.models import (
    CERTIFIED,
    DEFAULT_RETAINAGE_PCT,
    DRAFT,
    BillingTerms,
    PayApplication,
    PayApplicationLine,
    SovLine,
    sov_line_tasks,
)

EDIT = "pay_application.edit"
MAX_LINES = 300
MAX_DESCRIPTION = 300


# --- reading -------------------------------------------------------------------------


def lines_of(project_id: int, include_archived: bool = True) -> list[SovLine]:
    stmt = select(SovLine).where(SovLine.project_id == project_id)
    if not include_archived:
        stmt = stmt.where(SovLine.is_archived.is_(False))
    return list(db.session.scalars(stmt.order_by(SovLine.position, SovLine.id)))


def has_schedule(project_id: int) -> bool:
    """The project is billed by pay applications: it has a schedule of values (a line not
    archived). Its change orders and tasks are then billed through them, never on an
    invoice line of their own (invoices.services: the wizard's prefill and its checks)."""
    return bool(
        db.session.scalar(
            select(SovLine.id).where(SovLine.project_id == project_id, SovLine.is_archived.is_(False)).limit(1)
        )
    )


def terms_of(project_id: int) -> BillingTerms:
    """The project's terms; before the first save the defaults, unsaved (a read never writes)."""
    found = db.session.scalar(select(BillingTerms).where(BillingTerms.project_id == project_id))
    return found or BillingTerms(project_id=project_id, retainage_pct=DEFAULT_RETAINAGE_PCT, version=0)


def schedule_version(project_id: int) -> int:
    return terms_of(project_id).version or 0


def billed_to_date(project_id: int) -> dict[int, Decimal]:
    """Per line, what certified applications billed to date (column G of the latest one
    that names it): the floor of its scheduled value."""
    latest = (
        select(PayApplicationLine.sov_line_id, func.max(PayApplication.application_no).label("no"))
        .join(PayApplication, PayApplication.id == PayApplicationLine.pay_application_id)
        .where(PayApplication.project_id == project_id, PayApplication.status == CERTIFIED)
        .group_by(PayApplicationLine.sov_line_id)
        .subquery()
    )
    rows = db.session.execute(
        select(
            PayApplicationLine.sov_line_id,
            PayApplicationLine.from_previous + PayApplicationLine.this_period + PayApplicationLine.materials_stored,
        )
        .join(PayApplication, PayApplication.id == PayApplicationLine.pay_application_id)
        .join(
            latest,
            (latest.c.sov_line_id == PayApplicationLine.sov_line_id) & (latest.c.no == PayApplication.application_no),
        )
        .where(PayApplication.project_id == project_id, PayApplication.status == CERTIFIED)
    )
    return {line_id: Decimal(total) for line_id, total in rows}


@dataclass(frozen=True)
class Summary:
    total: Decimal  # every line's scheduled value, archived ones (at what was billed) included
    contract_value: Decimal | None
    count: int = 0  # the active lines

    @property
    def difference(self) -> Decimal | None:
        return None if self.contract_value is None else self.contract_value - self.total

    @property
    def balanced(self) -> bool:
        return self.contract_value is not None and self.total == self.contract_value


def summary(project) -> Summary:
    """The schedule's total against the contract value and its active lines' count (one statement)."""
    total, count = db.session.execute(
        select(
            func.coalesce(func.sum(SovLine.scheduled_value), 0),
            func.count().filter(SovLine.is_archived.is_(False)),
        ).where(SovLine.project_id == project.id)
    ).one()
    return Summary(Decimal(total), project.contract_value, count)


def estimate_prefill(project) -> list[dict]:
    """The project's estimate's counted lines at their prices (what the client approved)."""
    if not project.estimate_id:
        return []
    from app.estimates.models import Estimate

    estimate = db.session.get(Estimate, project.estimate_id)
    if estimate is None:
        return []
    from app.estimates.services import price_of

    return [
        {
            "description": line.description[:MAX_DESCRIPTION],
            "scheduled_value": str(price_of(line.amount, estimate.markup_pct)),
            "estimate_line_id": line.id,
        }  # fmt: skip
        for line in estimate.lines
        if line.counts
    ]


def suggested_percent(line: SovLine) -> Decimal | None:
    """Percent complete suggested by the line's tasks: Σ(weight × progress) ÷ Σ weight
    (a task of weight 0 counts as 1). None without tied tasks."""
    tasks = list(line.tasks)
    if not tasks:
        return None
    weights = [Decimal(t.schedule_weight or 0) or Decimal(1) for t in tasks]
    done = sum((w * Decimal(t.progress_percent or 0) for w, t in zip(weights, tasks, strict=True)), ZERO)
    return round_money(done / sum(weights, ZERO))


def suggestions(project_id: int) -> dict[int, Decimal]:
    """Per line of the project with tied tasks, the suggested percent complete (one query)."""
    from app.tasks.models import Task

    rows = db.session.execute(
        select(sov_line_tasks.c.sov_line_id, Task.schedule_weight, Task.progress_percent)
        .join(Task, Task.id == sov_line_tasks.c.task_id)
        .join(SovLine, SovLine.id == sov_line_tasks.c.sov_line_id)
        .where(SovLine.project_id == project_id)
    )
    sums: dict[int, list[Decimal]] = {}
    for line_id, weight, progress in rows:
        w = Decimal(weight or 0) or Decimal(1)
        acc = sums.setdefault(line_id, [ZERO, ZERO])
        acc[0] += w * Decimal(progress or 0)
        acc[1] += w
    return {line_id: round_money(done / total) for line_id, (done, total) in sums.items()}


class LazySuggestions:
    """`suggestions(project_id)` read only if asked (`.get`, `[]`): the pay application
    form shows them, its live totals fragment does not."""

    def __init__(self, project_id: int):
        self._project_id, self._found = project_id, None

    def get(self, line_id, default=None):
        if self._found is None:
            self._found = suggestions(self._project_id)
        return self._found.get(line_id, default)

    def __getitem__(self, line_id):
        return self.get(line_id)


def project_tasks(project_id: int) -> list[tuple[int, str]]:
    from app.tasks.models import Task

    return [
        (t.id, t.title)
        for t in db.session.scalars(select(Task).where(Task.project_id == project_id).order_by(Task.title, Task.id))
    ]


# --- writing -------------------------------------------------------------------------


@dataclass
class LineIn:
    id: int | None
    description: str
    scheduled_value: Decimal
    retainage_pct: Decimal | None
    task_ids: list[int] | None = None
    estimate_line_id: int | None = None


def clean_lines(raw) -> list[LineIn]:
    """The lines as sent ({id?, description, scheduled_value, retainage_pct?, task_ids?}):
    a ValidationError naming each bad line under `lines`."""
    if not isinstance(raw, list | tuple):
        raise ValidationError({"lines": "Send the lines as a list."})
    if len(raw) > MAX_LINES:
        raise ValidationError({"lines": f"At most {MAX_LINES} lines."})
    lines, problems = [], []
    for number, item in enumerate(raw, start=1):
        if not isinstance(item, dict):
            problems.append(f"Line {number}: send an object.")
            continue
        try:
            line_id = item.get("id")
            if line_id not in (None, ""):
                line_id = to_int(line_id)
                if line_id is None:
                    raise ValueError("that line id is not one of this schedule's.")
            else:
                line_id = None
            description = str(item.get("description") or "").strip()
            if not description:
                raise ValueError("enter a description.")
            if len(description) > MAX_DESCRIPTION:
                raise ValueError(f"the description is too long (at most {MAX_DESCRIPTION} characters).")
            value = parse_price(item.get("scheduled_value"), "scheduled value", signed=True)
            raw_rate = item.get("retainage_pct")
            rate = None if raw_rate in (None, "") else parse_rate(raw_rate, "retainage")
            tasks = item.get("task_ids")
            task_ids = None if tasks is None else [t for t in (to_int(x) for x in tasks) if t is not None]
            estimate_line_id = to_int(item.get("estimate_line_id")) if item.get("estimate_line_id") else None
        except ValueError as exc:
            message = str(exc)
            problems.append(f"Line {number}: {message[0].lower() + message[1:]}")
            continue
        lines.append(LineIn(line_id, description, value, rate, task_ids, estimate_line_id))
    if not problems and sum((abs(li.scheduled_value) for li in lines), ZERO) >= MAX_AMOUNT:
        problems.append("The schedule's total is too large (at most 9,999,999,999.99).")
    if problems:
        raise ValidationError({"lines": " ".join(problems[:5]) + (" …" if len(problems) > 5 else "")})
    return lines


def _lock(project) -> None:
    from app.projects.models import Project

    db.session.execute(select(Project.id).where(Project.id == project.id).with_for_update())


def _terms_row(project) -> BillingTerms:
    found = db.session.scalar(select(BillingTerms).where(BillingTerms.project_id == project.id))
    if found is None:
        found = BillingTerms(project_id=project.id, retainage_pct=DEFAULT_RETAINAGE_PCT)
        db.session.add(found)
        db.session.flush()
    return found


def save_schedule(actor, project, raw_lines, version=None) -> list[SovLine]:
    """Replace the project's schedule with `raw_lines` (see the module's rules)."""
    require(actor, EDIT, project)
    if project.is_closed:
        raise ConflictError("This project is closed: its schedule of values no longer changes.")
    lines = clean_lines(raw_lines)
    _lock(project)
    expect_version_of_schedule(terms_of(project.id), version)
    terms = _terms_row(project)
    existing = {line.id: line for line in lines_of(project.id)}
    billed = billed_to_date(project.id)
    problems: list[str] = []
    sent_ids = set()
    task_ids_ok = {tid for tid, _ in project_tasks(project.id)}
    for number, li in enumerate(lines, start=1):
        if li.id is not None:
            line = existing.get(li.id)
            if line is None or li.id in sent_ids:
                problems.append(f"Line {number}: that line is not one of this schedule's.")
                continue
            sent_ids.add(li.id)
            if line.change_order_id is not None and li.scheduled_value != line.scheduled_value:
                problems.append(
                    f"Line {number}: it comes from change order {line.item}; its value follows the change order."
                )
            floor = billed.get(line.id, ZERO)
            if floor > 0 and li.scheduled_value < floor:
                problems.append(f"Line {number}: {floor:,.2f} of it was billed already; its value cannot be less.")
        elif li.scheduled_value < 0:
            problems.append(
                f"Line {number}: a scheduled value cannot be negative (a deduction comes by a change order)."
            )
        if li.task_ids and not set(li.task_ids) <= task_ids_ok:
            problems.append(f"Line {number}: tie it to this project's tasks only.")
    for line in existing.values():
        if line.id not in sent_ids and line.change_order_id is not None and not line.is_archived:
            problems.append(f"Line {line.item}: it comes from an approved change order and stays on the schedule.")
    if problems:
        raise ValidationError({"lines": " ".join(problems[:5]) + (" …" if len(problems) > 5 else "")})
    # removed lines: archived when certified applications billed them, else deleted
    for line in existing.values():
        if line.id in sent_ids or line.is_archived:
            continue
        if line.id in billed:
            line.is_archived = True
            line.scheduled_value = billed[line.id]
        else:
            db.session.execute(delete(PayApplicationLine).where(PayApplicationLine.sov_line_id == line.id))
            db.session.delete(line)
    from app.tasks.models import Task

    for position, li in enumerate(lines):
        line = existing.get(li.id) if li.id is not None else None
        if line is None:
            line = SovLine(project_id=project.id, change_order_id=None, estimate_line_id=li.estimate_line_id)
            db.session.add(line)
        line.position = position
        line.description = li.description
        line.scheduled_value = li.scheduled_value
        line.retainage_pct = li.retainage_pct
        line.is_archived = False
        if li.task_ids is not None:
            line.tasks = list(db.session.scalars(select(Task).where(Task.id.in_(li.task_ids)))) if li.task_ids else []
    db.session.flush()
    _number_items(project.id)
    bump(terms)
    db.session.flush()
    from app.progress_billing.services import publish_project_billing

    publish_project_billing(project)
    return lines_of(project.id)


def expect_version_of_schedule(terms: BillingTerms, version) -> None:
    """The schedule's (and the terms') one optimistic lock: `version` as sent (0 = "never
    saved", a number, an ETag) against the terms row's (0 before its first save). Nothing
    sent: nothing to compare. Not a version at all: a field error (400 / 422); another
    version: StaleObject (409)."""
    from app.core.versioning import StaleObject, parse_version

    if version is None or (isinstance(version, str) and version.strip() in ("", "*")):
        return
    sent = 0 if version == 0 or (isinstance(version, str) and version.strip() == "0") else parse_version(version)
    now = terms.version if terms.id is not None else 0
    if sent != now:
        raise StaleObject(terms, "The schedule of values and retainage terms were changed by someone else since "
                                 "you opened them. Review them and save again.")  # fmt: skip


def _number_items(project_id: int) -> None:
    """Column A: typed lines numbered 1, 2, … in order; change order lines keep their CO number."""
    n = 0
    for line in lines_of(project_id):
        if line.change_order_id is None:
            n += 1
            line.item = str(n)


def save_terms(actor, project, data: dict, version=None) -> BillingTerms:
    """The retainage terms: default per cent (0–100) and an optional step-down (threshold
    strictly between 0 and 100 % complete, and the stepped rate) — both or neither."""
    require(actor, EDIT, project)
    errors: dict[str, str] = {}
    values: dict = {}
    try:
        raw = data.get("retainage_pct")
        values["retainage_pct"] = parse_rate(raw if raw not in (None, "") else DEFAULT_RETAINAGE_PCT, "retainage")
    except ValueError as exc:
        errors["retainage_pct"] = str(exc)
    at, step = data.get("step_down_at_pct"), data.get("step_down_pct")
    values["step_down_at_pct"] = values["step_down_pct"] = None
    if at not in (None, "") or step not in (None, ""):
        try:
            values["step_down_at_pct"] = parse_rate(at, "step-down threshold")
            if not 0 < values["step_down_at_pct"] < HUNDRED:
                raise ValueError("The step-down threshold must be more than 0 and less than 100 % complete.")
        except ValueError as exc:
            errors["step_down_at_pct"] = (
                "The step-down threshold must be more than 0 and less than 100 % complete."
                if "between 0 and 100" in str(exc) else str(exc)
            )  # fmt: skip
        try:
            values["step_down_pct"] = parse_rate(step, "retainage after the step-down")
        except ValueError as exc:
            errors["step_down_pct"] = str(exc)
        if not errors and values["step_down_pct"] > values["retainage_pct"]:
            errors["step_down_pct"] = "A step-down lowers the retainage: enter less than the retainage before it."
    if errors:
        raise ValidationError(errors)
    _lock(project)
    expect_version_of_schedule(terms_of(project.id), version)
    terms = _terms_row(project)
    for key, value in values.items():
        setattr(terms, key, value)
    db.session.flush()
    from app.progress_billing.services import publish_project_billing

    publish_project_billing(project)
    return terms


def add_change_order_line(co) -> SovLine | None:
    """An approved change order's line on the schedule (G702 line 2), once: item
    "CO-n" (its number's sequence), its description the title, its value the amount.
    Called in the approval's transaction; a project without a schedule gets none (its
    schedule, when typed, takes the contract value that already includes the CO), nor does
    a change order an invoice (not cancelled) bills already."""
    existing = db.session.scalar(select(SovLine.id).where(SovLine.change_order_id == co.id))
    if existing is not None:
        return None
    from app.invoices.models import CANCELLED, Invoice, InvoiceLine

    invoiced = db.session.scalar(
        select(InvoiceLine.id)
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(InvoiceLine.source == "change_order", InvoiceLine.source_id == co.id, Invoice.status != CANCELLED)
        .limit(1)
    )
    if invoiced is not None:  # billed by its own invoice already: not a second time on the schedule
        return None
    if not db.session.scalar(select(func.count()).select_from(SovLine).where(SovLine.project_id == co.project_id)):
        return None
    position = db.session.scalar(
        select(func.coalesce(func.max(SovLine.position), -1)).where(SovLine.project_id == co.project_id)
    )
    seq = co.number.rsplit("-", 1)[-1].lstrip("0") or "0"
    line = SovLine(
        project_id=co.project_id,
        position=position + 1,
        item=f"CO-{seq}"[:20],
        description=f"{co.number}: {co.title}"[:MAX_DESCRIPTION],
        scheduled_value=co.amount,
        change_order_id=co.id,
    )
    db.session.add(line)
    db.session.flush()
    return line


def open_draft_lines(project_id: int):
    return (
        select(PayApplicationLine.id)
        .join(PayApplication)
        .where(PayApplication.project_id == project_id, PayApplication.status == DRAFT)
    )


def pct_text(value) -> str:
    """A percentage as people write it: 10, 7.5 (never 1E+1)."""
    if value is None:
        return ""
    text = format(Decimal(value), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
