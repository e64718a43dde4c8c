"""A project's budget (SPEC.md §3 "Budgets"; matrix rows "view internal costs" =
costs.view ✓ A A — — — —, "modify budgets" = budget.modify ✓ A — — — — —), the same
for the page, the API, the alerts and the home widget.

- The project's budget is `projects.budget` (the projects feature edits it; approved
  change orders move it). Its phase / cost-code lines are `BudgetLine`s; their sum is
  compared with it and a difference is *warned about*, never refused (a budget is often
  set before it is broken down, and a change order raises it before anyone splits it).
- Actuals come from budgets.actuals (one SQL definition of cost): each expense on at most
  one line (its own line, else the first line of its category, else "unallocated
  <category>"), labour on the first LABOR line (else "unallocated labour").
- Forecast to completion = cost to date + labour to complete + the open budget of the
  other lines, where labour to complete = the remaining estimated hours of the open tasks
  × the project's labour cost per priced approved hour (before any: the average rate in
  force today), and a line's open budget = max(budget − actual, 0). Per line: a LABOR
  line forecasts its actual (the category line adds labour to complete); any other line
  max(budget, actual); an unallocated row its actual.
- Committed costs (approved material requests, subcontracts) are not counted: this app
  has no such module yet, and a column of zeros would say there are none.
- The set of lines has one version (`BudgetVersion`, 1 before the first save), bumped by
  every save under the project's row lock: a save based on another version is a 409 /
  "changed meanwhile" (a PUT would otherwise delete a line added since it was read).
  Each line's own version still guards a save that names no set version.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select

from app.budgets import actuals
from app.budgets.models import BudgetLine, BudgetVersion
from app.core.errors import ConflictError, ValidationError
from app.core.events import entitled, project_audience, publish
from app.core.money import HUNDRED, ZERO, parse_price, round_money
from app.core.numbers import to_int
from app.core.permissions import can, require
from app.core.roles import ADMIN
from app.core.text import check_lengths, declare_limits
from app.core.versioning import StaleObject, parse_version
from app.expenses.models import CATEGORIES, Expense
from app.extensions import db
from app.projects.models import Project
from app.tasks.models import Task
from app.timeclock.models import TimesheetApproval

VIEW = "costs.view"
EDIT = "budget.modify"
LABOR = "LABOR"
FIELDS = ("code", "name", "category", "amount", "estimated_hours")
LIMITS = declare_limits("budget_line", {"code": 20, "name": 120})
MAX_LINES = 200
MAX_HOURS = Decimal("10000000")
TENTH = Decimal("0.1")


def percent(part: Decimal, whole: Decimal | None) -> Decimal | None:
    """part ÷ whole in per cent, to a tenth (None without a whole to compare with)."""
    if whole is None or whole <= 0:
        return None
    return (Decimal(part) * HUNDRED / Decimal(whole)).quantize(TENTH, rounding=ROUND_HALF_UP)


@dataclass
class Row:
    """One line of the budget (or an unallocated row: `line` None) with its figures."""

    label: str
    line: BudgetLine | None = None
    category: str | None = None
    budget: Decimal | None = None
    expenses: Decimal = ZERO
    labour: Decimal = ZERO
    hours: Decimal = ZERO
    forecast: Decimal = ZERO
    carries_labour: bool = False  # the category line of LABOR (or unallocated labour)
    by_category: dict[str, Decimal] = field(default_factory=dict)  # its expenses per category

    @property
    def breakdown(self) -> dict[str, Decimal]:
        """Its cost per category of SPEC.md's eight (labour under LABOR, as the reports
        count it): adds up to `actual`."""
        out = {c: self.by_category.get(c, ZERO) for c in CATEGORIES}
        out[LABOR] += self.labour
        return out

    @property
    def actual(self) -> Decimal:
        return self.expenses + self.labour

    @property
    def variance(self) -> Decimal | None:
        return None if self.budget is None else self.budget - self.actual

    @property
    def percent_used(self) -> Decimal | None:
        return percent(self.actual, self.budget)

    @property
    def forecast_variance(self) -> Decimal | None:
        return None if self.budget is None else self.budget - self.forecast

    @property
    def is_over(self) -> bool:
        return self.budget is not None and self.actual > self.budget

    @property
    def is_near(self) -> bool:
        used = self.percent_used
        return used is not None and used >= 90 and not self.is_over

    @property
    def category_label(self) -> str:
        return CATEGORIES.get(self.category or "", "")

    @property
    def meter_max(self) -> Decimal:
        used = self.percent_used or ZERO
        return max(HUNDRED, used)


@dataclass
class Budget:
    project: Project
    rows: list[Row] = field(default_factory=list)  # the lines, in order
    unallocated: list[Row] = field(default_factory=list)
    remaining_hours: Decimal = ZERO
    labour_to_complete: Decimal = ZERO
    labour_priced: bool = True  # a labour price was known for the remaining hours
    unpriced_hours: Decimal = ZERO

    @property
    def version(self) -> int:
        """The set of lines' version (BudgetVersion), read when asked (the API): the
        figures stay five statements for the page, the alerts and the reports."""
        return lines_version(self.project.id)

    @property
    def amount(self) -> Decimal | None:
        return self.project.budget

    @property
    def lines_total(self) -> Decimal:
        return sum((r.budget or ZERO for r in self.rows), ZERO)

    @property
    def lines_differ(self) -> bool:
        return bool(self.rows) and self.amount is not None and self.lines_total != self.amount

    @property
    def expenses(self) -> Decimal:
        return sum((r.expenses for r in self.all_rows), ZERO)

    @property
    def labour(self) -> Decimal:
        return sum((r.labour for r in self.all_rows), ZERO)

    @property
    def hours(self) -> Decimal:
        return sum((r.hours for r in self.all_rows), ZERO)

    @property
    def cost_to_date(self) -> Decimal:
        return self.expenses + self.labour

    @property
    def all_rows(self) -> list[Row]:
        return [*self.rows, *self.unallocated]

    @property
    def variance(self) -> Decimal | None:
        return None if self.amount is None else self.amount - self.cost_to_date

    @property
    def percent_used(self) -> Decimal | None:
        return percent(self.cost_to_date, self.amount)

    @property
    def open_budget(self) -> Decimal:
        return sum((max(r.budget - r.actual, ZERO) for r in self.rows if r.category != LABOR), ZERO)

    @property
    def forecast(self) -> Decimal:
        return sum((r.forecast for r in self.all_rows), ZERO)

    @property
    def forecast_variance(self) -> Decimal | None:
        return None if self.amount is None else self.amount - self.forecast

    @property
    def is_over(self) -> bool:
        return self.amount is not None and self.cost_to_date > self.amount

    @property
    def meter_max(self) -> Decimal:
        return max(HUNDRED, self.percent_used or ZERO)


# --- reading -----------------------------------------------------------------------------


def project_for_budget(user, project_id, action: str = VIEW) -> Project:
    """The project whose budget `user` reads (404 unless they see it, 403 unless costs)."""
    from app.core.errors import ObjectNotFound
    from app.projects.services import get_project

    pid = to_int(project_id)
    if pid is None:
        raise ObjectNotFound("That project does not exist or you cannot see it.")
    project = get_project(user, pid, VIEW)
    require(user, action, project)
    return project


def lines_of(project_id: int) -> list[BudgetLine]:
    return list(
        db.session.scalars(
            select(BudgetLine).where(BudgetLine.project_id == project_id).order_by(BudgetLine.position, BudgetLine.id)
        )
    )


def lines_version(project_id: int) -> int:
    """The version of the project's set of lines (1 before the first save)."""
    return db.session.scalar(select(BudgetVersion.version).where(BudgetVersion.project_id == project_id)) or 1


