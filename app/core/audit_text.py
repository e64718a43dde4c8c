"""Audit entries as sentences an owner reads: "Kim added Ana Ruiz to Hughes deck stain as
project manager", "Kim changed the budget of Hughes deck stain: 12,000.00 → 14,500.00".

Each audited model declares, once, how it is spoken of:
- `__audit_noun__` — what one of it is called ("project");
- `__audit_labels__` — {column: label}; `None` marks bookkeeping (ids, timestamps,
  session epochs) left out of sentences; every column is declared (a test checks);
- `__audit_values__` — labels of coded values ({"status": {"created": "Not started"}});
- `__audit_phrases__` — a column whose change is an act of its own ("deactivated {name}"),
  keyed by whether the new value is set; `None` says nothing;
- `__audit_created__` / `__audit_deleted__` — the sentence of a created / deleted row when
  "created the project X" is not how one says it (a format string or a function);
- `__audit_possessive__` — "Ana Ruiz's role" rather than "the role of Ana Ruiz";
- `audit_name()` — the instance's name, stored with the entry at the time.

A refused request reads as what it tried to do, in the phrase its feature declares for
the endpoint (`Feature(audit_refusals=…)`), or neutrally ("was refused: POST tasks.create")
when it declares none.

Foreign keys are shown as the related row's name, resolved for a whole page at once (one
query per related model; names of rows since deleted come from their own last entry).
Secret values never reach the log (`core.audit` stores "[changed]"/"[encrypted]"), so a
sentence says that they changed and never to what. The raw diff stays on the entry.
"""

from __future__ import annotations

from collections import OrderedDict, defaultdict
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import cache, cached_property, lru_cache

from markupsafe import Markup, escape
from sqlalchemy import Numeric, bindparam, func, select, tuple_
from sqlalchemy.orm import joinedload, lazyload

from app.core.audit import HIDDEN, REDACTED, AuditLog, instance_name
from app.core.features import audit_refusals
from app.core.labels import role_label
from app.core.timezones import company_zone, format_datetime
from app.extensions import db

NOTHING = "—"
TEXT_LIMIT = 60


def audited_models() -> dict[str, type]:
    """{class name: model} of every audited model (the `object_type` of entries)."""
    return {
        mapper.class_.__name__: mapper.class_
        for mapper in db.Model.registry.mappers
        if getattr(mapper.class_, "__audited__", False)
    }


def _model(name: str) -> type:
    """An audited model by class name (entries name the actor's User and their Project),
    without importing feature packages into the core."""
    return audited_models()[name]


@cache
def _foreign_models(model) -> dict[str, type]:
    """{column: model} of the model's foreign keys to other mapped models."""
    by_table = {mapper.local_table.name: mapper.class_ for mapper in db.Model.registry.mappers}
    found = {}
    for attr in db.inspect(model).column_attrs:
        for column in attr.columns:
            for fk in getattr(column, "foreign_keys", ()):
                target = by_table.get(fk.column.table.name)
                if target is not None:
                    found[attr.key] = target
    return found


@cache
def _numeric_columns(model) -> set[str]:
    return {
        attr.key
        for attr in db.inspect(model).column_attrs
        if any(isinstance(getattr(c, "type", None), Numeric) for c in attr.columns)
    }


def _raw_value(value) -> str:
    if value is None:
        return "∅"
    if value == "":
        return '""'
    return str(value) if type(value) is int else escape(value)  # digits need no escaping


_raw_key = lru_cache(maxsize=1024)(escape)  # column names, a few dozen


class _Reader:
    """Who reads a page of lines, and in which time zone: looked up once per page, not
    once per line."""

    @cached_property
    def viewer(self):
        from flask_login import current_user

        return current_user._get_current_object() if current_user and current_user.is_authenticated else None

    @cached_property
    def zone(self):
        return company_zone()

    @cached_property
    def _times(self) -> dict:
        return {}

    def when(self, value) -> str:
        """`value` as the `datetime` filter writes it, to the minute: entries of the same
        minute (a page often holds a burst of them) are formatted once."""
        if not isinstance(value, datetime):
            return format_datetime(value, self.zone)
        minute = value.replace(second=0, microsecond=0)
        text = self._times.get(minute)
        if text is None:
            text = self._times[minute] = format_datetime(minute, self.zone)
        return text


