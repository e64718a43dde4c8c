"""The bell fragment, the notification list, marking notifications read, and the
person's own notification settings (the page over channels.save_preferences)."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.core.errors import ObjectNotFound, ValidationError
from app.core.htmx import hx_target, render_for
from app.core.timezones import company_zone
from app.core.transaction import attempt
from app.core.versioning import StaleObject
from app.notifications import bp, channels, services


@bp.app_template_global()
def notification_url(note) -> str | None:
    """The URL of what a notification is about, or None (no link, or the page is gone)."""
    return services.link_of(note)


@bp.get("/notifications/bell")
@login_required
def bell():
    return render_template(
        "notifications/_bell.html",
        unread=services.unread_count(current_user),
        items=services.recent(current_user),
    )


@bp.get("/notifications")
@login_required
def index():
    return render_template("notifications/index.html", items=services.recent(current_user, limit=100))


@bp.post("/notifications/<int:notification_id>/read")
@login_required
def read(notification_id):
    note = services.mark_read(current_user, notification_id)
    if note is None:
        raise ObjectNotFound("That notification does not exist.")
    return redirect(notification_url(note) or url_for("notifications.index"))


@bp.post("/notifications/read-all")
@login_required
def read_all():
    services.mark_all_read(current_user)
    if hx_target() == "bell":
        return bell()
    return redirect(url_for("notifications.index"))


# --- settings: what reaches the person, and how -------------------------------------
# The form sends, for each kind it shows (`kind`), a checkbox `<kind>.<channel>` for each
# channel it offers (`channel`: the configured ones), so an unticked box means "off" and a
# channel shown disabled (email without a server) is left as it is. Quiet hours are the
# fields `quiet_hours.start`/`.end` (both empty, or the "No quiet hours" box `clear_quiet`:
# none); the digest box is offered (`digest_field`) only when email is configured.


def _submitted() -> dict:
    """The form, in save_preferences' terms."""
    form = request.form
    offered = form.getlist("channel")
    preferences = [{"kind": kind, **{ch: f"{kind}.{ch}" in form for ch in offered}} for kind in form.getlist("kind")]
    quiet_hours, clear_quiet = None, "clear_quiet" in form
    if not clear_quiet and ("quiet_hours.start" in form or "quiet_hours.end" in form):
        typed = {"start": form.get("quiet_hours.start", "").strip(), "end": form.get("quiet_hours.end", "").strip()}
        clear_quiet = not (typed["start"] or typed["end"])
        quiet_hours = None if clear_quiet else typed
    digest = ("digest" in form) if "digest_field" in form else None
    return {
        "preferences": preferences,
        "quiet_hours": quiet_hours,
        "digest": digest,
        "clear_quiet": clear_quiet,
        "version": form.get("version"),
    }


def _as_typed(saved: dict, sent: dict) -> tuple[dict, dict]:
    """The saved preferences with what was typed over them (a form shown again with its
    errors shows what the person chose, not what is stored), and the quiet-hour fields."""
    typed = {entry.get("kind"): entry for entry in sent["preferences"]}
    shown = dict(saved)
    shown["preferences"] = [{**row, **typed.get(row["kind"], {}), "kind": row["kind"]} for row in saved["preferences"]]
    if sent["digest"] is not None:
        shown["digest"] = sent["digest"]
    fields = {key: request.form.get(key, "") for key in ("quiet_hours.start", "quiet_hours.end")}
    return shown, fields | {"clear_quiet": "clear_quiet" in request.form}


def _quiet_fields(prefs: dict) -> dict:
    quiet = prefs["quiet_hours"] or {}
    return {"quiet_hours.start": quiet.get("start", ""), "quiet_hours.end": quiet.get("end", "")}


def _render_preferences(prefs: dict, data: dict, errors=None, status: int = 200, saved: bool = False, stale: str = ""):
    configured = {c["name"]: c for c in prefs["channels"]}  # the bell needs no provider
    return render_for(
        {"prefs-form": "notifications/_preferences_form.html"},
        "notifications/preferences.html",
        status,
        prefs=prefs,
        data=data,
        errors=errors or {},
        saved=saved,
        stale=stale,
        kind_labels=channels.KIND_LABELS,
        configured=configured,
        columns=channels.CHANNELS,
        offered=[ch for ch in channels.CHANNELS if configured.get(ch, {"configured": True})["configured"]],
        zone=company_zone().key,
    )


@bp.get("/notifications/preferences")
@login_required
def preferences():
    prefs = channels.preferences_of(current_user)
    return _render_preferences(prefs, _quiet_fields(prefs))


@bp.post("/notifications/preferences")
@login_required
def save_preferences():
    sent = _submitted()
    try:
        with attempt():
            prefs = channels.save_preferences(current_user, **sent)
    except StaleObject as exc:  # saved meanwhile from another window: what is saved now
        prefs = channels.preferences_of(current_user)
        return _render_preferences(prefs, _quiet_fields(prefs), status=409, stale=exc.message)
    except ValidationError as exc:
        shown, fields = _as_typed(channels.preferences_of(current_user), sent)
        return _render_preferences(shown, fields, exc.fields, 422)
    return _render_preferences(prefs, _quiet_fields(prefs), saved=True)
