"""RRULE series (app/calendar/recurrence.py): normalisation, the limits (a rule that never
ends, a million occurrences, more than five years), DST in the company's zone
(America/Denver: 2026-03-08 spring forward, 2026-11-01 fall back)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from app.calendar.recurrence import MAX_OCCURRENCES, is_occurrence, occurrences, parse_rrule
from app.core.errors import ValidationError

DENVER = ZoneInfo("America/Denver")
MONDAY_7AM = datetime(2026, 3, 2, 7, 0, tzinfo=DENVER)  # before the March DST change


def series(rule, start=MONDAY_7AM, hours=1, all_day=False, end=None):
    start = start.astimezone(UTC)
    return SimpleNamespace(start_at=start, end_at=end or start + timedelta(hours=hours), rrule=rule, all_day=all_day)


def refused(text, start=MONDAY_7AM) -> str:
    with pytest.raises(ValidationError) as caught:
        parse_rrule(text, start)
    assert list(caught.value.fields) == ["rrule"]
    return caught.value.fields["rrule"]


def test_normalised_keys_in_order_and_uppercase():
    assert parse_rrule("rrule:byday=mo;freq=weekly;count=10", MONDAY_7AM) == "FREQ=WEEKLY;COUNT=10;BYDAY=MO"


def test_until_is_stored_in_utc():
    # a date-only UNTIL counts the whole (local) day
    assert parse_rrule("FREQ=DAILY;UNTIL=20260310", MONDAY_7AM) == "FREQ=DAILY;UNTIL=20260311T055959Z"


def test_weekly_7am_stays_7am_local_across_both_dst_changes(app):
    with app.app_context():
        rule = parse_rrule("FREQ=WEEKLY;COUNT=40", MONDAY_7AM)
        found = occurrences(series(rule), MONDAY_7AM, MONDAY_7AM + timedelta(days=400))
    assert len(found) == 40
    assert {s.astimezone(DENVER).time().hour for s, _ in found} == {7}
    assert {s.astimezone(DENVER).weekday() for s, _ in found} == {0}
    utc_hours = {s.hour for s, _ in found}
    assert utc_hours == {13, 14}  # MDT 13:00Z, MST 14:00Z
    assert all(e - s == timedelta(hours=1) for s, e in found)


def test_all_day_series_keeps_local_days_across_dst(app):
    with app.app_context():
        start = datetime(2026, 3, 6, 0, 0, tzinfo=DENVER)
        event = series("FREQ=DAILY;COUNT=5", start=start, all_day=True, end=(start + timedelta(days=1)))
        found = occurrences(event, start, start + timedelta(days=10))
    assert [s.astimezone(DENVER).time().hour for s, _ in found] == [0] * 5
    assert [e.astimezone(DENVER).time().hour for _, e in found] == [0] * 5
    # the day of the change is 23 hours long
    assert (found[2][1] - found[2][0]) == timedelta(hours=23)


def test_occurrence_in_a_dst_gap_moves_forward(app):
    with app.app_context():
        start = datetime(2026, 3, 1, 2, 30, tzinfo=DENVER)  # 2:30 exists on Mar 1, not on Mar 8
        found = occurrences(series("FREQ=WEEKLY;COUNT=2", start=start), start, start + timedelta(days=10))
    assert found[1][0].astimezone(DENVER).hour == 3


def test_window_only_overlapping_occurrences(app):
    with app.app_context():
        event = series("FREQ=DAILY;COUNT=10")
        lo = datetime(2026, 3, 4, 0, 0, tzinfo=DENVER)
        found = occurrences(event, lo, lo + timedelta(days=2))
        # an occurrence running into the window counts
        long = series("FREQ=WEEKLY;COUNT=3", hours=30)
        mid = datetime(2026, 3, 3, 6, 0, tzinfo=DENVER)
        into = occurrences(long, mid, mid + timedelta(hours=1))
    assert [s.astimezone(DENVER).day for s, _ in found] == [4, 5]
    assert len(into) == 1


def test_single_event_is_its_own_occurrence(app):
    event = series(None)
    with app.app_context():
        assert occurrences(event, MONDAY_7AM - timedelta(days=1), MONDAY_7AM + timedelta(days=1)) == [
            (event.start_at, event.end_at)
        ]
        assert occurrences(event, MONDAY_7AM + timedelta(days=1), MONDAY_7AM + timedelta(days=2)) == []


def test_is_occurrence(app):
    with app.app_context():
        event = series("FREQ=WEEKLY;COUNT=3")
        assert is_occurrence(event, datetime(2026, 3, 9, 13, 0, tzinfo=UTC))
        assert not is_occurrence(event, datetime(2026, 3, 9, 14, 0, tzinfo=UTC))


@pytest.mark.parametrize(
    "rule, words",
    [
        ("FREQ=WEEKLY", "must end"),
        ("FREQ=WEEKLY;BYDAY=MO", "must end"),
        ("FREQ=DAILY;COUNT=1000000", f"at most {MAX_OCCURRENCES}"),
        ("FREQ=DAILY;COUNT=0", f"at most {MAX_OCCURRENCES}"),
        ("FREQ=DAILY;UNTIL=20400101", f"more than {MAX_OCCURRENCES}"),
        ("FREQ=YEARLY;COUNT=10", "five years"),
        ("FREQ=MONTHLY;UNTIL=20330101", "five years"),
        ("FREQ=MINUTELY;COUNT=5", "at most daily"),
        ("FREQ=SECONDLY;UNTIL=20260303", "at most daily"),
        ("FREQ=WEEKLY;COUNT=3;UNTIL=20260401", "not both"),
        ("FREQ=WEEKLY;UNTIL=20200101", "no occurrence"),
        ("FREQ=WEEKLY;COUNT=3;BYHOUR=7", "not supported"),
        ("DTSTART:20260302T070000\nRRULE:FREQ=WEEKLY;COUNT=3", "one rule"),
        ("FREQ=WEEKLY;BYDAY=XX;COUNT=3", "not valid"),
        ("FREQ=WEEKLY;COUNT=three", "at most"),
        ("FREQ=WEEKLY;UNTIL=tomorrow", "UNTIL must be"),
        ("COUNT=3", "needs FREQ"),
        ("garbage", "NAME=VALUE"),
        ("", "Give a repeat rule"),
        ("FREQ=WEEKLY;COUNT=3;COUNT=4", "twice"),
        ("FREQ=WEEKLY;COUNT=3;INTERVAL=0", "INTERVAL"),
    ],
)
def test_bad_rules_are_field_errors(app, rule, words):
    with app.app_context():
        assert words in refused(rule)


def test_limits_exactly(app):
    with app.app_context():
        assert parse_rrule(f"FREQ=DAILY;COUNT={MAX_OCCURRENCES}", MONDAY_7AM)
        assert parse_rrule("FREQ=YEARLY;COUNT=5", MONDAY_7AM)
        assert parse_rrule("FREQ=WEEKLY;INTERVAL=2;UNTIL=20301231", MONDAY_7AM)
