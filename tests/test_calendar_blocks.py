"""The grids print closed blocks in Python (app/calendar/block_html.py) for speed; the
one template (calendar/_block.html) prints open ones. Both must print the same closed
block: the same classes, data attributes drag and drop reads, words and links."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from flask import render_template

from app.calendar import block_html, views_layout
from app.calendar.queries import CalendarItem
from app.core.timezones import company_zone


def _normalised(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r">\s+<", "><", str(html))).strip()


EVENT = CalendarItem(
    kind="event",
    id=41,
    title='Walk <the> "site" & plan',
    start=datetime(2026, 12, 3, 15, 0, tzinfo=UTC),
    end=datetime(2026, 12, 3, 16, 30, tzinfo=UTC),
    all_day=False,
    project_id=7,
    project_name="O'Neil & Sons repaint",
    status="scheduled",
    event_type="meeting",
    risk_level="high",
    version=3,
    movable=True,
    series_id=40,
    occurrence_start=datetime(2026, 12, 3, 15, 0, tzinfo=UTC),
)
TASK = CalendarItem(
    kind="task",
    id=9,
    title="Prime walls",
    start=date(2026, 12, 1),
    end=date(2026, 12, 4),
    all_day=True,
    project_id=None,
    project_name="",
    status="completed",
    event_type=None,
    risk_level="none",
    version=1,
)


@pytest.mark.parametrize("item, place", [(EVENT, "r5 s3 lane0-of1"), (EVENT, ""), (TASK, "")])
def test_the_printed_block_is_the_templates_closed_block(app, item, place):
    with app.test_request_context("/calendar/"):
        block = views_layout.block_of(item, company_zone(), [], place=place)
        from_template = render_template("calendar/_block.html", block=block, open=False)
        printed = block_html.draw(block, block_html.Urls())
    assert _normalised(printed) == _normalised(from_template)
    assert "<the>" not in printed and "O'Neil" not in printed  # every text escaped
    if item is EVENT:
        assert "&lt;the&gt;" in printed