class Line:
    """One entry as shown: the sentence, and the raw field-by-field diff."""

    def __init__(self, entry, sentence: str, reader: _Reader | None = None, keep: bool = False):
        self.entry = entry
        self.sentence = sentence
        self.keep = keep  # committed: its raw diff may be kept by id (`_RAW`)
        self.raw = [(key, values[0], values[1]) for key, values in (entry.changes or {}).items()]
        self.reader = reader or _Reader()

    @property
    def role_label(self) -> str:
        """The actor's role as the reader should read it (the `role_label` filter's words)."""
        return role_label(self.entry.role, self.reader.viewer)

    @property
    def created_at_text(self) -> str:
        """When, in the company's time zone (the `datetime` filter's format)."""
        return self.reader.when(self.entry.created_at)

    @property
    def raw_items(self) -> Markup:
        """The raw diff as the <li>s of a list (`key: before → after`, ∅ for none), built
        here rather than by a template macro per value (an entry can have twenty) — once
        per entry and worker: an entry never changes (`_RAW`)."""
        entry_id = getattr(self.entry, "id", None) if self.keep else None
        found = _RAW.get(entry_id) if entry_id is not None else None
        if found is None:
            items = "".join(
                f"<li><code>{_raw_key(key)}</code>: {_raw_value(before)} → {_raw_value(after)}</li>"
                for key, before, after in self.raw
            )
            found = Markup(items)  # noqa: S704 - every key and value above is escaped
            if entry_id is not None:
                _remember(_RAW, entry_id, found)
        return found


# This worker's copies of what a page of entries shows, most recent last: each entry's raw
# diff (an entry is never changed), and its sentence under the generations of the tables
# its names are read from (core.cached_reads: a rename makes every copy stale).
_RAW: OrderedDict = OrderedDict()
_SENTENCES: OrderedDict = OrderedDict()
_KEPT = 1024


def _remember(copies: OrderedDict, key, value) -> None:
    copies[key] = value
    copies.move_to_end(key)
    if len(copies) > _KEPT:
        copies.popitem(last=False)


def _joins_to(model, wanted) -> list:
    """The model's many-to-one relationships to other models whose names are wanted."""
    return [
        rel
        for rel in db.inspect(model).relationships
        if not rel.uselist and rel.mapper.class_ is not model and rel.mapper.class_ in wanted
    ]


@lru_cache(maxsize=64)
def _names_query(model, joined: tuple[str, ...]):
    """select() of some rows of `model` by id (the `ids` parameter), built once per model:
    the rows only, not what they eagerly load for their own pages (a project's team) — a
    name needs the row's own columns, anything else loads on access — except the
    relationships `joined` (rows of another wanted model, a project's client)."""
    options = [joinedload(getattr(model, key)) for key in joined] + [lazyload("*")]
    return select(model).where(model.id.in_(bindparam("ids", expanding=True))).options(*options)


