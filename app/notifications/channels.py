"""How a notification reaches a person beyond the bell: preferences per kind and channel,
quiet hours, the daily digest, and email through the configured SMTP server in an RQ job.

- `route(note, user)` runs inside notify(): the bell is skipped when the person turned
  it off for the kind (the row is kept, already read); an email becomes a `Delivery` —
  held until their quiet hours end, or kept for the digest — and a job on the
  `notifications` queue sends it after the commit, retried with backoff (core.jobs).
- A delivery is sent at most once (unique per notification and channel, locked while
  sending); one that still fails after the retries is marked failed, with the error.
- SMS and push are declared channels without a provider here: they say so ("not
  configured") and nothing is pretended to be sent.
"""

from __future__ import annotations

import smtplib
from datetime import datetime, time, timedelta
from email.message import EmailMessage

from flask import current_app
from sqlalchemy import select

from app.core.errors import ValidationError
from app.core.features import notification_kinds
from app.core.models import utcnow
from app.core.timezones import company_zone
from app.core.versioning import StaleObject, bump, current, parse_version
from app.extensions import db
from app.notifications.models import Delivery, Notification, NotificationPreference

CHANNELS = ("in_app", "email")
UNCONFIGURED = {
    "sms": "Not configured: this installation has no SMS provider.",
    "push": "Not configured: this installation has no push service.",
}
# Kinds that email by default (the rest reach the bell only, until the person says otherwise).
EMAIL_BY_DEFAULT = frozenset(
    {
        "task_assigned",
        "task_blocked",
        "task_overdue",
        "mention",
        "project_assigned",
        "schedule_conflict",
        "change_order_approval",
        "invoice_sent",
        "invoice_due",
        "expense_claim_decided",
        "budget_alert",
        "operations_critical",
        "operations_warning",
    }
)
# Kinds emailed at once whatever the person's quiet hours or digest say (an opt-out still
# holds): the critical operations alerts (app/operations).
URGENT_KINDS = frozenset({"operations_critical"})
KIND_LABELS = {
    "task_assigned": "A task is assigned to me",
    "task_due_soon": "A task of mine is due within a day",
    "task_overdue": "A task of mine is overdue",
    "task_blocked": "A blocker is reported on my project",
    "mention": "Someone mentions me",
    "project_assigned": "I am added to a project",
    "client_follow_up": "A follow-up I logged on a client is due",
    "client_comment": "A client writes on my project",
    "punch_auto_closed": "A forgotten punch of mine or my crew was closed for review",
    "event_assigned": "I am put on a calendar event",
    "schedule_conflict": "A schedule change double-books me or my crew, or breaks a rule",
    "calendar_sync_refused": "A change I made in my synced calendar app was not applied",
    "change_order_approval": "A change order needs my approval, or one I wrote is decided",
    "invoice_sent": "An invoice of my project is sent to the client",
    "invoice_due": "An invoice of my project is due or overdue",
    "invoice_review": "A draft invoice of mine is sent back, or one waits for my review",
    "estimate_decided": "A client approves or declines an estimate I wrote or sent",
    "budget_alert": "A budget line or project of mine reaches 90 % or 100 % of its budget",
    "expense_claim_submitted": "A reimbursement claim on my project waits for review",
    "expense_claim_decided": "A reimbursement claim of mine is approved, rejected or paid",
    "operations_critical": "A critical operations alert opens or clears (admins; emailed at once)",
    "operations_warning": "An operations warning opens or clears (admins)",
    "system": "System announcements",
}


def email_configured() -> bool:
    return bool(current_app.config.get("EMAIL_HOST"))


def default(kind: str, channel: str) -> bool:
    return channel == "in_app" or kind in EMAIL_BY_DEFAULT


def _row(user_id: int) -> NotificationPreference | None:
    return db.session.scalar(select(NotificationPreference).where(NotificationPreference.user_id == user_id))


def wants(row: NotificationPreference | None, kind: str, channel: str) -> bool:
    chosen = (row.choices or {}).get(kind, {}) if row is not None else {}
    value = chosen.get(channel)
    return default(kind, channel) if value is None else bool(value)


def preferences_of(user) -> dict:
    """The person's choices in the API's shape (SPEC.md §5 "Notification")."""
    row = _row(user.id)
    quiet = None
    if row is not None and row.quiet_start is not None and row.quiet_end is not None:
        quiet = {"start": row.quiet_start.strftime("%H:%M"), "end": row.quiet_end.strftime("%H:%M")}
    return {
        "preferences": [
            {"kind": kind, "in_app": wants(row, kind, "in_app"), "email": wants(row, kind, "email")}
            for kind in notification_kinds()
        ],
        "quiet_hours": quiet,
        "digest": bool(row.digest) if row is not None else False,
        "version": row.version if row is not None else UNSAVED_VERSION,
        "channels": [
            {
                "name": "email",
                "configured": email_configured(),
                "message": ""
                if email_configured()
                else "Not configured: this installation has no SMTP server (EMAIL_HOST).",
            },
            *({"name": name, "configured": False, "message": text} for name, text in UNCONFIGURED.items()),
        ],
    }


