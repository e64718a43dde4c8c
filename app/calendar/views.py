"""The calendar's pages: month, week, day and crew views (server-rendered, swapped by htmx).

One URL, `/calendar/?view=month&date=2026-12-01&project=3&pm=&employee=&status=&type=&q=`,
is the page (a plain request) and its fragment (htmx aiming at #calendar-body): moving
between periods, filtering and searching swap the fragment and push the URL, so the URL
is shareable and restores the same view. The fragment also refreshes itself on the live
events of the calendar and of tasks.

The events' own pages and forms, and the blocks' inline editing, are in views_events.py.
"""

from __future__ import annotations

import functools
import re
from datetime import date, timedelta

from flask import make_response, render_template, request, url_for
from flask_login import current_user, login_required

from app.calendar import block_html, bp, queries, views_layout
from app.calendar.models import EVENT_TYPES, STATUS_LABELS, STATUSES, TYPE_LABELS
from app.core.htmx import hx_target, lazy, render_for
from app.core.numbers import to_int
from app.core.permissions import can, permission_required, require
from app.core.roles import CLIENT, EMPLOYEE
from app.core.timezones import company_zone
from app.tasks.models import STATUS_LABELS as TASK_STATUS_LABELS
from app.tasks.models import STATUSES as TASK_STATUSES

VIEWS = ("month", "week", "day", "crew")
VIEW_LABELS = {"month": "Month", "week": "Week", "day": "Day", "crew": "Crew"}
WEEK_PER_DAY = 24  # items read per day: the week's columns
DAY_PER_DAY = 120  # the day view (the rest: "+N more", narrowed by the filters)
MONTH_PER_DAY = views_layout.MONTH_SHOWN + 1  # one more than shown: the cell still says "+N more"
BODY = "calendar-body"
FILTER_KEYS = ("project", "pm", "employee", "status", "type", "q")
PLACE = re.compile(r"^[a-z0-9\- ]{0,60}$")


def today() -> date:
    from app.tasks.services import today as company_today

    return company_today()


def _day(value) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def status_options() -> list[tuple[str, str]]:
    """Events' statuses, then the tasks' own ones (a status filters each kind that has it)."""
    found = [(s, STATUS_LABELS[s]) for s in STATUSES]
    found += [(s, f"{TASK_STATUS_LABELS[s]} (tasks)") for s in TASK_STATUSES if s not in STATUSES]
    return found


def type_options() -> list[tuple[str, str]]:
    return [*((t, TYPE_LABELS[t]) for t in EVENT_TYPES if t != "task"), (queries.TASK, "Tasks (from the task list)")]


_STAND_IN_DAY = "1900-01-01"


