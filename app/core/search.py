"""The one search rule for every search box and `?search=`: case-insensitive "contains"
over a few columns, with the user's `%`, `_` and `\\` taken literally."""

from __future__ import annotations

from sqlalchemy import false, func, or_, true

ESCAPE = "\\"


def escape_like(text: str) -> str:
    """`text` as a literal inside a LIKE pattern (with ESCAPE '\\')."""
    return text.replace(ESCAPE, ESCAPE * 2).replace("%", ESCAPE + "%").replace("_", ESCAPE + "_")


def contains(columns, text: str | None):
    """A WHERE clause: any of `columns` contains `text` (ignoring case). Blank text
    matches everything, so callers can always `.where(contains(...))`."""
    text = (text or "").strip()
    if not text:
        return true()
    columns = list(columns)
    if not columns:
        return false()
    pattern = f"%{escape_like(text.lower())}%"
    return or_(*(func.lower(column).like(pattern, escape=ESCAPE) for column in columns))
