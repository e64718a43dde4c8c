"""In-app notifications: the bell, the list, mark as read, and each person's settings."""

from flask import Blueprint

from app.core.features import Feature, LiveEvent, NavEntry, PeriodicJob, WalkRoute, Widget

bp = Blueprint("notifications", __name__)

from app.notifications import routes, services  # noqa: E402,F401
from app.notifications.api import bp as api_bp  # noqa: E402


def _latest(user) -> dict:
    return {"notes": services.recent(user, limit=5)}


feature = Feature(
    name="notifications",
    blueprints=(bp,),
    api=(api_bp,),
    nav=(
        NavEntry(
            "notifications",
            "Notifications",
            "notifications.index",
            order=90,
            active=("notifications.index", "notifications.preferences", "notifications.save_preferences"),
        ),
    ),
    live_events=(LiveEvent("notification"),),
    periodic=(
        PeriodicJob("send-held-notifications", "workers.notifications.send_held", 300),
        PeriodicJob("notification-digest", "workers.notifications.digest", 3600),
    ),
    notification_kinds=("mention", "system"),
    widgets=(Widget("notifications/_home.html", order=90, context=_latest),),
    walk=(
        WalkRoute("GET", "/notifications", "200 200 200 200 200 200 200"),
        WalkRoute("GET", "/notifications/bell", "200 200 200 200 200 200 200"),
        WalkRoute("GET", "/notifications/preferences", "200 200 200 200 200 200 200"),
        # one's own settings only (tests/test_notification_prefs_page.py): unticking the bell
        # for "system" writes the person's preference row
        WalkRoute(
            "POST", "/notifications/preferences", "200 200 200 200 200 200 200", {"kind": "system", "channel": "in_app"}
        ),
        WalkRoute("GET", "/api/notifications/", "200 200 200 200 200 200 200"),
        WalkRoute("GET", "/api/notifications/preferences/", "200 200 200 200 200 200 200"),
        WalkRoute("PUT", "/api/notifications/preferences/", "200 200 200 200 200 200 200", {"digest": True}),
    ),
    walk_skip=(
        "/notifications/<int:notification_id>/read",  # own rows only (tests/test_notifications.py)
        "/notifications/read-all",  # own rows only (tests/test_notifications.py)
        "/api/notifications/<int:notification_id>/mark-read/",  # own rows only (tests/test_notifications.py)
        "/api/notifications/mark-all-read/",  # own rows only (tests/test_notifications.py)
    ),
)
