"""Uniqueness is the database's: services check first for a friendly message, but two
requests can pass that check at once. `flush_unique` flushes inside a savepoint
(`core.transaction.attempt()`); an IntegrityError from one of the named unique indexes
becomes the field's ValidationError instead of a 500, and the request goes on."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from app.core.errors import ValidationError
from app.core.transaction import attempt


def _violated(exc: IntegrityError) -> tuple[str, str]:
    """(constraint name, message) of the violation — PostgreSQL names the index;
    SQLite only says 'UNIQUE constraint failed: table.column, …'."""
    diag = getattr(exc.orig, "diag", None)
    return (getattr(diag, "constraint_name", None) or "", str(exc.orig))


def flush_unique(indexes: dict[tuple[str, str], tuple[str, str]]) -> None:
    """Flush the session. `indexes` maps (index name, SQLite's 'table.column') of each
    unique index that may refuse the flush to the (field, message) to answer with."""
    from app.extensions import db

    try:
        with attempt():
            db.session.flush()
    except IntegrityError as exc:
        name, text = _violated(exc)
        for (index, sqlite_columns), (field, message) in indexes.items():
            if name == index or (not name and sqlite_columns in text):
                raise ValidationError({field: message}) from None
        raise
