"""Pages at volume, in-process (docs/performance.md "Flat as data grows").

    .venv/bin/python scripts/scale_probe.py kibray_scale_10k [--requests 80] [--root DIR]

Against a database of your own seeded with `flask seed-demo --scale N` (20 N projects)
and migrated to head, signed in as the demo users, prints per page: the p50 (and
minimum) of `--requests` requests through the Flask test client, the number of SQL
statements, the page's size, and the SQL time — each statement of the page captured
once and re-run 60 times on its own, medians summed (the database's share, steadier
than page timings on a shared machine). `--root` runs another checkout's code (e.g. a
`git archive` of the commit before) against the same database. Redis: db 6 unless
PROBE_REDIS_URL says otherwise.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

PAGES = (
    ("admin", "/"),
    ("pm", "/"),
    ("employee", "/"),
    ("client", "/"),
    ("admin", "/projects"),
    ("admin", "/projects?q=00042"),
    ("admin", "/projects?q=zzqx"),
    ("admin", "/projects?q=oak"),
    ("pm", "/projects?q=00042"),
    ("admin", "/clients?q=0004"),
    ("admin", "/admin/users?q=smith"),
    ("admin", "/projects/new"),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("database")
    parser.add_argument("--requests", type=int, default=80)
    parser.add_argument("--root", default=str(Path(__file__).resolve().parent.parent))
    options = parser.parse_args()
    os.environ.update(
        APP_ENV="test",
        DATABASE_URL=f"postgresql+psycopg://postgres@127.0.0.1:5432/{options.database}",
        REDIS_URL=os.environ.get("PROBE_REDIS_URL", "redis://127.0.0.1:6379/6"),
        LOG_LEVEL="WARNING",
    )
    sys.path.insert(0, options.root)
    from sqlalchemy import event, select

    from app import create_app
    from app.auth.models import User
    from app.extensions import db

    app = create_app({"API_CHECK_RESPONSES": False}, env_name="test")
    with app.app_context():
        ids = {u: db.session.scalar(select(User).where(User.username == u)).get_id() for u, _ in PAGES}
        db.session.remove()
        engine = db.engines[None]
    seen: list = []
    event.listen(engine, "before_cursor_execute", lambda c, cur, sql, params, ctx, many: seen.append((sql, params)))
    for who, path in PAGES:
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = ids[who]
        assert client.get(path).status_code == 200, path
        times = []
        for _ in range(options.requests):
            seen.clear()
            start = time.perf_counter()
            answer = client.get(path)
            times.append((time.perf_counter() - start) * 1000)
        statements = list(seen)
        connection = engine.raw_connection()
        cursor, sql_ms = connection.cursor(), 0.0
        for sql, params in statements:
            runs = []
            for _ in range(60):
                start = time.perf_counter()
                cursor.execute(sql, params)
                cursor.fetchall()
                runs.append((time.perf_counter() - start) * 1000)
            sql_ms += statistics.median(runs)
        connection.rollback()
        connection.close()
        print(
            f"{who:9s} {path:28s} p50 {statistics.median(times):7.2f} ms (min {min(times):6.2f})"
            f"  SQL {sql_ms:6.2f} ms in {len(statements)} statements  {len(answer.data) / 1024:5.1f} KB",
            flush=True,
        )


if __name__ == "__main__":
    main()
