"""Small reads cached until a table they read is written: the totals of lists, and
the short option lists of pickers.

Every list page and API list says how many rows match ("Page 1 of 64 · 1,597 total",
`pagination.total_count`). Counting is a second statement that reads every matching
row: at 2,000 projects it was the list page's costliest statement, and it grows with
the company. The total of a given statement with given parameters only changes when
one of the tables it reads is written, so it is kept in Redis under

* the statement's SQL and its parameters (the viewer's permission scope is part of
  them: a PM's list and an admin's are different statements), and
* a *generation* number per table it reads, raised after every committed write to
  that table (plus a global one for writes whose table is not known).

The same holds for a short list of rows that many pages show and few writes change
(`rows_of`: the active PMs of the list page's filter), kept as JSON.

The generations live in one Redis hash, read once per request — in the same round
trip as the session (app/auth/sessions.py), so a page's cached reads usually cost no
round trip at all: each worker keeps its own copies of recent entries (`_LOCAL`) and
uses one while its generations are still the current ones; otherwise the shared entry
in Redis, and failing that the database, answer — a mismatch recounts. The generations are raised from the engine's own events — every
INSERT/UPDATE/DELETE the app's connections send, through the ORM, Core or raw SQL —
*after* the transaction commits (when the connection goes back to the pool), so no
reader can cache a count of data about to change under the new generation. A
connection that has written and not yet committed never reads or fills the cache for
the tables it wrote (it sees its own writes). Statements whose result depends on the
clock or on chance (`now()`, `CURRENT_DATE`, `random()`) are never cached, and entries
expire after `TTL` seconds — a backstop for writes made outside the app (psql).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
import uuid
import weakref
from collections import OrderedDict
from collections.abc import Mapping
from types import MappingProxyType

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import Pool

log = logging.getLogger(__name__)

TTL = 300
_READS = re.compile(r'\b(?:FROM|JOIN)\s+"?([A-Za-z_][A-Za-z0-9_]*)"?', re.IGNORECASE)
_WRITES = re.compile(r'^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?([A-Za-z_][A-Za-z0-9_]*)"?', re.IGNORECASE)
_DML = re.compile(r"\b(?:INSERT|UPDATE|DELETE|MERGE)\b", re.IGNORECASE)
_VOLATILE = re.compile(
    r"\b(?:now|random|clock_timestamp|statement_timestamp|timeofday|nextval)\s*\(|"
    r"\b(?:current_date|current_time|current_timestamp|localtime|localtimestamp)\b",
    re.IGNORECASE,
)
_ANY_TABLE = "*"
_EPOCH = b"epoch"  # a field of the generations hash: which life of the hash this is
_NONE: frozenset = frozenset()
_WRITTEN = "kibray_tables_written"  # on a pooled connection: tables written, not yet committed
_COMMITTED = "kibray_tables_committed"  # …committed, generation to raise when it is returned

# SQLAlchemy cache key of a count statement -> (its SQL, the tables it reads, volatile?).
_COMPILED: OrderedDict = OrderedDict()
_COMPILED_MAX = 512
# This process's copies of entries: digest -> (generations, value), most recent last.
_LOCAL: OrderedDict = OrderedDict()
_LOCAL_MAX = 1024
GENERATIONS_MAX_AGE = 1.0


def count_of(stmt, session) -> int:
    """How many rows `stmt` (a select) returns, cached as the module describes."""
    from app.core.statements import count_statement

    count = count_statement(stmt)
    return _read(count, session, lambda: session.scalar(count), str, int)


def rows_of(stmt, session) -> list[tuple]:
    """The rows of `stmt` as tuples of plain values (text, numbers, booleans, None),
    cached as the module describes. For short lists only (a picker's options)."""

    def run():
        return [tuple(row) for row in session.execute(stmt)]

    return _read(stmt, session, run, _dump_rows, _load_rows, thaw=list)


def lookup_of(stmt, session) -> Mapping:
    """`rows_of` as a read-only mapping {first column: the row's other columns, as a
    tuple}, kept decoded in each worker while the tables are unchanged — no decoding
    and no copying per request (the names of every PM, say)."""

    def run():
        return [tuple(row) for row in session.execute(stmt)]

    return _read(stmt, session, lambda: _lookup(run()), _dump_lookup, _load_lookup, thaw=_same)


def _lookup(rows) -> Mapping:
    return MappingProxyType({row[0]: tuple(row[1:]) for row in rows})


def _dump_lookup(mapping) -> str:
    return json.dumps([[key, *rest] for key, rest in mapping.items()], separators=(",", ":"))


def _load_lookup(raw) -> Mapping:
    return _lookup(json.loads(raw))


def _same(value):
    return value


def value_of(name: str, tables, compute, dump, load):
    """A value computed by `compute()` from these tables only, cached as the module
    describes under `name` (which must say everything the value depends on besides the
    tables' contents — a permission scope, say): `dump` makes it text, `load` reads it
    back from bytes."""
    from app.extensions import db

    if session_wrote(db.session(), tables):
        return compute()
    return _cached(_digest("value\0" + name), frozenset(tables), compute, dump, load)


def generations_of(tables) -> bytes:
    """The current generations of these tables (as read for this request), as one value
    to compare: a copy made under it is current while it is unchanged."""
    current = _current_generations()
    return b",".join(current.get(t.encode(), b"0") for t in (_EPOCH.decode(), _ANY_TABLE, *sorted(tables)))


def session_wrote(session, tables) -> bool:
    """Has this session's connection written one of these tables (committed or not)
    since it was taken from the pool? Asks only a connection the session already
    holds: a session that has none has written nothing."""
    from sqlalchemy.engine import Connection

    bind = session.get_bind()
    if isinstance(bind, Connection):  # bound to one connection (the tests' transaction)
        connections = [bind]
    else:
        transaction = session.get_transaction()
        connections = list(getattr(transaction, "_connections", {}).values()) if transaction else []
    for found in connections:
        connection = found[0] if isinstance(found, tuple) else found
        written = connection.info.get(_WRITTEN, _NONE) | connection.info.get(_COMMITTED, _NONE)
        if _ANY_TABLE in written or written & set(tables):
            return True
    return False


def _dump_rows(rows) -> str:
    return json.dumps(rows, separators=(",", ":"))


def _load_rows(raw) -> tuple[tuple, ...]:
    return tuple(tuple(row) for row in json.loads(raw))


def _read(stmt, session, run, dump, load, thaw=None):
    session = session() if callable(session) and not hasattr(session, "get_transaction") else session
    dialect = session.get_bind().dialect
    known = _KNOWN.get(stmt)
    if known is None or known[0] is not dialect:
        known = _KNOWN[stmt] = (dialect, *_identify(stmt, dialect))
    _, digest, tables, volatile = known
    if digest is None or volatile or session_wrote(session, tables):
        return run()  # this connection's own writes, committed or not, are not yet counted
    return _cached(digest, tables, run, dump, load, thaw)


# statement -> (dialect, digest of its SQL and parameters or None, tables it reads,
# volatile?): a statement is immutable, and the ones read here live long (they are built
# once and remembered), so each is compiled and hashed once, not on every request.
_KNOWN: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _identify(stmt, dialect):
    cache_key = stmt._generate_cache_key()
    if cache_key is None:
        return None, _NONE, True
    sql, tables, volatile = _compiled(stmt, cache_key, dialect)
    try:
        params = json.dumps([bind.effective_value for bind in cache_key.bindparams], default=_exact)
    except (TypeError, ValueError):  # a parameter without a JSON form: just read
        return None, tables, volatile
    return _digest(sql + "\0" + params), tables, volatile


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()


def _compiled(stmt, cache_key, dialect):
    found = _COMPILED.get(cache_key.key)
    if found is None:
        sql = str(stmt.compile(dialect=dialect))
        found = (sql, frozenset(name.lower() for name in _READS.findall(sql)), bool(_VOLATILE.search(sql)))
        _COMPILED[cache_key.key] = found
        if len(_COMPILED) > _COMPILED_MAX:
            _COMPILED.popitem(last=False)
    return found


def _generations_key() -> str:
    from app.extensions import redis_store

    return redis_store.key("table-generations")  # a hash: table -> generation


def queue_generations(pipe) -> None:
    """Add the reading of the table generations to a pipeline the caller sends anyway
    (the session's read, app/auth/sessions.py), then hand its answer to use_generations:
    a page's cached reads then cost no round trip of their own."""
    pipe.hgetall(_generations_key())


def use_generations(found) -> None:
    from flask import g

    g.kibray_table_generations = (time.monotonic(), found or {})


def _current_generations() -> dict:
    """The generations as read at most GENERATIONS_MAX_AGE seconds ago in this app
    context (a request: once; a long job: again every so often), else now."""
    from flask import g

    from app.extensions import redis_store

    read = g.get("kibray_table_generations")
    if read is None or time.monotonic() - read[0] > GENERATIONS_MAX_AGE or _EPOCH not in read[1]:
        found = redis_store.client.hgetall(_generations_key())
        if _EPOCH not in found:
            # A new or emptied hash (first start, Redis restarted or flushed): the numbers
            # start again from 0, so a random epoch tells the copies made before apart.
            client = redis_store.client
            client.hsetnx(_generations_key(), _EPOCH.decode(), uuid.uuid4().hex)
            found = client.hgetall(_generations_key())
        use_generations(found)
        read = g.kibray_table_generations
    return read[1]


def _cached(digest: str, tables: frozenset, run, dump, load, thaw=None):
    """`thaw`: `load` answers an immutable value, kept decoded in this worker's copy and
    handed out through `thaw` (a fresh list) — no decoding per request (a PM's project
    ids are a thousand numbers at 10,000 projects)."""
    from app.extensions import redis_store

    generations = generations_of(tables)
    local = _LOCAL.get(digest)
    if local is not None and local[0] == generations:
        if thaw is not None:
            return thaw(local[2])
        return load(local[1])
    client = redis_store.client
    entry = redis_store.key("cached-read", digest)
    stored = client.get(entry)
    if stored is not None:
        stored_generations, _, value = stored.partition(b"|")
        if stored_generations == generations:
            loaded = load(value)
            _remember(digest, generations, value, loaded if thaw is not None else None)
            return thaw(loaded) if thaw is not None else loaded
    result = run()
    value = dump(result).encode()
    client.set(entry, generations + b"|" + value, ex=TTL)
    _remember(digest, generations, value, load(value) if thaw is not None else None)
    return result


def _remember(digest: str, generations: bytes, value: bytes, decoded=None) -> None:
    _LOCAL[digest] = (generations, value, decoded)
    _LOCAL.move_to_end(digest)
    if len(_LOCAL) > _LOCAL_MAX:
        _LOCAL.popitem(last=False)


def _exact(value):
    """JSON for the parameter types a list filter uses (dates, decimals): their text."""
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if hasattr(value, "isoformat") or type(value).__name__ == "Decimal":
        return str(value)
    raise TypeError(type(value).__name__)


def bump(tables) -> None:
    """Raise the generation of these tables: every cached total that reads one is stale."""
    from app.extensions import redis_store

    try:
        pipe = redis_store.client.pipeline(transaction=False)
        for table in tables:
            pipe.hincrby(_generations_key(), table, 1)
        pipe.execute()
        from flask import g

        g.pop("kibray_table_generations", None)  # this context reads the new ones next
    except Exception:  # noqa: BLE001 - a failed bump must not fail the request that wrote
        # Redis is down or unreachable: the entries expire after TTL; say so loudly.
        log.exception("could not invalidate the cached reads of %s", ", ".join(sorted(tables)))


_installed = False


# (table, statement verb) -> other tables such a write changes too (a trigger's or a
# cascade's work).
_ALSO_WRITES: dict[tuple[str, str], frozenset] = {}
_VERBS = ("INSERT", "UPDATE", "DELETE")


def writes_also(table: str, *others: str, verbs=_VERBS) -> None:
    """Declare that a write to `table` (an INSERT, UPDATE or DELETE among `verbs`) also
    writes `others` (a trigger keeps a column of theirs, a foreign key cascades): their
    cached reads are then as stale as `table`'s."""
    for verb in verbs:
        key = (table, verb[:6].upper())
        _ALSO_WRITES[key] = _ALSO_WRITES.get(key, frozenset()) | frozenset(others)


def install() -> None:
    """Listen to every engine's writes and every pooled connection's return, once."""
    global _installed
    if _installed:
        return
    _installed = True

    @event.listens_for(Engine, "after_cursor_execute")
    def _wrote(conn, cursor, statement, parameters, context, executemany):
        head = statement.lstrip()[:6].upper()
        if head.startswith(("SELECT", "SAVEPO", "RELEAS", "ROLLBA", "BEGIN", "COMMIT", "SHOW", "SET ")):
            return
        if head.startswith("WITH") and not _DML.search(statement):
            return  # a read with a common table expression
        found = _WRITES.match(statement)
        table = found.group(1).lower() if found else _ANY_TABLE  # raw SQL, DDL, a CTE: unknown
        tables = {table, *_ALSO_WRITES.get((table, head[:6]), ())}
        if getattr(conn.connection.driver_connection, "autocommit", False):
            _bump_in_app(tables)  # already committed
        else:
            conn.info.setdefault(_WRITTEN, set()).update(tables)

    @event.listens_for(Engine, "commit")
    def _committing(conn):
        written = conn.info.pop(_WRITTEN, None)
        if written:
            conn.info.setdefault(_COMMITTED, set()).update(written)

    @event.listens_for(Engine, "rollback")
    def _rolled_back(conn):
        conn.info.pop(_WRITTEN, None)

    @event.listens_for(Pool, "checkin")
    def _returned(dbapi_connection, record):
        committed = record.info.pop(_COMMITTED, None) if record is not None else None
        if committed:
            _bump_in_app(committed)


def _bump_in_app(tables) -> None:
    from flask import has_app_context

    if has_app_context():
        bump(tables)