def budget_for(user, project: Project) -> Budget:
    """The budget page's and the API's figures, for who may see the project's costs."""
    require(user, VIEW, project)
    return figures(project)


def figures(project: Project) -> Budget:
    """Lines, actuals and forecast of `project` (no permission check: the alerts' and
    the callers' after theirs). Five statements, whatever the number of lines or rows."""
    from app.timeclock.queries import today

    lines = lines_of(project.id)
    budget = Budget(project)
    rows = {line.id: Row(line.audit_name() or line.name, line, line.category, line.amount) for line in lines}
    budget.rows = list(rows.values())
    loose: dict[str, Row] = {}
    for _pid, line_id, category, amount in db.session.execute(
        actuals.expenses_by_line(Expense.project_id == project.id)
    ).all():
        row = rows.get(line_id)
        if row is None:
            row = loose.setdefault(category, Row(f"Unallocated {CATEGORIES[category].lower()}", category=category))
        row.expenses += Decimal(amount)
        row.by_category[category] = row.by_category.get(category, ZERO) + Decimal(amount)
    labour = db.session.execute(actuals.labour_by_project(TimesheetApproval.project_id == project.id)).first()
    labour_cost, hours, unpriced = (Decimal(v) for v in labour[1:]) if labour else (ZERO, ZERO, ZERO)
    labour_line = next((r for r in budget.rows if r.category == LABOR), None)
    if labour_line is None and (hours or labour_cost):
        labour_line = loose.setdefault(LABOR, Row("Unallocated labour", category=LABOR))
    if labour_line is not None:
        labour_line.labour, labour_line.hours, labour_line.carries_labour = round_money(labour_cost), hours, True
    budget.unpriced_hours = unpriced
    remaining = db.session.execute(actuals.remaining_task_hours(Task.project_id == project.id)).first()
    budget.remaining_hours = Decimal(remaining[1]) if remaining else ZERO
    rate = None
    if hours - unpriced > 0:
        rate = labour_cost / (hours - unpriced)
    elif budget.remaining_hours:
        average = db.session.scalar(actuals.average_rate_in_force(today()))
        rate = Decimal(average) if average is not None else None
    budget.labour_priced = rate is not None or not budget.remaining_hours
    budget.labour_to_complete = round_money(budget.remaining_hours * rate) if rate is not None else ZERO
    if budget.labour_to_complete and labour_line is None:
        labour_line = loose.setdefault(LABOR, Row("Unallocated labour", category=LABOR, carries_labour=True))
    budget.unallocated = [loose[c] for c in CATEGORIES if c in loose]
    for row in budget.all_rows:
        if row.line is None or row.category == LABOR:
            row.forecast = row.actual
        else:
            row.forecast = max(row.budget, row.actual)
    if labour_line is not None:
        labour_line.forecast += budget.labour_to_complete
    return budget


