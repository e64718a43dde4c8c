"""Names as stored and compared — one rule for every unique name (projects, clients,
usernames, emails) — and the length limits of text fields.

`normalise(value)` is what gets stored: Unicode NFKC (so "José" typed as e + combining
accent is the same text as "José"), zero-width and bidirectional control characters
removed, runs of whitespace one space, trimmed.

`name_key(value)` is what uniqueness is decided on: the normalised text, case-folded by
Python (`str.casefold`, full Unicode folding: "Σ", "σ" and "ς" fold alike, "İ" folds to
"i̇"), NFKC again. It is computed here and stored in its own column with a unique index,
so the database never has to agree with Python about letters: PostgreSQL's `lower()`
depends on the database's collation and does not fold "ς" or "ß", which is how exact
duplicates used to reach the index as a 500.
"""

from __future__ import annotations

import re
import unicodedata

# Zero-width characters and bidirectional controls: invisible, so two names that differ
# only by them look the same (and bidi controls can reorder what is shown).
INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0]"
)
_SPACES = re.compile(r"\s+")


def normalise(value) -> str:
    """Text as stored: NFKC, invisible characters removed, whitespace collapsed, trimmed."""
    text = unicodedata.normalize("NFKC", str(value or ""))
    text = INVISIBLE.sub("", text)
    return _SPACES.sub(" ", text).strip()


def name_key(value) -> str:
    """What two names are compared by: normalised, case-folded (Python's full folding)."""
    return unicodedata.normalize("NFKC", normalise(value).casefold())


# Maximum lengths of free text (descriptions, notes): enforced by the services and shown
# in the forms (`maxlength`). One-line fields take the length of their column.
LONG_TEXT = 10_000

# Every model's table of limits, declared once by its service ({field: characters}); the
# forms read them as the `limits` template global: maxlength=limits.project.description.
FIELD_LIMITS: dict[str, dict[str, int]] = {}


def declare_limits(model: str, limits: dict[str, int]) -> dict[str, int]:
    FIELD_LIMITS[model] = limits
    return limits


def check_lengths(values: dict, limits: dict[str, int], errors: dict[str, str]) -> None:
    """A field error for every value longer than its limit (never silently cut)."""
    for key, limit in limits.items():
        value = values.get(key)
        if isinstance(value, str) and len(value) > limit:
            errors.setdefault(key, f"At most {limit:,} characters, please (this has {len(value):,}).")


def key_of(column: str):
    """A column default computing the key of `column` for inserts that bypass the model's
    validator (bulk `insert()` of the seed, a job's Core statement)."""

    def default(context) -> str:
        return name_key(context.get_current_parameters().get(column))

    return default


SPREADSHEET_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value) -> str:
    """A CSV cell a spreadsheet will not run as a formula (quoted as text); "" for None."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(SPREADSHEET_FORMULA) else text
