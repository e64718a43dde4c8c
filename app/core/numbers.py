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
