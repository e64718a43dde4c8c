"""What the subscription endpoints read and answer."""

from __future__ import annotations

from pydantic import Field

from app.core.schemas import Id, Input, Output, Query, QueryId, Text


class FeedOut(Output):
    url: str = Field(description="The secret subscription URL (RFC 5545): add it to a calendar app.")


class RegenerateInput(Input):
    project_id: Id | None = Field(None, description="A project's feed; left out: your schedule's.")


class FeedQuery(Query):
    project_id: QueryId | None = Field(None, description="A project's feed; left out: your schedule's.")


class FeedStopped(Output):
    stopped: bool = Field(description="False: there was no such feed (nothing to stop).")


# --- CalDAV accounts (SPEC.md §5 "Calendar account") ------------------------------------------


class AccountOut(Output):
    id: int
    server_url: str
    username: str
    calendar_url: str
    calendar_name: str = Field(description="The calendar's display name on the server.")
    provider: str = Field(description="caldav, icloud or google: how it was connected.")
    status: str = Field(description="ok, syncing or failing (failing: see last_error; not retried until fixed).")
    last_synced_at: str | None
    last_error: str
    import_project: dict | None = Field(
        description="{id, name}: events created in the calendar app come into this project; null: they stay there."
    )
    items_synced: int = Field(description="Kibray items on the calendar after the last run.")


class AccountInput(Input):
    __required__ = ("server_url", "username", "password")
    server_url: Text(500) | None = Field(None, description="The CalDAV server, e.g. https://caldav.icloud.com/.")
    username: Text(200) | None = None
    password: Text(500) | None = Field(None, description="An app-specific password (stored encrypted).")
    calendar_url: Text(1000) | None = Field(
        None, description="Which of the account's calendars; left out: its only one (else the choices are listed)."
    )
    provider: Text(16) | None = Field(None, description="caldav (default) or icloud.")


class AccountUpdate(Input):
    password: Text(500) | None = Field(None, description="A new app password (checked with the server).")
    import_project_id: Id | None = Field(None, description="Import new calendar events into this project; null: none.")


class SyncQueued(Output):
    queued: list[int] = Field(description="The calendar accounts whose sync was queued.")
