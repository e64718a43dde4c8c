"""Drill: faults (issue 14). One production-like instance (Procfile's `web` line) against
a drill database and a Redis of the drill's own:

1. Redis stops: pages answer a clean 503 page (never a stack trace), /health/ says
   `redis: false`, and everything recovers by itself when Redis is back — no restart.
2. PostgreSQL drops every connection (pg_terminate_backend): the next requests succeed
   (the pool's liveness check at checkout), no restart.
3. A worker killed (SIGKILL) mid-job: tests/test_invoice_delivery.py's scenario, run
   against the drill's PostgreSQL and Redis — the job is retried and the email sent once.
4. A migration that fails halfway, on the drill's copy of the database while the old
   version serves it: `flask db upgrade` fails, the database is still at the old head with
   the old schema, the old version served /health/ 200 throughout; and `flask db downgrade
   -1` + upgrade of the last real migration give back exactly the schema before
   (pg_dump --schema-only compared).

    .venv/bin/python scripts/drill_faults.py      (or: make drills)"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import drill_common as d
from drill_common import check, proved

FAILING_MIGRATION = '''"""drill: DDL, then a failure halfway (scripts/drill_faults.py; never in migrations/)"""

import time

import sqlalchemy as sa
from alembic import op

revision = "drill_fails_halfway"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table("drill_half_done", sa.Column("id", sa.Integer, primary_key=True))
    op.add_column("clients", sa.Column("drill_half_done", sa.Integer))
    op.execute("UPDATE clients SET drill_half_done = 1")
    time.sleep(1.5)  # the old version serves on meanwhile (the drill polls /health/)
    raise RuntimeError("drill: this migration fails halfway")


def downgrade():
    pass
'''


def redis_outage(instance, redis_server) -> None:
    browser = d.sign_in(instance.base, "admin")
    token = d.api_token(instance.base)
    api = d.Client()
    api.headers["Authorization"] = f"Bearer {token}"
    check(browser.get(instance.base + "/projects", timeout=10).status_code == 200, "the project list failed before")
    login_page = d.Client().get(instance.base + "/login", timeout=10).text
    static = next((p for p in _static_paths(login_page)), None)

    redis_server.stop(save=True)
    health = d.Client().get(instance.base + "/health/", timeout=10)
    flags = health.json().get("checks", {})
    check(
        health.status_code == 503 and flags.get("redis") is False and flags.get("database") is True,
        f"/health/ with Redis down answered {health.status_code} {flags}",
    )
    proved("Redis stopped: /health/ answers 503 with redis: false, database: true")
    answers = {}
    for label, client, path in (
        ("a signed-in page (/projects)", browser, "/projects"),
        ("a project page", browser, "/projects/1"),
        ("the sign-in page", d.Client(), "/login"),
    ):
        answer = client.get(instance.base + path, timeout=15, allow_redirects=False)
        check(d.no_stack_trace(answer.text), f"{label} shows a stack trace with Redis down")
        check(answer.status_code in (200, 503), f"{label} answered {answer.status_code} with Redis down")
        if answer.status_code == 503:
            check("temporarily unavailable" in answer.text, f"{label}'s 503 page does not say what happened")
            check(answer.headers.get("Retry-After"), f"{label}'s 503 has no Retry-After")
        answers[label] = answer.status_code
    answer = api.get(instance.base + "/api/projects/", timeout=15)
    check(
        answer.status_code == 503 and answer.json()["error"]["code"] == "SERVICE_UNAVAILABLE",
        f"the API answered {answer.status_code} {answer.text[:200]} with Redis down",
    )
    answers["the API (/api/projects/)"] = "503 SERVICE_UNAVAILABLE in its JSON envelope"
    if static:
        answer = d.Client().get(instance.base + static, timeout=10)
        check(answer.status_code == 200, f"a static file ({static}) answered {answer.status_code} with Redis down")
        answers[f"a static file ({static})"] = 200
    proved(
        "with Redis down, never a stack trace: "
        + ", ".join(
            f"{k} {v}" + (" (the plain 'temporarily unavailable' page)" if v == 503 else "") for k, v in answers.items()
        )
    )

    began = time.monotonic()
    redis_server.start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if d.Client().get(instance.base + "/health/", timeout=10).status_code == 200:
            break
        time.sleep(0.1)
    else:
        raise d.DrillFailed("/health/ did not recover within 30 s of Redis coming back")
    recovered = time.monotonic() - began
    page = browser.get(instance.base + "/projects", timeout=10, allow_redirects=False)
    check(page.status_code == 200, f"the signed-in page answered {page.status_code} after Redis came back")
    check(api.get(instance.base + "/api/projects/", timeout=10).status_code == 200, "the API did not recover")
    proved(
        f"Redis back (restarted from its dump): /health/ 200 within {recovered:.1f} s, the same session cookie "
        "signed in again, the API answers — no restart of the instance"
    )


def _static_paths(html: str):
    import re

    return re.findall(r'(?:src|href)="(/static/[^"]+)"', html)


def database_connections_lost(instance) -> None:
    url = instance.env["DATABASE_URL"]
    browser = d.sign_in(instance.base, "admin")
    token = d.api_token(instance.base)
    api = d.Client()
    api.headers["Authorization"] = f"Bearer {token}"
    for _ in range(6):  # both workers hold pooled connections
        browser.get(instance.base + "/projects", timeout=10)
        api.get(instance.base + "/api/projects/", timeout=10)
    name = url.rsplit("/", 1)[1]
    ended = d.sql(
        url,
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
        (name,),
    )[0][0]
    check(ended > 0, "no connection of the instance to terminate")
    statuses = []
    for _ in range(10):
        statuses.append(browser.get(instance.base + "/projects", timeout=10).status_code)
        statuses.append(api.get(instance.base + "/api/projects/", timeout=10).status_code)
    check(set(statuses) == {200}, f"after pg_terminate_backend the next requests answered {statuses}")
    proved(
        f"PostgreSQL ended the instance's {ended} connections: the next {len(statuses)} requests (pages and API) "
        "all answered 200 — dead pooled connections are replaced at checkout, no restart"
    )


def worker_killed_mid_job(redis_server) -> None:
    url = d.copy_database("jobs", redis_server.url)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "REDIS_URL", "APP_ENV"))}
    env.update(TEST_DATABASE_URL=url, TEST_REDIS_URL=redis_server.url.replace("/0", "/1"))
    test = "tests/test_invoice_delivery.py::test_a_worker_killed_in_the_middle_of_sending_leaves_exactly_one_email"
    try:
        done = subprocess.run(  # noqa: S603
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", test],
            cwd=d.ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
    finally:
        d.drop_database(url)
    if done.returncode:
        sys.stderr.write(done.stdout[-4000:] + done.stderr[-2000:])
        raise d.DrillFailed(f"the killed-worker scenario failed ({test})")
    check("1 passed" in done.stdout, f"the killed-worker scenario did not run: {done.stdout[-300:]}")
    proved(
        "an RQ worker and its work-horse SIGKILLed in the middle of an invoice's email job (the PDF stored, the "
        "delivery locked): the job is retried, the email sent exactly once, the delivery 'sent' once, a further run "
        "skipped; the invoice's one PDF is its primary key (invoice_pdfs.invoice_id) — "
        "tests/test_invoice_delivery.py on the drill's PostgreSQL and Redis"
    )


def schema(url: str) -> str:
    done = subprocess.run(  # noqa: S603
        ["pg_dump", "--schema-only", "--no-owner", "--no-privileges", d.libpq_url(url)],  # noqa: S607
        capture_output=True,
        text=True,
        check=True,
    )
    return _clean(done.stdout)


def _clean(dump: str) -> str:
    """pg_dump's \\restrict key is random per run (PostgreSQL 15.14+): not part of the schema."""
    return "\n".join(
        line for line in dump.splitlines() if not line.startswith(("-- Dumped", "\\restrict", "\\unrestrict"))
    )


