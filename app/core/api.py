"""The JSON API contract of SPEC.md §4: envelopes, errors, pagination, ordering."""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime
from decimal import Decimal

from flask import g, has_request_context, jsonify, request, url_for

from app.core.errors import ValidationError
from app.core.numbers import MAX_PAGE, to_int

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
API_PREFIX = "/api"  # the one /api blueprint (app/api) is mounted here


def is_api_request(req=None) -> bool:
    """Is this a JSON API request? The one answer, for the session, the bearer-token
    loader and the error handlers — some of which run before the URL is matched."""
    path = (req or request).path
    return path == API_PREFIX or path.startswith(API_PREFIX + "/")


def public(view):
    """An API endpoint anyone may call without a bearer token (sign-in, refresh)."""
    view.public_endpoint = True
    return view


def probe(view):
    """A platform health probe: public, never rate-limited, never redirected to https,
    never dependent on Redis."""
    view.public_endpoint = True
    view.health_probe = True
    return view


def matched_view():
    """The view function the current request's URL matched (None when none did)."""
    from flask import current_app

    return current_app.view_functions.get(request.endpoint) if request.endpoint else None


def endpoint_is(flag: str) -> bool:
    """Does the matched view carry `flag` (set by @public / @probe)?"""
    return bool(getattr(matched_view(), flag, False))


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


def api_ok(data, status: int = 200):
    return jsonify({"success": True, "data": data}), status


def api_error(code: str, message: str, status: int, details: dict | None = None, **extra):
    body = {"success": False, "error": {"code": code, "message": message}, "timestamp": now_iso()}
    if details:
        body["error"]["details"] = details
    body["error"].update(extra)
    rid = g.get("request_id") if has_request_context() else None
    if rid:  # the reference a caller quotes to support (the request's log lines carry it)
        body["error"]["request_id"] = rid
    return jsonify(body), status


MAX_JSON_DEPTH = 32  # nesting of objects and arrays; the API's bodies are flat
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_JSON_BRACKET = re.compile(rb"[\[\]{}]")


class HostileInput(ValidationError):
    """Input no honest client sends (deep nesting, lone surrogates, NUL): a 400 whose
    one-line log names the reason, never a traceback."""