def _clock(value, field: str, errors: dict) -> time | None:
    text = str(value or "").strip()
    try:
        hour, minute = text.split(":")
        if len(hour) != 2 or len(minute) != 2:
            raise ValueError
        return time(int(hour), int(minute))
    except ValueError:
        errors[field] = "Enter a time as HH:MM (24-hour clock)."
        return None


UNSAVED_VERSION = 1  # the version of the defaults (no row yet); the first save writes 2


def save_preferences(
    user, preferences=None, quiet_hours=None, digest=None, clear_quiet: bool = False, version=None
) -> dict:
    """Change the person's own choices; every problem at once; nothing saved on error.
    `preferences`: [{kind, in_app?, email?}]; `quiet_hours`: {start, end}; `clear_quiet`:
    no quiet hours. `version`: the version the change is based on (the form's, the API's
    `version` or If-Match); another than the current one is refused (StaleObject, 409)."""
    errors: dict[str, str] = {}
    kinds = set(notification_kinds())
    found = _row(user.id)
    sent = parse_version(version)
    current_version = found.version if found is not None else UNSAVED_VERSION
    if sent is not None and sent != current_version:
        raise StaleObject(
            found or NotificationPreference(user_id=user.id, choices={}),
            "Your notification settings were changed in another window since you opened them. "
            "This is what is saved now: make your change again.",
        )
    row = found or NotificationPreference(user_id=user.id, choices={})
    choices = {k: dict(v) for k, v in (row.choices or {}).items()}
    for position, entry in enumerate(preferences or [], 1):
        kind = entry.get("kind")
        if kind not in kinds:
            errors["preferences"] = f"Item {position}: no notification kind {str(kind)[:40]!r}."
            continue
        for channel in CHANNELS:
            if channel in entry and entry[channel] is not None:
                if not isinstance(entry[channel], bool):
                    errors["preferences"] = f"Item {position}: {channel} must be true or false."
                    continue
                choices.setdefault(kind, {})[channel] = entry[channel]
    start = end = None
    if quiet_hours is not None and not clear_quiet:
        start = _clock(quiet_hours.get("start"), "quiet_hours.start", errors)
        end = _clock(quiet_hours.get("end"), "quiet_hours.end", errors)
        if start is not None and end is not None and start == end:
            errors["quiet_hours.end"] = "Quiet hours must end at another time than they start."
    if digest is not None and not isinstance(digest, bool):
        errors["digest"] = "Must be true or false."
    if errors:
        raise ValidationError(errors)
    row.choices = choices
    if clear_quiet:
        row.quiet_start = row.quiet_end = None
    elif quiet_hours is not None:
        row.quiet_start, row.quiet_end = start, end
    if digest is not None:
        row.digest = digest
    if found is None:
        _first_save(user, row)
    else:
        _save(row)
    return preferences_of(user)


def _save(row: NotificationPreference) -> None:
    """Write the changed row; a save committed meanwhile by another request (the UPDATE
    finds the version moved on) is a StaleObject with the row as it is now."""
    from sqlalchemy.orm.exc import StaleDataError

    from app.core.transaction import attempt

    try:
        with attempt():
            db.session.flush()
    except StaleDataError:
        raise StaleObject(current(row)) from None


def _first_save(user, row: NotificationPreference) -> None:
    """Insert the person's first row, as version 2 (1 is the defaults). Two first saves at
    once: the second finds the row written (the unique user_id) and is stale."""
    from sqlalchemy.exc import IntegrityError

    from app.core.transaction import attempt

    try:
        with attempt():
            db.session.add(row)
            db.session.flush()
    except IntegrityError:
        raise StaleObject(_row(user.id)) from None
    bump(row)
    db.session.flush()


def quiet_until(row: NotificationPreference | None, now: datetime) -> datetime | None:
    """When the person's quiet hours end, if `now` falls in them (None otherwise)."""
    if row is None or row.quiet_start is None or row.quiet_end is None:
        return None
    zone = company_zone()
    local = now.astimezone(zone)
    clock = local.time().replace(second=0, microsecond=0)
    start, end = row.quiet_start, row.quiet_end
    inside = start <= clock < end if start < end else (clock >= start or clock < end)
    if not inside:
        return None
    ends = datetime.combine(local.date(), end, tzinfo=zone)
    if ends <= local:
        ends += timedelta(days=1)
    return ends


