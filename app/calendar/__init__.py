"""The schedule's calendar: events (meetings, inspections, deliveries, milestones) beside
the dated tasks, in month, week, day and crew views, with /api/calendar/events/.

Files: models.py (the tables), visibility.py (who sees which event: the one rule),
recurrence.py (RRULE series), services.py (every write), queries.py (the views' reads),
api.py (/api/calendar/events/), views*.py (the pages and fragments), walk_*.py (the
permission walk's rows)."""

from flask import Blueprint

from app.core.features import Feature, LiveEvent, NavEntry

bp = Blueprint("calendar", __name__)

from app.calendar import api_walk, models, moves, views, views_walk  # noqa: E402,F401
from app.calendar.api import bp as api_bp  # noqa: E402

_DOM = ("kibray:calendar",)  # every calendar, crew and Gantt fragment refreshes on it

feature = Feature(
    name="calendar",
    blueprints=(bp,),
    api=(api_bp,),
    nav=(NavEntry("calendar", "Calendar", "calendar.index", permission="calendar.view", order=14, boost=False),),
    live_events=(
        LiveEvent("calendar-event-created", dom=_DOM),
        LiveEvent("calendar-event-updated", dom=_DOM),
        LiveEvent("calendar-event-deleted", dom=_DOM),
        LiveEvent("calendar-event-withdrawn", dom=_DOM),  # to whoever may no longer see it
    ),
    notification_kinds=("event_assigned",),
    walk=(*api_walk.ROUTES, *views_walk.ROUTES),
)
