"""The feed a calendar app fetches (no login: the secret URL is the key) and the
person's calendar page: subscriptions — their schedule and the projects they chose —
with the URL to copy, "New URL" (the old one stops working) and "Stop"; and, for those
who may sync, their CalDAV calendars kept in step (connect with presets, "Sync now" with
its progress, password and import project, disconnect) with the "sync conflicts" list.
The admin's operations view of every account is /admin/calendar-sync."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required

from app.calendar.queries import project_choices
from app.calendar_sync import accounts, feeds, google_oauth, runs
from app.core.errors import ValidationError
from app.core.htmx import is_htmx, redirect_to
from app.core.numbers import to_int
from app.core.permissions import can, permission_required
from app.core.transaction import attempt
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


def _page(errors=None, status=200, connect=None):
    rows = [(f, p, feed_url(f)) for f, p in feeds.feeds_of(current_user)]
    chosen = {p.id for _, p, _ in rows if p is not None}
    syncs = can(current_user, "calendar.sync_external")
    mine = accounts.accounts_of(current_user) if syncs else []
    return render_template(
        "calendar_sync/settings.html",
        mine=next((row for row in rows if row[1] is None), None),
        projects=[row for row in rows if row[1] is not None],
        choices=[(pid, name) for pid, name in project_choices(current_user) if pid not in chosen],
        project_options=project_choices(current_user),
        errors=errors or {},
        syncs=syncs,
        accounts=[_state(a) for a in mine],
        conflicts=accounts.conflicts_of(current_user) if syncs else [],
        presets=accounts.PRESETS,
        google=google_oauth.configured(),
        connect=connect or {},
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


# --- CalDAV accounts ----------------------------------------------------------------------------


def _state(account, queued: bool = False) -> dict:
    """What the account's row shows: the account, its items, the run going on (or just
    queued by this request, not yet committed)."""
    return {
        "account": account,
        "items": accounts.items_synced([account.id]).get(account.id, 0),
        "running": (0, 0) if queued else runs.progress(account.id),
    }


@bp.post("/account/calendar/accounts")
@login_required
@permission_required("calendar.sync_external")
def connect():
    data = {
        key: request.form.get(key, "") for key in ("server_url", "username", "password", "calendar_url", "provider")
    }
    try:
        with attempt():
            account = accounts.connect(current_user, data)
    except ValidationError as exc:
        calendars = []
        if set(exc.fields) == {"calendar_url"}:  # the credentials work: offer the calendars
            calendars = accounts.discover(data["server_url"], data["username"], data["password"])
        return _page(exc.fields, 422, connect={**data, "calendars": [(c.url, c.name) for c in calendars]})
    flash(f"Connected {account.calendar_name}: the first sync has started.", "success")
    return redirect_to(url_for("calendar_sync.settings"))


@bp.post("/account/calendar/accounts/<int:account_id>")
@login_required
@permission_required("calendar.sync_external")
def update_account(account_id):
    account = accounts.get_account(current_user, account_id)
    data = {"import_project_id": request.form.get("import_project_id", "")}
    if request.form.get("password"):
        data["password"] = request.form["password"]
    try:
        with attempt():
            accounts.update(current_user, account, data)
    except ValidationError as exc:
        return _page({f"{key}-{account.id}": message for key, message in exc.fields.items()}, 422)
    flash("Saved.", "success")
    return redirect_to(url_for("calendar_sync.settings"))


@bp.post("/account/calendar/accounts/<int:account_id>/disconnect")
@login_required
def disconnect(account_id):
    accounts.disconnect(current_user, accounts.get_account(current_user, account_id, action=None))
    flash("Disconnected. What Kibray put in that calendar stays there; delete it in the calendar app.", "success")
    return redirect_to(url_for("calendar_sync.settings"))


@bp.post("/account/calendar/accounts/<int:account_id>/sync")
@login_required
@permission_required("calendar.sync_external")
def sync_now(account_id):
    account = accounts.get_account(current_user, account_id)
    accounts.sync_now(current_user, account)
    if is_htmx():
        return render_template("calendar_sync/_account_state.html", row=_state(account, queued=True))
    flash("Sync started.", "success")
    return redirect_to(url_for("calendar_sync.settings"))


@bp.get("/account/calendar/accounts/<int:account_id>/state")
@login_required
def account_state(account_id):
    """The account's status line and progress bar (polled every second while a run is
    queued or going on)."""
    account = accounts.get_account(current_user, account_id, action=None)
    return render_template("calendar_sync/_account_state.html", row=_state(account))


@bp.post("/account/calendar/conflicts/<int:conflict_id>/dismiss")
@login_required
def dismiss_conflict(conflict_id):
    accounts.dismiss(current_user, conflict_id)
    return redirect_to(url_for("calendar_sync.settings"))


@bp.get("/account/calendar/google")
@login_required
@permission_required("calendar.sync_external")
def google_start():
    """Off to Google's consent screen (404 when Google is not configured here)."""
    if not google_oauth.configured():
        abort(404)
    state = secrets.token_urlsafe(24)
    session["google_calendar_state"] = state
    return redirect(google_oauth.authorize_url(state, url_for("calendar_sync.google_callback", _external=True)))


@bp.get("/account/calendar/google/callback")
@login_required
@permission_required("calendar.sync_external")
def google_callback():
    """Back from Google: the code becomes the account (the state must be the one this
    person's session was sent with)."""
    if not google_oauth.configured():
        abort(404)
    expected = session.pop("google_calendar_state", None)
    state = request.args.get("state", "")
    if not expected or not secrets.compare_digest(expected, state):
        raise ValidationError({"state": "That sign-in with Google was not started here, or has expired. Try again."})
    if request.args.get("error") or not request.args.get("code"):
        flash("Google Calendar was not connected: the permission was not given.", "error")
        return redirect(url_for("calendar_sync.settings"))
    account = accounts.connect_google(
        current_user, request.args["code"], url_for("calendar_sync.google_callback", _external=True)
    )
    flash(f"Connected {account.calendar_name}: the first sync has started.", "success")
    return redirect(url_for("calendar_sync.settings"))


@bp.get("/admin/calendar-sync")
@login_required
@permission_required("settings.manage")
def operations():
    return render_template("calendar_sync/operations.html", rows=accounts.operations(current_user))
