"""Daily logs (issue 9): one a project and day — crew on site (from the punches), work
done (from the tasks progressed), weather, problems, deliveries, visitors; editable the
same day, then locked; printable as PDF; the client sees the logs shared with them."""

from flask import Blueprint

from app.core.features import Feature, LiveEvent

bp = Blueprint("daily_logs", __name__)

from app.daily_logs import models, routes, walk  # noqa: E402,F401
from app.daily_logs.api import bp as api_bp  # noqa: E402

feature = Feature(
    name="daily_logs",
    blueprints=(bp,),
    api=(api_bp,),
    # lists and log pages refresh on it (hx-trigger="kibray:daily-logs from:body")
    live_events=(LiveEvent("daily-log-saved", dom=("kibray:daily-logs",)),),
    audit_refusals={
        "daily_logs.create": "write a daily log",
        "daily_logs.update": "change a daily log",
        "daily_logs.lock": "lock a daily log",
        "daily_logs.unlock": "unlock a daily log",
        "api.daily_logs.api_create": "write a daily log",
        "api.daily_logs.api_update": "change a daily log",
    },
    walk=walk.ROUTES,
)
