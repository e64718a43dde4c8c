"""/api/notifications/ (SPEC.md §4–5 "Notification"): the caller's own notifications,
newest first; mark one or all read; the caller's preferences (GET/PUT)."""

from __future__ import annotations

from typing import Annotated, Literal

from flask import Blueprint
from flask_login import current_user
from pydantic import Field

from app.core.api import api_ok, conflicts_show, paginate, sent_version
from app.core.errors import ObjectNotFound
from app.core.openapi import operation
from app.core.schemas import Input, ListQuery, Output, Text, Version, given, request_body, request_query
from app.notifications import channels, services

bp = Blueprint("notifications", __name__)


class NotificationQuery(ListQuery):
    is_read: Literal["true", "false"] | None = Field(None, description="Only read (true) or unread (false) ones.")


class NotificationOut(Output):
    id: int
    kind: str
    message: str
    link: str | None
    is_read: bool
    created_at: str = Field(json_schema_extra={"format": "date-time"})


class MarkedAll(Output):
    marked: int


class PreferenceItem(Input):
    kind: Text(40) | None = None
    in_app: bool | None = None
    email: bool | None = None


class QuietHours(Input):
    start: Text(5) | None = Field(None, description="HH:MM, company time.")
    end: Text(5) | None = Field(None, description="HH:MM, company time (may be past midnight: 22:00–06:30).")


class PreferencesInput(Input):
    preferences: Annotated[list[PreferenceItem], Field(max_length=50)] | None = Field(
        None, description="Per kind, the channels to change (the others keep their setting)."
    )
    quiet_hours: QuietHours | None = Field(None, description="Email waits until they end; null: none.")
    digest: bool | None = Field(None, description="One email a day instead of one per notification.")
    version: Version | None = None


class PreferenceOut(Output):
    kind: str
    in_app: bool
    email: bool


class QuietHoursOut(Output):
    start: str
    end: str


class ChannelOut(Output):
    name: str
    configured: bool
    message: str


class PreferencesOut(Output):
    preferences: list[PreferenceOut]
    quiet_hours: QuietHoursOut | None
    digest: bool
    version: int = Field(description="1 until the first save (the defaults); send it back (or If-Match) to save.")
    channels: list[ChannelOut] = Field(description="Channels without a provider here (SMS, push): not configured.")


def _json(note) -> dict:
    return {
        "id": note.id,
        "kind": note.kind,
        "message": note.title,
        "link": services.link_of(note),
        "is_read": note.read_at is not None,
        "created_at": note.created_at.isoformat(),
    }


@bp.get("/notifications/")
@operation("Your notifications, newest first", returns=NotificationOut, paged=True, query=NotificationQuery)
def api_list():
    query = request_query()
    read = None if query.is_read is None else query.is_read == "true"
    return paginate(services.own(current_user, read), serialize_page=lambda notes: [_json(n) for n in notes])


@bp.post("/notifications/<int:notification_id>/mark-read/")
@operation("Mark one of your notifications read", returns=NotificationOut)
def api_mark_read(notification_id):
    note = services.mark_read(current_user, notification_id)
    if note is None:
        raise ObjectNotFound("That notification does not exist.")
    return api_ok(_json(note))


@bp.post("/notifications/mark-all-read/")
@operation("Mark all your notifications read", returns=MarkedAll)
def api_mark_all_read():
    return api_ok({"marked": services.mark_all_read(current_user)})


@bp.get("/notifications/preferences/")
@operation("Your notification preferences", returns=PreferencesOut)
def api_preferences():
    return _answer(channels.preferences_of(current_user))


@bp.put("/notifications/preferences/")
@operation("Change your notification preferences", body=PreferencesInput, returns=PreferencesOut, if_match=True)
def api_save_preferences():
    body = request_body()
    sent = body.model_fields_set
    quiet = given(body.quiet_hours) if body.quiet_hours is not None else None
    with conflicts_show(lambda _row: channels.preferences_of(current_user)):
        saved = channels.save_preferences(
            current_user,
            preferences=[given(item) for item in body.preferences or []],
            quiet_hours=quiet,
            digest=body.digest,
            clear_quiet="quiet_hours" in sent and body.quiet_hours is None,
            version=sent_version(body.version),
        )
    return _answer(saved)


def _answer(prefs: dict):
    """The preferences with their version as the answer's ETag (`"3"`)."""
    response, status = api_ok(prefs)
    response.headers["ETag"] = f'"{prefs["version"]}"'
    return response, status