class _Names:
    """Names of the rows a page of entries refers to, fetched in one query per model."""

    def __init__(self, known=()):
        self.names: dict[tuple[type, int], object] = {}
        for obj in known:
            if obj is not None:
                self.names[(type(obj), obj.id)] = obj
        self.wanted: dict[type, set[int]] = defaultdict(set)
        self.labels: dict[tuple[str, str], str] = {}

    def want(self, model, value) -> None:
        if isinstance(value, int) and not isinstance(value, bool) and (model, value) not in self.names:
            self.wanted[model].add(value)

    def fetch(self) -> None:
        missing = []
        # A model whose rows join rows of another wanted model (a project its client, a
        # user their company) is read first, with that join: what it brings along needs
        # no query of its own.
        joins = {model: _joins_to(model, self.wanted) for model in self.wanted}
        for model in sorted(self.wanted, key=lambda m: -len(joins[m])):
            ids = {i for i in self.wanted[model] if (model, i) not in self.names and not self._held(model, i)}
            if not ids:
                continue
            query = _names_query(model, tuple(rel.key for rel in joins[model]))
            rows = db.session.scalars(query, {"ids": sorted(ids)}).unique().all()
            for row in rows:
                self.names[(model, row.id)] = row
                for rel in joins[model]:
                    related = getattr(row, rel.key)
                    if related is not None:
                        self.names.setdefault((rel.mapper.class_, related.id), related)
            missing += [(model.__name__, str(i)) for i in ids - {row.id for row in rows}]
        if missing:  # deleted since: the name they had in their last entry
            last = (
                select(AuditLog.object_type, AuditLog.object_id, func.max(AuditLog.id).label("last"))
                .where(tuple_(AuditLog.object_type, AuditLog.object_id).in_(missing), AuditLog.object_label != "")
                .group_by(AuditLog.object_type, AuditLog.object_id)
                .subquery()
            )
            for kind, ident, label in db.session.execute(
                select(AuditLog.object_type, AuditLog.object_id, AuditLog.object_label).join(
                    last, AuditLog.id == last.c.last
                )
            ):
                self.labels[(kind, ident)] = label

    def _held(self, model, ident) -> bool:
        """Whether this session already holds the row (the signed-in user, say): a query
        would return that same object, so it is used as it is."""
        obj = db.session.identity_map.get(db.session.identity_key(model, ident))
        if obj is None or db.inspect(obj).expired_attributes:
            return False
        self.names[(model, ident)] = obj
        return True

    def obj(self, model, value):
        return self.names.get((model, value))

    def name(self, model, value) -> str:
        if value is None:
            return NOTHING
        found = self.obj(model, value)
        if found is not None:
            return instance_name(found)
        label = self.labels.get((model.__name__, str(value)))
        return f"{label} (deleted)" if label else f"{getattr(model, '__audit_noun__', model.__name__)} #{value}"


