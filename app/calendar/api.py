"""/api/calendar/events/ (SPEC.md §4–5). Routes translate HTTP; the rules are the
service's (app/calendar/services.py), who sees what visibility.py's.

The list: SPEC §4's envelope. With start_date AND end_date (company-local days, at most
MAX_RANGE_DAYS apart) series are expanded: each occurrence in the range is an item of
its own, with the series' id, the occurrence's start/end and `occurrence_start` (its
original start — what the move, edit and cancel-occurrence endpoints take). An
occurrence that was edited or cancelled is not repeated from the series: its exception
row is an item like any event (series_id set, status cancelled for a cancelled one).
Without both dates a series is one item (its first occurrence, with `rrule`).
"""

from __future__ import annotations

import math

from flask import Blueprint, request, url_for
from flask_login import current_user

from app.calendar import api_listing, services
from app.calendar.models import CalendarEvent
from app.calendar.schemas import (
    BulkInput,
    BulkOut,
    Deleted,
    EventCreate,
    EventOut,
    EventPatch,
    EventPut,
    EventQuery,
    MoveInput,
    OccurrenceInput,
)
from app.calendar.serialize import conflicts_for, event_json
from app.calendar.visibility import get_event
from app.core.api import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    _positive_int,
    api_ok,
    conflicts_show,
    paginate,
    sent_version,
    with_etag,
)
from app.core.errors import ValidationError
from app.core.openapi import operation
from app.core.permissions import require
from app.core.schemas import given, request_body, request_query

bp = Blueprint("calendar", __name__)

MAX_RANGE_DAYS = 400


def _one(event: CalendarEvent) -> dict:
    return event_json(event, current_user, conflicts_for(current_user, [event]).get(event.id, []))


def _page_of(items: list, serialize_page):
    """SPEC §4's envelope over a list computed in memory (expanded occurrences)."""
    page = _positive_int("page", 1)
    page_size = min(_positive_int("page_size", DEFAULT_PAGE_SIZE), MAX_PAGE_SIZE)
    total = len(items)
    total_pages = max(1, math.ceil(total / page_size))
    page = min(page, total_pages)
    chunk = items[(page - 1) * page_size : page * page_size]

    def link(number):
        if number < 1 or number > total_pages:
            return None
        args = request.args.to_dict()
        args.update(page=number, page_size=page_size)
        return url_for(request.endpoint, _external=True, **(request.view_args or {}), **args)

    return api_ok(
        {
            "results": serialize_page(chunk),
            "pagination": {
                "page": page,
                "page_size": page_size,
                "total_pages": total_pages,
                "total_count": total,
                "next": link(page + 1),
                "previous": link(page - 1),
            },
        }
    )


@bp.get("/calendar/events/")
@operation(
    "List calendar events",
    returns=EventOut,
    paged=True,
    query=EventQuery,
    description="With start_date and end_date, series are expanded into their occurrences in the range, each "
    "carrying occurrence_start. A client sees only client-visible events of their projects, without assignees "
    "or internal notes.",
)
def api_list():
    require(current_user, "calendar.view")
    query = request_query()
    if query.start_date and query.end_date and query.end_date < query.start_date:
        raise ValidationError({"end_date": "The end date cannot be before the start date."})
    listing = api_listing.events(current_user, query, MAX_RANGE_DAYS)
    if listing.statement is not None:
        return paginate(listing.statement, serialize_page=_serialize_rows)

    def serialize_page(chunk):
        chunk = api_listing.page(chunk)
        found = conflicts_for(current_user, [e for e, _ in chunk])
        return [event_json(e, current_user, found.get(e.id, []), occurrence=o) for e, o in chunk]

    return _page_of(listing.items, serialize_page)


def _serialize_rows(events):
    found = conflicts_for(current_user, events)
    return [event_json(e, current_user, found.get(e.id, [])) for e in events]


@bp.post("/calendar/events/")
@operation("Create a calendar event", body=EventCreate, returns=EventOut, status=201)
def api_create():
    require(current_user, "calendar.create_event")
    body = request_body()
    data = given(body, exclude=("version", "occurrence_start"))
    event = services.create_event(current_user, data)
    return with_etag(api_ok(_one(event), 201), event)


