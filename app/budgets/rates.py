"""Cost rates: what an hour of a person costs the company, from a date (SPEC.md §2
"Payroll and wages: admin only" — `payroll.view`, admins only, in every channel).

A rate holds from its `effective_from` until the person's next rate; the labour cost of
an approved week uses the rate in force on the week's Monday (budgets.actuals). A rate
is versioned: setting one for a date that already has one is refused (`RateExists`,
the form names it and links to its edit) rather than overwriting it unseen; it is
corrected by its own edit form or deleted, each checked against the version read (a
stale one is a StaleObject: "changed meanwhile"). Every change re-checks the budget
alerts of the projects whose cost it moves."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.auth.models import User
from app.budgets.models import CostRate
from app.core.dates import parse_date
from app.core.errors import ObjectNotFound, ValidationError
from app.core.money import parse_price
from app.core.numbers import to_int
from app.core.permissions import require
from app.core.roles import CLIENT
from app.core.transaction import attempt
from app.core.versioning import checks_version, expect_version
from app.extensions import db

PAYROLL = "payroll.view"
MAX_RATE = Decimal("100000")
EARLIEST = dt.date(2000, 1, 1)


def today() -> dt.date:
    from app.timeclock.queries import today as company_today

    return company_today()


@dataclass(frozen=True)
class PersonRate:
    person: User
    rate: CostRate | None  # in force today
    upcoming: CostRate | None  # the next one set for a later date


def staff(actor) -> list[User]:
    """The people a rate can be set for: active staff (never a client's account)."""
    require(actor, PAYROLL)
    return list(
        db.session.scalars(
            select(User).where(User.role != CLIENT, User.is_active_flag.is_(True)).order_by(User.full_name, User.id)
        )
    )


def people_rates(actor) -> list[PersonRate]:
    """Each active staff member with the rate in force today and the next one set."""
    people = staff(actor)
    rates: dict[int, list[CostRate]] = {}
    for rate in db.session.scalars(select(CostRate).order_by(CostRate.user_id, CostRate.effective_from)):
        rates.setdefault(rate.user_id, []).append(rate)
    day, shown = today(), []
    for person in people:
        mine = rates.get(person.id, [])
        past = [r for r in mine if r.effective_from <= day]
        future = [r for r in mine if r.effective_from > day]
        shown.append(PersonRate(person, past[-1] if past else None, future[0] if future else None))
    return shown


def person_for_rates(actor, user_id) -> User:
    require(actor, PAYROLL)
    uid = to_int(user_id)
    person = db.session.get(User, uid) if uid is not None else None
    if person is None or person.role == CLIENT:
        raise ObjectNotFound("That person does not exist.")
    return person


def history(actor, person: User) -> list[CostRate]:
    """Every rate of `person`, newest first."""
    require(actor, PAYROLL)
    return list(
        db.session.scalars(
            select(CostRate).where(CostRate.user_id == person.id).order_by(CostRate.effective_from.desc())
        )
    )


def clean(data: dict) -> tuple[Decimal, dt.date]:
    errors: dict[str, str] = {}
    cost = None
    try:
        cost = parse_price(data.get("hourly_cost"), "hourly cost")
        if cost >= MAX_RATE:
            errors["hourly_cost"] = "An hourly cost is under 100,000.00."
    except ValueError as exc:
        errors["hourly_cost"] = str(exc)
    day = parse_date(data.get("effective_from"), "effective_from", errors, EARLIEST, today() + dt.timedelta(days=730))
    if day is None and "effective_from" not in errors:
        errors["effective_from"] = "Enter the date the rate starts (YYYY-MM-DD)."
    if errors:
        raise ValidationError(errors)
    return cost, day


class RateExists(ValidationError):
    """`person` already has a rate from that date (`rate`): the date field says so and
    the form links to that rate's edit."""

    def __init__(self, rate: CostRate):
        super().__init__(
            {
                "effective_from": f"There is already a rate from {rate.effective_from.isoformat()}: "
                f"{rate.hourly_cost:,.2f} an hour. Edit that rate to change it, or choose another date."
            }
        )
        self.rate = rate


def _rate_on(person_id: int, day: dt.date) -> CostRate | None:
    return db.session.scalar(select(CostRate).where(CostRate.user_id == person_id, CostRate.effective_from == day))


def set_rate(actor, person: User, data: dict) -> CostRate:
    """Set `person`'s hourly cost from a date; a date that already has a rate is refused
    (RateExists) — that rate is changed by its edit, knowing what it says."""
    require(actor, PAYROLL)
    if person.role == CLIENT or not person.is_active_flag:
        raise ValidationError({"user_id": "Choose an active member of staff."})
    cost, day = clean(data)
    found = _rate_on(person.id, day)
    if found is not None:
        raise RateExists(found)
    rate = CostRate(user_id=person.id, effective_from=day, hourly_cost=cost, created_by_id=actor.id)
    try:
        with attempt():  # another admin setting the same date at the same moment: the unique index
            db.session.add(rate)
            db.session.flush()
    except IntegrityError:
        found = _rate_on(person.id, day)
        if found is None:
            raise
        raise RateExists(found) from None
    _recheck(person.id, day)
    return rate


@checks_version("rate")
def edit_rate(actor, rate: CostRate, data: dict, version) -> CostRate:
    """Correct a rate (its hourly cost, its date), based on `version` (a stale one is a
    StaleObject); moving it onto a date that has another rate is refused (RateExists)."""
    require(actor, PAYROLL)
    expect_version(rate, version)
    cost, day = clean(data)
    if day != rate.effective_from:
        found = _rate_on(rate.user_id, day)
        if found is not None:
            raise RateExists(found)
    before, person_id = rate.effective_from, rate.user_id
    try:
        with attempt():  # another admin took that date at the same moment: the unique index
            rate.hourly_cost, rate.effective_from = cost, day
            db.session.flush()
    except IntegrityError:
        found = _rate_on(person_id, day)
        if found is None:
            raise
        raise RateExists(found) from None
    _recheck(person_id, min(before, day))
    return rate


def get_rate(actor, rate_id) -> CostRate:
    require(actor, PAYROLL)
    rid = to_int(rate_id)
    rate = db.session.get(CostRate, rid) if rid is not None else None
    if rate is None:
        raise ObjectNotFound("That cost rate does not exist.")
    return rate


@checks_version("rate")
def delete_rate(actor, rate: CostRate, version=None) -> None:
    """Delete a rate set by mistake, based on `version` (a stale one is a StaleObject:
    nothing deleted)."""
    require(actor, PAYROLL)
    expect_version(rate, version)
    person_id, day = rate.user_id, rate.effective_from
    db.session.delete(rate)
    db.session.flush()
    _recheck(person_id, day)


def _recheck(person_id: int, day: dt.date) -> None:
    """The budgets of the projects whose labour cost a rate from `day` moves."""
    from app.budgets.alerts import check_projects
    from app.timeclock.models import TimesheetApproval

    projects = db.session.scalars(
        select(func.distinct(TimesheetApproval.project_id)).where(
            TimesheetApproval.user_id == person_id, TimesheetApproval.week_start >= day
        )
    )
    check_projects(list(projects))
