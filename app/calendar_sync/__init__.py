"""External calendars (issue 11): RFC 5545 subscription feeds — a person's schedule, or
one project's as they may see it, at a secret URL calendar apps poll.

Files: models.py (CalendarFeed; CalendarAccount and SyncedItem for CalDAV), sync.py (pushing to a CalDAV calendar), caldav_client.py, hosts.py (the server-URL guard), cli.py (`flask calendar feed-url`), ics.py (the RFC 5545 text), feeds.py (issuing,
regenerating, revoking; resolving a token; the feed's items and ETag), routes.py (the
feed itself and the person's subscriptions page), api.py, schemas.py, walk.py."""

from app.calendar_sync import cli, models, walk  # noqa: F401 - models: the table
from app.calendar_sync.api import bp as api_bp
from app.calendar_sync.routes import bp
from app.core.features import Feature

feature = Feature(
    name="calendar_sync",
    blueprints=(bp,),
    api=(api_bp,),
    commands=(cli.calendar,),
    encrypted_columns=(("calendar_feeds", "token"), ("calendar_accounts", "password")),
    walk=walk.ROUTES,
    walk_skip=("/calendar/feed/<token>.ics",),  # no login: the token is the key (tests/test_calendar_feeds.py)
    audit_refusals={
        "calendar_sync.change": "change a calendar subscription",
    },
)