def _too_deep(raw: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    depth = 0
    for bracket in _JSON_BRACKET.findall(_JSON_STRING.sub(b'""', raw)):
        depth += 1 if bracket in b"[{" else -1
        if depth > limit:
            return True
    return False


def _not_json(name: str):
    raise ValueError(f"{name} is not a JSON number")


def request_json():
    """The request's JSON body, parsed once, safely: nesting deeper than MAX_JSON_DEPTH is
    refused before parsing (no RecursionError), text must be valid UTF-8. None when the
    request is not JSON or not valid JSON (json_body says what to send)."""
    if "kibray.json" in request.environ:  # per request (g may outlive one in tests)
        return request.environ["kibray.json"]
    data = None
    if request.is_json:
        raw = request.get_data(cache=True)
        if _too_deep(raw):
            raise HostileInput(
                {"body": f"JSON nested deeper than {MAX_JSON_DEPTH} levels is not accepted."}, "Invalid request body."
            )
        try:
            # numbers with a fraction or exponent stay exact (Decimal, never a float: money);
            # NaN and Infinity are not JSON and make the body invalid
            data = json.loads(raw, parse_float=Decimal, parse_constant=_not_json)
        except (ValueError, RecursionError):
            data = None
    request.environ["kibray.json"] = data
    return data


def bad_text(value) -> str | None:
    """What is wrong with the text in `value` (a string, or JSON-like nesting), if
    anything: a NUL byte (PostgreSQL text cannot hold it) or a lone surrogate (not
    Unicode text; it cannot be stored or encoded)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return "Remove the invalid (NUL) character."
            if not item.isascii():
                try:
                    item.encode("utf-8")
                except UnicodeEncodeError:
                    return "Remove the invalid character (a lone UTF-16 surrogate is not text)."
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return None


def json_body() -> dict:
    data = request_json()
    if not isinstance(data, dict):
        raise ValidationError(
            {"body": "Send a JSON object with Content-Type: application/json."}, "Invalid request body."
        )
    return data


def _positive_int(name: str, default: int) -> int:
    raw = request.args.get(name)
    if raw in (None, ""):
        return default
    raw = raw.strip()
    if raw.startswith("-") or raw == "0":
        raise ValidationError({name: "Must be 1 or more."})
    value = to_int(raw, MAX_PAGE)
    if value is None:
        raise ValidationError({name: f"Must be a whole number from 1 to {MAX_PAGE:,}."})
    return value


def apply_ordering(stmt, allowed: dict, default: list):
    """`ordering=-budget,name` → ORDER BY; unknown fields are a VALIDATION_ERROR."""
    return stmt.order_by(*ordering_clauses(allowed, default))


def ordering_clauses(allowed: dict, default: list) -> list:
    """The ORDER BY clauses `ordering=-budget,name` asks for, among `allowed` columns."""
    raw = request.args.get("ordering")
    clauses = []
    if raw:
        for part in raw.split(","):
            part = part.strip()
            if not part:
                continue
            desc = part.startswith("-")
            name = part.lstrip("-")
            if name not in allowed:
                raise ValidationError({"ordering": f"Cannot order by {name!r}. Allowed: {', '.join(sorted(allowed))}."})
            column = allowed[name]
            clauses.append((column.desc() if desc else column.asc()).nulls_last())
    return clauses or list(default)


def paginate(stmt, serialize=None, *, serialize_page=None, session=None, columns=(), source=None, rows=False):
    """Run `stmt` one page at a time and answer the list envelope. `serialize` turns one
    row into JSON; `serialize_page` turns the whole page (to batch related lookups).
    `columns` are added to the page's select only (not to its count): then each row is
    (object, *columns). `source(total, offset, page_size)`, if given, may answer another statement of
    the same rows to read the page from (core.pagination.paginate). `rows=True`: `stmt`
    selects columns, not objects — the page is read without the ORM, as plain rows."""
    from app.extensions import db

    session = session or db.session
    page = _positive_int("page", 1)
    page_size = min(_positive_int("page_size", DEFAULT_PAGE_SIZE), MAX_PAGE_SIZE)
    from app.core.cached_reads import count_of

    total = count_of(stmt, session)  # cached until a table it counts is written
    total_pages = max(1, math.ceil(total / page_size))
    page = min(page, total_pages)  # past the end: the last page, and its real number
    from app.core.statements import page_statement

    offset = (page - 1) * page_size
    read = source(total, offset, page_size) if source is not None else stmt
    paged = page_statement(read, page_size, offset, columns)
    if rows:
        from app.core.transaction import read_connection

        found = read_connection(session).execute(paged).all()
    else:
        found = session.execute(paged).all() if columns else session.scalars(paged).unique().all()

    def link(number):
        if number < 1 or number > total_pages:
            return None
        args = request.args.to_dict()
        args.update(page=number, page_size=page_size)
        return url_for(request.endpoint, _external=True, **(request.view_args or {}), **args)

    return api_ok(
        {
            "results": serialize_page(found) if serialize_page else [serialize(row) for row in found],
            "pagination": {
                "page": page,
                "page_size": page_size,
                "total_pages": total_pages,
                "total_count": total,
                "next": link(page + 1),
                "previous": link(page - 1),
            },
        }
    )


def ref(obj, name_attr: str = "name"):
    """A related object embedded as {"id", "name"}."""
    if obj is None:
        return None
    return {"id": obj.id, "name": getattr(obj, name_attr)}


# --- versions (core/versioning.py): If-Match, ETag, the current object of a 409 ---------


def sent_version(in_body: int | None):
    """The version a write is based on: `version` from the body (parsed by its schema),
    else the `If-Match` header (`"3"`, `W/"3"` or `3`; `*` or nothing: no check). Both,
    disagreeing: a field error. Answers the raw value; core.versioning.expect_version
    parses and compares it."""
    from app.core.versioning import parse_version

    header = request.headers.get("If-Match")
    if in_body is not None and header is not None and parse_version(header) not in (None, parse_version(in_body)):
        raise ValidationError({"version": "The body's version and the If-Match header disagree."})
    return in_body if in_body is not None else header


def with_etag(answer, obj):
    """An api_ok() answer with the object's version as its ETag (`"3"`)."""
    response, status = answer
    response.headers["ETag"] = f'"{obj.version}"'
    return response, status


class conflicts_show:
    """`with conflicts_show(project_json): services.update_project(...)` — a stale write
    (core.versioning.StaleObject) answers 409 CONFLICT with the current object, as
    `serialize` shows it, in `error.details`."""

    def __init__(self, serialize):
        self.serialize = serialize

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        from app.core.versioning import StaleObject

        if isinstance(exc, StaleObject) and exc.details is None:
            exc.details = self.serialize(exc.obj)
        return False