# --- writing -----------------------------------------------------------------------------


def may_edit(user, project: Project) -> bool:
    return not project.is_closed and can(user, EDIT, project)


def _hours(value) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        hours = parse_price(value, "estimated hours")
    except ValueError as exc:
        message = str(exc).replace("Enter the estimated hours such as 1250.00", "Enter hours such as 120 or 37.5")
        raise ValueError(message) from None
    if hours >= MAX_HOURS:
        raise ValueError("That is too many hours (under 10,000,000).")
    return hours


def clean_row(item) -> dict:
    """One line as typed or sent: ValueError says what is wrong."""
    if not isinstance(item, dict):
        raise ValueError("send an object.")
    values = {
        "code": str(item.get("code") or "").strip(),
        "name": str(item.get("name") or "").strip(),
        "category": str(item.get("category") or "").strip().upper() or None,
    }
    if not values["name"]:
        raise ValueError("enter the phase or line name.")
    errors: dict[str, str] = {}
    check_lengths(values, LIMITS, errors)
    if errors:
        key = next(iter(errors))
        raise ValueError(
            f"the {'cost code' if key == 'code' else 'name'} is too long (at most {LIMITS[key]} characters)."
        )
    if values["category"] is not None and values["category"] not in CATEGORIES:
        raise ValueError("the category is one of " + ", ".join(CATEGORIES.values()).lower() + ".")
    if item.get("amount") in (None, ""):
        raise ValueError("enter the budget amount.")
    values["amount"] = parse_price(item.get("amount"), "budget amount")
    values["estimated_hours"] = _hours(item.get("estimated_hours"))
    return values


