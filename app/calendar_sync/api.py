"""The subscription URLs in the JSON API (SPEC.md §4–5): `GET /api/calendar/feed/` (the
caller's schedule), `GET /api/projects/{id}/feed/` (a project's, as the caller sees it),
each `{"data": {"url"}}` and made on first ask; `POST /api/calendar/feed/regenerate/`
(optional `project_id`) issues a new URL — the old one answers 404; `DELETE
/api/calendar/feed/` (optional `?project_id=`) stops it. And the CalDAV accounts:
`/api/calendar/accounts/` (list, connect), `…/{id}/` (read, PATCH, DELETE), `POST
…/{id}/sync/`, and `POST /api/calendar/events/{id}/sync/`."""

from __future__ import annotations

from flask import Blueprint
from flask_login import current_user

from app.calendar_sync import accounts, feeds
from app.calendar_sync.routes import feed_url
from app.calendar_sync.schemas import (
    AccountInput,
    AccountOut,
    AccountUpdate,
    FeedOut,
    FeedQuery,
    FeedStopped,
    RegenerateInput,
    SyncQueued,
)
from app.core.api import api_ok, paginate
from app.core.openapi import operation
from app.core.schemas import ListQuery, given, request_body, request_body_or_empty, request_query
from app.projects.services import get_project

bp = Blueprint("calendar_sync_api", __name__)


def _project(project_id):
    return get_project(current_user, project_id) if project_id is not None else None


@bp.get("/calendar/feed/")
@operation("Your calendar subscription URL", returns=FeedOut)
def api_feed():
    return api_ok({"url": feed_url(feeds.feed_for(current_user))})


@bp.get("/projects/<int:project_id>/feed/")
@operation("A project's calendar subscription URL (as you see it)", returns=FeedOut)
def api_project_feed(project_id):
    return api_ok({"url": feed_url(feeds.feed_for(current_user, _project(project_id)))})


@bp.post("/calendar/feed/regenerate/")
@operation(
    "A new subscription URL (the old one stops working)", body=RegenerateInput, body_optional=True, returns=FeedOut
)
def api_regenerate():
    body = request_body_or_empty()
    return api_ok({"url": feed_url(feeds.regenerate(current_user, _project(body.project_id)))})


@bp.delete("/calendar/feed/")
@operation("Stop a subscription URL (it answers 404 from then on)", query=FeedQuery, returns=FeedStopped)
def api_revoke():
    query = request_query()
    return api_ok({"stopped": feeds.revoke(current_user, _project(query.project_id))})


# --- CalDAV accounts (SPEC.md §5) ------------------------------------------------------------------


def account_json(account, items: int | None = None) -> dict:
    return {
        "id": account.id,
        "server_url": account.server_url,
        "username": account.username,
        "calendar_url": account.calendar_url,
        "calendar_name": account.calendar_name,
        "provider": account.provider,
        "status": account.status,
        "last_synced_at": account.last_synced_at.isoformat() if account.last_synced_at else None,
        "last_error": account.last_error,
        "import_project": accounts.import_project_ref(account),
        "items_synced": items if items is not None else accounts.items_synced([account.id]).get(account.id, 0),
    }


@bp.get("/calendar/accounts/")
@operation("Your CalDAV calendars kept in step with Kibray", returns=AccountOut, paged=True, query=ListQuery)
def api_accounts():
    request_query()

    def serialize_page(rows):
        counts = accounts.items_synced([a.id for a in rows])
        return [account_json(a, counts.get(a.id, 0)) for a in rows]

    return paginate(accounts.account_list(current_user), serialize_page=serialize_page)


@bp.post("/calendar/accounts/")
@operation(
    "Connect a CalDAV calendar (two-way sync)",
    body=AccountInput,
    returns=AccountOut,
    status=201,
    description=(
        "The server is asked for the account's calendars (current-user-principal → calendar-home-set); "
        "a first sync is queued at once. Needs calendar.sync_external (admins, PMs, trainees)."
    ),
)
def api_connect():
    body = request_body()
    return api_ok(account_json(accounts.connect(current_user, given(body)), 0), 201)


@bp.get("/calendar/accounts/<int:account_id>/")
@operation("One of your calendar accounts", returns=AccountOut)
def api_account(account_id):
    return api_ok(account_json(accounts.get_account(current_user, account_id)))


@bp.patch("/calendar/accounts/<int:account_id>/")
@operation("Change a calendar account's password or import project", body=AccountUpdate, returns=AccountOut)
def api_update_account(account_id):
    body = request_body()
    account = accounts.update(current_user, accounts.get_account(current_user, account_id), given(body))
    return api_ok(account_json(account))


@bp.delete("/calendar/accounts/<int:account_id>/")
@operation("Disconnect a calendar account (what Kibray put there stays)", returns=AccountOut)
def api_disconnect(account_id):
    account = accounts.get_account(current_user, account_id, action=None)
    answer = account_json(account)
    accounts.disconnect(current_user, account)
    return api_ok(answer)


@bp.post("/calendar/accounts/<int:account_id>/sync/")
@operation("Sync a calendar account now", returns=AccountOut, status=202)
def api_sync_account(account_id):
    account = accounts.get_account(current_user, account_id)
    accounts.sync_now(current_user, account)
    return api_ok(account_json(account), 202)


@bp.post("/calendar/events/<int:event_id>/sync/")
@operation(
    "Sync an event to your calendars now",
    returns=SyncQueued,
    status=202,
    description="Queues a sync of every calendar account of yours (409 when you have none).",
)
def api_sync_event(event_id):
    return api_ok({"queued": accounts.sync_event(current_user, event_id)}, 202)
