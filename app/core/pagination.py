"""Pages of a list for HTML pages: a page number past the end shows the last page."""

from __future__ import annotations

import math
from collections import namedtuple
from dataclasses import dataclass, field
from functools import cache


@dataclass
class Page:
    """One page of a list: its `items`, the page really shown and the list's `total`."""

    items: list
    page: int
    per_page: int
    total: int
    pages: int = field(init=False)

    def __post_init__(self):
        self.pages = max(1, math.ceil(self.total / self.per_page)) if self.total else 0

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int | None:
        return self.page - 1 if self.has_prev else None

    @property
    def next_num(self) -> int | None:
        return self.page + 1 if self.has_next else None

    def __iter__(self):
        return iter(self.items)


def paginate(stmt, page: int, per_page: int, *, rows: bool = False, columns=(), source=None) -> Page:
    """Page `page` of `stmt` (past the end: the last page; `Page.page` is the one shown).
    The total comes first — from core.cached_reads' cache when the tables are unchanged —
    so the page is read once, at the right offset. `rows=True`: the items are the
    result's rows (a select of columns), not ORM objects; `columns` are added to the
    page's select only, not to the count (a correlated subquery per row, say). `source`,
    if given, is called with (total, offset, per_page) and may answer another statement of the
    same rows to read the page from (a plan that suits this result's size)."""
    from app.core.cached_reads import count_of
    from app.core.statements import page_statement
    from app.core.transaction import read_connection
    from app.extensions import db

    session = db.session
    total = count_of(stmt, session)
    last = max(1, math.ceil(total / per_page))
    page = min(max(1, page), last)
    offset = (page - 1) * per_page
    read = page_statement(source(total, offset, per_page) if source is not None else stmt, per_page, offset, columns)
    if rows:
        # a select of columns needs none of the ORM's execution (~0.4 ms a page): the
        # session's own connection runs it, in the session's transaction
        found = read_connection(session).execute(read).all()
        items = [_plain_row(found[0]._fields)._make(row) for row in found] if found else []
    else:
        items = list(session.execute(read).unique().scalars())
    return Page(items, page, per_page, total)


@cache
def _plain_row(fields: tuple[str, ...]):
    """A named tuple class for rows of these columns: its fields are read at C speed, a
    SQLAlchemy Row's through Python (~0.2 ms less for a 50-row page)."""
    return namedtuple("PageRow", fields, rename=True)


def paginate_rows(stmt, page: int, per_page: int) -> Page:
    """`paginate` for a select() of columns: the page's `items` are rows (named tuples,
    attribute access by column name), not ORM objects — for lists that show a few
    columns."""
    return paginate(stmt, page, per_page, rows=True)
