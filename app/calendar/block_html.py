"""A closed calendar block printed by Python: templates/calendar/_block.html's markup for
the common case (not drawn open), built with string formatting and one escape per text.
A month grid draws up to 168 blocks and a crew week a few hundred: through Jinja (an
include, three url_for and an escape per attribute each) they cost ~0.5 ms apiece, more
than the whole rest of the page. The URLs are made once per page from url_for with a
stand-in id (`Urls`), not per block. `_block.html` stays the one markup for an open
block (inline edits, a block redrawn alone); tests/test_calendar_views.py checks both
print the same closed block. `crew_cells` prints the crew view's day cells the same way
(the template only loops over the people)."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import url_for
from markupsafe import Markup, escape

_STAND_IN = 987654321
_SAFE = "!$'()*,/:;?@"


class Urls:
    """The block's links with the id put in by string replacement (url_for once)."""

    def __init__(self):
        self.event_detail = url_for("calendar.event_detail", event_id=_STAND_IN)
        self.event_item = url_for("calendar.event_item", event_id=_STAND_IN)
        self.task_detail = url_for("tasks.detail", task_id=_STAND_IN)
        self.task_item = url_for("calendar.task_item", task_id=_STAND_IN)

    @staticmethod
    def _with(template: str, item_id: int, **args) -> str:
        url = template.replace(str(_STAND_IN), str(item_id))
        query = {k: v for k, v in args.items() if v}
        # werkzeug's url_for encoding (urls._urlencode): the same href as the template's
        return f"{url}?{urlencode(query, safe=_SAFE)}" if query else url


def draw(block, urls: Urls) -> Markup:
    it = block.item
    classes = f"cal-item cal-{it.kind} type-{it.event_type or 'task'} risk-{it.risk_level}"
    if block.closed:
        classes += " is-closed"
    if it.all_day:
        classes += " is-allday"
    if block.continues_before:
        classes += " cont-before"
    if block.continues_after:
        classes += " cont-after"
    if block.place:
        classes += " " + block.place
    occurrence = block.occurrence_iso or ""
    if it.kind == "event":
        detail = urls._with(urls.event_detail, it.id, occurrence=occurrence)
        item_url = urls._with(urls.event_item, it.id, occurrence=occurrence, place=block.place)
    else:
        detail = urls._with(urls.task_detail, it.id)
        item_url = urls._with(urls.task_item, it.id)
    title = escape(it.title)
    project = escape(it.project_name) if it.project_name else ""
    time_label = escape(block.time_label)
    summary_title = f"{title} · {project} · {time_label}" if project else f"{title} · {time_label}"
    parts = [
        f'<div class="{escape(classes)}" id="{escape(block.dom_id)}"\n'
        f'     data-kind="{it.kind}" data-id="{it.id}" data-version="{it.version}" '
        f'data-start="{escape(block.start_iso)}" data-end="{escape(block.end_iso)}" '
        f'data-all-day="{"1" if it.all_day else "0"}" data-occurrence="{escape(occurrence)}" '
        f'data-movable="{"1" if it.movable else "0"}" data-project="{it.project_id or ""}">\n'
        f'  <details class="cal-details">\n'
        f'    <summary class="cal-sum" title="{summary_title}">'
    ]
    if block.short_time:
        parts.append(f'<span class="cal-t">{escape(block.short_time)}</span>')
    parts.append(f'<span class="cal-name">{title}</span>')
    if block.risky:
        parts.append(
            f'<span class="cal-risk risk-{escape(it.risk_level)}" data-testid="risk-badge" aria-hidden="true">!</span>'
            f'<span class="visually-hidden">Risk: {escape(block.risk_label)}</span>'
        )
    if getattr(it, "is_series", False):
        parts.append(
            '<span class="cal-repeat" title="Repeats"><span aria-hidden="true">↻</span>'
            '<span class="visually-hidden">Repeats</span></span>'
        )
    where = f" · {project}" if project else ""
    parts.append(
        f'</summary>\n    <div class="cal-pop" hx-get="{escape(item_url)}" '
        f'hx-trigger="toggle from:closest details once" hx-swap="innerHTML">'
        f'<p class="cal-loading muted small">{time_label}{where}</p><a href="{escape(detail)}">Open</a>'
        f"</div>\n  </details>\n</div>"
    )
    return Markup("".join(parts))  # noqa: S704 - every text through escape()


def crew_cells(row, draw_block, day_url) -> Markup:
    """A crew row's day cells (templates/calendar/_crew.html's row): 7 cells a person, up
    to 60 people a week — through Jinja's loop they cost more than the blocks in them."""
    parts = []
    for cell in row.cells:
        today = " today" if cell.today else ""
        load = "Free" if cell.load == "free" else f"{cell.hours} h"
        parts.append(
            f'<td class="cal-crew-cell load-{escape(cell.load)}{today}" data-date="{escape(cell.iso)}" '
            f'data-user="{row.id}">\n      <span class="cal-load small">{load}</span>\n      '
        )
        parts.extend(str(draw_block(block)) for block in cell.blocks)
        if cell.more:
            url = escape(day_url(cell.iso))
            parts.append(
                f'\n      <a class="cal-more" href="{url}" hx-get="{url}" hx-target="#calendar-body" '
                f'hx-swap="innerHTML" hx-push-url="true">+{cell.more} more</a>'
            )
        parts.append("\n    </td>\n    ")
    return Markup("".join(parts))  # noqa: S704 - every text through escape(), blocks are Markup
