"""`make bench-reports`: the owner's reports over the bench database (issue 13).

On the bench database at scale 100 (2,000 projects, 10,000 invoices, 100,000 invoice lines
from scripts/bench_money_seed.py) this adds, once, in bulk SQL (INSERT … SELECT over
generate_series; no ORM, no audit rows): 50,000 expenses (a tenth of them reimbursement
claims in every state), a cost rate for every field person, and about 20,000 approved
timesheet weeks. Then, through a real gunicorn (the production config), it times as the
admin (every project) and as the demo PM (their projects):

- the company profitability page (and its chart, the monthly trend, which the page loads
  in its own request), the WIP page and the AR aging page, and their JSON
  (/api/financials/profitability/, /wip/, /ar-aging/): p50/p95 ms over --runs requests,
  from the report cache and computed afresh (another day asked each time);
- the QuickBooks CSV of a year of each kind and the profitability CSV, in-process:
  time, rows, bytes and peak Python memory (tracemalloc), and the process's peak RSS.

    .venv/bin/python scripts/bench_reports.py [--runs 40]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parent.parent)]

import bench_common as bc  # noqa: E402

EXPENSES = 50_000
APPROVALS = 20_000

SEED = """
INSERT INTO cost_rates (user_id, hourly_cost, effective_from, created_at)
SELECT u.id, 28 + (u.id %% 17), DATE '2020-01-06', now() FROM users u
WHERE u.role IN ('employee', 'superintendent', 'designer', 'pm_trainee')
  AND NOT EXISTS (SELECT 1 FROM cost_rates c WHERE c.user_id = u.id);

WITH p AS (SELECT array_agg(id ORDER BY id) AS ids FROM projects),
     e AS (SELECT array_agg(id ORDER BY id) AS ids FROM users WHERE role IN ('employee', 'superintendent')),
     g AS (SELECT n, random() AS r1, random() AS r2, random() AS r3 FROM generate_series(1, %(n)s) n)
INSERT INTO expenses (project_id, category, amount, description, vendor, expense_date, receipt_name,
    receipt_content_type, paid_by_employee_id, reimbursement_status, reimbursement_method, reimbursement_date,
    reimbursement_reference, rejection_reason, version, created_at, updated_at)
SELECT p.ids[1 + (g.n * 7919) %% array_length(p.ids, 1)],
       (ARRAY['MATERIALS','MATERIALS','MATERIALS','LABOR','EQUIPMENT','TOOLS','SUBCONTRACTOR','SUBCONTRACTOR',
              'PERMITS','INSURANCE','OVERHEAD'])[1 + (g.n %% 11)],
       round((20 + g.r1 * 2400)::numeric, 2),
       'Bench expense ' || g.n, (ARRAY['Sherwin-Williams','Home Depot','Sunbelt Rentals','City permits',
              'Benjamin Moore'])[1 + (g.n %% 5)],
       current_date - (g.r2 * 730)::int, '', '',
       CASE WHEN g.n %% 10 = 0 THEN e.ids[1 + g.n %% array_length(e.ids, 1)] END,
       CASE WHEN g.n %% 10 = 0 THEN (ARRAY['submitted','under_review','approved','paid','rejected'])[1 + (g.n / 10) %% 5] END,
       CASE WHEN g.n %% 10 = 0 AND (g.n / 10) %% 5 = 3 THEN 'direct' END,
       CASE WHEN g.n %% 10 = 0 AND (g.n / 10) %% 5 = 3 THEN current_date - (g.r3 * 30)::int END,
       '', '', 1, now(), now()
FROM g, p, e;

WITH p AS (SELECT array_agg(id ORDER BY id) AS ids FROM projects),
     e AS (SELECT array_agg(id ORDER BY id) AS ids FROM users WHERE role IN ('employee', 'superintendent')),
     g AS (SELECT n FROM generate_series(1, %(a)s) n)
INSERT INTO timesheet_approvals (user_id, project_id, week_start, hours, approved_at)
SELECT e.ids[1 + g.n %% array_length(e.ids, 1)], p.ids[1 + (g.n * 104729) %% array_length(p.ids, 1)],
       (date_trunc('week', current_date) - ((g.n %% 104) * 7) * interval '1 day')::date,
       round((4 + (g.n %% 37))::numeric, 2), now()
