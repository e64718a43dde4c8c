"""Where an alert's opening and clearing go (docs/operations.md, "Alerts"):

- **in-app** to every active admin: a notification of kind `operations_critical` or
  `operations_warning` (the bell, live);
- **email** to those admins through the notifications' own delivery (a job on the
  `notifications` queue): a critical alert is emailed at once, whatever an admin's quiet
  hours or digest say (notifications.channels.URGENT_KINDS); a warning follows each
  admin's settings (emailed by default, held in quiet hours, or in their digest). No
  EMAIL_HOST: not configured, and the alert's record says so;
- **Slack** through the incoming webhook `SLACK_WEBHOOK_URL`: every alert, a job on the
  `notifications` queue POSTs `{"text": …}` with a timeout; a failure is logged, never
  raised (the evaluator never waits for Slack);
- **SMS**: no sender is built. Without `SMS_PROVIDER` the channel is "not configured"; with
  one, the record says the provider has no sender here and nothing was sent;
- **the operations page**: every alert, and its live event after every evaluation.

Nothing is sent from a request: the evaluator is a job (or the CLI), and the sending
jobs are queued after its commit."""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request

from flask import current_app
from sqlalchemy import select

from app.operations import thresholds as t

log = logging.getLogger(__name__)

KINDS = {t.CRITICAL: "operations_critical", t.WARNING: "operations_warning"}
LIVE_EVENT = "operations-changed"
SLACK_TIMEOUT_SECONDS = 5


def admins() -> list:
    from app.auth.models import User
    from app.core.permissions import can
    from app.core.roles import ADMIN
    from app.extensions import db

    people = db.session.scalars(
        select(User).where(User.role == ADMIN, User.is_active_flag.is_(True)).order_by(User.id)
    ).all()
    return [person for person in people if can(person, "settings.manage")]


def title(event: dict) -> str:
    label = "Cleared" if event["state"] == "cleared" else ("Critical" if event["severity"] == t.CRITICAL else "Warning")
    return f"{label}: {event['message']}"


def body(event: dict) -> str:
    if event["state"] == "cleared":
        return f"Opened {event['opened_at']}, cleared {event['at']} (UTC). The operations page lists recent alerts."
    return f"Opened {event['at']} (UTC). Nothing more is sent while it holds; a message says when it clears."


# --- the state of each channel ------------------------------------------------------------


def email_state(severity: str | None = None) -> str:
    from app.notifications.channels import email_configured

    if not email_configured():
        return "not configured (EMAIL_HOST)"
    if severity == t.CRITICAL:
        return "at once"
    if severity == t.WARNING:
        return "per each admin's notification settings"
    return "configured: critical alerts at once, warnings per each admin's settings"


def slack_configured() -> bool:
    return bool(current_app.config.get("SLACK_WEBHOOK_URL"))


def sms_state() -> str:
    provider = current_app.config.get("SMS_PROVIDER")
    if not provider:
        return "not configured"
    return f"provider {provider!r} is set, but this installation has no sender for it: nothing is sent"


def states() -> dict[str, dict]:
    """The channels as the page shows them."""
    return {
        "in_app": {"configured": True, "state": "every alert, to every active admin"},
        "email": {"configured": not email_state().startswith("not"), "state": email_state()},
        "slack": {
            "configured": slack_configured(),
            "state": "every alert (SLACK_WEBHOOK_URL)" if slack_configured() else "not configured (SLACK_WEBHOOK_URL)",
        },
        "sms": {"configured": False, "state": sms_state()},
        "page": {"configured": True, "state": "every alert"},
    }


# --- sending ------------------------------------------------------------------------------


def tell_admins(events: list[dict]) -> None:
    """In-app (and email, through the notifications) to every active admin, in the
    evaluator's transaction. A database failure marks the channels failed, never raises."""
    from app.extensions import db
    from app.notifications.services import notify

    if not events:
        return
    try:
        people = admins()
        for event in events:
            for person in people:
                notify(person, KINDS[event["severity"]], title(event), "operations.index", body=body(event))
            event["channels"]["in_app"] = f"{len(people)} admin(s)"
            event["channels"]["email"] = email_state(event["severity"])
    except Exception:  # noqa: BLE001 - the other channels still go
        log.exception("operations: could not notify the admins")
        db.session.rollback()
        for event in events:
            event["channels"]["in_app"] = event["channels"]["email"] = "failed (database)"


def queue_slack(events: list[dict]) -> None:
    from app.core.jobs import enqueue

    url = current_app.config.get("SLACK_WEBHOOK_URL")
    for event in events:
        if not url:
            event["channels"]["slack"] = "not configured"
            continue
        enqueue("workers.operations.send_slack", title(event), queue="notifications")
        event["channels"]["slack"] = "queued"


def deliver(events: list[dict]) -> None:
    """Every channel of each event; its record says what each channel did."""
    for event in events:
        event["channels"] = {"page": "shown", "sms": sms_state()}
    tell_admins(events)
    queue_slack(events)  # after tell_admins: its rollback (if any) would drop queued jobs


def post_slack(url: str, text: str, timeout: float = SLACK_TIMEOUT_SECONDS) -> bool:
    """POST `{"text": text}` to the incoming webhook; False (logged) on any failure."""
    data = json.dumps({"text": text}).encode()
    try:
        request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"}, method="POST")  # noqa: S310 - the admin's own webhook URL (SLACK_WEBHOOK_URL)
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
            if 200 <= answer.status < 300:
                return True
            log.error("operations: Slack answered %s", answer.status)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        log.error("operations: Slack webhook failed: %s: %s", type(exc).__name__, exc)
    return False


def publish_page(opened: int, cleared: int) -> None:
    """The operations page's live event, for admins only (after the commit)."""
    from app.core.events import publish
    from app.core.roles import ADMIN

    publish(LIVE_EVENT, {"opened": opened, "cleared": cleared}, roles=[ADMIN])
