"""Versions: no lost updates. Every editable object carries an integer `version`
(`Versioned`, SQLAlchemy's `version_id_col`): every UPDATE or DELETE of its row says
`WHERE id = … AND version = <the version this session read>` and writes the next one.

A write based on an older version is refused, in one of two ways, both ending in the
same `StaleObject` (a `ConflictError`, answered 409) that carries the object as it is now:
- the caller said which version it started from (a form's hidden field, the API's
  `version` or `If-Match`) and it is not the current one: `expect_version(obj, sent)`;
- someone else committed between this request's read and its flush: the UPDATE matches
  no row and SQLAlchemy raises `StaleDataError`, which `@checks_version("obj")` turns
  into a `StaleObject` (the service ran in a savepoint, so the request can go on and
  read the current row — a form re-rendered, the API's 409 with the current object).

Pages show a stale form again with `meanwhile(...)`: who made the current version and
when (the object's latest audit entry), and each field where what is saved now differs
from what was typed, with the hidden version updated so that a second submit saves.
"""

from __future__ import annotations

import functools
import inspect as pyinspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import Integer, and_, or_, select, text
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.orm import Mapped, declared_attr, mapped_column
from sqlalchemy.orm.exc import ObjectDeletedError, StaleDataError

from app.core.errors import ConflictError, ObjectNotFound, ValidationError
from app.extensions import db

MAX_VERSION = 2**31 - 1


class Versioned:
    """Mixin for an editable model: `version` starts at 1 and every UPDATE of the row
    checks it and writes the next (SQLAlchemy's `version_id_col`). Declare it in the
    model's `__audit_labels__` as bookkeeping (`"version": None`; the audit log leaves it
    out). A model whose version also covers rows of its own (a project's PMs, `bump()`)
    names their audited models in `__versioned_with__`, so that "changed by" finds them."""

    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1, server_default=text("1"))

    @declared_attr.directive
    def __mapper_args__(cls) -> dict:
        # eager_defaults: a generated column (calendar_events.is_client_visible) comes back
        # in the UPDATE's RETURNING, not by a SELECT when it is next read
        return {"version_id_col": cls.version, "eager_defaults": True}


class StaleObject(ConflictError):
    """The object changed since the caller read it; `obj` is the object as it is now."""

    def __init__(self, obj, message: str | None = None):
        noun = getattr(obj, "__audit_noun__", "record")
        super().__init__(
            message or f"This {noun} was changed by someone else since you opened it. Review it and save again."
        )
        self.obj = obj


def parse_version(raw) -> int | None:
    """A version as callers send it: 3, "3", an ETag '"3"' or 'W/"3"'. None when nothing
    was sent (or `*`, "any version"); anything else is a field error."""
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, (int, str)):
        raise ValidationError({"version": "Send the version as a whole number."})
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, str):
        token = raw.strip()
        if token in ("", "*"):
            return None
        if token.startswith("W/"):
            token = token[2:]
        if len(token) >= 2 and token[0] == token[-1] == '"':
            token = token[1:-1]
        if not (token.isascii() and token.isdigit()) or len(token) > 10:
            raise ValidationError({"version": 'Send the version as a whole number (or If-Match: "3").'})
        value = int(token)
    if not 1 <= value <= MAX_VERSION:
        raise ValidationError({"version": "That is not a version this object can have."})
    return value


def expect_version(obj, sent) -> None:
    """Refuse a write based on another version than the current one. Nothing sent:
    nothing to compare (the API's last write wins; the forms always send one)."""
    version = parse_version(sent)
    if version is not None and version != obj.version:
        raise StaleObject(obj)


def bump(obj) -> None:
    """A new version although no column of the row changed — for a change of what the
    object owns that its editors see and send back (a project's PMs in its form)."""
    obj.version = obj.version + 1


def current(obj):
    """`obj` re-read from the database (after a stale write was undone); 404 when it was
    deleted meanwhile."""
    session = db.session()
    try:
        session.refresh(obj)
    except (ObjectDeletedError, InvalidRequestError):
        noun = getattr(obj, "__audit_noun__", "record")
        raise ObjectNotFound(f"This {noun} was deleted meanwhile.") from None
    return obj


def checks_version(param: str):
    """Decorate a service that writes the object passed as `param`: it runs in a
    savepoint, and a concurrent write between the read and the flush (StaleDataError)
    becomes a `StaleObject` carrying the current object, the request still usable."""

    def decorate(fn):
        signature = pyinspect.signature(fn)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            from app.core.transaction import attempt

            obj = signature.bind_partial(*args, **kwargs).arguments[param]
            try:
                with attempt():
                    return fn(*args, **kwargs)
            except StaleDataError:
                raise StaleObject(current(obj)) from None

        return wrapper

    return decorate


# --- the "changed meanwhile" notice of a stale form -------------------------------------


@dataclass(frozen=True)
class Difference:
    label: str
    saved: str  # what is saved now (someone else's change)
    typed: str  # what the stale form sent


@dataclass(frozen=True)
class Meanwhile:
    by: str  # who made the current version, "someone else" when the log does not say
    at: datetime | None
    version: int
    rows: list[Difference] = field(default_factory=list)


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple, set, frozenset)):
        return ", ".join(sorted(_text(v) for v in value))
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return " ".join(str(value).split())


def _same(saved, typed) -> bool:
    a, b = _text(saved), _text(typed)
    if a == b:
        return True
    try:
        return Decimal(a.replace(",", "")) == Decimal(b.replace(",", ""))  # 12000 and 12,000.00
    except (InvalidOperation, ValueError):
        return False


def last_change(obj) -> tuple[str, datetime | None]:
    """Who changed `obj` last and when: its latest successful audit entry."""
    from app.core.audit import AuditLog
    from app.core.audit_text import actor_name

    identity = db.inspect(obj).identity or ()
    mine = and_(AuditLog.object_type == type(obj).__name__, AuditLog.object_id == ",".join(str(i) for i in identity))
    parts = getattr(type(obj), "__versioned_with__", ())  # a project's PMs: its memberships
    if parts:
        mine = or_(mine, and_(AuditLog.object_type.in_(parts), AuditLog.project_id == obj.id))
    entry = db.session.scalars(
        select(AuditLog).where(mine, AuditLog.result == "success").order_by(AuditLog.id.desc()).limit(1)
    ).first()
    if entry is None:
        return "someone else", None
    return actor_name(entry), entry.created_at


def meanwhile(
    obj,
    typed: dict,
    keys: Iterable[str],
    *,
    saved: dict | None = None,
    labels: dict | None = None,
    show: dict[str, Callable] | None = None,
) -> Meanwhile:
    """The notice for a form that was stale: for each of `keys` the form sent, what is
    saved now (`obj`'s attribute, or `saved[key]`) beside what was typed, when they
    differ as people read them. Labels come from the model's `__audit_labels__` (or
    `labels`); `show[key]` turns a value into its text (ids into names)."""
    labels = {**getattr(type(obj), "__audit_labels__", {}), **(labels or {})}
    saved = saved or {}
    show = show or {}
    rows = []
    for key in keys:
        if key not in typed:
            continue  # not in the form (a field this user cannot change)
        now = saved[key] if key in saved else getattr(obj, key)
        if _same(now, typed[key]):
            continue
        as_text = show.get(key, _text)
        label = labels.get(key) or key
        rows.append(Difference(label[:1].upper() + label[1:], as_text(now), as_text(typed[key])))
    by, at = last_change(obj)
    return Meanwhile(by=by, at=at, version=obj.version, rows=rows)