ROUND_TRIP = """
import subprocess, sys
from flask_migrate import downgrade, upgrade
from app import create_app
from app.core.migrations import init_migrate

def schema(path):
    with open(path, "w") as out:
        subprocess.run(["pg_dump", "--schema-only", "--no-owner", "--no-privileges", sys.argv[1]], stdout=out, check=True)

app = create_app()
init_migrate(app)
with app.app_context():
    downgrade(revision="-1")
    schema(sys.argv[2] + "/previous-1.sql")
    upgrade()
    schema(sys.argv[2] + "/head-2.sql")
    downgrade(revision="-1")
    schema(sys.argv[2] + "/previous-2.sql")
    upgrade()
"""


def failed_migration(old) -> None:
    """On the faults instance's own database (a copy of the template) while it serves."""
    head = d.head_revision()
    env, url = old.env, old.env["DATABASE_URL"]
    work = Path(tempfile.mkdtemp(prefix="kibray-drill-migrations-"))
    try:
        shutil.copytree(d.ROOT / "migrations", work / "migrations", ignore=shutil.ignore_patterns("__pycache__"))
        (work / "migrations" / "versions" / "9999_drill_fails_halfway.py").write_text(
            FAILING_MIGRATION.format(head=head)
        )
        before = schema(url)
        polled: list[int] = []
        stop = threading.Event()

        def poll() -> None:
            client = d.Client()
            while not stop.is_set():
                try:
                    polled.append(client.get(old.base + "/health/", timeout=10).status_code)
                except Exception:  # noqa: BLE001 - any failure counts
                    polled.append(0)
                time.sleep(0.05)

        poller = threading.Thread(target=poll)
        poller.start()
        try:
            done = d.flask(["db", "upgrade", "-d", str(work / "migrations")], env, check_ok=False)
            time.sleep(0.3)
        finally:
            stop.set()
            poller.join(15)
        check(done.returncode != 0, "the failing migration's `flask db upgrade` exited 0")
        check("fails halfway" in done.stdout + done.stderr, "the upgrade failed, but not in the drill's migration")
        check(d.recorded_revision(url) == head, f"the database is at {d.recorded_revision(url)}, not {head}")
        check(schema(url) == before, "the schema changed after the failed upgrade")
        check(polled and set(polled) == {200}, f"the old version's /health/ answered {sorted(set(polled))}")
        proved(
            f"a migration failing halfway (after a CREATE TABLE, an ADD COLUMN and an UPDATE): `flask db upgrade` "
            f"exits {done.returncode}, the database is still at {head} with the schema unchanged (one transaction), "
            f"the old version answered /health/ 200 throughout ({len(polled)} probes) and after"
        )

        # downgrade -1, upgrade, downgrade -1, upgrade: in one process (one app start, not four)
        trip = subprocess.run(  # noqa: S603
            [sys.executable, "-c", ROUND_TRIP, d.libpq_url(url), str(work)],
            cwd=d.ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if trip.returncode:
            sys.stderr.write(trip.stderr[-3000:])
            raise d.DrillFailed("downgrade -1 / upgrade of the last migration failed")

        def read(name: str) -> str:
            return _clean((work / name).read_text())

        check(read("previous-1.sql") != before, "downgrading the last migration changed nothing")
        check(read("head-2.sql") == before, "downgrade + upgrade of the last migration does not give back its schema")
        check(read("previous-2.sql") == read("previous-1.sql"), "the second downgrade gave another schema")
        check(d.recorded_revision(url) == head, "the round trip did not end at the head")
        health = d.Client().get(old.base + "/health/", timeout=10).status_code
        check(health == 200, f"the instance's /health/ answered {health} after the round trip")
        proved(
            f"`flask db downgrade -1` of the last migration ({head}), upgrade, downgrade again, upgrade: "
            "pg_dump --schema-only identical at each revision both times"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    with d.services(s3=False) as (redis_server, _):
        url = d.copy_database("faults", redis_server.url)
        instance = d.Instance("faults", d.FIRST_PORT, d.app_env(url, redis_server.url))
        try:
            instance.start()
            proved(f"one instance of Procfile's web line (APP_ENV=production) on port {instance.port}")
            redis_outage(instance, redis_server)
            database_connections_lost(instance)
            failed_migration(instance)
        finally:
            instance.close()
            d.drop_database(url)
        worker_killed_mid_job(redis_server)


if __name__ == "__main__":
    d.run_drill("drill_faults", main)