def _short(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= TEXT_LIMIT else text[: TEXT_LIMIT - 1] + "…"


def _money(value) -> str:
    try:
        return f"{Decimal(str(value)):,.2f}"
    except (InvalidOperation, ValueError):
        return str(value)


class _Model:
    """What an entry's model declares, with defaults for an undeclared one."""

    def __init__(self, model, object_type: str):
        self.model = model
        self.noun = getattr(model, "__audit_noun__", object_type)
        self.labels = getattr(model, "__audit_labels__", {})
        self.values = getattr(model, "__audit_values__", {})
        self.phrases = getattr(model, "__audit_phrases__", {})
        self.possessive = getattr(model, "__audit_possessive__", False)
        self.foreign = _foreign_models(model) if model is not None else {}
        self.numeric = _numeric_columns(model) if model is not None else set()

    def label(self, key: str) -> str | None:
        if key in self.labels:
            return self.labels[key]
        return key.replace("_", " ")  # undeclared (an older entry's column): plain words

    def value(self, key: str, value, names: _Names) -> str:
        if value is None:
            return NOTHING
        if key in self.foreign:
            return names.name(self.foreign[key], value)
        if key in self.values:
            return str(self.values[key].get(value, value))
        if isinstance(value, bool):
            return "yes" if value else "no"
        if key in self.numeric:
            return _money(value)
        return _short(value) if isinstance(value, str) else str(value)


def _actor(entry, names: _Names, user_model=None) -> str:
    user = names.obj(user_model or _model("User"), entry.user_id) if entry.user_id is not None else None
    return instance_name(user) if user is not None else (entry.username or "someone")


def actor_name(entry) -> str:
    """Who made one entry, named as its sentence names them ("Kim Bray")."""
    names = _Names()
    names.want(_model("User"), entry.user_id)
    names.fetch()
    return _actor(entry, names)


def _is_self(entry, model) -> bool:
    return entry.user_id is not None and model is _model("User") and str(entry.user_id) == entry.object_id


class _Context(dict):
    """Values for a sentence template; a missing one is left empty rather than failing."""

    def __missing__(self, key):
        return ""


VIA_KEYS = frozenset({"via", "refused"})  # bookkeeping of an entry, not columns (core.audit)


def _template(spec, context: dict) -> str:
    return spec(context) if callable(spec) else spec.format_map(_Context(context))


def _words_values(entry, model) -> bool:
    """Whether the entry's sentence names its values: an update, or a created/deleted row
    whose model words its own sentence (`__audit_created__`); "created the project X" does
    not, so the rows its values refer to are not fetched for it."""
    if entry.result != "success":
        return False  # a refusal names its project only (_denied_sentence)
    if entry.action == "update":
        return True
    return bool(getattr(model, f"__audit_{entry.action}d__", None))


def _row_sentence(entry, info: _Model, names: _Names) -> str:
    name = entry.object_label or f"#{entry.object_id}"
    spec = getattr(info.model, f"__audit_{entry.action}d__", None)
    if not spec:  # "created the project X": no values to word (a created row can have twenty)
        verb = "created" if entry.action == "create" else "deleted"
        return f"{verb} the {info.noun} {name}"
    side = 1 if entry.action == "create" else 0
    context = {"name": name, "noun": info.noun}
    for key, values in (entry.changes or {}).items():
        context[key] = info.value(key, values[side], names)
        if key in info.foreign:
            context[key + "_obj"] = names.obj(info.foreign[key], values[side])
    return _template(spec, context)


def _update_sentence(entry, info: _Model, names: _Names) -> str:
    name = entry.object_label or f"{info.noun} #{entry.object_id}"
    mine = _is_self(entry, info.model)
    context = {"name": name, "their": "their" if mine else f"{name}'s"}
    acts, changed = [], []
    for key, (before, after) in (entry.changes or {}).items():
        if key in VIA_KEYS:
            continue  # said after the sentence (describe)
        if key in info.phrases:
            phrase = info.phrases[key]
            phrase = phrase.get(bool(after)) if isinstance(phrase, dict) else phrase
            if phrase:
                acts.append(_template(phrase, context))
            continue
        label = info.label(key)
        if label is None:
            continue
        if HIDDEN in (before, after) or REDACTED in (before, after):
            changed.append((label, None))  # a secret: that it changed, never to what
        else:
            changed.append((label, f"{info.value(key, before, names)} → {info.value(key, after, names)}"))
    whose = context["their"] if info.possessive else None
    if len(changed) == 1:
        label, values = changed[0]
        subject = f"{whose} {label}" if whose else f"the {label} of {name}"
        acts.append(f"changed {subject}" + (f": {values}" if values else ""))
    elif changed:
        parts = [f"{label} {values}" if values else f"{label} (changed)" for label, values in changed]
        acts.append(f"changed {'their details' if mine else name}: " + "; ".join(parts))
    if not acts:
        return f"updated the {info.noun} {name}"
    return " and ".join(acts)


def _denied_sentence(entry, names: _Names, refusals: dict[str, str]) -> str:
    """What a refused request tried to do, in the words its feature declared for the
    endpoint (`Feature(audit_refusals=…)`); an endpoint without a phrase is named as it is."""
    _, _, endpoint = (entry.action or "").partition(" ")
    label = f" {entry.object_label}" if entry.object_label else ""
    project = names.name(_model("Project"), entry.project_id) if entry.project_id is not None else None
    on_project = f" on the project {project}" if project else ""
    phrase = refusals.get(endpoint)
    if phrase and "{project}" in phrase:
        if project:
            return f"was refused: tried to {phrase.format(project=project)}{label} ({entry.action})"
    elif phrase:
        return f"was refused: tried to {phrase}{label}{on_project} ({entry.action})"
    return f"was refused: {entry.action}{label}{on_project}"


def describe(entries, known=()) -> list[Line]:
    """The entries as sentences, with the names of every row they refer to fetched at once.
    `known` are rows the caller already holds (the page's project, its team), not fetched.

    A sentence depends only on its entry (never changed) and the names it reads, so each
    worker keeps the sentences it made while no table a name comes from (nor the log,
    whose entries name deleted rows) is written (`_SENTENCES`): a page read again — the
    log's first page, a project's history — fetches no names and words nothing anew."""
    generations = _name_generations()
    reader = _Reader()
    if generations is not None and entries:
        kept = [_SENTENCES.get((getattr(entry, "id", None), generations)) for entry in entries]
        if all(sentence is not None for sentence in kept):
            return [Line(entry, sentence, reader, keep=True) for entry, sentence in zip(entries, kept, strict=True)]
    lines = _describe(entries, known, reader)
    # Kept only if what they were worded from is committed: reading the names may have
    # flushed this request's own changes, or used a changed row it holds.
    if generations is not None and _name_generations() == generations:
        for line in lines:
            if getattr(line.entry, "id", None) is not None:
                line.keep = True
                _remember(_SENTENCES, (line.entry.id, generations), line.sentence)
    return lines


def _name_generations() -> bytes | None:
    """The generations of every table a sentence's names are read from, as one value —
    None outside a request (a job, the shell): no copies kept there."""
    from flask import has_request_context

    from app.core.cached_reads import generations_of, session_wrote

    if not has_request_context():
        return None
    tables, session = _name_tables(), db.session()
    if session.new or session.dirty or session.deleted or session_wrote(session, tables):
        return None  # this request's own changes are not in the generations yet
    return generations_of(tables)


@cache
def _name_tables() -> frozenset[str]:
    """The tables of the audited models and of every model they refer to, and the log's."""
    models = set(audited_models().values())
    models |= {target for model in list(models) for target in _foreign_models(model).values()}
    return frozenset({model.__table__.name for model in models} | {AuditLog.__tablename__})


def _describe(entries, known, reader) -> list[Line]:
    User, Project = _model("User"), _model("Project")
    models = audited_models()
    names = _Names(known)
    for entry in entries:
        names.want(User, entry.user_id)
        info = models.get(entry.object_type)
        if entry.result != "success" and entry.project_id is not None:
            names.want(Project, entry.project_id)
        if info is None or not _words_values(entry, info):
            continue
        for key, model in _foreign_models(info).items():
            for value in (entry.changes or {}).get(key, ()):
                names.want(model, value)
    names.fetch()
    refusals = audit_refusals()
    infos: dict[str, _Model] = {}  # what each kind of object declares, read once per page
    lines = []
    for entry in entries:
        actor = _actor(entry, names, User)
        if entry.action == "sign_in" and entry.result != "success":
            # record_attempt: the name tried is the entry's username, the secret never kept
            text = (
                "was refused sign-in: too many attempts, locked out for now"
                if entry.result == "denied"
                else "failed to sign in (wrong password or code)"
            ) + (f" from {entry.ip}" if entry.ip else "")
        elif entry.result != "success" and "refused" in (entry.changes or {}):
            # a change refused outside a request (e.g. one made in a calendar app): why
            info = _Model(models.get(entry.object_type), entry.object_type)
            text = f"was refused: {entry.action} the {info.noun} #{entry.object_id}: {entry.changes['refused'][1]}"
        elif entry.result != "success":
            text = _denied_sentence(entry, names, refusals)
        else:
            info = infos.get(entry.object_type)
            if info is None:
                info = infos[entry.object_type] = _Model(models.get(entry.object_type), entry.object_type)
            if entry.action == "update":
                text = _update_sentence(entry, info, names)
            else:
                text = _row_sentence(entry, info, names)
        via = (entry.changes or {}).get("via")
        if via:
            text += f" (via {via[1]})"  # the channel: e.g. their calendar app, "CalDAV"
        lines.append(Line(entry, f"{actor} {text}", reader))
    return lines


def role_phrase(label: str) -> str:
    """A role label inside a sentence: "project manager", but "PM trainee" keeps its capitals."""
    return label if label[:2].isupper() else label[:1].lower() + label[1:]