def route(note: Notification, user) -> None:
    """Called by notify() once `note` is stored: the person's choices decide the rest."""
    from app.core.jobs import enqueue

    row = _row(user.id)
    if not wants(row, note.kind, "in_app"):
        note.read_at = utcnow()  # kept as a record, never rung
    if not email_configured() or not wants(row, note.kind, "email") or not user.email:
        return
    now = utcnow()
    urgent = note.kind in URGENT_KINDS
    held = None if urgent else quiet_until(row, now)
    delivery = Delivery(
        notification_id=note.id,
        user_id=user.id,
        channel="email",
        status="digest" if row is not None and row.digest and not urgent else "pending",
        send_after=held or now,
    )
    db.session.add(delivery)
    db.session.flush()
    if delivery.status == "pending" and held is None:
        from workers.notifications import deliver as deliver_job

        enqueue(deliver_job, delivery.id, queue="notifications")


# --- sending ------------------------------------------------------------------------


def _absolute(path: str | None) -> str | None:
    if not path:
        return None
    return current_app.config["PUBLIC_URL"].rstrip("/") + path


def _link_of(note: Notification) -> str | None:
    from app.notifications.services import link_of

    with current_app.test_request_context("/"):
        return _absolute(link_of(note))


def email_body(note: Notification, user, link: str | None) -> str:
    """The email of a notification: its kind's own template
    (templates/notifications/email/<kind>.txt) or the general one."""
    from flask import render_template
    from jinja2 import TemplateNotFound

    context = {"note": note, "user": user, "link": link}
    with current_app.test_request_context("/"):
        try:
            return render_template(f"notifications/email/{note.kind}.txt", **context)
        except TemplateNotFound:
            return render_template("notifications/email/_default.txt", **context)


def smtp_send(to: str, subject: str, body: str) -> None:
    """One message through the configured server (EMAIL_* settings)."""
    cfg = current_app.config
    message = EmailMessage()
    message["From"] = cfg["EMAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    with smtplib.SMTP(cfg["EMAIL_HOST"], int(cfg["EMAIL_PORT"]), timeout=20) as server:
        if cfg.get("EMAIL_USE_TLS"):
            server.starttls()
        if cfg.get("EMAIL_HOST_USER"):
            server.login(cfg["EMAIL_HOST_USER"], cfg.get("EMAIL_HOST_PASSWORD") or "")
        server.send_message(message)


def deliver(delivery_id: int, retries_left: int = 0) -> str:
    """Send one pending, due delivery (locked: two workers never both send it). A failure
    is recorded and raised, so RQ retries it; with no retry left it is marked failed."""
    delivery = db.session.scalar(
        select(Delivery).where(Delivery.id == delivery_id).with_for_update(skip_locked=True, of=Delivery)
    )
    if delivery is None or delivery.status != "pending":
        return "skipped"
    if delivery.send_after > utcnow():
        return "held"
    note, user = delivery.notification, _user(delivery.user_id)
    if user is None or not user.email or not user.is_active:
        delivery.status = "failed"
        delivery.last_error = "no active recipient with an email address"
        return "failed"
    link = _link_of(note)
    try:
        smtp_send(user.email, note.title, email_body(note, user, link))
    except (OSError, smtplib.SMTPException) as exc:
        delivery.attempts += 1
        delivery.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        if retries_left <= 0:
            delivery.status = "failed"
        db.session.commit()  # the attempt is recorded even though the job fails
        raise
    delivery.attempts += 1
    delivery.status = "sent"
    delivery.sent_at = utcnow()
    return "sent"


def _user(user_id: int):
    from app.auth.models import User

    return db.session.get(User, user_id)


def due_deliveries(limit: int = 200) -> list[int]:
    """Pending emails whose quiet hours have ended."""
    return db.session.scalars(
        select(Delivery.id)
        .where(Delivery.status == "pending", Delivery.send_after <= utcnow())
        .order_by(Delivery.send_after)
        .limit(limit)
    ).all()


def send_digests() -> int:
    """One email per person listing what waited for their digest; marks them sent."""
    rows = db.session.scalars(
        select(Delivery)
        .where(Delivery.status == "digest")
        .order_by(Delivery.user_id, Delivery.created_at)
        .with_for_update(skip_locked=True, of=Delivery)
    ).all()
    by_user: dict[int, list[Delivery]] = {}
    for delivery in rows:
        by_user.setdefault(delivery.user_id, []).append(delivery)
    sent = 0
    for user_id, deliveries in by_user.items():
        user = _user(user_id)
        if user is None or not user.email or not user.is_active:
            for delivery in deliveries:
                delivery.status = "failed"
                delivery.last_error = "no active recipient with an email address"
            continue
        lines = []
        for delivery in deliveries:
            link = _link_of(delivery.notification)
            lines.append(f"- {delivery.notification.title}" + (f"\n  {link}" if link else ""))
        smtp_send(user.email, f"Your Kibray digest: {len(deliveries)} update(s)", "\n".join(lines))
        now = utcnow()
        for delivery in deliveries:
            delivery.status, delivery.sent_at, delivery.attempts = "sent", now, delivery.attempts + 1
        sent += 1
    return sent


def digest_hour_now(now: datetime | None = None) -> bool:
    local = (now or utcnow()).astimezone(company_zone())
    return local.hour == int(current_app.config["NOTIFICATION_DIGEST_HOUR"])
