"""Human-readable document numbers: `EST-2026-0007`, `CO-2026-0003`, `INV-2026-0042`.

One counter row per kind and year (`document_counters`), incremented by an
INSERT … ON CONFLICT DO UPDATE … RETURNING inside the caller's transaction:
- unique: PostgreSQL serialises the upsert on the counter's row, so two requests
  creating at once wait for each other and get consecutive numbers;
- gap-free: a transaction that fails after taking a number rolls the counter back
  with it, so the number is taken again by the next document;
- never reused: a committed number stays counted when its document is deleted or
  cancelled (the counter only goes up).
The year is the document's own (its issue date's) in the company's time zone.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db

PREFIXES = {"estimate": "EST", "change_order": "CO", "invoice": "INV", "pay_application": "PA"}


class DocumentCounter(db.Model):
    __tablename__ = "document_counters"
    __table_args__ = (CheckConstraint("last_value >= 0", name="last_value_not_negative"),)

    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_value: Mapped[int] = mapped_column(Integer, nullable=False)


def _upsert(kind: str, year: int):
    table = DocumentCounter.__table__
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:  # the embedded SQLite database (3.35+ has RETURNING)
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(table).values(kind=kind, year=year, last_value=1)
    return stmt.on_conflict_do_update(
        index_elements=[table.c.kind, table.c.year], set_={"last_value": table.c.last_value + 1}
    ).returning(table.c.last_value)


def next_number(kind: str, on: dt.date) -> str:
    """The next number of `kind` for the year of `on`, taken in the current transaction."""
    prefix = PREFIXES[kind]
    value = db.session.execute(_upsert(kind, on.year)).scalar_one()
    return format_number(prefix, on.year, value)


def format_number(prefix: str, year: int, value: int) -> str:
    return f"{prefix}-{year}-{value:04d}"
