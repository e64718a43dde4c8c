"""The calendar's grids as plain values for the templates: a period's items laid out as a
month of weeks, a week (or one day) of hour rows, or the crew's people × days. No
queries here (app/calendar/queries.py reads), no HTML (templates/calendar/).

Times are company-local. Timed blocks are placed on the hour grid by classes (the CSP
allows no style attributes): `r<N>` the half-hour row a block starts on, `s<N>` how many
it spans, `lane<K>-of<L>` its lane among the blocks it overlaps (static/css/calendar.css).
"""

from __future__ import annotations

import calendar as pycalendar
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from app.calendar.models import RISK_LABELS, STATUS_LABELS, TYPE_LABELS
from app.calendar.queries import TASK, CalendarItem
from app.tasks.models import STATUS_LABELS as TASK_STATUS_LABELS

HOUR_START, HOUR_END = 6, 20  # the hour grid's first and last hour (6:00–20:00)
SLOTS_PER_HOUR = 2
ROWS = (HOUR_END - HOUR_START) * SLOTS_PER_HOUR  # 28 half-hour rows
MONTH_SHOWN = 4  # blocks a month cell shows before "+N more"
WEEK_ALL_DAY_SHOWN = 3
WEEK_LANES = 4  # overlapping timed blocks side by side in a week's day column
DAY_LANES = 6
CREW_SHOWN = 3


def clock(value: datetime) -> str:
    """7:00 AM — the time of a company-local datetime."""
    hour = value.hour % 12 or 12
    return f"{hour}:{value:%M} {'AM' if value.hour < 12 else 'PM'}"


def short_clock(value: datetime) -> str:
    """7a, 7:30a, 12p — a block's compact time."""
    hour = value.hour % 12 or 12
    suffix = "a" if value.hour < 12 else "p"
    return f"{hour}{suffix}" if value.minute == 0 else f"{hour}:{value:%M}{suffix}"


MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def day_label(day: date) -> str:
    return f"{WEEKDAYS[day.weekday()]} {MONTHS[day.month - 1][:3]} {day.day}"


@dataclass
class Block:
    """One item as drawn: the item, its words and the data attributes drag and drop reads."""

    item: CalendarItem
    time_label: str  # "7:00 AM – 8:30 AM", "All day", "Dec 1 – Dec 4"
    short_time: str  # "7a" (month cells), "" for all-day
    start_iso: str
    end_iso: str
    occurrence_iso: str
    status_label: str
    type_label: str
    risk_label: str
    place: str = ""  # hour-grid classes
    when: str = ""  # the full words: "Tue Dec 1, 2026 · 7:00 AM – 8:30 AM MST"
    reasons: list = field(default_factory=list)
    continues_before: bool = False
    continues_after: bool = False

    @property
    def kind(self) -> str:
        return self.item.kind

    @property
    def dom_id(self) -> str:
        suffix = ""
        if self.item.occurrence_start is not None:
            suffix = "-" + self.occurrence_iso.replace(":", "").replace("+", "p").replace("-", "")[:15]
        return f"cal-{self.item.kind}-{self.item.id}{suffix}"

    @property
    def risky(self) -> bool:
        return self.item.risk_level not in ("none", "", None)

    @property
    def closed(self) -> bool:
        return self.item.status in ("completed", "cancelled")


def full_day(day: date) -> str:
    return f"{day_label(day)}, {day.year}"


def when_of(item: CalendarItem, zone) -> str:
    if item.start is None:
        return "No dates yet"
    first, last = item.days(zone)
    if item.kind == TASK or item.all_day:
        return f"{full_day(first)} (all day)" if first == last else f"{full_day(first)} – {full_day(last)}"
    start, end = item.local_start(zone), item.local_end(zone)
    if first == last:
        return f"{full_day(first)} · {clock(start)} – {clock(end)} {end.tzname()}"
    return f"{full_day(first)} {clock(start)} – {full_day(last)} {clock(end)} {end.tzname()}"


def block_of(item: CalendarItem, zone, reasons=None, place: str = "") -> Block:
    block = _block_of(item, zone, reasons, place)
    block.when = when_of(item, zone)
    return block


