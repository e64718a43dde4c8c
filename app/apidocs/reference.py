"""The OpenAPI document as the reference page reads it: operations grouped by tag, each
schema flattened into rows (`location.city  string ≤ 120  optional`)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from markupsafe import Markup, escape

METHOD_ORDER = ("get", "post", "put", "patch", "delete")


@dataclass
class Row:
    name: str
    type: str
    required: bool
    notes: str = ""


@dataclass
class Op:
    anchor: str
    method: str
    path: str
    summary: str
    description: str
    public: bool
    parameters: list[Row] = field(default_factory=list)
    body: list[Row] = field(default_factory=list)
    status: str = "200"
    answer: list[Row] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)


def _resolve(doc: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _notes(schema: dict) -> str:
    parts = []
    if "maxLength" in schema:
        parts.append(f"at most {schema['maxLength']:,} characters")
    if "minimum" in schema and "maximum" in schema:
        parts.append(f"{schema['minimum']:,} to {schema['maximum']:,}")
    if "maxItems" in schema:
        parts.append(f"at most {schema['maxItems']} items")
    if "enum" in schema:
        parts.append("one of " + ", ".join(map(str, schema["enum"])))
    if "const" in schema:
        parts.append(f"always {schema['const']!r}".replace("True", "true").replace("False", "false"))
    if "format" in schema:
        parts.append({"date": "YYYY-MM-DD", "date-time": "ISO 8601 with zone"}.get(schema["format"], schema["format"]))
    if "pattern" in schema and "format" not in schema:
        parts.append("e.g. " + ", ".join(schema.get("examples", [])) if schema.get("examples") else "")
    if schema.get("description"):
        parts.append(schema["description"])
    return "; ".join(p for p in parts if p)


def _type(doc: dict, schema: dict) -> tuple[str, dict | None, bool]:
    """(type text, the object schema to expand or None, nullable)."""
    nullable = False
    if "anyOf" in schema:
        options = [o for o in schema["anyOf"] if o.get("type") != "null"]
        nullable = len(options) < len(schema["anyOf"])
        if len(options) == 1:
            inner, expand, _ = _type(doc, options[0])
            return inner, expand, nullable
        return " or ".join(_type(doc, o)[0] for o in options), None, nullable
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        return name, _resolve(doc, schema), nullable
    kind = schema.get("type", "any")
    if kind == "array":
        inner, expand, _ = _type(doc, schema.get("items", {}))
        return f"list of {inner}", expand, nullable
    if kind == "object" and "properties" in schema:
        return "object", schema, nullable
    if isinstance(kind, list):
        kind = " or ".join(kind)
    return kind, None, nullable


def _inner(schema: dict) -> dict:
    """The non-null option of `X | None`, to read its constraints."""
    options = [o for o in schema.get("anyOf", []) if o.get("type") != "null"]
    return {**options[0], **{k: v for k, v in schema.items() if k != "anyOf"}} if len(options) == 1 else schema


def rows(doc: dict, schema: dict, prefix: str = "", depth: int = 0) -> list[Row]:
    schema = _resolve(doc, schema)
    out = []
    required = set(schema.get("required", ()))
    for name, prop in schema.get("properties", {}).items():
        text, expand, nullable = _type(doc, prop)
        notes = _notes(_inner(prop))
        if nullable:
            text += " or null"
        out.append(Row(prefix + name, text, name in required, notes))
        if expand is not None and depth < 3:
            suffix = "[]." if text.startswith("list of") else "."
            out.extend(rows(doc, expand, prefix + name + suffix, depth + 1))
    return out


def _data_rows(doc: dict, schema: dict) -> list[Row]:
    """An envelope's `data` (or its page's `results[]`), the part worth reading."""
    envelope = _resolve(doc, schema)
    data = envelope.get("properties", {}).get("data")
    if data is None:
        return rows(doc, schema)
    data = _resolve(doc, data)
    results = data.get("properties", {}).get("results")
    if results is not None and "pagination" in data.get("properties", {}):
        return [Row("results[]", "list", True, "one page; see pagination")] + rows(doc, results["items"], "results[].")
    return rows(doc, data)


def operations_by_tag(doc: dict) -> list[tuple[str, list[Op]]]:
    groups: dict[str, list[Op]] = {}
    for path, methods in doc["paths"].items():
        for method in sorted(methods, key=METHOD_ORDER.index):
            entry = methods[method]
            statuses = sorted(entry["responses"])
            success = next(s for s in statuses if s.startswith("2"))
            op = Op(
                anchor=entry["operationId"].replace(".", "-"),
                method=method.upper(),
                path=path,
                summary=entry["summary"],
                description=entry.get("description", ""),
                public=entry.get("security") == [],
                status=success,
                errors=[(s, entry["responses"][s]["description"]) for s in statuses if not s.startswith("2")],
            )
            for param in entry.get("parameters", []):
                text, _, _ = _type(doc, param["schema"])
                notes = "; ".join(p for p in (_notes(param["schema"]), param.get("description", "")) if p)
                op.parameters.append(Row(f"{param['name']} ({param['in']})", text, param["required"], notes))
            body = entry.get("requestBody")
            if body:
                # JSON, or an upload's multipart/form-data (its `file` part and fields)
                (media,) = body["content"].values()
                op.body = rows(doc, media["schema"])
            content = entry["responses"][success].get("content")
            if content and "application/json" in content:  # (a CSV download has no rows to show)
                op.answer = _data_rows(doc, content["application/json"]["schema"])
            groups.setdefault(entry["tags"][0], []).append(op)
    return sorted(groups.items())


_CODE = re.compile(r"`([^`]+)`")


def inline_code(text: str) -> Markup:
    """OpenAPI descriptions are CommonMark: show their `code` spans as <code>, the rest as
    escaped text."""
    out = Markup("")
    for i, part in enumerate(_CODE.split(text or "")):  # text, code, text, code, …
        out += Markup("<code>{}</code>").format(part) if i % 2 else escape(part)
    return out
