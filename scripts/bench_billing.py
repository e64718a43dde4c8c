"""`make bench-billing`: a project's progress billing pages with 60 schedule-of-values
lines and 24 certified pay applications (issue 13; target p95 < 30 ms).

On the bench database (seeded as scripts/bench.py does when it is not there):

1. **Seed** (once; kept, found again by its name). The demo PM's project "Bench progress
   billing (60 lines)" gets a schedule of 60 lines summing to its contract value, retainage
   10 % stepping down to 5 % at 50 % complete, 24 pay applications made and certified
   through the real services (`create_pay_application`, `certify`: PA numbers, frozen
   G702/G703 figures, a draft invoice each for the payment due; 2–4 % of each line a
   month, materials stored on every fourth line), then a 25th left as a draft.
2. **SQL statements** per answer, counted in-process (the Flask test client, the second
   request of each target).
3. **Timing.** A real gunicorn (gevent workers, `gunicorn.conf.py`, as `make bench`),
   the PM signed in through the login form (the API with their bearer token); after a
   warm-up, --requests sequential requests a target in --rounds interleaved rounds:
   p50/p95 as this client sees them and as the app reports its own time
   (`Server-Timing: app;dur=`, without HTTP and this client).

Targets: the project's own page (a reference, not judged: the same rounds on the same busy
machine), the billing page, the latest certified application's page (G702 and G703 as
certified), the draft's page (figures computed from the 24 before it), the draft's edit
form, the form's live totals fragment, and `GET /api/financials/pay-applications/{id}/`.

    .venv/bin/python scripts/bench_billing.py [--requests 200] [--rounds 10] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parent.parent)]

import bench_common as bc  # noqa: E402

TARGET_P95_MS = 30.0
WARMUP = 10
SERVER_TIMING = re.compile(r"(?:^|,)\s*app;dur=([0-9.]+)")

JOB = r"""
import json, sys, time
from datetime import date
from decimal import Decimal

from sqlalchemy import event, func, select, text

from workers.base import job_app

NAME = "Bench progress billing (60 lines)"
LINES, APPLICATIONS = 60, 24
app = job_app()
from app.auth.models import User
from app.clients.models import Client
from app.core.audit import acting_as
from app.core.money import round_money
from app.extensions import db
from app.progress_billing import schedule, services
from app.progress_billing.models import CERTIFIED, PayApplication
from app.projects.models import Project
from app.projects.services import create_project

out = {}


def headers_for(path, token):
    if path.startswith("/api/"):
        return {"Authorization": f"Bearer {token}"}
    if "/totals?" in path:  # as htmx asks for the form's figures: the fragment only
        return {"HX-Request": "true", "HX-Target": "pay-totals"}
    return {}