@bp.get("/calendar/events/<int:event_id>/")
@operation("A calendar event", returns=EventOut, headers={"ETag": 'The version, as "3".'})
def api_detail(event_id):
    event = get_event(current_user, event_id)
    return with_etag(api_ok(_one(event)), event)


@bp.route("/calendar/events/<int:event_id>/", methods=["PUT", "PATCH"])
@operation(
    "Replace (PUT) or change (PATCH) a calendar event",
    body=EventPut,
    patch=EventPatch,
    returns=EventOut,
    if_match=True,
    description="Send `version` (or If-Match) to refuse the write if the event changed meanwhile (409 with the "
    "current event). With `occurrence_start`, only that occurrence of a series changes (answered: the occurrence).",
)
def api_update(event_id):
    event = get_event(current_user, event_id, "calendar.create_event")
    body = request_body()
    data = given(body, exclude=("version", "occurrence_start"))
    if request.method == "PUT":
        missing = [k for k in ("title", "start_datetime", "end_datetime") if k not in data]
        if missing:
            raise ValidationError(dict.fromkeys(missing, "This field is required."))
    with conflicts_show(_one):
        changed = services.update_event(
            current_user, event, data, version=sent_version(body.version), occurrence_start=body.occurrence_start
        )
    return with_etag(api_ok(_one(changed)), changed)


@bp.patch("/calendar/events/<int:event_id>/move/")
@operation(
    "Move or resize a calendar event",
    body=MoveInput,
    returns=EventOut,
    if_match=True,
    description="New start and end. A stale `version` answers 409 CONFLICT with the current event in "
    "error.details. With `occurrence_start`, only that occurrence of a series moves (answered: the occurrence).",
)
def api_move(event_id):
    event = get_event(current_user, event_id, "calendar.move_event")
    body = request_body()
    missing = [k for k in ("start_datetime", "end_datetime") if getattr(body, k) is None]
    if missing:
        raise ValidationError(dict.fromkeys(missing, "This field is required."))
    with conflicts_show(_one):
        moved = services.move_event(
            current_user,
            event,
            body.start_datetime,
            body.end_datetime,
            version=sent_version(body.version),
            occurrence_start=body.occurrence_start,
        )
    return with_etag(api_ok(_one(moved)), moved)


@bp.post("/calendar/events/<int:event_id>/cancel-occurrence/")
@operation(
    "Cancel one occurrence of a series",
    body=OccurrenceInput,
    returns=EventOut,
    if_match=True,
    description="The occurrence (its original start) becomes an exception row with status cancelled.",
)
def api_cancel_occurrence(event_id):
    event = get_event(current_user, event_id, "calendar.create_event")
    body = request_body()
    if body.occurrence_start is None:
        raise ValidationError({"occurrence_start": "This field is required."})
    with conflicts_show(_one):
        row = services.cancel_occurrence(current_user, event, body.occurrence_start, version=sent_version(body.version))
    return with_etag(api_ok(_one(row)), row)


@bp.delete("/calendar/events/<int:event_id>/")
@operation(
    "Delete a calendar event",
    returns=Deleted,
    if_match=True,
    description="A series goes with its exceptions; deleting one edited occurrence cancels it.",
)
def api_delete(event_id):
    event = get_event(current_user, event_id, "calendar.create_event")
    with conflicts_show(_one):
        services.delete_event(current_user, event, version=sent_version(None))
    return api_ok({"id": event_id, "deleted": True})


@bp.post("/calendar/events/bulk/")
@operation(
    "Change many events and tasks at once",
    body=BulkInput,
    returns=BulkOut,
    description="action move (days), reassign (user_ids), status (status) or delete, on items "
    '[{"kind": "event"|"task", "id", "version"}] (version optional: with it, an item changed since is refused '
    "as stale). Each item is checked on its own: refused ones are listed with the reason and do not stop the others.",
)
def api_bulk():
    require(current_user, "calendar.create_event")  # roles that may change nothing here are refused outright
    body = request_body()
    if not body.items:
        raise ValidationError({"items": "This field is required."})
    if body.action is None:
        raise ValidationError({"action": "This field is required."})
    params = given(body, exclude=("items", "action"))
    result = services.bulk(current_user, [(i.kind, i.id, i.version) for i in body.items], body.action, **params)
    return api_ok(result)
