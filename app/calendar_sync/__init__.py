"""External calendars (issue 11): RFC 5545 subscription feeds — a person's schedule, or
one project's as they may see it, at a secret URL calendar apps poll — and two-way
CalDAV sync with the person's own calendar (iCloud, Google, any CalDAV server).

Files: models.py (CalendarFeed; CalendarAccount, SyncedItem and SyncConflict for
CalDAV), ics.py (the RFC 5545 text), feeds.py (issuing, regenerating, revoking;
resolving a token; the feed's items and ETag), caldav_client.py, hosts.py (the
server-URL guard), accounts.py (connecting, the conflicts list, the admin's view),
sync.py (one run: pull.py brings the calendar's changes in, then Kibray's go out),
runs.py (when runs happen, their progress), google_oauth.py, routes.py (the feed
itself and the person's calendar page), api.py, schemas.py, cli.py (`flask calendar
feed-url`), walk.py. The jobs are workers/calendar_sync.py."""

from app.calendar_sync import cli, models, runs, walk  # noqa: F401 - models: the table
from app.calendar_sync.api import bp as api_bp
from app.calendar_sync.routes import bp
from app.core.features import Feature, NavEntry, PeriodicJob

feature = Feature(
    name="calendar_sync",
    blueprints=(bp,),
    api=(api_bp,),
    commands=(cli.calendar,),
    nav=(
        NavEntry(
            "calendar-sync",
            "Calendar sync",
            "calendar_sync.operations",
            permission="settings.manage",
            order=55,
            active=("calendar_sync.operations",),
        ),
    ),
    encrypted_columns=(("calendar_feeds", "token"), ("calendar_accounts", "password")),
    periodic=(PeriodicJob("calendar-sync", "workers.calendar_sync.sync_all", runs.PERIOD),),
    live_listeners=(runs.changed,),
    notification_kinds=("calendar_sync_refused",),  # a change made in the calendar app was not applied
    walk=walk.ROUTES,
    walk_skip=("/calendar/feed/<token>.ics",),  # no login: the token is the key (tests/test_calendar_feeds.py)
    audit_refusals={
        "calendar_sync.change": "change a calendar subscription",
        "calendar_sync.connect": "connect a calendar",
        "calendar_sync.update_account": "change a calendar account",
        "calendar_sync.sync_now": "sync a calendar",
        "calendar_sync.operations": "see every calendar account",
    },
)