with app.app_context():
    pm = db.session.scalar(select(User).where(User.username == "pm"))
    project = db.session.scalar(select(Project).where(Project.name == NAME))
    done = project is not None and db.session.scalar(
        select(func.count()).select_from(PayApplication)
        .where(PayApplication.project_id == project.id, PayApplication.status == CERTIFIED)) == APPLICATIONS
    if not done:
        started = time.perf_counter()
        if project is not None:  # an interrupted seed: start again
            db.session.execute(text("DELETE FROM invoices WHERE project_id = :p"), {"p": project.id})
            db.session.execute(text("DELETE FROM projects WHERE id = :p"), {"p": project.id})
            db.session.commit()
        client = db.session.scalar(select(Client).order_by(Client.id).limit(1))
        with acting_as("bench", "system"):
            project = create_project(pm, {"name": NAME, "client_id": client.id, "address": "1 Bench Way",
                                          "status": "active"}, [pm.id])
            values = [Decimal(2500 + 137 * (i % 23)) + Decimal(i % 7) / 4 for i in range(LINES)]
            project.contract_value = sum(values, Decimal(0))
            db.session.flush()
            rows = [{"description": f"Scope {i + 1}: {('walls', 'trim', 'doors', 'ceilings', 'exterior')[i % 5]}, "
                                    f"level {i // 5 + 1}", "scheduled_value": str(v)} for i, v in enumerate(values)]
            lines = schedule.save_schedule(pm, project, rows, version=0)
            schedule.save_terms(pm, project, {"retainage_pct": "10", "step_down_at_pct": "50", "step_down_pct": "5"},
                                version=schedule.schedule_version(project.id))
            for n in range(APPLICATIONS + 1):
                entries = []
                for i, line in enumerate(lines):
                    entry = {"sov_line_id": line.id,
                             "this_period": str(round_money(line.scheduled_value * (2 + (i + n) % 3) / 100))}
                    if i % 4 == 0:
                        entry["materials_stored"] = str(round_money(line.scheduled_value * (n % 3) / 100))
                    entries.append(entry)
                year, month = divmod(n, 12)
                period = date(2024 + year, month + 1, 28)
                pay = services.create_pay_application(pm, project, {"period_to": period}, entries)
                if n < APPLICATIONS:
                    services.certify(pm, pay)
            db.session.commit()
        out["seed_s"] = round(time.perf_counter() - started, 2)
    apps = db.session.execute(
        select(PayApplication.id, PayApplication.status, PayApplication.application_no)
        .where(PayApplication.project_id == project.id).order_by(PayApplication.application_no)
    ).all()
    certified = [a.id for a in apps if a.status == CERTIFIED]
    draft = next(a.id for a in apps if a.status != CERTIFIED)
    lines = schedule.lines_of(project.id)
    out.update(project_id=project.id, latest=certified[-1], draft=draft, certified=len(certified),
               lines=len(lines), sov_line=lines[7].id)
    latest = db.session.get(PayApplication, certified[-1])
    out["latest_g702"] = {"completed": str(latest.g702_total_completed_and_stored),
                          "retainage": str(latest.g702_retainage), "due": str(latest.g702_current_payment_due)}

    paths = json.loads(sys.argv[1].replace("{project}", str(project.id)).replace("{latest}", str(certified[-1]))
                       .replace("{draft}", str(draft)).replace("{sovline}", str(lines[7].id)))
    engine = db.engine

# SQL statements per answer, in-process (the second request of each target). Outside the
# seed's app context: each request gets its own (and its own session), as in the server.
counted = {"n": 0}
event.listen(engine, "before_cursor_execute", lambda *a: counted.__setitem__("n", counted["n"] + 1))
import re

client = app.test_client()
form = client.get("/login").get_data(as_text=True)
csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form).group(1)
signed = client.post("/login", data={"username": "pm", "password": sys.argv[2], "csrf_token": csrf})
login = client.post("/api/auth/login/", json={"username": "pm", "password": sys.argv[2]})
if signed.status_code != 302 or login.status_code != 200:
    raise SystemExit(f"in-process sign-in failed: {signed.status_code} {login.status_code} {login.get_data()[:300]}")
token = login.json["data"]["access_token"]
statements = {}
for name, path in paths.items():
    headers = headers_for(path, token)
    statuses = []
    for _ in range(2):
        counted["n"] = 0
        statuses.append(client.get(path, headers=headers).status_code)
    statements[name] = {"sql": counted["n"], "status": statuses[-1]}
