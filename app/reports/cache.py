"""A report's rows kept until a table they read is written (core.cached_reads.value_of:
one generation per table, raised after every committed write): the owner opening the
company's profitability again, or a colleague opening the same report, reads the
rows computed the first time instead of aggregating 50,000 expenses again. The key says
everything else the rows depend on: the report, the viewer's scope (everyone's projects,
or this PM's), the filters and the day. Rows are stored as JSON (money as text, dates
ISO), never pickled."""

from __future__ import annotations

import datetime as dt
import json
from collections import namedtuple
from decimal import Decimal
from functools import lru_cache

from app.core import cached_reads
from app.core.permissions import ALL, scope_of

# every table a report reads (a write to any makes its cached rows stale)
TABLES = (
    "projects", "project_memberships", "clients", "invoices", "invoice_lines", "payments", "expenses",
    "timesheet_approvals", "cost_rates", "change_orders", "budget_lines", "pay_applications",
    "retainage_releases",
)  # fmt: skip


def viewer_key(user, action: str) -> str:
    """Whose rows: an admin's are everyone's; a PM's or trainee's are theirs."""
    return "all" if scope_of(user, action) == ALL else f"user:{user.id}"


def _tag(value) -> str:
    """A column's type tag: D(ecimal), S (datetime), T (date), or "" (as JSON has it)."""
    if isinstance(value, Decimal):
        return "D"
    if isinstance(value, dt.datetime):
        return "S"
    if isinstance(value, dt.date):
        return "T"
    return ""


_TEXT = {"D": str, "S": dt.datetime.isoformat, "T": dt.date.isoformat}
_TYPED = {"D": Decimal, "S": dt.datetime.fromisoformat, "T": dt.date.fromisoformat}


@lru_cache(maxsize=64)
def _row_type(columns: tuple[str, ...]):
    return namedtuple("ReportRow", columns, rename=True)


def _dump(result) -> str:
    """The rows as JSON, each column's type said once ("t"), its values as text: a
    1,200-row report is written in a few ms (a tag per value cost ~25 ms). The cache
    names carry the format's version ("reports:v2"): rows kept in the old one are not read."""
    columns, rows = result
    tags = []
    for index in range(len(columns)):  # a column's type: that of its first non-NULL value
        tags.append(next((_tag(row[index]) for row in rows if row[index] is not None), ""))
    convert = [(i, _TEXT[tag]) for i, tag in enumerate(tags) if tag]
    out = []
    for row in rows:
        row = list(row)
        for i, text in convert:
            if row[i] is not None:
                row[i] = text(row[i])
        out.append(row)
    return json.dumps({"c": list(columns), "t": tags, "r": out}, separators=(",", ":"))


def _load(raw) -> tuple:
    data = json.loads(raw)
    columns = tuple(data["c"])
    kind = _row_type(columns)
    convert = [(i, _TYPED[tag]) for i, tag in enumerate(data.get("t", ())) if tag]
    rows = []
    for row in data["r"]:
        for i, typed in convert:
            if row[i] is not None:
                row[i] = typed(row[i])
        rows.append(kind(*row))
    return columns, rows


def rows(name: str, run) -> list:
    """The rows `run()` answers (a SQLAlchemy Result's rows), cached under `name`."""

    def compute():
        result = run()
        return tuple(result.keys()), [tuple(r) for r in result]

    columns, found = cached_reads.value_of("reports:v2\0" + name, TABLES, compute, _dump, _load)
    kind = _row_type(columns)
    return [r if isinstance(r, kind) else kind(*r) for r in found]
