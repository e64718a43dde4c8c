"""The bell fragment, the notification list, and marking notifications read."""

from __future__ import annotations

from flask import redirect, render_template, url_for
from flask_login import current_user, login_required

from app.core.errors import ObjectNotFound
from app.core.htmx import hx_target
from app.notifications import bp, services


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
