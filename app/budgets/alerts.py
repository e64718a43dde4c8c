"""Budget alerts: the project's PMs are told when a line, or the project's whole budget,
reaches 90 % and 100 % — once per line (or project) and threshold, ever.

Checked whenever cost may have moved, in the transaction that moved it: an expense's
live event (a `live_listeners` hook on the expense events), a timesheet approved or
withdrawn (timeclock.services calls `check_projects`), a cost rate set or deleted
(budgets.rates), the budget's lines saved, the project's budget changed
(`project-updated`). A threshold told is a `budget_alerts` row inserted with
`ON CONFLICT DO NOTHING … RETURNING`: of two transactions checking at once, the second
waits on the unique index for the first and gets nothing back, so only one tells. A row
rolled back with its transaction tells nothing and the next check tells again.

Reaching 100 % at once writes both rows and sends one notification (the higher). Costs
falling back below a threshold do not re-arm it. The notification names the line and
the figures the PMs already see on the budget page (cost to date, budget) — never a rate.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from app.budgets.models import THRESHOLDS, BudgetAlert
from app.core.permissions import can
from app.core.roles import PM_ROLES
from app.extensions import db

PROJECT = "project"
KIND = "budget_alert"
# live events after which an expense's project's cost may have changed (app/expenses)
COST_EVENTS = frozenset(
    {"expense-changed", "expense-created", "expense-updated", "expense-deleted", "reimbursement-changed"}
)


def on_live_event(message: dict) -> None:
    """Feature.live_listeners hook: re-check the project an expense event names, and a
    project whose budget may have changed (`project-updated`)."""
    name, data = message.get("event"), message.get("data") or {}
    if name in COST_EVENTS:
        project_id = data.get("project_id")
    elif name == "project-updated":
        project_id = data.get("id")
    else:
        return
    if isinstance(project_id, int) and not isinstance(project_id, bool):
        check_projects([project_id])


def _insert():
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(BudgetAlert)


def reached(budget) -> list[tuple[str, int, str, Decimal, Decimal]]:
    """(subject, threshold, label, actual, budget) of every threshold `budget` has reached."""
    found = []
    for row in budget.rows:
        if row.budget and row.budget > 0:
            for threshold in THRESHOLDS:
                if row.actual * 100 >= row.budget * threshold:
                    found.append((f"line:{row.line.id}", threshold, row.label, row.actual, row.budget))
    if budget.amount and budget.amount > 0:
        for threshold in THRESHOLDS:
            if budget.cost_to_date * 100 >= budget.amount * threshold:
                found.append((PROJECT, threshold, "the project", budget.cost_to_date, budget.amount))
    return found


def check_projects(project_ids) -> int:
    """Tell the PMs of each project of every threshold newly reached; returns how many
    notifications were made."""
    from app.budgets.services import figures
    from app.projects.models import Project

    told = 0
    for project_id in sorted({int(i) for i in project_ids if i is not None}):
        project = db.session.get(Project, project_id)
        if project is None:
            continue
        candidates = reached(figures(project))
        if not candidates:
            continue
        known = set(
            db.session.execute(
                select(BudgetAlert.subject, BudgetAlert.threshold).where(BudgetAlert.project_id == project.id)
            ).all()
        )
        fresh = [c for c in candidates if (c[0], c[1]) not in known]
        if not fresh:
            continue
        stmt = (
            _insert()
            .values([{"project_id": project.id, "subject": s, "threshold": t} for s, t, *_ in fresh])
            .on_conflict_do_nothing(index_elements=["project_id", "subject", "threshold"])
            .returning(BudgetAlert.subject, BudgetAlert.threshold)
        )
        inserted = set(db.session.execute(stmt).all())
        highest: dict[str, tuple] = {}
        for candidate in fresh:
            subject, threshold = candidate[0], candidate[1]
            if (subject, threshold) in inserted and (subject not in highest or threshold > highest[subject][1]):
                highest[subject] = candidate
        for candidate in highest.values():
            told += _tell(project, *candidate)
    return told


def recipients(project) -> list:
    """The project's PMs (and trainees) who may see its costs, active."""
    return [
        person
        for person in project.pms
        if person.role in PM_ROLES and person.is_active and can(person, "costs.view", project)
    ]


def _tell(project, subject: str, threshold: int, label: str, actual: Decimal, amount: Decimal) -> int:
    from app.budgets.services import percent
    from app.notifications.services import notify

    used = percent(actual, amount)
    what = "the project" if subject == PROJECT else f"the line {label}"
    if actual > amount:
        title = f"{project.name}: {what} is over budget ({used} % used)"
    else:
        title = f"{project.name}: {what} has used {used} % of its budget"
    body = f"Cost to date {actual:,.2f} of a budget of {amount:,.2f}. The budget page shows each line and the forecast."
    people = recipients(project)
    for person in people:
        notify(person, KIND, title, "budgets.project_budget", {"project_id": project.id}, body=body,
               project_id=project.id)  # fmt: skip
    return len(people)
