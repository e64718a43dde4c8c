"""The operations page's reads (admins only: `settings.manage`, checked here too)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select

from app.core.permissions import require
from app.extensions import db
from app.operations import alerts, channels, deployments
from app.operations import thresholds as t

log = logging.getLogger(__name__)
RQ_DASHBOARD = "/admin/rq/"


def _when(value) -> datetime | None:
    """An ISO stamp or a Unix time as an aware datetime (templates format it)."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass
class AlertRow:
    condition: str
    severity: str
    message: str
    opened_at: datetime | None
    cleared_at: datetime | None = None
    channels: dict | None = None


def alert_rows() -> tuple[list[AlertRow], list[AlertRow]]:
    """(open alerts, oldest first; recent events, newest first)."""
    open_ = [
        AlertRow(key, r.get("severity", ""), r.get("message", ""), _when(r.get("opened_at")))
        for key, r in alerts.open_alerts().items()
    ]
    open_.sort(key=lambda a: (a.severity != t.CRITICAL, a.opened_at or datetime.min.replace(tzinfo=UTC)))
    recent = []
    for event in alerts.recent_events(30):
        cleared = event.get("state") == "cleared"
        recent.append(
            AlertRow(
                event.get("condition", ""),
                event.get("severity", ""),
                event.get("message", ""),
                _when(event.get("opened_at")),
                _when(event.get("at")) if cleared else None,
                event.get("channels") or {},
            )
        )
    return open_, recent


def workers() -> list[dict]:
    from rq import Worker

    from app.extensions import redis_store

    rows = []
    for worker in Worker.all(connection=redis_store.client):
        try:
            job = worker.get_current_job()
        except Exception:  # noqa: BLE001 - a job deleted meanwhile
            job = None
        rows.append(
            {
                "name": worker.name,
                "state": worker.get_state(),
                "queues": ", ".join(worker.queue_names()),
                "job": f"{job.func_name} ({job.id})" if job is not None else "",
                "heartbeat": _when(worker.last_heartbeat),
            }
        )
    return sorted(rows, key=lambda w: w["name"])


def calendar_accounts() -> dict:
    from app.auth.models import User
    from app.calendar_sync.models import ACCOUNT_STATUSES, CalendarAccount

    counts = dict(
        db.session.execute(select(CalendarAccount.status, func.count()).group_by(CalendarAccount.status)).all()
    )
    failing = db.session.execute(
        select(
            CalendarAccount.id,
            User.full_name,
            User.username,
            CalendarAccount.last_error,
            CalendarAccount.last_synced_at,
        )
        .join(User, User.id == CalendarAccount.user_id)
        .where(CalendarAccount.status == "failing")
        .order_by(CalendarAccount.last_synced_at.desc().nulls_last(), CalendarAccount.id)
        .limit(10)
    ).all()
    return {
        "counts": [(status, counts.get(status, 0)) for status in ACCOUNT_STATUSES],
        "total": sum(counts.values()),
        "failing": [
            {"person": name or username, "error": (error or "")[:200], "last_synced": _when(synced)}
            for _id, name, username, error, synced in failing
        ],
    }


def _safely(name: str, read, problems: list[str]):
    try:
        return read()
    except Exception:  # noqa: BLE001 - one section failing must not take the page down
        log.exception("operations page: could not read %s", name)
        db.session.rollback()
        problems.append(name)
        return None


def page(user) -> dict:
    """Everything the operations page shows."""
    require(user, "settings.manage")
    problems: list[str] = []
    db_max, redis_max, queue_max = t.capacity()
    open_, recent = _safely("alerts", alert_rows, problems) or ([], [])
    snapshot = _safely("last evaluation", alerts.last_snapshot, problems)
    processes = _safely("processes", alerts.processes, problems) or []
    for proc in processes:
        proc["seen"] = _when(proc["at"])
    return {
        "capacity": _safely("capacity", alerts.capacity, problems),
        "limits": {"db_connections": db_max, "redis_memory_ratio": redis_max, "queue_length": queue_max},
        "requests": _safely("request figures", alerts.request_figures, problems),
        "processes": processes,
        "queues": _safely("queues", alerts.queues, problems) or [],
        "workers": _safely("workers", workers, problems) or [],
        "open_alerts": open_,
        "recent_alerts": recent,
        "evaluated_at": _when(snapshot["at"]) if snapshot else None,
        "health": (snapshot or {}).get("figures", {}).get("health"),
        "calendar": _safely("calendar sync", calendar_accounts, problems),
        "deployments": deployments.latest(5),
        "channels": channels.states(),
        "rq_dashboard": RQ_DASHBOARD,
        "thresholds": t,
        "problems": problems,
    }
