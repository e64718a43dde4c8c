"""Reads of the time clock that other features call (no permission check here: the
caller has checked) and the company-time day and week helpers."""

from __future__ import annotations

import datetime
from collections import defaultdict
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.core.models import utcnow
from app.core.timezones import company_zone, to_company_time
from app.extensions import db
from app.timeclock.models import Punch


def day_bounds(day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """The company-time day `day` as [start, end) in UTC (23 or 25 hours across DST)."""
    zone = company_zone()
    start = datetime.datetime.combine(day, datetime.time(0), tzinfo=zone)
    end = datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time(0), tzinfo=zone)
    return start.astimezone(datetime.UTC), end.astimezone(datetime.UTC)


def week_start(day: datetime.date) -> datetime.date:
    """The Monday of `day`'s week."""
    return day - datetime.timedelta(days=day.weekday())


def week_bounds(monday: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """Monday 00:00 to the next Monday 00:00, company time, in UTC."""
    start, _ = day_bounds(monday)
    end, _ = day_bounds(monday + datetime.timedelta(days=7))
    return start, end


def local_day(value: datetime.datetime) -> datetime.date:
    """The company-time day of a stored (UTC) time."""
    return to_company_time(value).date()


def today() -> datetime.date:
    return local_day(utcnow())


def crew_on(project_id: int, day: datetime.date) -> list[tuple[int, str, Decimal]]:
    """(user id, full name, hours worked that day on the project) of everyone with a punch
    on `project_id` whose clock-in falls on the company-time day `day`, ordered by name.
    An open punch counts until now. No permission check: the caller (the daily log) has."""
    start, end = day_bounds(day)
    punches = db.session.scalars(
        select(Punch)
        .where(Punch.project_id == project_id, Punch.clock_in >= start, Punch.clock_in < end)
        .options(selectinload(Punch.breaks))
    ).all()
    now = utcnow()
    names: dict[int, str] = {}
    hours: dict[int, Decimal] = defaultdict(Decimal)
    for punch in punches:
        names[punch.user_id] = punch.user.name
        hours[punch.user_id] += punch.hours if punch.hours is not None else punch.worked_hours(now)
    order = sorted(names, key=lambda uid: (names[uid].casefold(), uid))
    return [(uid, names[uid], hours[uid].quantize(Decimal("0.01"))) for uid in order]
