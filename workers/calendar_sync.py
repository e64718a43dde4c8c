"""Calendar sync jobs (queue `sync`, issue 11; when they run: app/calendar_sync/runs.py).

`sync_account`: one run (the calendar's changes in, Kibray's out: app/calendar_sync/
sync.py). One run at a time per account (a Redis lock: a second run while one holds it
does nothing); the account says `syncing` meanwhile, and the run reports its progress
for the page's bar. A wrong user name or password, or a calendar that is gone, marks the
account `failing` with the reason for its owner and the admin, and is not retried (nor
scheduled) until its owner fixes it; so does an owner deactivated or no longer allowed
to sync (`calendar.sync_external`). A server that cannot be reached raises, so RQ
retries with backoff (core.jobs.RETRY). Running it twice changes nothing the second
time. `sync_changed` and `sync_all` queue the accounts due."""

from __future__ import annotations

import logging

from workers.base import job

log = logging.getLogger(__name__)

LOCK_SECONDS = 900  # longest a run may hold the account (runs.JOB_TIMEOUT: RQ stops it then)
BUSY_RETRY = 30  # seconds before a run that found the account busy tries again


@job
def sync_account(account_id: int) -> str:
    from app.calendar_sync import runs
    from app.calendar_sync.caldav_client import AuthFailed, CalDAVError
    from app.calendar_sync.models import CalendarAccount
    from app.calendar_sync.sync import run
    from app.core.permissions import PermissionDenied
    from app.extensions import db, redis_store

    account = db.session.get(CalendarAccount, account_id)
    if account is None:
        return "gone"
    lock = redis_store.client.lock(redis_store.key(f"calendar-sync:{account_id}"), timeout=LOCK_SECONDS)
    if not lock.acquire(blocking=False):
        # another run holds it (a second worker): this one's changes wait for it to end
        runs.send_sync([account_id], delay=BUSY_RETRY)
        return "busy"
    try:
        account.status = "syncing"
        db.session.commit()
        runs.report(account_id, 0, 0)
        try:
            done = run(
                account, progress=lambda n, total: runs.report(account_id, n, total), checkpoint=db.session.commit
            )
        except (AuthFailed, PermissionDenied) as exc:  # a wrong password; a role that no longer syncs
            return _failed(account_id, str(exc))
        except CalDAVError as exc:
            if exc.status in (404, 410):  # the calendar was deleted
                return _failed(account_id, "The calendar is no longer on the server.")
            _note(account_id, str(exc))  # (a retry follows)
            raise
        except Exception as exc:  # a bug or a timeout: said on the account, then RQ's retry
            _note(account_id, f"The sync stopped on an error ({exc.__class__.__name__}); it will be tried again.")
            raise
        account.last_error = ""
        return done.in_words()
    finally:
        from redis.exceptions import LockError

        runs.finished(account_id)
        try:
            lock.release()
        except LockError:  # expired meanwhile: another run may hold it now
            log.warning("calendar sync of account %s outlived its lock", account_id)


def _note(account_id: int, error: str) -> None:
    """Back to `ok` with the error shown (what the run committed before it stays)."""
    from app.calendar_sync.models import CalendarAccount
    from app.extensions import db

    db.session.rollback()
    account = db.session.get(CalendarAccount, account_id)
    if account is not None:
        account.status, account.last_error = "ok", error[:1000]
        db.session.commit()


def _failed(account_id: int, reason: str) -> str:
    from app.calendar_sync.models import CalendarAccount
    from app.extensions import db

    db.session.rollback()
    account = db.session.get(CalendarAccount, account_id)
    account.status, account.last_error = "failing", reason
    return "failing"


@job
def sync_changed() -> int:
    """The accounts of the people whose items changed in the last few seconds."""
    from app.calendar_sync import runs

    return runs.send_sync(runs.changed_accounts())


@job
def sync_all() -> int:
    """Every account not failing (the scheduler, every few minutes)."""
    from app.calendar_sync import runs

    return runs.send_sync(runs.due_accounts())
