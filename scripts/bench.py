"""`make bench`: seed --scale data into PostgreSQL and time the main pages and endpoints.

Creates (drops and re-creates) the `kibray_bench` database (BENCH_DATABASE_URL) and
uses Redis db 8 (BENCH_REDIS_URL), runs the migrations and `flask seed-demo --scale
100` (2,000+ projects, 300+ users, 200+ clients), starts gunicorn (2 gevent workers)
on a free port, signs in as the demo `admin` and `pm`, warms up, then times at least
200 sequential requests per target and prints p50/p95/max against the 30 ms target.
Also counts the SQL statements each page issues for a 1-row and a 25-row page, and
times `/health/` during a burst of --burst simultaneous sign-ins on ONE gevent worker
hashing at production cost (argon2-cffi's defaults, not the test settings' cheap ones).
Results go to bench-results/bench-<time>.json (gitignored).

    .venv/bin/python scripts/bench.py [--requests 200] [--reuse] [--burst 50] [--burst-only]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parent.parent)]

import bench_common as bc  # noqa: E402

TARGET_P95_MS = 30.0
BURST_TARGET_P95_MS = 50.0  # /health/ during a sign-in burst (issue 6)
WARMUP = 30


def _ids(sql: str, *params) -> list[int]:
    with bc._db_connection() as c:
        return [row[0] for row in c.execute(sql, params).fetchall()]


def targets(base: str) -> list[tuple[str, object, str, dict]]:
    """(name, session, path, headers) for every timed request."""
    admin = bc.sign_in(base, "admin")
    pm = bc.sign_in(base, "pm")
    anonymous = __import__("requests").Session()
    api = __import__("requests").Session()
    api.headers["Authorization"] = "Bearer " + bc.api_token(base, "admin")
    pm_api = __import__("requests").Session()
    pm_api.headers["Authorization"] = "Bearer " + bc.api_token(base, "pm")
    pm_id = _ids("SELECT id FROM users WHERE username = 'pm'")[0]
    # A bulk PM with many projects, for the PM filter.
    busy_pm = _ids(
        "SELECT m.user_id FROM project_memberships m JOIN users u ON u.id = m.user_id "
        "WHERE u.role = 'project_manager_full' GROUP BY m.user_id ORDER BY count(*) DESC LIMIT 1"
    )[0]
    admin_details = _ids("SELECT id FROM projects ORDER BY id LIMIT 50")
    pm_details = _ids(
        "SELECT project_id FROM project_memberships WHERE user_id = %s ORDER BY project_id LIMIT 50", pm_id
    )
    fragment = {"HX-Request": "true", "HX-Target": "project-results", "HX-Current-URL": base + "/projects"}
    return [
        ("login page (anonymous)", anonymous, "/login", {}),
        ("project list, first page (admin)", admin, "/projects", {}),
        ("project list, first page (pm)", pm, "/projects", {}),
        ("project list, search 'cedar' (admin)", admin, "/projects?q=cedar", {}),
        ("project list, search 'cedar' fragment (admin)", admin, "/projects?q=cedar", fragment),
        (f"project list, filter status+PM {busy_pm} (admin)", admin, f"/projects?status=active&pm={busy_pm}", {}),
        (
            "project list, archive page 3 sorted by client (admin)",
            admin,
            "/projects?status=closed&sort=client&page=3",
            {},
        ),
        ("project list, fragment page 2 (pm)", pm, "/projects?page=2", fragment),
        ("project detail (admin)", admin, [f"/projects/{i}" for i in admin_details], {}),
        ("project detail (pm)", pm, [f"/projects/{i}" for i in pm_details], {}),
        ("/api/projects/ list (admin)", api, "/api/projects/", {}),
        ("/api/projects/ list, search+status (pm)", pm_api, "/api/projects/?search=oak&status=active&page_size=25", {}),
        ("/health/", anonymous, "/health/", {}),
    ]


def time_target(base: str, session, path, headers: dict, n: int) -> tuple[list[float], dict]:
    paths = path if isinstance(path, list) else [path]
    statuses: dict[int, int] = {}
    for i in range(WARMUP):
        session.get(base + paths[i % len(paths)], headers=headers, timeout=10, allow_redirects=False)
    elapsed = []
    for i in range(n):
        url = base + paths[i % len(paths)]
        started = time.perf_counter()
        response = session.get(url, headers=headers, timeout=10, allow_redirects=False)
        _ = response.content
        elapsed.append((time.perf_counter() - started) * 1000)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
    return elapsed, statuses


def hashing_burst(burst: int, config: str) -> list[dict]:
    """`/health/` on one gevent worker hashing at production cost: idle, then during
    `burst` simultaneous sign-ins (wrong passwords for distinct unknown names, each a full
    argon2 check; the per-address allowance raised since they all come from 127.0.0.1)."""
    from argon2 import DEFAULT_MEMORY_COST, DEFAULT_TIME_COST

    rows = []
    with bc.Gunicorn(
        1,
        "bench-hash-gunicorn",
        config=config,
        PASSWORD_HASH_TIME_COST=str(DEFAULT_TIME_COST),
        PASSWORD_HASH_MEMORY_COST=str(DEFAULT_MEMORY_COST),
        LOGIN_MAX_FAILURES_IP="1000000",
        REDIS_KEY_PREFIX=f"{bc.KEY_PREFIX}-hash",
    ) as server:
        print(f"gunicorn: 1 gevent worker, production-cost hashing, on {server.base}: /health/ during {burst} sign-ins")
        import requests

        session = requests.Session()
        elapsed, statuses = time_target(server.base, session, "/health/", {}, 200)
        idle = bc.summary(elapsed)
        idle.update(name="/health/, 1 worker, idle", statuses=statuses, ok=idle["p95_ms"] < BURST_TARGET_P95_MS)
        idle.update(worker_cpu_ms=0.0, target_ms=BURST_TARGET_P95_MS)
        rows.append(idle)
        found = bc.sign_in_burst(server.base, burst)
        found.update(
            name=f"/health/, 1 worker, during {burst} sign-ins",
            ok=found["p95_ms"] < BURST_TARGET_P95_MS and set(found["sign_in_statuses"]) == {401},
            worker_cpu_ms=0.0,
            target_ms=BURST_TARGET_P95_MS,
        )
        rows.append(found)
    return rows


def query_counts() -> list[dict]:
    """SQL statements per page, in-process on the bench database: 1-row vs full pages."""
    import os

    from sqlalchemy import event, select

    os.environ.update(bc.app_env())
    from app import create_app
    from app.auth.models import User
    from app.extensions import db
    from app.projects.models import Project, ProjectMembership

    app = create_app(env_name="test")
    rows = []
    with app.app_context():
        admin = db.session.scalar(select(User).where(User.username == "admin"))
        pm = db.session.scalar(select(User).where(User.username == "pm"))
        one_name = db.session.scalar(
            select(Project.name).where(Project.status != "closed").order_by(Project.id).limit(1)
        )
        pm_one = db.session.scalar(
            select(Project.name)
            .join(ProjectMembership, ProjectMembership.project_id == Project.id)
            .where(ProjectMembership.user_id == pm.id, Project.status != "closed")
            .order_by(Project.id)
            .limit(1)
        )
        counts = (
            select(ProjectMembership.project_id, db.func.count().label("n"))
            .group_by(ProjectMembership.project_id)
            .subquery()
        )
        few = db.session.scalar(select(counts.c.project_id).order_by(counts.c.n.asc(), counts.c.project_id).limit(1))
        many = db.session.scalar(select(counts.c.project_id).order_by(counts.c.n.desc(), counts.c.project_id).limit(1))
        members = dict(db.session.execute(select(counts.c.project_id, counts.c.n)).all())
        sessions = {u.username: u.get_id() for u in (admin, pm)}
        tokens = {}
        from app.auth.tokens import issue_pair

        for user in (admin, pm):
            tokens[user.username] = issue_pair(user)["access_token"]
        db.session.commit()
        engine = db.engine

    fragment = {"HX-Request": "true", "HX-Target": "project-results"}
    cases = [
        ("project list (HTML)", "admin", f"/projects?q={one_name}", "/projects", {}, False),
        ("project list (fragment)", "admin", f"/projects?q={one_name}", "/projects", fragment, False),
        ("project list (HTML, pm)", "pm", f"/projects?q={pm_one}", "/projects", {}, False),
        ("/api/projects/", "admin", "/api/projects/?page_size=1", "/api/projects/?page_size=25", {}, True),
        ("project list (fragment, pm)", "pm", f"/projects?q={pm_one}", "/projects", fragment, False),
        ("/api/projects/ (pm)", "pm", "/api/projects/?page_size=1", "/api/projects/?page_size=25", {}, True),
        (
            f"project detail ({members.get(few)} vs {members.get(many)} members)",
            "admin",
            f"/projects/{few}",
            f"/projects/{many}",
            {},
            False,
        ),
    ]
    client = app.test_client()
    for label, who, small, large, headers, is_api in cases:
        found = []
        for path in (small, large):
            statements: list[str] = []

            def _count(conn, cursor, statement, parameters, context, executemany, statements=statements):
                statements.append(statement)

            with client.session_transaction() as session:
                session["_user_id"] = sessions[who]
                session["_fresh"] = True
            request_headers = dict(headers)
            if is_api:
                request_headers["Authorization"] = "Bearer " + tokens[who]
            event.listen(engine, "before_cursor_execute", _count)
            try:
                response = client.get(path, headers=request_headers)
            finally:
                event.remove(engine, "before_cursor_execute", _count)
            shown = (
                members.get(int(path.rsplit("/", 1)[-1]), 0)
                if label.startswith("project detail")
                else _rows_shown(response, is_api)
            )
            found.append(
                {
                    "path": path,
                    "status": response.status_code,
                    "rows": shown,
                    "queries": len(statements),
                    "statements": statements,
                }
            )
        rows.append(
            {"page": label, "small": found[0], "large": found[1], "grows": found[1]["queries"] > found[0]["queries"]}
        )
    return rows


def _rows_shown(response, is_api: bool) -> int:
    if is_api:
        return len((response.get_json() or {}).get("data", {}).get("results", []))
    return response.get_data(as_text=True).count('id="project-row-')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="timed requests per target (at least 200)")
    parser.add_argument("--reuse", action="store_true", help="reuse an already seeded bench database")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--quiet", type=float, default=0, help="first wait until the load average is under this")
    parser.add_argument("--quiet-timeout", type=float, default=600)
    parser.add_argument("--burst", type=int, default=50, help="simultaneous sign-ins of the hashing burst (0: skip)")
    parser.add_argument("--burst-only", action="store_true", help="only the sign-in burst (with --reuse: quick)")
    parser.add_argument(
        "--gc-freeze", action="store_true", help="experiment: gunicorn.conf.py plus a post_worker_init gc.freeze() hook"
    )
    args = parser.parse_args()
    n = max(args.requests, 200)

    if args.reuse and bc.database_seeded():
        seeding = {"reused": True, "rows": bc.table_counts()}
    else:
        print(f"Seeding {bc.DATABASE_URL.rsplit('/', 1)[-1]} with flask seed-demo --scale {bc.SCALE} …")
        seeding = bc.prepare_database()
    print("Rows:", ", ".join(f"{v} {k}" for k, v in seeding["rows"].items()))

    if args.quiet:
        print(f"Waiting (up to {args.quiet_timeout:g} s) for the 1-minute load average to drop under {args.quiet} …")
        bc.wait_for_quiet(args.quiet, args.quiet_timeout)
    load_before = bc.load_average()
    if load_before > 1.0:
        print(f"WARNING: load average {load_before} before the run: other work on this machine inflates the figures")

    results = []
    config = bc.gc_freeze_config() if args.gc_freeze else "gunicorn.conf.py"
    with bc.Gunicorn(args.workers, "bench-gunicorn", config=config) as server:
        print(
            f"gunicorn: {args.workers} gevent workers on {server.base}; {n} sequential requests per target (after {WARMUP} warm-up)\n"
        )
        workers = server.worker_pids()
        for name, session, path, headers in [] if args.burst_only else targets(server.base):
            cpu_before = sum(bc.cpu_seconds(pid) for pid in workers)
            elapsed, statuses = time_target(server.base, session, path, headers, n)
            cpu = sum(bc.cpu_seconds(pid) for pid in workers) - cpu_before
            stats = bc.summary(elapsed)
            # Server CPU per request (warm-up included): a figure other load barely moves.
            stats.update(name=name, statuses=statuses, ok=stats["p95_ms"] < TARGET_P95_MS)
            stats["worker_cpu_ms"] = round(cpu * 1000 / (n + WARMUP), 2)
            results.append(stats)
    if args.burst:
        results.extend(hashing_burst(args.burst, config))
    load_after = bc.load_average()

    width = max(len(r["name"]) for r in results)
    print(
        f"{'target':<{width}} | {'n':>4} | {'p50 ms':>7} | {'p95 ms':>7} | {'max ms':>7} | {'cpu ms':>6} | status codes | p95 target"
    )
    print("-" * (width + 71))
    for r in results:
        codes = ",".join(f"{code}×{count}" for code, count in sorted(r["statuses"].items()))
        print(
            f"{r['name']:<{width}} | {r['n']:>4} | {r['p50_ms']:>7.1f} | {r['p95_ms']:>7.1f} | {r['max_ms']:>7.1f} | {r['worker_cpu_ms']:>6.1f} | {codes:<12} | {'pass' if r['ok'] else 'FAIL'} < {r.get('target_ms', TARGET_P95_MS):g} ms"
        )

    print(f"(cpu ms = gunicorn worker CPU per request; load average {load_before} before, {load_after} after)")
    for r in results:
        if "burst_s" in r:
            print(
                f"({r['name']}: the {r['burst']} sign-ins took {r['burst_s']:.1f} s, answered "
                + ",".join(f"{code}×{count}" for code, count in sorted(r["sign_in_statuses"].items()))
                + ")"
            )
    print("\nSQL statements per request (in-process, same data): a small page vs a full page")
    counts = [] if args.burst_only else query_counts()
    for c in counts:
        s, big = c["small"], c["large"]
        print(
            f"  {c['page']:<40} {s['rows']:>3} rows → {s['queries']:>2} queries | {big['rows']:>3} rows → {big['queries']:>2} queries | {'GROWS' if c['grows'] else 'constant'}"
        )

    bad_status = [r["name"] for r in results if set(r["statuses"]) - {200}]
    failed = [r["name"] for r in results if not r["ok"]]
    growing = [c["page"] for c in counts if c["grows"]]
    path = bc.write_results(
        "bench",
        {
            "seeding": seeding,
            "workers": args.workers,
            "gunicorn_config": config,
            "requests": n,
            "load_average": [load_before, load_after],
            "targets": results,
            "query_counts": counts,
        },
    )
    print(f"\nResults written to {path.relative_to(bc.ROOT)}")
    if failed or growing or bad_status:
        print(
            "FAIL: "
            + "; ".join(
                filter(
                    None,
                    [
                        f"p95 over target: {', '.join(failed)}" if failed else "",
                        f"query count grows: {', '.join(growing)}" if growing else "",
                        f"non-200 answers: {', '.join(bad_status)}" if bad_status else "",
                    ],
                )
            )
        )
        return 1
    print(
        f"PASS: every p95 under {TARGET_P95_MS:g} ms (/health/ during the sign-in burst under"
        f" {BURST_TARGET_P95_MS:g} ms), every answer 200, query counts constant"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
