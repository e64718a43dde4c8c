"""The API's input and output schemas: one small typed layer between JSON and the services.

Every JSON API endpoint declares what it reads and answers with `@operation(...)`
(app/core/openapi.py); the same pydantic models

- parse what comes in (`request_body()` / `request_query()` below): strings must be
  strings, ids whole numbers, money one canonical decimal form (`"1234.56"`), dates
  `YYYY-MM-DD` — anything else is a field error in the API's envelope, never a guess;
- describe the endpoint in the OpenAPI document (`/api/openapi.json`), so the document
  cannot drift from the parsing;
- check every answer in the test configuration (`API_CHECK_RESPONSES`), so a serializer
  that drifts from its declared output fails the suite (and schemathesis fuzzes the
  running API against the document).

What the parse layer decides is the *shape* of the input. Whether a field is required,
whether a client exists, whether the end date follows the start date — the business
rules — stay in the services, which report every problem at once (forms use them too).
A model's `__required__` names the fields its service requires, so the document says so.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, WithJsonSchema
from pydantic import ValidationError as PydanticValidationError
from pydantic_core import PydanticCustomError

from app.core.errors import ValidationError
from app.core.money import MAX_AMOUNT
from app.core.numbers import MAX_ID

# --- field types ---------------------------------------------------------------------


def Text(max_length: int):  # noqa: N802 - a type factory, read like a type
    """A JSON string of at most `max_length` characters (no numbers, booleans or objects)."""
    return Annotated[str, StringConstraints(max_length=max_length)]


Id = Annotated[int, Field(ge=1, le=MAX_ID)]
IdList = Annotated[list[Id], Field(max_length=100)]
Version = Annotated[int, Field(ge=1, le=MAX_ID, description="The version the write is based on (see If-Match).")]

_DIGITS = 10  # Numeric(12, 2): up to 9,999,999,999.99
_AMOUNT = re.compile(rf"\d{{1,{_DIGITS}}}(\.\d{{1,2}})?")
_SIGNED = re.compile(rf"-?\d{{1,{_DIGITS}}}(\.\d{{1,2}})?")


def decimal_text(value: Any) -> str | None:
    """The text of a number as sent (a JSON integer or float, a Decimal, a string), to be
    matched against a decimal pattern — never through a float; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return value
    return None


def _money(signed: bool):
    pattern = _SIGNED if signed else _AMOUNT
    example = "1234.56"

    def parse(value: Any) -> Decimal:
        """A decimal string or JSON number in the one canonical form; Decimal out."""
        text = decimal_text(value)
        if text is None or not pattern.fullmatch(text):
            sign = "" if signed else " (not negative)"
            raise PydanticCustomError(
                "money",
                f'Send the amount as a decimal string such as "{example}"{sign}: digits, '
                "at most two decimal places, no commas, symbols or exponents.",
            )
        amount = Decimal(text)
        if abs(amount) >= MAX_AMOUNT:
            raise PydanticCustomError("money", "That amount is too large (at most 9999999999.99).")
        return amount

    schema = {
        "type": "string",
        "pattern": "^" + pattern.pattern + "$",
        "examples": [example],
        "description": "Money: a decimal string with at most two places (a JSON number in the same form is accepted).",
    }
    return Annotated[Decimal, BeforeValidator(parse), WithJsonSchema(schema)]


Money = _money(signed=True)
Amount = _money(signed=False)  # money that cannot be negative (a budget, a payment)

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _date(value: Any) -> date:
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise PydanticCustomError("date", "Enter a date as YYYY-MM-DD.")


Date = Annotated[date, BeforeValidator(_date), WithJsonSchema({"type": "string", "format": "date"})]


