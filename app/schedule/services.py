"""The schedule's settings and reads: company holidays, each person's daily capacity,
and the conflicts panel's page. Services never commit (one commit per request)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from sqlalchemy import select

from app.auth.models import User
from app.core.errors import ObjectNotFound, ValidationError
from app.core.numbers import to_int
from app.core.pagination import Page, paginate
from app.core.permissions import require
from app.core.roles import CLIENT
from app.extensions import db
from app.schedule.conflicts import Filters, conflict_list, describe
from app.schedule.models import SEVERITIES, CompanyHoliday

PANEL_PAGE_SIZE = 25
MAX_CAPACITY = Decimal("24")


# --- holidays ------------------------------------------------------------------------------


def holidays(actor) -> list[CompanyHoliday]:
    require(actor, "settings.manage")
    return list(db.session.scalars(select(CompanyHoliday).order_by(CompanyHoliday.day)))


def add_holiday(actor, day: str, name: str) -> CompanyHoliday:
    require(actor, "settings.manage")
    errors = {}
    name = (name or "").strip()
    try:
        when = date.fromisoformat((day or "").strip())
    except ValueError:
        when = None
        errors["day"] = "Enter a date as YYYY-MM-DD."
    if not name:
        errors["name"] = "Name the holiday."
    elif len(name) > 120:
        errors["name"] = "At most 120 characters."
    if when is not None and db.session.scalar(select(CompanyHoliday.id).where(CompanyHoliday.day == when)):
        errors["day"] = "That day is already a holiday."
    if errors:
        raise ValidationError(errors)
    holiday = CompanyHoliday(day=when, name=name)
    db.session.add(holiday)
    db.session.flush()
    return holiday


def delete_holiday(actor, holiday_id) -> None:
    require(actor, "settings.manage")
    holiday_id = to_int(holiday_id)
    holiday = db.session.get(CompanyHoliday, holiday_id) if holiday_id is not None else None
    if holiday is None:
        raise ObjectNotFound("That holiday does not exist.")
    db.session.delete(holiday)
    db.session.flush()


# --- capacity --------------------------------------------------------------------------------


def staff(actor) -> list[User]:
    """The people the schedule books (everyone but clients), for the capacity form."""
    require(actor, "settings.manage")
    return list(
        db.session.scalars(
            select(User)
            .where(User.role != CLIENT, User.is_active_flag.is_(True))
            .order_by(User.full_name, User.username)
        )
    )


def set_capacity(actor, user_id, hours: str) -> User:
    """A person's daily capacity in hours (more than 0, at most 24)."""
    require(actor, "settings.manage")
    user_id = to_int(user_id)
    user = db.session.get(User, user_id) if user_id is not None else None
    if user is None or user.role == CLIENT:
        raise ValidationError({"user_id": "Choose a person."})
    try:
        value = Decimal((hours or "").strip())
    except InvalidOperation:
        raise ValidationError({"hours": "Enter a number of hours, e.g. 8 or 6.5."}) from None
    if not value.is_finite() or value <= 0 or value > MAX_CAPACITY:
        raise ValidationError({"hours": "Enter more than 0 and at most 24 hours."})
    user.daily_capacity_hours = value.quantize(Decimal("0.01"))
    db.session.flush()
    return user


# --- the panel -------------------------------------------------------------------------------


def check_severity(value: str | None) -> str | None:
    if value in (None, ""):
        return None
    if value not in SEVERITIES:
        raise ValidationError({"severity": f"One of {', '.join(SEVERITIES)}."})
    return value


def panel_page(user, page: int, severity: str | None = None) -> tuple[Page, dict]:
    """A page of the conflicts `user` may see, and its reasons grouped by severity
    (most severe first)."""
    found = paginate(conflict_list(user, Filters(severity=check_severity(severity))), page, PANEL_PAGE_SIZE)
    groups: dict[str, list] = {}
    for reason in describe(user, found.items):
        groups.setdefault(reason.severity, []).append(reason)
    ordered = {level: groups[level] for level in reversed(SEVERITIES) if level in groups}
    return found, ordered


def conflict_page(user, filters: Filters, page: int, page_size: int) -> Page:
    """A page of the conflicts `user` may see, as reasons (the API's list)."""
    found = paginate(conflict_list(user, filters), page, page_size)
    found.items = describe(user, found.items)
    return found
