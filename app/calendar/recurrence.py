"""Recurring events: RRULE series (RFC 5545 semantics through python-dateutil).

A series is one CalendarEvent row with `rrule`; its occurrences are computed here. The
rule is expanded in the company's time zone (app.core.timezones.company_zone()) on
local wall-clock times, so a weekly 7:00 site meeting stays at 7:00 local on both sides
of a DST change (its UTC time moves by an hour). An occurrence whose local time falls in
a DST gap (2:30 on the spring-forward night) is placed at the same UTC offset as before
the change (i.e. 3:30 local), an ambiguous one (1:30 on the fall-back night) at its
first instance — zoneinfo's fold=0. All-day series keep their length in local days.

Supported subset: FREQ DAILY/WEEKLY/MONTHLY/YEARLY with INTERVAL, COUNT, UNTIL, BYDAY,
BYMONTHDAY, BYMONTH, BYSETPOS, BYYEARDAY, BYWEEKNO, WKST. Refused with a field error on
"rrule": a rule that never ends (neither COUNT nor UNTIL), more than MAX_OCCURRENCES
occurrences, a last occurrence more than MAX_SPAN_DAYS after the first, sub-daily
frequencies, times inside the rule (BYHOUR…), a DTSTART/EXDATE in the text (the event's
start is the series' start), a rule that yields no occurrence at all.

Exceptions (one occurrence edited or cancelled) are rows of their own (models.py) and
are NOT applied here: `occurrences` is the pure rule.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

from dateutil.rrule import rrulestr

from app.core.errors import ValidationError
from app.core.timezones import company_zone

MAX_OCCURRENCES = 500
MAX_SPAN_DAYS = 5 * 366  # "five years"
FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
KEYS = (
    "FREQ",
    "INTERVAL",
    "COUNT",
    "UNTIL",
    "BYDAY",
    "BYMONTHDAY",
    "BYMONTH",
    "BYSETPOS",
    "BYYEARDAY",
    "BYWEEKNO",
    "WKST",
)
_ORDER = {key: i for i, key in enumerate(KEYS)}


def _refuse(message: str):
    raise ValidationError({"rrule": message})


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)  # SQLite hands back naive UTC


def _local_naive(value: datetime, zone) -> datetime:
    return _aware(value).astimezone(zone).replace(tzinfo=None)


def _from_local(value: datetime, zone) -> datetime:
    """A local wall-clock time (naive) → aware UTC; gaps and folds as fold=0 decides."""
    return value.replace(tzinfo=zone).astimezone(UTC)


def _parse_until(raw: str, zone) -> tuple[str, datetime]:
    """UNTIL as written (a date, a local date-time or a UTC one with Z) → (the
    normalised UTC text, the local naive bound)."""
    token = raw.strip().upper()
    try:
        if len(token) == 8:
            day = datetime.strptime(token, "%Y%m%d")
            local = day.replace(hour=23, minute=59, second=59)  # the whole day counts
        elif token.endswith("Z"):
            utc = datetime.strptime(token, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
            local = utc.astimezone(zone).replace(tzinfo=None)
        else:
            local = datetime.strptime(token, "%Y%m%dT%H%M%S")
    except ValueError:
        _refuse("UNTIL must be a date (20261231) or a date-time (20261231T235959Z).")
    utc = _from_local(local, zone)
    return utc.strftime("%Y%m%dT%H%M%SZ"), local


def _split(text: str) -> dict[str, str]:
    if not isinstance(text, str) or not text.strip():
        _refuse("Give a repeat rule such as FREQ=WEEKLY;COUNT=10.")
    if len(text) > 500:
        _refuse("The repeat rule is too long.")
    body = text.strip()
    lines = [line.strip() for line in body.replace("\r", "\n").split("\n") if line.strip()]
    if len(lines) != 1:
        _refuse("Give one rule only (no DTSTART, EXDATE or RDATE: the event's start is the series' start).")
    line = lines[0]
    if line.upper().startswith("RRULE:"):
        line = line[6:]
    parts: dict[str, str] = {}
    for chunk in line.split(";"):
        if not chunk.strip():
            continue
        key, sep, value = chunk.partition("=")
        key = key.strip().upper()
        value = value.strip().upper()
        if not sep or not value:
            _refuse(f"{chunk.strip()!r} is not of the form NAME=VALUE.")
        if key not in KEYS:
            _refuse(f"{key} is not supported in a repeat rule (use {', '.join(KEYS)}).")
        if key in parts:
            _refuse(f"{key} appears twice.")
        parts[key] = value
    if "FREQ" not in parts:
        _refuse("The rule needs FREQ (DAILY, WEEKLY, MONTHLY or YEARLY).")
    if parts["FREQ"] not in FREQUENCIES:
        _refuse("FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY (events repeat at most daily).")
    return parts


def _int_part(parts, key, low, high, message):
    if key not in parts:
        return None
    try:
        value = int(parts[key])
    except ValueError:
        _refuse(message)
    if not low <= value <= high:
        _refuse(message)
    parts[key] = str(value)
    return value


@lru_cache(maxsize=2048)
def _rule(normalised: str, dtstart_local: datetime):
    return rrulestr(normalised, dtstart=dtstart_local, cache=False)


def _rule_text(parts: dict[str, str]) -> str:
    return ";".join(f"{k}={parts[k]}" for k in sorted(parts, key=_ORDER.__getitem__))


def _to_local_rule(normalised: str, zone) -> str:
    """The stored rule has UNTIL in UTC; dateutil wants it as naive local like DTSTART."""
    parts = dict(chunk.split("=", 1) for chunk in normalised.split(";"))
    if "UNTIL" in parts:
        _, local = _parse_until(parts["UNTIL"], zone)
        parts["UNTIL"] = local.strftime("%Y%m%dT%H%M%S")
    return _rule_text(parts)


def parse_rrule(text: str, start: datetime) -> str:
    """The rule, checked against the series' first start, normalised ("FREQ=WEEKLY;
    COUNT=10;BYDAY=MO" — keys in a fixed order, UNTIL in UTC); a ValidationError on
    "rrule" otherwise."""
    if start is None:
        _refuse("The series needs a start.")
    zone = company_zone()
    parts = _split(text)
    count = _int_part(
        parts,
        "COUNT",
        1,
        MAX_OCCURRENCES,
        f"A series has at most {MAX_OCCURRENCES} occurrences (COUNT 1 to {MAX_OCCURRENCES}).",
    )
    _int_part(parts, "INTERVAL", 1, 1000, "INTERVAL must be a whole number from 1 to 1000.")
    if count is None and "UNTIL" not in parts:
        _refuse("A repeat rule must end: give COUNT (how many times) or UNTIL (a last date).")
    if count is not None and "UNTIL" in parts:
        _refuse("Give COUNT or UNTIL, not both.")
    if "UNTIL" in parts:
        parts["UNTIL"], _ = _parse_until(parts["UNTIL"], zone)
    normalised = _rule_text(parts)
    first_local = _local_naive(start, zone)
    try:
        rule = rrulestr(_to_local_rule(normalised, zone), dtstart=first_local, cache=False)
        head = list(itertools.islice(iter(rule), MAX_OCCURRENCES + 1))
    except (ValueError, TypeError, OverflowError) as exc:
        _refuse(f"This repeat rule is not valid ({exc}).")
    if not head:
        _refuse("This repeat rule yields no occurrence (does UNTIL come before the start?).")
    if len(head) > MAX_OCCURRENCES:
        _refuse(f"This rule yields more than {MAX_OCCURRENCES} occurrences; shorten it (COUNT or an earlier UNTIL).")
    if (head[-1] - first_local) > timedelta(days=MAX_SPAN_DAYS):
        _refuse("A series may span at most five years; end it earlier.")
    return normalised


def _start_of(event) -> datetime:
    return _aware(event.start_at)


def occurrences(event, window_start: datetime, window_end: datetime) -> list[tuple[datetime, datetime]]:
    """Each occurrence of `event`'s rule (start, end; aware UTC) that overlaps
    [window_start, window_end) — a zero-length occurrence counts when its start is in
    the window. An event without a rule is its own single occurrence. Exceptions are
    not applied."""
    start = _start_of(event)
    end = _aware(event.end_at)
    window_start, window_end = _aware(window_start), _aware(window_end)

    def overlaps(s, e):
        return s < window_end and (e > window_start or (e == s and s >= window_start))

    if not event.rrule:
        return [(start, end)] if overlaps(start, end) else []
    zone = company_zone()
    first_local = _local_naive(start, zone)
    if event.all_day:
        span_days = (_local_naive(end, zone).date() - first_local.date()).days
        duration = None
    else:
        duration = end - start
    rule = _rule(_to_local_rule(event.rrule, zone), first_local)
    # search from a little before the window (an occurrence may start before and run into it)
    reach = timedelta(days=max(span_days, 1) + 1) if duration is None else duration + timedelta(days=1)
    lo = _local_naive(window_start, zone) - reach
    hi = _local_naive(window_end, zone) + timedelta(days=1)
    found = []
    for local in rule.between(lo, hi, inc=True):
        s = _from_local(local, zone)
        if duration is None:
            e = _from_local(datetime.combine(local.date() + timedelta(days=span_days), local.time()), zone)
        else:
            e = s + duration
        if overlaps(s, e):
            found.append((s, e))
    return found


def all_occurrences(event) -> list[tuple[datetime, datetime]]:
    """Every occurrence of the series (at most MAX_OCCURRENCES by construction)."""
    start = _start_of(event)
    return occurrences(event, start, start + timedelta(days=MAX_SPAN_DAYS + 400))


def is_occurrence(event, when: datetime) -> bool:
    """Whether `when` is the (original) start of one of `event`'s occurrences."""
    when = _aware(when)
    return any(s == when for s, _ in occurrences(event, when, when + timedelta(seconds=1)))


def local_day_bounds(day: date) -> tuple[datetime, datetime]:
    """A company-local day as [midnight, next midnight) in UTC (all-day events)."""
    zone = company_zone()
    start = datetime.combine(day, datetime.min.time())
    return _from_local(start, zone), _from_local(start + timedelta(days=1), zone)
