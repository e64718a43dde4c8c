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
    "timesheet_approvals", "cost_rates", "change_orders", "budget_lines",
)  # fmt: skip


def viewer_key(user, action: str) -> str:
    """Whose rows: an admin's are everyone's; a PM's or trainee's are theirs."""
    return "all" if scope_of(user, action) == ALL else f"user:{user.id}"


def _plain(value):
    if isinstance(value, Decimal):
        return ["D", str(value)]
    if isinstance(value, dt.datetime):
        return ["S", value.isoformat()]
    if isinstance(value, dt.date):
        return ["T", value.isoformat()]
    return value


def _typed(value):
    if isinstance(value, list):
        tag, text = value
        return (
            Decimal(text)
            if tag == "D"
            else dt.datetime.fromisoformat(text)
            if tag == "S"
            else dt.date.fromisoformat(text)
        )
    return value


@lru_cache(maxsize=64)
def _row_type(columns: tuple[str, ...]):
    return namedtuple("ReportRow", columns, rename=True)


def _dump(result) -> str:
    columns, rows = result
    return json.dumps({"c": list(columns), "r": [[_plain(v) for v in row] for row in rows]}, separators=(",", ":"))


def _load(raw) -> tuple:
    data = json.loads(raw)
    kind = _row_type(tuple(data["c"]))
    return tuple(data["c"]), [kind(*(_typed(v) for v in row)) for row in data["r"]]


def rows(name: str, run) -> list:
    """The rows `run()` answers (a SQLAlchemy Result's rows), cached under `name`."""

    def compute():
        result = run()
        return tuple(result.keys()), [tuple(r) for r in result]

    columns, found = cached_reads.value_of("reports\0" + name, TABLES, compute, _dump, _load)
    kind = _row_type(columns)
    return [r if isinstance(r, kind) else kind(*r) for r in found]
