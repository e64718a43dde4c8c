"""The Gantt's rows drawn as markup in Python: 300 tasks are ~2,000 SVG elements, which
Jinja (an escape per value, an attribute lookup per number) took ~60 ms to print; string
formatting with one escape per text takes a few. The numbers are ints computed in
queries.py; every text (titles, labels) goes through markupsafe.escape. No style
attributes (the CSP): geometry in SVG attributes, colours in static/css/gantt.css."""

from __future__ import annotations

from markupsafe import Markup, escape

from app.gantt.queries import BAR_H, BAR_Y, Chart, bar_title, days, fmt
from app.gantt.scales import short


def labels(chart: Chart, task_url: str) -> Markup:
    """The label column's rows (HTML): a link to each task, its risk badge.
    `task_url` has "/0" where the task's id goes."""
    head, _, tail = task_url.rpartition("/0")
    out = []
    for bar in chart.bars:
        risk = (
            f' <span class="gantt-risk gantt-risk--{bar.risk}" title="Risk: {bar.risk}" data-testid="risk-{bar.id}">'
            f"{bar.risk}</span>"
            if bar.risk
            else ""
        )
        out.append(
            f'<div class="gantt-label{" is-critical" if bar.critical else ""}">'
            f'<a href="{head}/{bar.id}{tail}" title="{escape(bar.title)}">{escape(bar.label)}</a>{risk}</div>'
        )
    return Markup("".join(out))  # noqa: S704 - numbers, and texts through escape()


def rows(chart: Chart) -> Markup:
    """The arrows, then the bars (drawn over them), of the chart's SVG."""
    out = []
    for a in chart.arrows:
        critical = " is-critical" if a.critical else ""
        out.append(
            f'<path class="gantt-link{critical}" d="{a.d}" marker-end="url(#gantt-arrow{"-critical" if a.critical else ""})"/>'
        )
    y_off, h = BAR_Y, BAR_H
    for bar in chart.bars:
        if not bar.drawn:  # outside the window: say which way it is
            if bar.x < 0:
                out.append(
                    f'<text class="gantt-offscreen" x="4" y="{bar.y + 19}">◂ {short(bar.start)}–{short(bar.due)}</text>'
                )
            else:
                out.append(
                    f'<text class="gantt-offscreen" x="{chart.width - 4}" y="{bar.y + 19}" text-anchor="end">'
                    f"{short(bar.start)}–{short(bar.due)} ▸</text>"
                )
            continue
        classes = "gantt-bar"
        if bar.critical:
            classes += " is-critical"
        if bar.earliest:
            classes += " is-late"
        classes += f" status-{bar.status}"
        if bar.movable:
            classes += " is-movable"
        y = bar.y + y_off
        parts = [
            f'<g class="{classes}" data-task-id="{bar.id}" data-version="{bar.version}" data-start="{bar.start}"'
            f' data-due="{bar.due}" data-float="{bar.float_days}"{" data-gantt-bar" if bar.movable else ""}'
            f' data-testid="bar-{bar.id}"><title>{escape(bar_title(bar))}</title>'
            f'<rect class="gantt-bar-bg" x="{bar.x}" y="{y}" width="{bar.width}" height="{h}" rx="3"/>'
        ]
        if bar.progress_width:
            parts.append(
                f'<rect class="gantt-bar-progress" x="{bar.x}" y="{y}" width="{bar.progress_width}" height="{h}" rx="3"/>'
            )
        if bar.movable:
            parts.append(
                f'<rect class="gantt-handle" data-gantt-resize x="{bar.x + bar.width - 7}" y="{y}" width="8" height="{h}"/>'
            )
        parts.append("</g>")
        out.append("".join(parts))
    return Markup("".join(out))  # noqa: S704 - numbers, and texts through escape()


def table(chart: Chart) -> Markup:
    """The schedule as a table (its <tbody>): what the chart shows, readable as text."""
    out = []
    for bar in chart.bars:
        out.append(
            f"<tr><td>{escape(bar.title)}</td><td>{fmt(bar.start)}</td><td>{fmt(bar.due)}</td>"
            f"<td>{bar.progress}%</td><td>{days(bar.float_days)}</td><td>{'Yes' if bar.critical else ''}</td></tr>"
        )
    return Markup("".join(out))  # noqa: S704 - numbers, and texts through escape()
