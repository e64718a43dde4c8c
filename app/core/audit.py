"""Audit by construction: a session hook records every insert, update and delete of
models marked `__audited__ = True` — who, role, what, before/after, when, IP, request.

Models name the project an entry belongs to through a `project_id` attribute, so a PM
can be shown the entries of their own projects.
"""

from __future__ import annotations

import contextvars
import uuid
from datetime import date, datetime
from decimal import Decimal

from flask import g, has_request_context, request
from sqlalchemy import JSON, DateTime, Index, Integer, String, event, inspect
from sqlalchemy.orm import Mapped, Mapper, Session, mapped_column, object_session

from app.core.models import utcnow
from app.core.net import client_ip
from app.core.permissions import Scope
from app.core.search import trigram_index
from app.extensions import db

# Who acts outside a request (CLI commands, workers): set with `acting_as(...)`.
_actor: contextvars.ContextVar[dict | None] = contextvars.ContextVar("audit_actor", default=None)


class AuditLog(db.Model):
    __tablename__ = "audit_log"
    __scope__ = Scope(project="project_id", client_visible=False)
    __table_args__ = (
        Index("ix_audit_log_object", "object_type", "object_id"),
        Index("ix_audit_log_project_created", "project_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(Integer, index=True)  # no FK: entries outlive users
    username: Mapped[str] = mapped_column(String(80), default="")
    role: Mapped[str] = mapped_column(String(32), default="")
    action: Mapped[str] = mapped_column(String(32), index=True)
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[str] = mapped_column(String(64), default="")
    object_label: Mapped[str] = mapped_column(String(200), default="")
    project_id: Mapped[int | None] = mapped_column(Integer)
    changes: Mapped[dict] = mapped_column(JSON, default=dict)
    ip: Mapped[str] = mapped_column(String(64), default="")
    request_id: Mapped[str] = mapped_column(String(64), default="")
    result: Mapped[str] = mapped_column(String(16), default="success")


# The audit viewer's "user" search (core.search.contains, migration 0006).
trigram_index("ix_audit_log_username_trgm", AuditLog.username)


class acting_as:
    """Context manager naming the actor outside a request (e.g. `flask create-user`)."""

    def __init__(
        self, username: str = "system", role: str = "system", user_id: int | None = None, via: str = "", request_id=""
    ):
        # `via`: the channel a person's change came through outside a request (e.g. their
        # calendar app, "CalDAV"); each entry's changes then carry it. `request_id`: the
        # request a job runs for (workers/base.py), else a fresh one
        rid = request_id or uuid.uuid4().hex
        self.actor = {"user_id": user_id, "username": username, "role": role, "ip": "", "request_id": rid}
        if via:
            self.actor["via"] = via

    def __enter__(self):
        self.token = _actor.set(self.actor)
        return self

    def __exit__(self, *exc):
        _actor.reset(self.token)


def current_actor() -> dict:
    actor = _actor.get()
    if actor is not None:
        return actor
    if has_request_context():
        user = getattr(g, "audit_user", None)
        return {
            "user_id": getattr(user, "id", None),
            "username": getattr(user, "username", "") or "anonymous",
            "role": getattr(user, "role", "") or "anonymous",
            "ip": client_ip(),
            "request_id": getattr(g, "request_id", ""),
        }
    return {"user_id": None, "username": "system", "role": "system", "ip": "", "request_id": ""}


def _plain(value):
    """A JSON-safe copy of a column value."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


REDACTED = "[encrypted]"
HIDDEN = "[changed]"


def _columns(obj):
    exclude = getattr(obj, "__audit_exclude__", set())
    mapper = inspect(obj).mapper
    for attr in mapper.column_attrs:
        # The version (core/versioning.py) is the row's bookkeeping: every update has one.
        if attr.key not in exclude and not any(c is mapper.version_id_col for c in attr.columns):
            yield attr.key


def _secret_columns(obj) -> set[str]:
    """Columns stored encrypted (tax ids, tokens…) or named in `__audit_hidden__` (password
    hashes): the log says they changed, never to what."""
    from app.core.crypto import EncryptedString

    return set(getattr(obj, "__audit_hidden__", ())) | {
        attr.key
        for attr in inspect(obj).mapper.column_attrs
        if any(isinstance(getattr(col, "type", None), EncryptedString) for col in attr.columns)
    }


def _value(key: str, value, secret: set[str]):
    if key in secret and value is not None:
        return REDACTED if key not in HIDDEN_KEYS else HIDDEN
    return _plain(value)


HIDDEN_KEYS = {"password_hash"}


def _snapshot(obj, values: dict, before: bool) -> dict:
    """{column: [before, after]} for a created (before=False) or deleted (before=True) row."""
    secret = _secret_columns(obj)
    return {
        key: ([_value(key, values.get(key), secret), None] if before else [None, _value(key, values.get(key), secret)])
        for key in _columns(obj)
    }


def instance_name(obj) -> str:
    """How an entry names its object at the time: the model's `audit_name()`, else its
    name, username or title."""
    name = getattr(obj, "audit_name", None)
    if callable(name):
        return str(name() or "")
    return str(getattr(obj, "name", None) or getattr(obj, "username", None) or getattr(obj, "title", None) or "")


def _entry(obj, action: str, changes: dict, actor: dict) -> dict:
    state = inspect(obj)
    # A row inserted by this flush has no identity key yet in after_flush; its primary
    # key attributes are already set.
    identity = state.identity or tuple(state.mapper.primary_key_from_instance(obj))
    label = instance_name(obj)
    if actor.get("via"):
        changes = {**changes, "via": [None, actor["via"]]}
    return {
        "created_at": utcnow(),
        "user_id": actor["user_id"],
        "username": actor["username"][:80],
        "role": actor["role"][:32],
        "action": action,
        "object_type": type(obj).__name__,
        "object_id": ",".join(str(i) for i in identity),
        "object_label": str(label)[:200],
        "project_id": getattr(obj, "project_id", None),
        "changes": changes,
        "ip": actor["ip"][:64],
        "request_id": actor["request_id"][:64],
        "result": "success",
    }


def install(session_class) -> None:
    """Collect changes before the flush (history is complete then) and write them after
    it (when new rows have their ids), in the same transaction."""

    @event.listens_for(session_class, "before_flush")
    def _before(session, flush_context, instances):
        session.info.setdefault("audit_pending_objects", [])
        deleted = session.info.setdefault("audit_deleted", set())
        actor = current_actor()
        pending = []
        for obj in session.dirty:
            if getattr(obj, "__audited__", False) and session.is_modified(obj, include_collections=False):
                changes = _dirty_changes(obj)
                reason = obj.__dict__.pop("_audit_reason", None)
                if reason and changes:
                    changes["reason"] = [None, reason]
                pending.append(("update", obj, changes))
        for obj in session.deleted:
            if getattr(obj, "__audited__", False):
                deleted.add(id(obj))
                pending.append(
                    ("delete", obj, _snapshot(obj, {k: getattr(obj, k) for k in _columns(obj)}, before=True))
                )
        for obj in session.new:
            if getattr(obj, "__audited__", False):
                pending.append(("create", obj, None))
        session.info["audit_pending_objects"].extend((a, o, c, actor) for a, o, c in pending)

    @event.listens_for(Mapper, "before_delete")
    def _unlisted_delete(mapper, connection, obj):
        """Rows deleted without session.delete() — orphans removed from a collection
        (e.g. a member taken off a project team) — are not in session.deleted."""
        session = object_session(obj)
        if session is None or not getattr(obj, "__audited__", False):
            return
        if id(obj) in session.info.get("audit_deleted", ()):
            return
        changes = _snapshot(obj, inspect(obj).dict, before=True)  # loaded values; no SQL mid-flush
        session.info.setdefault("audit_pending_objects", []).append(("delete", obj, changes, current_actor()))

    @event.listens_for(session_class, "after_flush")
    def _after(session, flush_context):
        pending = session.info.pop("audit_pending_objects", [])
        session.info.pop("audit_deleted", None)
        rows = []
        for action, obj, changes, actor in pending:
            if action == "create":
                changes = _snapshot(obj, {key: getattr(obj, key) for key in _columns(obj)}, before=False)
            if changes:
                rows.append(_entry(obj, action, changes, actor))
        if rows:
            session.connection().execute(AuditLog.__table__.insert(), rows)


def _dirty_changes(obj) -> dict:
    state = inspect(obj)
    changes = {}
    secret = _secret_columns(obj)
    for key in _columns(obj):
        hist = state.attrs[key].history
        if hist.has_changes():
            before = hist.deleted[0] if hist.deleted else None
            after = hist.added[0] if hist.added else None
            if before != after:
                changes[key] = [_value(key, before, secret), _value(key, after, secret)]
    return changes


def record_denied(action: str, object_type: str = "", object_id: str = "", project_id: int | None = None) -> None:
    """Write a 'denied' entry for a refused modification, in its own transaction so the
    request's rollback does not take it away. The request's own work is discarded: the
    session is rolled back after the actor is read (reading it may reopen a transaction
    that would otherwise enclose the entry when everything shares one connection)."""
    actor = current_actor()
    if project_id is None and has_request_context():
        # The project a refused route was about, so the project's PM sees the attempt too.
        raw = (request.view_args or {}).get("project_id")
        project_id = raw if isinstance(raw, int) else None
    db.session.rollback()
    row = {
        "created_at": utcnow(),
        "user_id": actor["user_id"],
        "username": actor["username"][:80],
        "role": actor["role"][:32],
        "action": action[:32],
        "object_type": object_type[:64],
        "object_id": str(object_id)[:64],
        "object_label": "",
        "project_id": project_id,
        "changes": {},
        "ip": actor["ip"][:64],
        "request_id": actor["request_id"][:64],
        "result": "denied",
    }
    _write_own(row)


def _write_own(row: dict) -> None:
    # A session of its own: on an engine it commits its own transaction; on a bind that
    # is already inside one (a caller's connection) it writes in a savepoint of it.
    with Session(bind=db.engine, join_transaction_mode="create_savepoint") as own, own.begin():
        own.execute(AuditLog.__table__.insert(), [row])


def record_attempt(action: str, result: str, username: str) -> None:
    """Add an entry for a refused attempt by someone not signed in (a failed sign-in:
    `failed` for a wrong secret, `denied` while locked out): the name they tried and their
    address, never the secret. It is kept although the request answers 401/429
    (`keep_on_error`); such a request has nothing else to keep or lose."""
    from app.core.transaction import keep_on_error

    actor = current_actor()
    name = (username or "").strip()[:80]
    db.session.add(
        AuditLog(
            created_at=utcnow(),
            user_id=None,
            username=name,
            role="anonymous",
            action=action[:32],
            object_type="account",
            object_id="",
            object_label=name[:200],
            project_id=None,
            changes={},
            ip=actor["ip"][:64],
            request_id=actor["request_id"][:64],
            result=result[:16],
        )
    )
    keep_on_error()


def note_reason(obj, reason: str) -> None:
    """Record why a change is made: the next audit entry of `obj` (its update at the
    next flush) carries `reason` among its changes."""
    obj.__dict__["_audit_reason"] = reason
