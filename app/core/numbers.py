"""Whole numbers from untrusted input (query strings, forms, JSON, headers).

`str.isdigit()` accepts "²" and has no upper bound, and PostgreSQL integers stop at
2³¹−1: every id and page number goes through here so bad input is simply "no value"."""

from __future__ import annotations

MAX_ID = 2**31 - 1
MAX_PAGE = 100_000


def to_int(value, maximum: int = MAX_ID, minimum: int = 1) -> int | None:
    """An int from minimum to maximum from a str/int, else None (bools and floats refused)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        number = int(value.strip())
    else:
        return None
    return number if minimum <= number <= maximum else None


def page_number(value) -> int:
    """A page number from a query string: 1 when missing or bad, capped at MAX_PAGE."""
    return to_int(value, MAX_PAGE) or 1


def id_list(raw, field: str, errors: dict, limit: int) -> list[int] | None:
    """A list of ids from a form (strings) or JSON (ints); None when not sent."""
    if raw is None:
        return None
    if isinstance(raw, (str, int)) and not isinstance(raw, bool):
        raw = [raw]
    if not isinstance(raw, (list, tuple)):
        errors[field] = "Send a list of ids."
        return None
    ids = []
    for item in raw:
        if item in ("", None):
            continue
        value = None if isinstance(item, bool) else to_int(item)
        if value is None:
            errors[field] = f"Not an id: {str(item)[:20]!r}."
            return None
        if value not in ids:
            ids.append(value)
    if len(ids) > limit:
        errors[field] = f"At most {limit} at once."
        return None
    return ids
