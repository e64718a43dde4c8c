"""The feed a calendar app fetches (no login: the secret URL is the key) and the
person's page of subscriptions — their schedule and the projects they chose — with the
URL to copy, "New URL" (the old one stops working) and "Stop"."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response, abort, flash, render_template, request, url_for
from flask_login import current_user, login_required

from app.calendar.queries import project_choices
from app.calendar_sync import feeds
from app.core.errors import ValidationError
from app.core.htmx import redirect_to
from app.core.numbers import to_int
from app.core.permissions import permission_required
from app.projects.services import get_project

bp = Blueprint("calendar_sync", __name__)


@bp.get("/calendar/feed/<token>.ics")
def feed(token):
    """The subscription feed (RFC 5545). An unknown or revoked token: 404."""
    subscription = feeds.resolve(token)
    if subscription is None:
        abort(404)
    now = datetime.now(UTC)
    tag = feeds.etag(subscription, now)
    headers = {"ETag": tag, "Cache-Control": "private, no-cache"}
    # weak comparison (RFC 9110 §8.8.3.2): W/"x" and "x" match; "*" matches any version
    sent = {t.strip().removeprefix("W/") for t in request.headers.get("If-None-Match", "").split(",")}
    if tag.removeprefix("W/") in sent or "*" in sent:
        return Response(status=304, headers=headers)
    body = feeds.render(subscription, feeds.uid_domain(request.host.split(":")[0]), request.host_url.rstrip("/"), now)
    headers["Content-Disposition"] = 'inline; filename="kibray.ics"'
    return Response(body, mimetype="text/calendar", headers=headers)


def feed_url(feed) -> str:
    return url_for("calendar_sync.feed", token=feed.token, _external=True)


def _page(errors=None, status=200):
    rows = [(f, p, feed_url(f)) for f, p in feeds.feeds_of(current_user)]
    chosen = {p.id for _, p, _ in rows if p is not None}
    return render_template(
        "calendar_sync/settings.html",
        mine=next((row for row in rows if row[1] is None), None),
        projects=[row for row in rows if row[1] is not None],
        choices=[(pid, name) for pid, name in project_choices(current_user) if pid not in chosen],
        errors=errors or {},
    ), status


@bp.get("/account/calendar")
@login_required
@permission_required("calendar.view")
def settings():
    return _page()


@bp.post("/account/calendar")
@login_required
@permission_required("calendar.view")
def change():
    raw = request.form.get("project_id", "")
    project = None
    if raw:
        project_id = to_int(raw)
        if project_id is None:
            return _page({"project_id": "Choose a project."}, 422)
        project = get_project(current_user, project_id)
    action = request.form.get("action")
    what = f"the feed of {project.name}" if project is not None else "your schedule's feed"
    if action == "create":
        feeds.feed_for(current_user, project)
        flash(f"Your subscription URL is ready: {what}.", "success")
    elif action == "regenerate":
        feeds.regenerate(current_user, project)
        flash(f"New URL for {what}: the old one no longer works. Subscribe again with this one.", "success")
    elif action == "revoke":
        feeds.revoke(current_user, project)
        flash(f"Stopped {what}: its URL no longer works.", "success")
    else:
        raise ValidationError({"action": "Choose create, regenerate or revoke."})
    return redirect_to(url_for("calendar_sync.settings"))
