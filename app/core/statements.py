"""Statements derived from a list's statement — its count, its pages — built once per
statement object and remembered while that object lives.

SQLAlchemy statements are immutable and remember their own cache key, so a statement
that is reused costs nothing to build or to look up in SQLAlchemy's compiled cache,
while a new one — even an identical `stmt.limit(25).offset(0)` — is traversed again
(~0.1 ms for a list's select, ~0.2 ms for its count). A feature that keeps its list
statements (app/projects/queries.py remembers them per viewer and filters) gets its
derived statements for free; one built per request simply misses here.

Values written into the SQL text (`inline`): psycopg prepares a statement after its
fifth run on a connection, and PostgreSQL then may reuse one plan for every later run
— a *generic* plan, made without knowing the parameters. A plan must know some values
to be good: a PM's list planned without the PM's id read every membership (5 ms instead
of 1.2 ms at 10,000 projects), and a LIMIT as a parameter kept a list's select planned
again on every run (~0.4 ms, more than running it). Such values — a page's LIMIT and
OFFSET, a viewer's id in a permission scope, a status filter: values from a small set —
are written into the text, so each is a statement of its own, planned once per
connection for exactly that value. User text (a search) stays a parameter: every term
would be a new statement to prepare.

Lists of ids (`one_of`): on PostgreSQL one array parameter, `= ANY(%(ids)s)`, not an
IN list of one parameter per id. An IN list makes a new statement text for every
length — never prepared, planned afresh each time, and past 50 parameters psycopg
parses its text again on every run (~0.5 ms for a page of 50 ids).
"""

from __future__ import annotations

import weakref

from sqlalchemy import Integer, any_, bindparam, func, literal, select
from sqlalchemy.dialects.postgresql import ARRAY

_COUNTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_PAGES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_PAGES_PER_STATEMENT = 64


def inline(value, type_=None):
    """`value` written into the statement's SQL text at execution (SQLAlchemy's
    `literal_execute`, quoted by the dialect), not sent as a parameter — for values
    from a small set only (ids of viewers, statuses, limits), never user text. A tuple
    is for IN: `column.in_(inline(("a", "b")))`."""
    if isinstance(value, (tuple, list, set, frozenset)):
        return bindparam(None, tuple(value), type_=type_, expanding=True, literal_execute=True)
    return literal(value, type_, literal_execute=True)


def one_of(column, name: str, dialect: str):
    """SQL: `column` is one of the list given as parameter `name` at execution
    (`{name: [1, 2, 3]}`). PostgreSQL (`dialect`): `column = ANY(:name)`, one array
    parameter whatever the list's length; elsewhere an expanding IN. Statements using it
    are built per dialect (functools.cache on the dialect's name)."""
    if dialect == "postgresql":
        return column == any_(bindparam(name, type_=ARRAY(column.type)))
    return column.in_(bindparam(name, expanding=True))


def count_statement(stmt):
    """select count(*) of `stmt`'s rows."""
    found = _COUNTS.get(stmt)
    if found is None:
        found = _COUNTS[stmt] = select(func.count()).select_from(stmt.order_by(None).subquery())
    return found


def page_statement(stmt, limit: int, offset: int, columns=()):
    """`stmt` with `columns` added, LIMIT `limit` OFFSET `offset`. `columns` must be
    objects that live as long as the statement (built once, e.g. by an lru_cache)."""
    pages = _PAGES.get(stmt)
    if pages is None:
        pages = _PAGES[stmt] = {}
    key = (tuple(id(c) for c in columns), limit, offset)
    found = pages.get(key)
    if found is None:
        if len(pages) >= _PAGES_PER_STATEMENT:
            pages.clear()
        # the columns are kept with it: while they live, their ids are theirs
        page = stmt.add_columns(*columns).limit(_inline_int("page_limit", limit))
        found = pages[key] = (page.offset(_inline_int("page_offset", offset)), columns)
    return found[0]


def _inline_int(name: str, value: int):
    return bindparam(name, int(value), type_=Integer, literal_execute=True)