def _block_of(item: CalendarItem, zone, reasons=None, place: str = "") -> Block:
    if item.kind == TASK:
        first, last = item.start, item.end
        if first is None:
            return Block(
                item,
                "No dates yet",
                "",
                "",
                "",
                "",
                TASK_STATUS_LABELS.get(item.status, item.status),
                "Task",
                RISK_LABELS.get(item.risk_level, item.risk_level),
                place=place,
            )
        if first == last:
            label = "All day"
        else:
            label = f"{MONTHS[first.month - 1][:3]} {first.day} – {MONTHS[last.month - 1][:3]} {last.day}"
        return Block(
            item=item,
            time_label=label,
            short_time="",
            start_iso=first.isoformat(),
            end_iso=last.isoformat(),
            occurrence_iso="",
            status_label=TASK_STATUS_LABELS.get(item.status, item.status),
            type_label="Task",
            risk_label=RISK_LABELS.get(item.risk_level, item.risk_level),
            reasons=list(reasons or ()),
            place=place,
        )
    start, end = item.local_start(zone), item.local_end(zone)
    first, last = item.days(zone)
    if item.all_day:
        label = (
            "All day"
            if first == last
            else f"{MONTHS[first.month - 1][:3]} {first.day} – {MONTHS[last.month - 1][:3]} {last.day}"
        )
        short = ""
    elif first == last:
        label, short = f"{clock(start)} – {clock(end)}", short_clock(start)
    else:
        label = f"{day_label(first)} {clock(start)} – {day_label(last)} {clock(end)}"
        short = short_clock(start)
    occurrence = item.occurrence_start.astimezone(zone).isoformat() if item.occurrence_start else ""
    return Block(
        item=item,
        time_label=label,
        short_time=short,
        start_iso=start.isoformat(),
        end_iso=end.isoformat(),
        occurrence_iso=occurrence,
        status_label=STATUS_LABELS.get(item.status, item.status),
        type_label=TYPE_LABELS.get(item.event_type or "", ""),
        risk_label=RISK_LABELS.get(item.risk_level, item.risk_level),
        reasons=list(reasons or ()),
        place=place,
    )


def _by_day(items, first: date, last: date, zone) -> dict[date, list[CalendarItem]]:
    days: dict[date, list[CalendarItem]] = {}
    for item in items:
        start, end = item.days(zone)
        day = max(start, first)
        while day <= min(end, last):
            days.setdefault(day, []).append(item)
            day += timedelta(days=1)
    return days


# --- month ---------------------------------------------------------------------------


@dataclass
class DayCell:
    day: date
    iso: str
    in_month: bool
    today: bool
    blocks: list[Block]
    more: int
    weekend: bool


def month_range(anchor: date) -> tuple[date, date]:
    """The grid's first Monday and last Sunday around `anchor`'s month."""
    first = anchor.replace(day=1)
    last = first.replace(day=pycalendar.monthrange(first.year, first.month)[1])
    return first - timedelta(days=first.weekday()), last + timedelta(days=6 - last.weekday())


def month(items, hidden: dict, anchor: date, today: date, zone, reasons: dict) -> list[list[DayCell]]:
    start, end = month_range(anchor)
    days = _by_day(items, start, end, zone)
    weeks, day = [], start
    while day <= end:
        week = []
        for _ in range(7):
            found = days.get(day, [])
            shown = found[:MONTH_SHOWN]
            blocks = []
            for item in shown:
                block = block_of(item, zone, reasons.get(item.key))
                first, last = item.days(zone)
                block.continues_before, block.continues_after = first < day, last > day
                blocks.append(block)
            week.append(
                DayCell(
                    day=day,
                    iso=day.isoformat(),
                    in_month=day.month == anchor.month,
                    today=day == today,
                    blocks=blocks,
                    more=len(found) - len(shown) + hidden.get(day, 0),
                    weekend=day.weekday() >= 5,
                )
            )
            day += timedelta(days=1)
        weeks.append(week)
    return weeks


# --- week and day --------------------------------------------------------------------


@dataclass
class Slot:
    label: str  # "7 AM" on the hour, "" on the half hour
    iso: str  # data-datetime: the slot's local start, ISO with its offset
    row: int


@dataclass
class DayColumn:
    day: date
    iso: str
    today: bool
    weekend: bool
    all_day: list[Block]
    timed: list[Block]
    more: int
    slots: list[Slot]
    label: str
    early: int = 0  # timed items before the grid's first hour, or after its last
    late: int = 0


def week_range(anchor: date) -> tuple[date, date]:
    start = anchor - timedelta(days=anchor.weekday())
    return start, start + timedelta(days=6)


