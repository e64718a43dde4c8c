"""Calendar sync jobs (queue `sync`, issue 11): push one CalDAV account.

One run at a time per account (a Redis lock: a second run while one holds it does
nothing); the account says `syncing` meanwhile. A wrong user name or password, or a
calendar that is gone, marks the account `failing` with the reason for its owner and
the admin, and is not retried; so does an owner deactivated or no longer allowed to sync
(`calendar.sync_external`) (nothing will change until someone fixes it); a server
that cannot be reached raises, so RQ retries with backoff (core.jobs)."""

from __future__ import annotations

import logging

from workers.base import job

log = logging.getLogger(__name__)

LOCK_SECONDS = 600  # longest a run may hold the account (then another may start)


@job
def push_account(account_id: int) -> str:
    from app.calendar_sync.caldav_client import AuthFailed, CalDAVError
    from app.calendar_sync.models import CalendarAccount
    from app.calendar_sync.sync import push
    from app.core.errors import PermissionDenied
    from app.extensions import db, redis_store

    account = db.session.get(CalendarAccount, account_id)
    if account is None:
        return "gone"
    lock = redis_store.client.lock(redis_store.key(f"calendar-sync:{account_id}"), timeout=LOCK_SECONDS)
    if not lock.acquire(blocking=False):
        return "busy"
    try:
        account.status = "syncing"
        db.session.commit()
        try:
            done = push(account)
        except (AuthFailed, PermissionDenied) as exc:  # a wrong password; a role that no longer syncs
            db.session.rollback()
            account = db.session.get(CalendarAccount, account_id)
            account.status, account.last_error = "failing", str(exc)
            return "failing"
        except CalDAVError as exc:
            if exc.status == 404:  # the calendar was deleted
                db.session.rollback()
                account = db.session.get(CalendarAccount, account_id)
                account.status, account.last_error = "failing", "The calendar is no longer on the server."
                return "failing"
            db.session.rollback()
            account = db.session.get(CalendarAccount, account_id)
            account.status, account.last_error = "ok", str(exc)  # (a retry follows)
            db.session.commit()
            raise
        return f"pushed {done.created} new, {done.updated} changed, {done.deleted} removed"
    finally:
        from redis.exceptions import LockError

        try:
            lock.release()
        except LockError:  # expired meanwhile: another run may hold it now
            log.warning("calendar sync of account %s outlived its lock", account_id)
