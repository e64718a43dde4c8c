"""Dates from input (forms and JSON), one rule for every service."""

from __future__ import annotations

from datetime import date


def parse_date(value, field: str, errors: dict, earliest: date | None = None, latest: date | None = None):
    """A date from `value` (a date, or text YYYY-MM-DD); None when empty. A bad one
    records a message under `field` in `errors` and answers None."""
    if value in (None, ""):
        return None
    if isinstance(value, date):
        parsed = value
    else:
        try:
            parsed = date.fromisoformat(str(value).strip())
        except ValueError:
            errors[field] = "Enter a date as YYYY-MM-DD."
            return None
    if (earliest and parsed < earliest) or (latest and parsed > latest):
        errors[field] = f"Enter a date between {earliest.year} and {latest.year}."
        return None
    return parsed