class State:
    """What the URL asks for: the view, the day it is anchored on, the filters."""

    def __init__(self, args, user):
        view = args.get("view", "month")
        self.view = view if view in VIEWS else "month"
        self.anchor = _day(args.get("date")) or today()
        if not (date(1900, 1, 1) <= self.anchor <= date(2999, 12, 31)):
            self.anchor = today()
        staff = user.role not in (CLIENT, EMPLOYEE)
        status = args.get("status", "")
        kind = args.get("type", "")
        self.filters = queries.Filters(
            project_id=to_int(args.get("project", "")),
            pm=to_int(args.get("pm", "")) if staff and can(user, "team.view") else None,
            employee=to_int(args.get("employee", "")) if staff else None,
            status=status if status in dict(status_options()) else "",
            type=kind if kind in dict(type_options()) else "",
            q=args.get("q", "").strip()[:100],
        )

    def args(self, **changes) -> dict:
        """The query string of this state (with `changes`), empty values left out."""
        f = self.filters
        found = {
            "view": self.view,
            "date": self.anchor.isoformat(),
            "project": f.project_id,
            "pm": f.pm,
            "employee": f.employee,
            "status": f.status,
            "type": f.type,
            "q": f.q,
        }
        found.update(changes)
        return {k: v for k, v in found.items() if v not in (None, "")}

    def url(self, **changes) -> str:
        return url_for("calendar.index", **self.args(**changes))

    def step(self, direction: int) -> date:
        anchor = self.anchor
        if self.view == "month":
            month = anchor.month - 1 + direction
            return date(anchor.year + month // 12, month % 12 + 1, 1)
        return anchor + timedelta(days=direction * (1 if self.view == "day" else 7))


def _title(state: State, first: date, last: date) -> str:
    months = views_layout.MONTHS
    if state.view == "month":
        return f"{months[state.anchor.month - 1]} {state.anchor.year}"
    if state.view == "day":
        return f"{views_layout.WEEKDAYS[first.weekday()]} {months[first.month - 1][:3]} {first.day}, {first.year}"
    if first.year != last.year:
        return f"{months[first.month - 1][:3]} {first.day}, {first.year} – {months[last.month - 1][:3]} {last.day}, {last.year}"
    if first.month != last.month:
        return f"{months[first.month - 1][:3]} {first.day} – {months[last.month - 1][:3]} {last.day}, {last.year}"
    return f"{months[first.month - 1][:3]} {first.day} – {last.day}, {last.year}"


def _period(state: State) -> tuple[date, date]:
    if state.view == "month":
        return views_layout.month_range(state.anchor)
    if state.view == "day":
        return state.anchor, state.anchor
    return views_layout.week_range(state.anchor)


def calendar_context(state: State) -> dict:
    user = current_user
    zone = company_zone()
    first, last = _period(state)
    now = today()
    context = {
        "state": state,
        "view": state.view,
        "first": first,
        "last": last,
        "title": _title(state, first, last),
        "today_iso": now.isoformat(),
        "anchor_iso": state.anchor.isoformat(),
        "clear_url": url_for("calendar.index", view=state.view, date=state.anchor.isoformat()),
        "prev_url": state.url(date=state.step(-1).isoformat()),
        "next_url": state.url(date=state.step(1).isoformat()),
        "today_url": state.url(date=now.isoformat()),
        # the crew view is the team's: a client is not offered it (and is told so if they ask)
        "view_urls": [(v, VIEW_LABELS[v], state.url(view=v)) for v in VIEWS if v != "crew" or user.role != CLIENT],
        # one url_for a page, not one per day cell (42 in a month: ~6 ms)
        "day_url": functools.partial(str.replace, state.url(view="day", date=_STAND_IN_DAY), _STAND_IN_DAY),
        "crew_refused": "",
        "may_edit_event": can(user, "calendar.create_event"),
        "weekdays": views_layout.WEEKDAYS,
        "move_url": "/calendar/move",
        "shows_people": user.role != CLIENT,
        "draw_block": functools.partial(block_html.draw, urls=block_html.Urls()),
    }
    # the crew's day cells, printed by Python (block_html.crew_cells)
    context["crew_cells"] = functools.partial(
        block_html.crew_cells, draw_block=context["draw_block"], day_url=context["day_url"]
    )
    if state.view == "crew":
        if user.role == CLIENT:
            context["crew_refused"] = (
                "The crew view is for the team: your calendar shows the visits and milestones of your projects."
            )
            context["crew"] = []
            return context
        people = queries.crew_people(user, state.filters)
        filters = queries.Filters(**{**state.filters.__dict__, "people": tuple(p[0] for p in people)})
        items = queries.period(user, first, last, filters) if people else queries.Period()
        reasons = {}  # the badges read risk_level; the reasons are the opened block's (views_events)
        context["crew"] = views_layout.crew(people, items, first, last, now, zone, reasons)
        context["crew_days"] = [
            (d, views_layout.day_label(d), d == now) for d in (first + timedelta(days=i) for i in range(7))
        ]
        return context
    per_day = {"month": MONTH_PER_DAY, "week": WEEK_PER_DAY, "day": DAY_PER_DAY}[state.view]
    items = queries.period(user, first, last, state.filters, per_day=per_day, people=False)
    reasons = {}  # the badges read risk_level; the reasons are the opened block's (views_events)
    context["count"] = len(items)
    if state.view == "month":
        context["weeks"] = views_layout.month(items, items.hidden, state.anchor, now, zone, reasons)
    else:
        lanes = views_layout.DAY_LANES if state.view == "day" else views_layout.WEEK_LANES
        context["columns"] = views_layout.columns(items, items.hidden, first, last, now, zone, reasons, lanes)
        context["hours"] = context["columns"][0].slots
    return context


def _filter_choices(state: State) -> dict:
    """The filter bar's choices (the whole page only: a fragment swap does not pay for them)."""
    from app.projects.queries import PICKER_LIMIT, pm_filter_choices
    from app.tasks.queries import people_choices

    user = current_user
    staff = user.role not in (CLIENT, EMPLOYEE)
    choices = {
        "project_options": lazy(lambda: queries.project_choices(user)),
        "status_options": status_options(),
        "type_options": type_options(),
        "filter_people": staff,
        "filter_pm": staff and can(user, "team.view"),
        "picker_limit": PICKER_LIMIT,
    }
    if choices["filter_pm"]:
        choices["pms"] = pm_filter_choices(user, state.filters.pm)
    if staff:
        choices["people"] = people_choices(user, None, state.filters.employee)
    return choices


@bp.get("/calendar/")
@login_required
def index():
    require(current_user, "calendar.view")
    state = State(request.args, current_user)
    context = calendar_context(state)
    fragment = hx_target() == BODY
    if not fragment:
        context.update(_filter_choices(state))
    context["oob"] = fragment  # the fragment also updates the filter form's view and date
    return render_for({BODY: "calendar/_body.html"}, "calendar/index.html", **context)


@bp.get("/calendar/people-options")
@login_required
@permission_required("calendar.view")
def people_options():
    """The filter bar's person pickers' suggestions (employee, PM) past PICKER_LIMIT."""
    from app.projects.queries import OPTIONS_LIMIT, pm_options
    from app.tasks.queries import people_options as task_people

    user = current_user
    state = State(request.args, user)
    if user.role in (CLIENT, EMPLOYEE):
        found, key = [], "employee"
    elif "pm_search" in request.args and can(user, "team.view"):
        found, key = pm_options(user, request.args.get("pm_search", "").strip()[:100]), "pm"
    else:
        found, key = task_people(user, None, request.args.get("employee_search", "").strip()[:100]), "employee"
    return render_template(
        "_picker_options.html",
        found=found,
        choose=lambda person_id: state.url(**{key: person_id}),
        limit=OPTIONS_LIMIT,
    )


def place_of(raw) -> str:
    """A block's hour-grid classes as sent back by its inline form (checked: only the
    grid's own class names pass)."""
    raw = str(raw or "")
    return raw if PLACE.match(raw) else ""


def no_store(response):
    response = make_response(response)
    response.headers["Cache-Control"] = "no-store"
    return response


from app.calendar import views_events  # noqa: E402,F401  (its routes join the blueprint)