def clean_rows(raw) -> list[dict]:
    if not isinstance(raw, list | tuple):
        raise ValidationError({"lines": "Send the lines as a list."})
    if len(raw) > MAX_LINES:
        raise ValidationError({"lines": f"At most {MAX_LINES} lines."})
    problems, cleaned, codes = [], [], {}
    for number, item in enumerate(raw, start=1):
        try:
            values = clean_row(item)
        except ValueError as exc:
            message = str(exc)
            problems.append(f"Line {number}: {message[0].lower() + message[1:]}")
            continue
        if values["code"]:
            if values["code"].lower() in codes:
                problems.append(
                    f"Line {number}: the cost code {values['code']} is already line {codes[values['code'].lower()]}'s."
                )
                continue
            codes[values["code"].lower()] = number
        values["id"] = to_int(item.get("id")) if item.get("id") not in (None, "") else None
        if item.get("id") not in (None, "") and values["id"] is None:
            problems.append(f"Line {number}: that line id is not one of this project's.")
            continue
        try:
            values["version"] = parse_version(item.get("version"))
        except ValidationError:
            problems.append(f"Line {number}: send the version as a whole number.")
            continue
        cleaned.append(values)
    if problems:
        raise ValidationError({"lines": " ".join(problems[:5]) + (" …" if len(problems) > 5 else "")})
    return cleaned


class StaleBudget(StaleObject):
    """The set of lines changed since the caller read it (`obj`: the project)."""

    def __init__(self, project: Project):
        super().__init__(
            project,
            "This budget's lines were changed by someone else since you opened them. Review them and save again.",
        )


def expect_lines_version(project: Project, version) -> None:
    """Lock the project's row (every writer of the lines takes it first: of two saves
    from the same version, the second waits, then finds the version moved) and refuse
    a save based on another version of the set. Nothing sent: nothing to compare (the
    API's PUT without `version`; clients should send it). Not a version: a field error."""
    sent = parse_version(version)
    db.session.execute(select(Project.id).where(Project.id == project.id).with_for_update())
    if sent is not None and sent != lines_version(project.id):
        raise StaleBudget(project)


def _bump_lines_version(project_id: int) -> None:
    """The next version of the set (called under the project's row lock)."""
    row = db.session.scalar(
        select(BudgetVersion).where(BudgetVersion.project_id == project_id).execution_options(populate_existing=True)
    )
    if row is None:
        db.session.add(BudgetVersion(project_id=project_id, version=2))
    else:
        row.version += 1


def save_lines(actor, project: Project, raw_rows, remove=None, version=None) -> list[BudgetLine]:
    """Write the project's lines from `raw_rows` (in order; a row with an `id` changes
    that line, checked against its `version`; one without adds a line). `remove`: the
    ids of lines to delete (the form's ticks); None replaces — every line not sent is
    deleted (the API's PUT). `version`: the set's version the caller read (a stale one
    is a StaleBudget; None: not checked). Nothing is written unless all of it is valid;
    every save bumps the set's version."""
    from sqlalchemy.orm.exc import StaleDataError

    from app.core.transaction import attempt

    try:
        with attempt():
            return _save_lines(actor, project, raw_rows, remove, version)
    except StaleDataError:
        raise ConflictError(
            "A line of this budget was saved by someone else meanwhile: reload the budget and save again."
        ) from None