def _query_id(value: Any) -> int:
    """An id in a query string ("42")."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and 1 <= int(value) <= MAX_ID:
        return int(value)
    raise PydanticCustomError("query_id", "Must be a whole number (an id).")


QueryId = Annotated[
    int, BeforeValidator(_query_id), WithJsonSchema({"type": "integer", "minimum": 1, "maximum": MAX_ID})
]


def _query_page(value: Any) -> int:
    from app.core.numbers import MAX_PAGE

    text = value.strip() if isinstance(value, str) else ""
    if text.startswith("-") or text == "0":
        raise PydanticCustomError("page", "Must be 1 or more.")
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_PAGE:
        raise PydanticCustomError("page", f"Must be a whole number from 1 to {MAX_PAGE:,}.")
    return int(text)


QueryPage = Annotated[
    int, BeforeValidator(_query_page), WithJsonSchema({"type": "integer", "minimum": 1, "maximum": 100_000})
]


# --- models --------------------------------------------------------------------------


class Schema(BaseModel):
    """Strict: a value of the wrong JSON type is refused, never converted. Unknown fields
    are ignored (a client may PUT back what it read, `id` and `created_at` included)."""

    # defer_build: a model's validator is compiled on first use, not at import (start-up time)
    model_config = ConfigDict(strict=True, extra="ignore", defer_build=True)


class Output(Schema):
    """An answer: exactly the declared fields (an undeclared one fails the check)."""

    model_config = ConfigDict(strict=True, extra="forbid", defer_build=True)


class Input(Schema):
    """A request body. `__required__`: the fields the service requires (documented)."""

    __required__: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema, handler):
        schema = handler(core_schema)
        target = handler.resolve_ref_schema(schema)
        if cls.__required__:
            target["required"] = list(cls.__required__)
        else:
            target.pop("required", None)
        return schema


class Query(BaseModel):
    """Query-string parameters: every value arrives as text and is parsed by its type. An
    unknown parameter is an error, not silently ignored: `?asigned_pm=4` would otherwise
    answer every project as if filtered."""

    model_config = ConfigDict(extra="forbid", defer_build=True)


class ListQuery(Query):
    """What every list endpoint takes (SPEC.md §4): paging and ordering."""

    page: QueryPage | None = Field(None, description="Page number, from 1.")
    page_size: QueryPage | None = Field(None, description="Results per page (default 20, at most 100).")
    ordering: Annotated[str, StringConstraints(max_length=200)] | None = Field(
        None, description="Comma-separated fields; `-field` for descending."
    )


class Form(Query):
    """A multipart upload's fields (`@operation(multipart=True)`, read by `request_form`):
    text like a query string's, parsed by their types; `file` is the uploaded part. A
    form has no null: an optional field is one left out, so the document says so."""

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema, handler):
        schema = handler(core_schema)
        target = handler.resolve_ref_schema(schema)
        for prop in target.get("properties", {}).values():
            if "anyOf" in prop:
                options = [o for o in prop.pop("anyOf") if o.get("type") != "null"]
                prop.update(options[0] if len(options) == 1 else {"anyOf": options})
            if prop.get("default", "") is None:
                prop.pop("default")
        return schema


# The uploaded file of a multipart body, as the document shows it.
FilePart = Annotated[str, WithJsonSchema({"type": "string", "format": "binary", "description": "The file."})]


def _form_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "1", "false", "0"):
        return value.strip().lower() in ("true", "1")
    raise PydanticCustomError("form_bool", "Must be true or false.")


FormBool = Annotated[bool, BeforeValidator(_form_bool), WithJsonSchema({"type": "boolean"})]


# --- parsing -------------------------------------------------------------------------

_MESSAGES = {
    "missing": "This field is required.",
    "extra_forbidden": "Unknown parameter.",
    "string_type": "Must be text (a JSON string).",
    "int_type": "Must be a whole number.",
    "int_parsing": "Must be a whole number.",
    "int_from_float": "Must be a whole number.",
    "bool_type": "Must be true or false.",
    "bool_parsing": "Must be true or false.",
    "list_type": "Send a list.",
    "model_type": "Send an object.",
    "dict_type": "Send an object.",
    "model_attributes_type": "Send an object.",
    "literal_error": "Not one of the allowed values.",
    "enum": "Not one of the allowed values.",
}


def _message(error: dict) -> str:
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind == "string_too_long":
        value = error.get("input")
        has = f" (this has {len(value):,})" if isinstance(value, str) else ""
        return f"At most {ctx['max_length']:,} characters, please{has}."
    if kind == "too_long":
        return f"At most {ctx['max_length']:,} items."
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        return f"Must be a whole number from 1 to {MAX_ID:,}."
    if kind in ("literal_error", "enum") and "expected" in ctx:
        return f"One of {ctx['expected']}."
    return _MESSAGES.get(kind) or error["msg"]


def field_errors(exc: PydanticValidationError, default: str = "body") -> dict[str, str]:
    """pydantic's errors as the envelope's `details`: {"location.city": message} (the
    first problem per field; list positions are folded into the list's name)."""
    fields: dict[str, str] = {}
    for error in exc.errors(include_url=False):
        key = ".".join(str(part) for part in error["loc"] if isinstance(part, str)) or default
        fields.setdefault(key, _message(error))
    return fields


def parse(model: type[BaseModel], data: Any, where: str = "body") -> BaseModel:
    """`data` checked against `model`, or a VALIDATION_ERROR naming every bad field."""
    try:
        return model.model_validate(data)
    except PydanticValidationError as exc:
        raise ValidationError(field_errors(exc, where)) from None


def given(model: BaseModel, *, exclude: tuple[str, ...] = ()) -> dict:
    """The fields the client actually sent, as Python values (Decimal, date, int)."""
    return {k: getattr(model, k) for k in model.model_fields_set if k not in exclude}


def request_body() -> BaseModel:
    """The current request's JSON body, parsed by the model its endpoint declares."""
    from flask import request

    from app.core.api import json_body
    from app.core.openapi import current_operation

    return parse(current_operation().body_for(request.method), json_body())


def request_body_or_empty() -> BaseModel:
    """request_body() of an endpoint whose body may be left out (`body_optional=True`):
    no body at all is the model with its defaults; one that is sent must be the
    documented object."""
    from flask import request

    from app.core.openapi import current_operation

    if not request.get_data(cache=True):
        return current_operation().body_for(request.method)()
    return request_body()


def request_form() -> tuple[BaseModel, object]:
    """A multipart upload's fields parsed by the model its endpoint declares (`multipart=True`),
    and its `file` (a FileStorage; a VALIDATION_ERROR when none was sent). The model's `file`
    field documents the part; its value here is left out of the parse."""
    from flask import request

    from app.core.errors import ValidationError
    from app.core.openapi import current_operation

    if not (request.mimetype or "").startswith("multipart/form-data"):
        raise ValidationError({"file": "Send the file as multipart/form-data."}, "Invalid request body.")
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ValidationError({"file": "This field is required."})
    repeated = [k for k in request.form if len(request.form.getlist(k)) > 1]
    if repeated:
        raise ValidationError(dict.fromkeys(repeated, "Send one value."))
    fields = {k: v for k, v in request.form.to_dict().items() if k != "file"}
    fields["file"] = "sent"
    return parse(current_operation().body_for(request.method), fields), upload


def request_query() -> BaseModel:
    """The current request's query string, parsed by the model its endpoint declares."""
    from flask import request

    from app.core.openapi import current_operation

    return parse(current_operation().query, request.args.to_dict(), "query")
