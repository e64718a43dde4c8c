"""Column helpers shared by every feature's models."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, DateTime, Integer
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow, nullable=False
    )


# Columns every timestamped, versioned model has and the audit log never speaks of
# (None = bookkeeping in `__audit_labels__`, app/core/audit_text.py).
BOOKKEEPING_LABELS = {"id": None, "created_at": None, "updated_at": None, "version": None}


class IdList(TypeDecorator):
    """A list of row ids: `integer[]` on PostgreSQL (a GIN index answers "contains this
    id" for a whole table at once), JSON elsewhere (SQLite, the embedded app)."""

    impl = JSON
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "postgresql":
            return dialect.type_descriptor(ARRAY(Integer))
        return dialect.type_descriptor(JSON())
