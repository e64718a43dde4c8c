"""Telling people about the conflicts a change created for them: one notification per
person per transaction (not one per pair), worded for that person — an item they may
not see is "another job"."""

from __future__ import annotations

from sqlalchemy import select

from app.auth.models import User
from app.core.permissions import can
from app.schedule.conflicts import describe, short
from app.schedule.models import ScheduleConflict

KIND = "schedule_conflict"


def _actor():
    from flask import has_request_context
    from flask_login import current_user

    if has_request_context() and getattr(current_user, "is_authenticated", False):
        return current_user._get_current_object()
    return None


def tell(session, by_person: dict[int, set], actor_id: int | None = None) -> int:
    """`by_person`: {user id: {(item key, kind, other key or None, day)}} — the new rows;
    `actor_id`: who made the change (not told of their own doing; the request's user when
    None). Run by the `schedule_conflicts` job after the change's commit (workers/
    notifications.py). Returns how many people were told."""
    from app.notifications.services import notify

    actor = session.get(User, actor_id) if actor_id is not None else _actor()
    told = 0
    for user_id in sorted(by_person):
        user = session.get(User, user_id)
        if user is None or not user.is_active or (actor is not None and actor.id == user_id):
            continue
        wanted = by_person[user_id]
        items = {key[0] for key in wanted}
        rows = []
        for kind in ("task", "event"):
            ids = sorted(i for k, i in items if k == kind)
            if ids:
                rows += session.execute(select(ScheduleConflict).where(ScheduleConflict.of_items(kind, ids))).scalars()
        rows = [
            r
            for r in rows
            if ((r.item_kind, r.item_id), r.kind, (r.other_kind, r.other_id) if r.other_kind else None, r.day) in wanted
        ]
        if not rows:
            continue
        reasons, pairs = [], set()
        for reason in describe(user, rows):
            pair = (
                reason.kind,
                frozenset({reason.item, (reason.other.kind, reason.other.id) if reason.other else None}),
            )
            if reason.kind == "double_booking" and pair in pairs:
                continue
            pairs.add(pair)
            reasons.append(reason)
        if reasons:
            first = reasons[0]
            title = (
                f"Schedule conflict on {first.item_title}: {first.message}"
                if len(reasons) == 1
                else f"{len(reasons)} new schedule conflicts for you"
            )
            body = "\n".join(f"{r.item_title}: {r.message}. {r.recommendation}." for r in reasons)
            project_id = first.project_id
        else:  # nothing they may see by name
            day = min((r.day for r in rows if r.day is not None), default=None)
            title = f"A schedule change created a conflict for you{f' on {short(day)}' if day else ''}"
            body = ""
            project_id = None
        if can(user, "calendar.view"):
            endpoint, args = "schedule.panel", {}
        elif reasons and reasons[0].item[0] == "task":
            endpoint, args = "tasks.detail", {"task_id": reasons[0].item[1]}
        else:
            endpoint, args = "", {}
        notify(user, KIND, title, endpoint, args, body=body, project_id=project_id, actor=actor)
        told += 1
    return told