def _save_lines(actor, project: Project, raw_rows, remove, version) -> list[BudgetLine]:
    require(actor, EDIT, project)
    if project.is_closed:
        raise ConflictError("This project is closed: its budget no longer changes.")
    rows = clean_rows(raw_rows)
    expect_lines_version(project, version)
    existing = {line.id: line for line in lines_of(project.id)}
    sent = [row["id"] for row in rows if row["id"] is not None]
    if len(sent) != len(set(sent)):
        raise ValidationError({"lines": "A line is sent twice."})
    for row in rows:
        if row["id"] is not None and row["id"] not in existing:
            raise ConflictError("A line of this budget was deleted meanwhile: reload the budget and save again.")
        line = existing.get(row["id"])
        if line is not None and row["version"] is not None and row["version"] != line.version:
            raise StaleObject(line)
    removing = set(existing) - set(sent) if remove is None else {to_int(i) for i in remove} & set(existing)
    for line_id in sorted(removing):
        db.session.delete(existing[line_id])
    db.session.flush()
    written = []
    for position, row in enumerate(rows):
        line = existing.get(row["id"])
        if line is None:
            line = BudgetLine(project_id=project.id)
            db.session.add(line)
        for key in (*FIELDS, "position"):
            value = position if key == "position" else row[key]
            if getattr(line, key, None) != value:
                setattr(line, key, value)
        written.append(line)
    _bump_lines_version(project.id)
    db.session.flush()
    from app.budgets.alerts import check_projects

    check_projects([project.id])
    publish_budget(project)
    return written


def _shown(key: str, value) -> str:
    """A line's field as people compare it: amounts and hours as numbers (12,000 = 12000.00)."""
    text = " ".join(str(value or "").split())
    if key in ("amount", "estimated_hours") and text:
        try:
            return format(Decimal(text.replace(",", "")).normalize(), "f")
        except ArithmeticError:
            return text
    return text.upper() if key == "category" else text


def lines_meanwhile(project: Project, typed: list[dict]):
    """The "changed meanwhile" notice of a stale lines' form (core.versioning.Meanwhile):
    who saved the lines last and when, and per line what is saved now beside what was
    typed — a field changed, a line deleted or added meanwhile."""
    from app.core.audit import AuditLog
    from app.core.audit_text import actor_name
    from app.core.versioning import Difference, Meanwhile

    entry = db.session.scalars(
        select(AuditLog)
        .where(AuditLog.object_type == "BudgetLine", AuditLog.project_id == project.id, AuditLog.result == "success")
        .order_by(AuditLog.id.desc())
        .limit(1)
    ).first()
    labels = BudgetLine.__audit_labels__
    saved = {str(line.id): line for line in lines_of(project.id)}
    rows, seen = [], set()
    for row in typed:
        ident = str(row.get("id") or "")
        if not ident:
            continue  # a line being added: nothing saved to compare it with
        line = saved.get(ident)
        name = " ".join(filter(None, (row.get("code", "").strip(), row.get("name", "").strip()))) or "A line"
        if line is None:
            rows.append(Difference(name, "deleted", _shown("amount", row.get("amount"))))
            continue
        seen.add(ident)
        for key in FIELDS:
            now = line.category or "" if key == "category" else getattr(line, key)
            if _shown(key, now) != _shown(key, row.get(key)):
                label = f"{line.audit_name() or line.name}: {labels[key]}"
                rows.append(Difference(label, _shown(key, now), _shown(key, row.get(key))))
    for ident, line in saved.items():
        if ident not in seen:
            rows.append(Difference(line.audit_name() or line.name, f"added, {line.amount:,.2f}", "not in your form"))
    by, at = (actor_name(entry), entry.created_at) if entry is not None else ("someone else", None)
    return Meanwhile(by=by, at=at, version=lines_version(project.id), rows=rows)


def publish_budget(project: Project) -> None:
    """`budget-changed` to whoever may see the project's costs (admins by role)."""
    people = entitled(project_audience(project), lambda user: can(user, VIEW, project))
    publish("budget-changed", {"id": project.id, "project_id": project.id}, users=people, roles=[ADMIN])


def category_choices() -> list[tuple[str, str]]:
    return [("", "—"), *CATEGORIES.items()]