FROM g, p, e
ON CONFLICT DO NOTHING;
ANALYZE expenses; ANALYZE timesheet_approvals; ANALYZE cost_rates;
"""


def seed_reports() -> dict:
    from scripts import pgtools

    with pgtools.connect(bc.DATABASE_URL, autocommit=True) as c:
        have = c.execute("SELECT count(*) FROM expenses").fetchone()[0]
        if have >= EXPENSES:
            return {"expenses": have}
        started = time.perf_counter()
        c.execute(SEED % {"n": EXPENSES - have, "a": APPROVALS})
        counts = {
            t: c.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # noqa: S608 - our table names
            for t in ("projects", "invoices", "invoice_lines", "expenses", "timesheet_approvals", "cost_rates")
        }
        return counts | {"reports_seed_s": round(time.perf_counter() - started, 2)}


def cold(session, url: str, param: str, runs: int, headers=None) -> dict:
    """The report computed afresh: each request asks for another day (`param`), a key
    the report cache has not seen (random days, so a second run does not find them)."""
    import random
    from datetime import date, timedelta

    days = random.sample(range(700), runs)  # noqa: S311 - not security
    times = []
    for n in days:
        day = (date(2025, 1, 1) + timedelta(days=n)).isoformat()
        started = time.perf_counter()
        response = session.get(f"{url}{'&' if '?' in url else '?'}{param}={day}", headers=headers or {}, timeout=60)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return bc.summary(times)


def timed(session, url: str, runs: int, headers=None) -> dict:
    for _ in range(3):  # warm-up
        response = session.get(url, headers=headers or {}, timeout=60)
        response.raise_for_status()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        response = session.get(url, headers=headers or {}, timeout=60)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return bc.summary(times) | {"bytes": len(response.content)}


CSV_JOB = r"""
import json, resource, sys, time, tracemalloc
from datetime import timedelta
from sqlalchemy import select
from workers.base import job_app

app = job_app()
from app.auth.models import User
from app.extensions import db
from app.reports import export, report_csv, services
from app.reports.filters import Filters

out = {}
with app.app_context(), app.test_request_context("/"):
    admin = db.session.scalar(select(User).where(User.username == "admin"))
    end = services.today()
    start = end - timedelta(days=364)
    jobs = [(f"quickbooks_{k}", lambda k=k: export.csv_lines(admin, export.parse(k, start, end, True)))
            for k in ("invoices", "payments", "expenses")]
    jobs.append(("profitability_csv", lambda: report_csv.profitability(admin, Filters(date_from=start, date_to=end))))
    for name, make in jobs:
        started = time.perf_counter()  # timed without tracing (tracemalloc slows Python 2-3x)
        rows = size = 0
        for line in make():
            rows += 1
            size += len(line)
        seconds = time.perf_counter() - started
        db.session.rollback()
        tracemalloc.start()
        for line in make():
            pass
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        out[name] = {"rows": rows - 1, "bytes": size, "seconds": round(seconds, 3), "peak_python_mb": round(peak / 2**20, 2)}
        db.session.rollback()
    out["max_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
print(json.dumps(out))
"""


def csv_export() -> dict:
    env = bc.app_env()
    result = subprocess.run(  # noqa: S603
        [str(bc.BIN / "python"), "-c", CSV_JOB], cwd=bc.ROOT, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode:
        raise SystemExit(result.stderr[-3000:])
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    if not bc.database_seeded():
        bc.prepare_database()
    else:
        bc.seed_money()
    seeded = seed_reports()
    print("seed:", seeded)
    results = {"machine": bc.machine(), "seed": seeded, "pages": {}}
    with bc.Gunicorn(1, "bench-reports") as server:
        base = server.base
        for who in ("admin", "pm"):
            session = bc.sign_in(base, who)
            token = {"Authorization": "Bearer " + bc.api_token(base, who)}
            for label, url, headers, param in (
                ("profitability page", "/reports/profitability", None, "date_to"),
                ("profitability chart", "/reports/profitability/trend", None, "date_to"),
                ("WIP page", "/reports/wip", None, "as_of"),
                ("AR aging page", "/reports/ar-aging", None, "as_of"),
                ("profitability API", "/api/financials/profitability/", token, "date_to"),
                ("WIP API", "/api/financials/wip/", token, "as_of"),
                ("AR aging API", "/api/financials/ar-aging/", token, "as_of"),
            ):
                row = timed(session, base + url, args.runs, headers)
                row["cold"] = fresh = cold(session, base + url, param, max(args.runs // 4, 5), headers)
                results["pages"][f"{who}: {label}"] = row
                print(f"{who:>5}  {label:<20} p50 {row['p50_ms']:7.1f} ms  p95 {row['p95_ms']:7.1f} ms  "
                      f"{row['bytes'] / 1024:7.1f} KB   computed afresh: p50 {fresh['p50_ms']:7.1f} ms  "
                      f"p95 {fresh['p95_ms']:7.1f} ms")  # fmt: skip
    results["csv"] = csv_export()
    for name, row in results["csv"].items():
        print(name, row)
    bc.RESULTS.mkdir(exist_ok=True)
    (bc.RESULTS / "bench-reports.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