def _slots(day: date, zone) -> list[Slot]:
    slots = []
    for row in range(ROWS):
        minutes = row * (60 // SLOTS_PER_HOUR)
        local = datetime.combine(day, time(HOUR_START + minutes // 60, minutes % 60), zone)
        label = ""
        if minutes % 60 == 0:
            hour = local.hour % 12 or 12
            label = f"{hour} {'AM' if local.hour < 12 else 'PM'}"
        slots.append(Slot(label, local.isoformat(), row + 1))
    return slots


def _grid_rows(start: datetime, end: datetime, day: date, zone) -> tuple[int, int]:
    """(first row, rows spanned) of a timed block on `day`'s hour grid, clamped to it."""
    top = datetime.combine(day, time(HOUR_START), zone)
    step = 60 // SLOTS_PER_HOUR
    begin = max(0, int((start - top).total_seconds() // 60) // step)
    finish = int(-(-(end - top).total_seconds() // 60) // step)  # rounded up
    begin = min(begin, ROWS - 1)
    finish = max(begin + 1, min(finish, ROWS))
    return begin + 1, finish - begin


def _lanes(entries: list[tuple[int, int, CalendarItem]], most: int):
    """Side-by-side lanes for overlapping blocks: (row, span, lane, lanes, item) for those
    that fit in `most` lanes, and how many did not."""
    placed, dropped = [], 0
    cluster: list[tuple[int, int, int, CalendarItem]] = []
    lane_ends: list[int] = []
    cluster_end = -1

    def close():
        for row, span, lane, item in cluster:
            placed.append((row, span, lane + 1, len(lane_ends), item))

    for row, span, item in sorted(entries, key=lambda e: (e[0], -e[1], e[2].id)):
        if cluster and row >= cluster_end:
            close()
            cluster, lane_ends, cluster_end = [], [], -1
        lane = next((i for i, ends in enumerate(lane_ends) if ends <= row), None)
        if lane is None:
            if len(lane_ends) >= most:
                dropped += 1
                continue
            lane_ends.append(0)
            lane = len(lane_ends) - 1
        lane_ends[lane] = row + span
        cluster.append((row, span, lane, item))
        cluster_end = max(cluster_end, row + span)
    if cluster:
        close()
    return placed, dropped


def columns(
    items, hidden: dict, first: date, last: date, today: date, zone, reasons: dict, lanes: int
) -> list[DayColumn]:
    days = _by_day(items, first, last, zone)
    result, day = [], first
    while day <= last:
        found = days.get(day, [])
        all_day, timed = [], []
        for i in found:  # by identity: `i not in all_day` compared dataclasses field by field, n² times
            (all_day if i.all_day or i.kind == TASK or i.days(zone)[0] != i.days(zone)[1] else timed).append(i)
        shown_all_day = all_day[:WEEK_ALL_DAY_SHOWN] if lanes == WEEK_LANES else all_day
        blocks_all_day = [block_of(i, zone, reasons.get(i.key)) for i in shown_all_day]
        entries, early, late = [], 0, 0
        for item in timed:
            start, end = item.local_start(zone), item.local_end(zone)
            if end <= datetime.combine(day, time(HOUR_START), zone):
                early += 1
            elif start >= datetime.combine(day, time(HOUR_END), zone):
                late += 1
            row, span = _grid_rows(start, end, day, zone)
            entries.append((row, span, item))
        placed, dropped = _lanes(entries, lanes)
        blocks_timed = [
            block_of(item, zone, reasons.get(item.key), place=f"r{row} s{span} lane{lane}-of{width}")
            for row, span, lane, width, item in placed
        ]
        result.append(
            DayColumn(
                day=day,
                iso=day.isoformat(),
                today=day == today,
                weekend=day.weekday() >= 5,
                all_day=blocks_all_day,
                timed=blocks_timed,
                more=len(all_day) - len(shown_all_day) + dropped + hidden.get(day, 0),
                slots=_slots(day, zone),
                label=day_label(day),
                early=early,
                late=late,
            )
        )
        day += timedelta(days=1)
    return result


# --- crew ----------------------------------------------------------------------------


@dataclass
class CrewCell:
    day: date
    iso: str
    today: bool
    blocks: list[Block]
    more: int
    load: str  # "free", "some", "busy"
    hours: float


@dataclass
class CrewRow:
    id: int
    name: str
    role: str
    cells: list[CrewCell]
    busy_days: int


def crew(
    people, items, first: date, last: date, today: date, zone, reasons: dict, capacity: float = 8.0
) -> list[CrewRow]:
    per_person: dict[int, list[CalendarItem]] = {}
    for item in items:
        for person_id in item.assignee_ids:
            per_person.setdefault(person_id, []).append(item)
    rows = []
    for person_id, name, role in people:
        days = _by_day(per_person.get(person_id, []), first, last, zone)
        cells, day = [], first
        while day <= last:
            found = days.get(day, [])
            hours = 0.0
            for item in found:
                if item.status in ("completed", "cancelled"):
                    continue
                if item.kind == TASK or item.all_day:
                    hours += capacity
                else:
                    lo = max(item.local_start(zone), datetime.combine(day, time(0), zone))
                    hi = min(item.local_end(zone), datetime.combine(day + timedelta(days=1), time(0), zone))
                    hours += max(0.0, (hi - lo).total_seconds() / 3600)
            load = "free" if hours == 0 else ("busy" if hours >= capacity else "some")
            cells.append(
                CrewCell(
                    day=day,
                    iso=day.isoformat(),
                    today=day == today,
                    blocks=[block_of(i, zone, reasons.get(i.key)) for i in found[:CREW_SHOWN]],
                    more=max(0, len(found) - CREW_SHOWN),
                    load=load,
                    hours=round(hours, 1),
                )
            )
            day += timedelta(days=1)
        rows.append(CrewRow(person_id, name, role, cells, sum(1 for c in cells if c.load == "busy")))
    return rows
