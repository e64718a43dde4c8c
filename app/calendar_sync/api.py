"""The subscription URLs in the JSON API (SPEC.md §4–5): `GET /api/calendar/feed/` (the
caller's schedule), `GET /api/projects/{id}/feed/` (a project's, as the caller sees it),
each `{"data": {"url"}}` and made on first ask; `POST /api/calendar/feed/regenerate/`
(optional `project_id`) issues a new URL — the old one answers 404; `DELETE
/api/calendar/feed/` (optional `?project_id=`) stops it."""

from __future__ import annotations

from flask import Blueprint
from flask_login import current_user

from app.calendar_sync import feeds
from app.calendar_sync.routes import feed_url
from app.calendar_sync.schemas import FeedOut, FeedQuery, FeedStopped, RegenerateInput
from app.core.api import api_ok
from app.core.openapi import operation
from app.core.schemas import request_body_or_empty, request_query
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
