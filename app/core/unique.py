"""Uniqueness is the database's: services check first for a friendly message, but two
requests can pass that check at once. `unique_fields` runs the writes of a service in a
savepoint (`core.transaction.attempt()`) and flushes them; an IntegrityError from one of
the named unique indexes becomes the field's ValidationError instead of a 500, and the
rest of the request's transaction stays usable.

Make the changes *inside* the block: opening a savepoint flushes what is pending, so a
row added before it would meet the index outside the savepoint."""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy.exc import IntegrityError

from app.core.errors import ValidationError
from app.core.transaction import attempt


def _violated(exc: IntegrityError) -> tuple[str, str]:
    """(constraint name, message) of the violation — PostgreSQL names the index;
    SQLite only says 'UNIQUE constraint failed: table.column, …'."""
    diag = getattr(exc.orig, "diag", None)
    return (getattr(diag, "constraint_name", None) or "", str(exc.orig))


@contextmanager
def unique_fields(indexes: dict[tuple[str, str], tuple[str, str] | object]):
    """`indexes` maps (index name, SQLite's 'table.column') of each unique index that may
    refuse the writes to (field, message) — or to a callable returning it, called after
    the refusal (the message may name values known only then)."""
    from app.extensions import db

    try:
        with attempt():
            yield
            db.session.flush()
    except IntegrityError as exc:
        name, text = _violated(exc)
        for (index, sqlite_columns), answer in indexes.items():
            if name == index or (not name and sqlite_columns in text):
                field, message = answer() if callable(answer) else answer
                raise ValidationError({field: message}) from None
        raise
