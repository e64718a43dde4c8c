"""Client records' jobs: the hourly follow-up reminders of the communication log (queue
`default`) and the invitation email (queue `notifications`)."""

from __future__ import annotations

from workers.base import job


@job
def follow_up_reminders() -> int:
    """Hourly: remind each entry's author on its follow-up day — once (app/clients/communications.py)."""
    from app.clients.communications import remind_follow_ups

    return remind_follow_ups()


@job
def send_invitation(invitation_id: int, token: str) -> str:
    """Email an invitation's link; skipped once the invitation is no longer open. A failure
    raises, and RQ retries it with backoff (core.jobs)."""
    from app.clients.invitations import send_email

    return send_email(invitation_id, token)
