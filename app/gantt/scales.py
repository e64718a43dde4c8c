"""The Gantt's time axis: a scale (day, week, month) is a number of pixels per day, the
length of the window shown, how far "earlier"/"later" move it, and the ticks of its two
header bands. Plain Python (no strftime): labels are built here, not in templates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
WEEKDAYS = ("M", "T", "W", "T", "F", "S", "S")


@dataclass(frozen=True)
class Scale:
    name: str
    label: str
    px: int  # pixels per day
    months: int  # window length in months (month scale) …
    days: int  # … or in days
    step_days: int  # what "earlier"/"later" move by (days), or months for the month scale


SCALES = {
    "day": Scale("day", "Days", 28, 0, 42, 28),
    "week": Scale("week", "Weeks", 8, 0, 26 * 7, 13 * 7),
    "month": Scale("month", "Months", 3, 12, 0, 6),
}
DEFAULT_SCALE = "week"


def scale_of(name: str | None) -> Scale:
    return SCALES.get(name or "", SCALES[DEFAULT_SCALE])


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def align(scale: Scale, day: date) -> date:
    """The window's first day for a window meant to start about `day`: a Monday (day,
    week), the first of the month (month)."""
    if scale.name == "month":
        return date(day.year, day.month, 1)
    return day - timedelta(days=day.weekday())


def window(scale: Scale, start: date) -> tuple[date, date]:
    """[first day, day after the last) of the window starting at `start` (aligned)."""
    first = align(scale, start)
    if scale.name == "month":
        return first, add_months(first, scale.months)
    return first, first + timedelta(days=scale.days)


def shifted(scale: Scale, first: date, steps: int) -> date:
    if scale.name == "month":
        return add_months(first, scale.step_days * steps)
    return first + timedelta(days=scale.step_days * steps)


def short(day: date) -> str:
    return f"{MONTHS[day.month - 1]} {day.day}"


@dataclass(frozen=True)
class Tick:
    x: int
    width: int
    label: str
    major: bool = False  # a stronger line (a month's or a week's start)
    weekend: bool = False


def ticks(scale: Scale, first: date, end: date) -> tuple[list[Tick], list[Tick]]:
    """(upper band, lower band) of the header between `first` and `end`."""
    px = scale.px

    def x(day: date) -> int:
        return (day - first).days * px

    upper: list[Tick] = []
    lower: list[Tick] = []
    if scale.name == "month":
        year = first.year
        while date(year, 1, 1) < end:
            a, b = max(date(year, 1, 1), first), min(date(year + 1, 1, 1), end)
            upper.append(Tick(x(a), x(b) - x(a), str(year), major=True))
            year += 1
        month = first
        while month < end:
            nxt = add_months(month, 1)
            lower.append(Tick(x(month), x(min(nxt, end)) - x(month), MONTHS[month.month - 1], major=month.month == 1))
            month = nxt
        return upper, lower
    month = date(first.year, first.month, 1)
    while month < end:
        nxt = add_months(month, 1)
        a, b = max(month, first), min(nxt, end)
        upper.append(Tick(x(a), x(b) - x(a), f"{MONTHS[month.month - 1]} {month.year}", major=True))
        month = nxt
    if scale.name == "week":
        day = first
        while day < end:
            lower.append(Tick(x(day), 7 * px, str(day.day), major=day.day <= 7))
            day += timedelta(days=7)
        return upper, lower
    day = first
    while day < end:
        lower.append(
            Tick(
                x(day), px, f"{WEEKDAYS[day.weekday()]}{day.day}", major=day.weekday() == 0, weekend=day.weekday() >= 5
            )
        )
        day += timedelta(days=1)
    return upper, lower
