"""The floor page of `make bench`: the least a page of this stack can cost.

Plain Flask (no session, no auth, no extensions, no CSRF, no hooks), ONE psycopg query
for the same 25 projects the project list's first page shows (open projects sorted by
name, then id, with their client's name — only the columns the list renders, no PM
names, no count), rendered by a small Jinja template. `scripts/bench.py` serves it with
gunicorn from the same `gunicorn.conf.py` (gevent, the same worker count, access log)
against the same bench database, and reports every page as a ratio to it: figures from
a noisy machine still compare.

    FLOOR_DATABASE_URL=postgresql://… gunicorn -c gunicorn.conf.py --chdir scripts floor_app:app
"""

from __future__ import annotations

import os
import queue
from contextlib import contextmanager

import psycopg
from flask import Flask

SQL = """
SELECT p.id, p.name, p.address, p.city, c.name, p.status, p.start_date
FROM projects p JOIN clients c ON c.id = p.client_id
WHERE p.status <> 'closed'
ORDER BY p.name, p.id
LIMIT 25
"""

TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Projects — floor</title></head>
<body><main><h1>Projects</h1>
<table><thead><tr><th>Project</th><th>Client</th><th>Status</th><th>Start</th></tr></thead><tbody>
{% for id, name, address, city, client, status, start in rows %}
<tr id="project-row-{{ id }}"><td><a href="/projects/{{ id }}">{{ name }}</a><div>{{ address }}{% if city %}, {{ city }}{% endif %}</div></td>
<td>{{ client }}</td><td>{{ status }}</td><td>{{ start.isoformat() if start else '—' }}</td></tr>
{% endfor %}
</tbody></table></main></body></html>
"""


def _conninfo(url: str) -> str:
    """A libpq URL from an SQLAlchemy one (postgresql+psycopg://… → postgresql://…)."""
    scheme, rest = url.split("://", 1)
    return "postgresql://" + rest if scheme.startswith("postgresql") else url


class Pool:
    """A tiny connection pool (a gevent-patched queue under gunicorn's gevent worker):
    connections are opened on demand and kept, like SQLAlchemy's pool in the app."""

    def __init__(self, conninfo: str, size: int = 10):
        self.conninfo = conninfo
        self.idle: queue.LifoQueue = queue.LifoQueue()
        self.size = size
        self.opened = 0

    @contextmanager
    def connection(self):
        try:
            conn = self.idle.get_nowait()
        except queue.Empty:
            if self.opened < self.size:
                self.opened += 1
                conn = psycopg.connect(self.conninfo, autocommit=True)
            else:
                conn = self.idle.get(timeout=30)
        try:
            yield conn
        except psycopg.Error:
            conn.close()
            self.opened -= 1
            raise
        else:
            self.idle.put(conn)


app = Flask(__name__)
page = app.jinja_env.from_string(TEMPLATE)  # compiled once, as Flask caches file templates
pool = Pool(_conninfo(os.environ.get("FLOOR_DATABASE_URL") or os.environ["DATABASE_URL"]))


@app.get("/floor")
def floor():
    with pool.connection() as conn:
        rows = conn.execute(SQL).fetchall()
    return page.render(rows=rows)


@app.get("/health/")
def health():
    return "ok"
