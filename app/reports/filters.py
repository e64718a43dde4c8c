"""What a report is asked for: a period, a PM, a client, a project status, an "as of" date,
a page — one parser for pages, CSV and the API, so a filter means the same everywhere.
Bad values are a ValidationError naming the field (a page shows it beside the field, the
API answers VALIDATION_ERROR)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import asdict, dataclass

from app.core.errors import ValidationError
from app.core.numbers import page_number, to_int
from app.projects.models import STATUSES

EARLIEST, LATEST = dt.date(2000, 1, 1), dt.date(2099, 12, 31)
SORTS = ("name", "profit", "-profit", "invoiced", "expenses")


@dataclass(frozen=True)
class Filters:
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    pm_id: int | None = None
    client_id: int | None = None
    status: str | None = None  # a project status; None: any
    as_of: dt.date | None = None  # WIP and aging: the day they are taken (default today)
    page: int = 1
    sort: str = "name"

    def args(self, **changes) -> dict:
        """The query arguments that ask for these filters again (links, CSV, the pager),
        without the empty ones."""
        values = asdict(self) | changes
        out = {}
        for key, value in values.items():
            if value in (None, "") or (key == "page" and value == 1) or (key == "sort" and value == "name"):
                continue
            out[{"pm_id": "pm", "client_id": "client"}.get(key, key)] = (
                value.isoformat() if isinstance(value, dt.date) else value
            )
        return out

    @property
    def has_period(self) -> bool:
        return self.date_from is not None or self.date_to is not None


def _date(args: Mapping, name: str, errors: dict) -> dt.date | None:
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = dt.date.fromisoformat(raw)
    except ValueError:
        errors[name] = "Enter a date as YYYY-MM-DD."
        return None
    if not EARLIEST <= value <= LATEST:
        errors[name] = f"Enter a date between {EARLIEST.year} and {LATEST.year}."
        return None
    return value


def parse(args: Mapping, *, default_status: str | None = None) -> Filters:
    """Filters from query arguments (`date_from`, `date_to`, `pm`, `client`, `status`,
    `as_of`, `page`, `sort`). Unknown ids are simply ids nobody has (an empty report)."""
    errors: dict[str, str] = {}
    date_from, date_to = _date(args, "date_from", errors), _date(args, "date_to", errors)
    if date_from and date_to and date_from > date_to:
        errors["date_to"] = "The end of the period is before its start."
    as_of = _date(args, "as_of", errors)
    pm_id, client_id = to_int(args.get("pm")), to_int(args.get("client"))
    for name, value in (("pm", pm_id), ("client", client_id)):
        if args.get(name) and value is None:
            errors[name] = "Choose from the list."
    status = args.get("status", default_status)
    if status in ("", "any"):
        status = None
    if status is not None and status not in STATUSES:
        errors["status"] = "Choose a status from the list."
    sort = args.get("sort") or "name"
    if sort not in SORTS:
        errors["sort"] = "Choose an order from the list."
    if errors:
        raise ValidationError(errors)
    return Filters(date_from, date_to, pm_id, client_id, status, as_of, page_number(args.get("page")), sort)
