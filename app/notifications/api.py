"""/api/notifications/ (SPEC.md §4–5 "Notification"): the caller's own notifications,
newest first; mark one or all read. Preferences arrive with the channels."""

from __future__ import annotations

from typing import Literal

from flask import Blueprint
from flask_login import current_user
from pydantic import Field

from app.core.api import api_ok, paginate
from app.core.errors import ObjectNotFound
from app.core.openapi import operation
from app.core.schemas import ListQuery, Output, request_query
from app.notifications import services

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