out["statements"] = statements
out["paths"] = paths
print(json.dumps(out, default=str))
"""

REFERENCE = "reference: the project's own page"
TARGETS = {
    REFERENCE: "/projects/{project}",  # not judged: how busy the machine was, in the same rounds
    "billing page": "/projects/{project}/billing",
    "pay application, certified no. 24": "/pay-applications/{latest}",
    "pay application, draft no. 25": "/pay-applications/{draft}",
    "pay application form, draft no. 25": "/pay-applications/{draft}/edit",
    "form's live totals (htmx fragment)": "/projects/{project}/pay-applications/totals?pay_application_id={draft}"
    "&line_sov_line_id={sovline}&line_this_period=100.00",
    "API detail, certified no. 24": "/api/financials/pay-applications/{latest}/",
}


def server_ms(response) -> float | None:
    found = SERVER_TIMING.search(response.headers.get("Server-Timing", ""))
    return float(found.group(1)) if found else None


def seed_and_count() -> dict:
    answer = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", JOB, json.dumps(TARGETS), bc.PASSWORD],
        env=bc.app_env(),
        cwd=bc.ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if answer.returncode:
        sys.stderr.write(answer.stdout[-4000:] + answer.stderr[-6000:])
        raise SystemExit("the billing seed failed")
    return json.loads(answer.stdout.strip().splitlines()[-1])


def headers_for(path: str, api: dict) -> dict:
    """The API's bearer token; the form's live totals asked for as htmx does (the fragment)."""
    if path.startswith("/api/"):
        return api
    if "/totals?" in path:
        return {"HX-Request": "true", "HX-Target": "pay-totals"}
    return {}


def timed(base: str, session, headers: dict, paths: dict, n: int, rounds: int) -> dict:
    found = {name: {"elapsed": [], "server": [], "statuses": {}} for name in paths}
    for path in paths.values():  # warm-up
        for _ in range(WARMUP):
            session.get(base + path, headers=headers_for(path, headers), timeout=10)
    per_round = [n // rounds + (1 if r < n % rounds else 0) for r in range(rounds)]
    for count in per_round:
        for name, path in paths.items():
            for _ in range(count):
                started = time.perf_counter()
                response = session.get(base + path, headers=headers_for(path, headers), timeout=10,
                                       allow_redirects=False)  # fmt: skip
                _ = response.content
                found[name]["elapsed"].append((time.perf_counter() - started) * 1000)
                found[name]["statuses"][response.status_code] = found[name]["statuses"].get(response.status_code, 0) + 1
                own = server_ms(response)
                if own is not None:
                    found[name]["server"].append(own)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="timed requests per target")
    parser.add_argument("--rounds", type=int, default=10, help="interleaved rounds the requests are split over")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    args = parser.parse_args()
    if not bc.database_seeded():
        print("Seeding the bench database first …")
        bc.prepare_database()
    else:
        bc.run([str(bc.BIN / "flask"), "db", "upgrade"], bc.app_env())
    seeded = seed_and_count()
    if "seed_s" in seeded:
        print(f"Seeded {seeded['lines']} schedule lines and {seeded['certified']} certified pay applications"
              f" (and a draft) through the services in {seeded['seed_s']} s")  # fmt: skip
    bad = {name: s for name, s in seeded["statements"].items() if s["status"] != 200}
    if bad:
        raise SystemExit(f"not every target answers 200 in-process: {bad}")
    paths = seeded["paths"]
    load_before = bc.load_average()
    with bc.Gunicorn(args.workers, "bench-billing") as server:
        session = bc.sign_in(server.base, "pm")
        headers = {"Authorization": "Bearer " + bc.api_token(server.base, "pm")}
        found = timed(server.base, session, headers, paths, args.requests, args.rounds)
    results = {}
    for name, data in found.items():
        row = bc.summary(data["elapsed"])
        if data["server"]:
            row["server_p50_ms"] = round(bc.percentile(data["server"], 50), 2)
            row["server_p95_ms"] = round(bc.percentile(data["server"], 95), 2)
        row["statuses"] = data["statuses"]
        row["sql"] = seeded["statements"][name]["sql"]
        row["met"] = None if name == REFERENCE else row["p95_ms"] < TARGET_P95_MS
        results[name] = row
    print(
        f"{args.requests} sequential requests a target in {args.rounds} interleaved rounds, {args.workers} gevent"
        f" workers; project {seeded['project_id']}: {seeded['lines']} lines, {seeded['certified']} certified"
    )
    print(f"{'target':40} {'p50':>7} {'p95':>7} {'max':>7} {'app p50':>8} {'app p95':>8} {'SQL':>4}  p95 < 30 ms")
    for name, row in results.items():
        print(
            f"{name:40} {row['p50_ms']:7.2f} {row['p95_ms']:7.2f} {row['max_ms']:7.2f}"
            f" {row.get('server_p50_ms') or 0:8.2f} {row.get('server_p95_ms') or 0:8.2f} {row['sql']:4d}"
            f"  {'' if row['met'] is None else 'met' if row['met'] else 'NOT MET'}"
        )
    result = {
        "targets": results,
        "requests": args.requests,
        "rounds": args.rounds,
        "workers": args.workers,
        "project": {k: seeded[k] for k in ("project_id", "lines", "certified", "latest_g702")},
        "seed_s": seeded.get("seed_s"),
        "load_average": [load_before, bc.load_average()],
        "machine": bc.machine(),
    }
    path = bc.write_results("bench-billing", result)
    print(f"(load average {result['load_average']}; results in {path.relative_to(bc.ROOT)})")
    statuses_ok = all(set(row["statuses"]) == {200} for row in results.values())
    if not statuses_ok:
        print("FAIL: not every answer was 200")
        return 1
    return 0


if __name__ == "__main__":
    os.chdir(bc.ROOT)
    sys.exit(main())
