"""Dates and times as people read them: in the company's time zone (COMPANY_TIMEZONE),
one format everywhere — "Nov 29, 2026" and "Nov 29, 2026 3:04 PM MST".

Stored times are UTC (timezone-aware on PostgreSQL; SQLite hands back naive values,
which are UTC too). Calendar dates (a project's start date) have no time zone and are
shown as they are.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_TIMEZONE = "America/Denver"
EMPTY = "—"


def zone_problem(name: str | None) -> str | None:
    """Why `name` is not a usable IANA time zone, or None when it is."""
    if not name:
        return "COMPANY_TIMEZONE is empty"
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return f"COMPANY_TIMEZONE {name!r} is not a known time zone (use an IANA name such as America/Denver)"
    return None


def company_zone(name: str | None = None) -> ZoneInfo:
    """The configured zone (the app's COMPANY_TIMEZONE unless `name` is given); a bad
    name outside staging/production falls back to the default rather than break pages."""
    if name is None:
        from flask import current_app, has_app_context

        name = current_app.config.get("COMPANY_TIMEZONE") if has_app_context() else None
    try:
        return ZoneInfo(name or DEFAULT_TIMEZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TIMEZONE)


def to_company_time(value: datetime, zone: ZoneInfo | None = None) -> datetime:
    """`value` (UTC, aware or naive) in the company's time zone."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(zone or company_zone())


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _day(value: date) -> str:
    return f"{_MONTHS[value.month - 1]} {value.day}, {value.year}"  # "%b" without strftime


def format_date(value: date | datetime | None, zone: ZoneInfo | None = None) -> str:
    """Nov 29, 2026 — a datetime is first moved into the company's time zone (the day
    it was there), a date is shown as it is."""
    if value is None or value == "":
        return EMPTY
    if isinstance(value, datetime):
        value = to_company_time(value, zone)
    return _day(value)


def format_datetime(value: datetime | None, zone: ZoneInfo | None = None) -> str:
    """Nov 29, 2026 3:04 PM MST — always with the zone's abbreviation."""
    if value is None or value == "":
        return EMPTY
    if not isinstance(value, datetime):
        return format_date(value, zone)
    local = to_company_time(value, zone)
    hour = local.hour % 12 or 12
    return f"{_day(local)} {hour}:{local:%M} {local:%p} {local.tzname()}"


def input_date(value: date | None) -> str:
    """A date as an <input type="date"> holds it (YYYY-MM-DD), or "" for none."""
    return value.isoformat() if value else ""
