"""`make bench-moves`: moving an event or a task with its conflict check (issue 10).

Against the real stack (gunicorn with gevent workers, the bench database at its
scale: 20,000 events, 50,000 tasks): the demo PM moves events of their projects one
day later and back through `PATCH /api/calendar/events/{id}/move/`, and dated tasks
one day later and back through `PATCH /api/tasks/{id}/` — each a write whose flush
recomputes the conflicts of everyone it touches, and a commit. Reports p50/p95 per
kind against the target (p95 < 50 ms).

    .venv/bin/python scripts/bench_moves.py [--moves 200]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import datetime, timedelta

import bench_common as bc

TARGET_P95_MS = 50.0


def _pm_items(limit: int) -> tuple[list[int], list[int]]:
    with bc._db_connection() as c:
        pm = c.execute("SELECT id FROM users WHERE username = 'pm'").fetchone()[0]
        events = [
            row[0]
            for row in c.execute(
                "SELECT e.id FROM calendar_events e JOIN project_memberships m ON m.project_id = e.project_id "
                "JOIN projects p ON p.id = e.project_id "
                "WHERE m.user_id = %s AND p.status = 'active' AND e.rrule IS NULL AND e.series_id IS NULL AND e.status = 'scheduled' "
                "AND EXISTS (SELECT 1 FROM calendar_event_assignees a WHERE a.event_id = e.id) "
                "ORDER BY abs(extract(epoch FROM e.start_at - now())) LIMIT %s",
                (pm, limit),
            )
        ]
        tasks = [
            row[0]
            for row in c.execute(
                "SELECT t.id FROM tasks t JOIN project_memberships m ON m.project_id = t.project_id "
                "JOIN projects p ON p.id = t.project_id "
                "WHERE m.user_id = %s AND p.status = 'active' AND t.status IN ('pending', 'in_progress') "
                "AND t.start_date IS NOT NULL AND t.due_date IS NOT NULL "
                "AND EXISTS (SELECT 1 FROM task_assignees a WHERE a.task_id = t.id) "
                "ORDER BY abs(t.start_date - current_date), t.id LIMIT %s",
                (pm, limit),
            )
        ]
    return events, tasks


def _move_event(session, base: str, event_id: int, days: int) -> float:
    event = session.get(f"{base}/api/calendar/events/{event_id}/", timeout=30).json()["data"]
    start = datetime.fromisoformat(event["start_datetime"]) + timedelta(days=days)
    end = datetime.fromisoformat(event["end_datetime"]) + timedelta(days=days)
    body = {"start_datetime": start.isoformat(), "end_datetime": end.isoformat(), "version": event["version"]}
    started = time.perf_counter()
    answer = session.patch(f"{base}/api/calendar/events/{event_id}/move/", json=body, timeout=30)
    elapsed = (time.perf_counter() - started) * 1000
    if answer.status_code != 200:
        raise SystemExit(f"event move failed: HTTP {answer.status_code} {answer.text[:300]}")
    return elapsed


def _move_task(session, base: str, task_id: int, days: int) -> float:
    from datetime import date

    task = session.get(f"{base}/api/tasks/{task_id}/", timeout=30).json()["data"]
    body = {
        "start_date": (date.fromisoformat(task["start_date"]) + timedelta(days=days)).isoformat(),
        "due_date": (date.fromisoformat(task["due_date"]) + timedelta(days=days)).isoformat(),
        "version": task["version"],
    }
    started = time.perf_counter()
    answer = session.patch(f"{base}/api/tasks/{task_id}/", json=body, timeout=30)
    elapsed = (time.perf_counter() - started) * 1000
    if answer.status_code != 200:
        raise SystemExit(f"task move failed: HTTP {answer.status_code} {answer.text[:300]}")
    return elapsed


def main() -> int:
    import requests

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=200, help="moves of each kind (half there, half back)")
    args = parser.parse_args()
    if not bc.database_seeded():
        print("Seeding the bench database first …")
        bc.prepare_database()
    else:
        bc.run([str(bc.BIN / "flask"), "db", "upgrade"], bc.app_env())
    events, tasks = _pm_items(args.moves // 2)
    if not events or not tasks:
        raise SystemExit("the bench database has no events or tasks of the demo PM: reseed it")
    timings: dict[str, list[float]] = {"event move": [], "task move": []}
    with bc.Gunicorn(2, "bench-moves") as server:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {bc.api_token(server.base, 'pm')}"
        _move_event(session, server.base, events[0], 0)  # warm: the first request's imports
        for days in (1, -1):
            for event_id in events:
                timings["event move"].append(_move_event(session, server.base, event_id, days))
            for task_id in tasks:
                timings["task move"].append(_move_task(session, server.base, task_id, days))
    result = {
        kind: {**bc.summary(values), "target_p95_ms": TARGET_P95_MS, "met": bc.percentile(values, 95) < TARGET_P95_MS}
        for kind, values in timings.items()
    }
    result["machine"] = bc.machine()
    print(json.dumps(result, indent=2))
    bc.write_results("bench-moves", result)
    return 0


if __name__ == "__main__":
    os.chdir(bc.ROOT)
    sys.exit(main())
