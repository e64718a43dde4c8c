"""Google Calendar over CalDAV (issue 11). Google's CalDAV endpoint
(https://apidata.googleusercontent.com/caldav/v2/) takes OAuth 2.0 only — no app
passwords — so connecting needs the company's own Google OAuth client:
GOOGLE_CALENDAR_CLIENT_ID and GOOGLE_CALENDAR_CLIENT_SECRET. Without them the page says
so and offers nothing that would pretend to work."""

from __future__ import annotations

from flask import current_app


def configured() -> bool:
    config = current_app.config
    return bool(config.get("GOOGLE_CALENDAR_CLIENT_ID") and config.get("GOOGLE_CALENDAR_CLIENT_SECRET"))
