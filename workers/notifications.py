"""Notification jobs (queue `notifications`): send an email, send the ones held by quiet
hours, the daily digest, and the hourly due-soon / overdue reminders of tasks."""

from __future__ import annotations

from workers.base import job, retries_left


@job
def deliver(delivery_id: int) -> str:
    """Send one email (app/notifications/channels.py); a failure raises, and RQ retries
    it with backoff (core.jobs); the last failure is recorded on the delivery."""
    from app.notifications.channels import deliver as send

    return send(delivery_id, retries_left=retries_left())


@job
def schedule_conflicts(by_person: dict, actor_id: int | None = None) -> int:
    """Tell each person of the conflicts a committed change created for them (queued by
    app/schedule/engine.py at the commit; app/schedule/notify.py words them)."""
    from app.extensions import db
    from app.schedule.notify import tell

    return tell(db.session(), {int(k): set(v) for k, v in by_person.items()}, actor_id=actor_id)


@job
def send_held() -> int:
    """Queue the emails whose quiet hours have ended (every few minutes)."""
    from app.core.jobs import enqueue
    from app.notifications.channels import due_deliveries

    found = due_deliveries()
    for delivery_id in found:
        enqueue(deliver, delivery_id, queue="notifications")
    return len(found)


@job
def digest() -> int:
    """Hourly; at NOTIFICATION_DIGEST_HOUR (company time) send each digest."""
    from app.notifications.channels import digest_hour_now, send_digests

    return send_digests() if digest_hour_now() else 0


@job
def task_reminders() -> int:
    """Hourly: tell each person once per task and condition (due soon, overdue)."""
    from app.tasks.reminders import remind

    return remind()
