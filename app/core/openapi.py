"""The API describes itself: `@operation(...)` on each JSON endpoint, and the OpenAPI 3.1
document built from those declarations and the app's URL map (`/api/openapi.json`).

The declarations are the ones the endpoints use to parse their input
(core.schemas.request_body/request_query) and, in the test configuration, to check
every answer (`check_response`), so the document cannot drift from the code. An API
endpoint without a declaration is a configuration error caught at start-up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from flask import Flask, current_app, request
from pydantic import BaseModel, Field, TypeAdapter
from pydantic import ValidationError as PydanticValidationError
from pydantic.json_schema import models_json_schema

from app.core.numbers import MAX_ID
from app.core.schemas import Output

# --- envelopes (SPEC.md §4) ----------------------------------------------------------


class ErrorBody(Output):
    code: str = Field(examples=["VALIDATION_ERROR"])
    message: str
    details: dict[str, Any] | None = Field(
        None, description="Per field messages (VALIDATION_ERROR) or the current object (CONFLICT)."
    )
    retry_after: int | None = Field(None, description="Seconds to wait (RATE_LIMIT_EXCEEDED).")
    request_id: str | None = Field(
        None, description="The request's reference (its X-Request-ID): quote it to support; the logs carry it."
    )


class ErrorEnvelope(Output):
    success: Literal[False]
    error: ErrorBody
    timestamp: str = Field(json_schema_extra={"format": "date-time"})


class Pagination(Output):
    page: int
    page_size: int
    total_pages: int
    total_count: int
    next: str | None
    previous: str | None


_ENVELOPES: dict[tuple[type, bool], type[BaseModel]] = {}


def envelope(model: type[BaseModel], paged: bool = False) -> type[BaseModel]:
    """`{"success": true, "data": model}` (or a page of `model`), one class per model."""
    key = (model, paged)
    if key not in _ENVELOPES:
        from pydantic import create_model

        if paged:
            page = create_model(
                f"{model.__name__}Page", __base__=Output, results=(list[model], ...), pagination=(Pagination, ...)
            )
            data = page
        else:
            data = model
        _ENVELOPES[key] = create_model(
            f"{model.__name__}{'Page' if paged else ''}Envelope",
            __base__=Output,
            success=(Literal[True], ...),
            data=(data, ...),
        )
    return _ENVELOPES[key]


# --- declarations --------------------------------------------------------------------

ERRORS = {
    400: "Invalid input (VALIDATION_ERROR, with a message per field in `details`).",
    401: "No valid bearer token (AUTHENTICATION_REQUIRED).",
    403: "The role may not do this (PERMISSION_DENIED).",
    404: "No such object, or not one this user may see (NOT_FOUND).",
    405: "Method not allowed (METHOD_NOT_ALLOWED).",
    409: "The object changed meanwhile, or its state forbids this (CONFLICT, current object in `details`).",
    413: "The request body is too large (REQUEST_TOO_LARGE).",
    415: "The body is not JSON (VALIDATION_ERROR).",
    429: "Too many requests (RATE_LIMIT_EXCEEDED, with `retry_after`).",
    500: "Unexpected server error (SERVER_ERROR).",
    503: "A backing service is unavailable (SERVICE_UNAVAILABLE).",
}


RATE_LIMIT_HEADERS = {
    name: {"description": text, "schema": {"type": "string", "pattern": "^[0-9]+$"}}
    for name, text in (
        ("X-RateLimit-Limit", "Requests allowed per hour."),
        ("X-RateLimit-Remaining", "Requests left this hour."),
        ("X-RateLimit-Reset", "When the hour's count restarts (Unix seconds)."),
    )
}
IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "required": False,
    "description": 'The version the write is based on, as the ETag gave it ("3"); a stale one answers 409.',
    "schema": {"type": "string", "maxLength": 40},
}


@dataclass(frozen=True)
class Operation:
    summary: str
    returns: type[BaseModel] | None = None
    status: int = 200
    paged: bool = False
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    description: str = ""
    raw: bool = False  # the answer is not an envelope (the health probes, this document)
    headers: dict[str, str] = field(default_factory=dict)
    patch: type[BaseModel] | None = None  # PATCH's body, when PUT and PATCH share a route
    body_optional: bool = False  # the body may be left out altogether
    if_match: bool = False  # reads If-Match: write only the version the client saw
    multipart: bool = False  # the body is multipart/form-data (an upload: `file` + fields), not JSON
    media: str | None = None  # the answer is a file of this type (a CSV download), not an envelope

    def body_for(self, method: str) -> type[BaseModel] | None:
        return self.patch if method == "PATCH" and self.patch is not None else self.body


def operation(summary: str, **kwargs):
    """Declare what a JSON endpoint reads and answers (see Operation)."""

    def mark(view):
        view.api_operation = Operation(summary, **kwargs)
        return view

    return mark


def current_operation() -> Operation:
    from app.core.api import matched_view

    op = getattr(matched_view(), "api_operation", None)
    if op is None:
        raise LookupError(f"{request.endpoint} declares no @operation")
    return op


def api_endpoints(app: Flask):
    """(rule, view) for every JSON API route, in URL order."""
    from app.core.api import API_PREFIX

    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        if rule.rule == API_PREFIX or rule.rule.startswith(API_PREFIX + "/"):
            yield rule, app.view_functions[rule.endpoint]


def check_declarations(app: Flask) -> None:
    """Every API endpoint declares its operation (the document and its fuzzing need it)."""
    from app.core.permissions import PermissionConfigError

    missing = [rule.endpoint for rule, view in api_endpoints(app) if not hasattr(view, "api_operation")]
    if missing:
        raise PermissionConfigError(f"API endpoints without @operation: {', '.join(missing)}")


# --- the document --------------------------------------------------------------------

_CONVERTER = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


def _path(rule: str) -> tuple[str, list[dict]]:
    params = []

    def replace(match):
        converter, name = match.group(1) or "string", match.group(2)
        schema = {"type": "integer", "minimum": 1, "maximum": MAX_ID} if converter == "int" else {"type": "string"}
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
        return "{" + name + "}"

    return _CONVERTER.sub(replace, rule), params


def _query_parameters(model: type[BaseModel], defs: dict) -> list[dict]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    defs.update(schema.pop("$defs", {}))
    params = []
    for name, prop in schema.get("properties", {}).items():
        description = prop.pop("description", None)
        prop.pop("default", None)
        prop.pop("title", None)
        if "anyOf" in prop:  # X | None: a query parameter is simply absent
            options = [o for o in prop.pop("anyOf") if o.get("type") != "null"]
            prop.update(options[0] if len(options) == 1 else {"anyOf": options})
        param = {"name": name, "in": "query", "required": name in schema.get("required", ()), "schema": prop}
        if description:
            param["description"] = description
        params.append(param)
    return params


def _strip_titles(node):
    if isinstance(node, dict):
        if isinstance(node.get("title"), str) and ("type" in node or "$ref" in node or "anyOf" in node):
            node.pop("title")
        for value in node.values():
            _strip_titles(value)
    elif isinstance(node, list):
        for value in node:
            _strip_titles(value)


def build_document(app: Flask) -> dict:
    """The OpenAPI 3.1 document of every JSON API endpoint."""
    models: list[tuple[type[BaseModel], str]] = [(ErrorEnvelope, "serialization")]
    for _rule, view in api_endpoints(app):
        op = view.api_operation
        if op.returns is not None:
            models.append((op.returns if op.raw else envelope(op.returns, op.paged), "serialization"))
        for body in (op.body, op.patch):
            if body is not None:
                models.append((body, "validation"))
    unique = list(dict.fromkeys(models))
    keys, top = models_json_schema(unique, ref_template="#/components/schemas/{model}")
    schemas = dict(top.get("$defs", {}))

    def ref(model, mode):
        return keys[(model, mode)]

    paths: dict[str, dict] = {}
    for rule, view in api_endpoints(app):
        op: Operation = view.api_operation
        path, params = _path(rule.rule)
        if op.query is not None:
            params = params + _query_parameters(op.query, schemas)
        if op.if_match:
            params = params + [IF_MATCH]
        success = {"description": op.summary}
        if op.returns is not None:
            model = op.returns if op.raw else envelope(op.returns, op.paged)
            success["content"] = {"application/json": {"schema": ref(model, "serialization")}}
        elif op.media is not None:
            success["content"] = {op.media: {"schema": {"type": "string"}}}
        headers = {name: {"description": text, "schema": {"type": "string"}} for name, text in op.headers.items()}
        if not op.raw:
            headers.update(RATE_LIMIT_HEADERS)
        if headers:
            success["headers"] = headers
        error_ref = ref(ErrorEnvelope, "serialization")
        responses = {str(op.status): success}
        for status, text in ERRORS.items():
            if op.raw:
                continue
            responses[str(status)] = {"description": text, "content": {"application/json": {"schema": error_ref}}}
        if op.raw:
            responses["503"] = success | {
                "description": "A backing service is down (the same shape, with its flag false)."
            }
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            entry = {
                "operationId": f"{rule.endpoint.removeprefix('api.')}.{method.lower()}",
                "summary": op.summary,
                "tags": [rule.endpoint.split(".")[1] if rule.endpoint.count(".") >= 2 else "api"],
                "responses": responses,
            }
            if op.description:
                entry["description"] = op.description
            if params:
                entry["parameters"] = params
            body = op.body_for(method)
            if body is not None and method in ("POST", "PUT", "PATCH"):
                media = "multipart/form-data" if op.multipart else "application/json"
                entry["requestBody"] = {
                    "required": not op.body_optional,
                    "content": {media: {"schema": ref(body, "validation")}},
                }
            if getattr(view, "public_endpoint", False):
                entry["security"] = []
            paths.setdefault(path, {})[method.lower()] = entry
    _strip_titles(schemas)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Kibray ERP API",
            "version": "1",
            "description": (
                "The JSON API of Kibray ERP (SPEC.md §4–5). Sign in with POST /api/auth/login/ and send "
                "`Authorization: Bearer <access_token>`. Every answer is an envelope: `{success, data}` or "
                "`{success: false, error: {code, message, details?, request_id}, timestamp}`. Money is a decimal string "
                'with two places ("10825.00"); dates are YYYY-MM-DD.'
            ),
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }


def document(app: Flask | None = None) -> dict:
    """The document, once per app: it depends only on the code, so it is read from the
    copy stored for this exact code (core/openapi_store.py) or built and stored."""
    from app.core import openapi_store

    app = app or current_app._get_current_object()
    cached = app.extensions.get("kibray.openapi")
    if cached is None:
        cached = openapi_store.load(app)
        if cached is None:
            cached = build_document(app)
            openapi_store.save(app, cached)
        app.extensions["kibray.openapi"] = cached
    return cached


# --- checking answers (test configuration) -------------------------------------------

_ADAPTERS: dict[type, TypeAdapter] = {}


def check_response(response):
    """In the test configuration: the answer must match what its endpoint declares (an
    AssertionError names the difference). Outside tests this costs nothing."""
    if not current_app.config.get("API_CHECK_RESPONSES") or response.mimetype != "application/json":
        return response
    from app.core.api import matched_view

    op = getattr(matched_view(), "api_operation", None)
    if op is None:
        return response
    if 200 <= response.status_code < 300:
        if op.returns is None:
            return response
        model = op.returns if op.raw else envelope(op.returns, op.paged)
    elif op.raw:
        model = op.returns
    else:
        model = ErrorEnvelope
    adapter = _ADAPTERS.get(model) or _ADAPTERS.setdefault(model, TypeAdapter(model))
    try:
        adapter.validate_json(response.get_data())
    except PydanticValidationError as exc:
        raise AssertionError(
            f"{request.method} {request.path} answered {response.status_code} not matching {model.__name__}: {exc}"
        ) from None
    return response
