"""The one search rule for every search box and `?search=`: case-insensitive "contains"
over a few columns, with the user's `%`, `_` and `\\` taken literally.

On PostgreSQL every searched column has a GIN trigram index on exactly the expression
searched, `lower(column) gin_trgm_ops` (`trigram_index`, migration 0006), so a search
answers from the index instead of reading every row; SQLite (embedded mode) has no
pg_trgm and reads the rows, as before."""

from __future__ import annotations

from sqlalchemy import Index, false, func, or_, true

ESCAPE = "\\"


def escape_like(text: str) -> str:
    """`text` as a literal inside a LIKE pattern (with ESCAPE '\\')."""
    return text.replace(ESCAPE, ESCAPE * 2).replace("%", ESCAPE + "%").replace("_", ESCAPE + "_")


def searched(column):
    """The expression a search compares (and its trigram index indexes)."""
    return func.lower(column)


def pattern(text: str) -> str:
    """The LIKE pattern of a search for `text` (already stripped, not blank)."""
    return f"%{escape_like(text.lower())}%"


def _any_column(columns, text: str | None, test):
    """`test(lowered column, stripped text)` for any of `columns`: blank text matches
    everything (callers can always `.where(...)`), no columns nothing."""
    text = (text or "").strip()
    if not text:
        return true()
    columns = list(columns)
    if not columns:
        return false()
    return or_(*(test(searched(column), text) for column in columns))


def contains(columns, text: str | None):
    """A WHERE clause: any of `columns` contains `text` (ignoring case). Blank text
    matches everything, so callers can always `.where(contains(...))`."""
    return _any_column(columns, text, lambda column, typed: column.like(pattern(typed), escape=ESCAPE))


def contains_tested(columns, text: str | None):
    """The same matches as `contains`, written for a plan that walks an ordering index
    and tests each row it reaches (a common term, projects.queries.search_page_source):
    `strpos(lower(column), text) > 0`, which needs no escaping. PostgreSQL plans
    prepared statements once for any value (config `DB_PLAN_CACHE_MODE`), and for
    `LIKE $1` it guesses that one row in 200 matches — too few to walk an index for, so
    its plan read and sorted every project (1.5 ms at 2,000); for `strpos(…) > 0` it
    guesses a third, which is what a common term is, and walks the index (0.04 ms)."""
    return _any_column(columns, text, lambda column, typed: func.strpos(column, typed.lower()) > 0)


def trigram_index(name: str, column) -> Index:
    """The GIN trigram index serving `contains()` on `column`: `lower(column)
    gin_trgm_ops`, PostgreSQL only (`ddl_if`: SQLite has no pg_trgm). Declared beside the
    model so autogenerate sees what migration 0006 created."""
    label = f"{column.key}_searched"
    return Index(
        name,
        searched(column).label(label),
        postgresql_using="gin",
        postgresql_ops={label: "gin_trgm_ops"},
    ).ddl_if(dialect="postgresql")
