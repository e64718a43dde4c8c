"""`make bench-caldav`: two-way CalDAV sync against a real server (issue 11).

Radicale (scripts/radicale_server.py) on 127.0.0.1, the bench database at its scale:
the demo PM connects a new calendar, and the script times, in the worker's own code
path (app/calendar_sync/sync.run, one transaction each, committed as the job does):

- the full first sync — every item the PM may see (~2,500 at the bench volume), one PUT
  each;
- an incremental sync after one event moved in Kibray;
- an incremental sync after one event moved in the calendar app (it comes back in
  through the services);
- a run with nothing changed.

Each with its wall time and the number of HTTP requests it made. The account, what the
runs changed in Kibray, and Radicale's folder are removed afterwards.

    .venv/bin/python scripts/bench_caldav.py [--runs 1]

Radicale's filesystem storage costs more per PUT the fuller the collection (it is the
test server, not a production one): most of a first sync's time is its; the report
splits the time into the server's (waiting for answers) and Kibray's.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

import bench_common as bc

sys.path.insert(0, str(bc.ROOT))

from scripts.radicale_server import account_on, running  # noqa: E402


def _app():
    env = bc.app_env(CALDAV_ALLOW_PRIVATE_HOSTS="1")
    os.environ.update(env)
    from app import create_app

    return create_app(env_name="test")


def _timed(step, db, client) -> tuple[float, float, object]:
    """(wall seconds, seconds waiting for the server, the run's result)."""
    started, waited = time.perf_counter(), client.waited
    result = step()
    db.session.commit()
    return time.perf_counter() - started, client.waited - waited, result


def bench(runs: int) -> dict:
    import caldav
    from icalendar import Calendar
    from sqlalchemy import select

    from app.auth.models import User
    from app.calendar import services as calendar
    from app.calendar.models import CalendarEvent, EventAssignee
    from app.calendar_sync import sync
    from app.calendar_sync.caldav_client import Client
    from app.calendar_sync.models import CalendarAccount
    from app.core.audit import acting_as
    from app.extensions import db

    app = _app()
    figures: dict[str, list] = {"first": [], "kibray_change": [], "calendar_change": [], "unchanged": []}
    with tempfile.TemporaryDirectory() as folder, running(Path(folder)) as server, app.app_context():
        phone = caldav.DAVClient(url=server.url, username=server.username, password=server.password)
        pm = db.session.scalars(select(User).where(User.username == "pm")).one()
        for _ in range(runs):
            remote = phone.principal().make_calendar(name=f"Bench {uuid.uuid4().hex[:6]}")
            account = account_on(pm, server, remote)
            db.session.commit()
            moved: list[tuple[int, object, object]] = []
            client = Client(server.url, server.username, server.password)

            def once(a=account, c=client):
                return sync.run(a, client=c, checkpoint=db.session.commit)

            try:
                seconds, waited, result = _timed(once, db, client)
                figures["first"].append((seconds, waited, result.requests, result.pushed.created))

                event = db.session.scalars(
                    select(CalendarEvent)
                    .join(EventAssignee, EventAssignee.event_id == CalendarEvent.id)
                    .where(
                        EventAssignee.user_id == pm.id, CalendarEvent.rrule.is_(None), CalendarEvent.series_id.is_(None)
                    )
                    .order_by(CalendarEvent.start_at.desc())
                    .limit(1)
                ).one()
                moved.append((event.id, event.start_at, event.end_at))
                with acting_as(pm.username, pm.role, pm.id):
                    calendar.move_event(
                        pm, event, event.start_at + timedelta(hours=1), event.end_at + timedelta(hours=1)
                    )
                db.session.commit()
                seconds, waited, result = _timed(once, db, client)
                figures["kibray_change"].append((seconds, waited, result.requests, result.pushed.updated))

                item = next(i for i in remote.events() if f"UID:event-{event.id}@" in i.data)
                cal = Calendar.from_ical(item.data)
                (vevent,) = cal.walk("VEVENT")
                start, end = vevent.decoded("DTSTART"), vevent.decoded("DTEND")
                for key, value in (("DTSTART", start + timedelta(hours=1)), ("DTEND", end + timedelta(hours=1))):
                    del vevent[key]
                    vevent.add(key, value)
                item.data = cal.to_ical().decode()
                item.save()
                seconds, waited, result = _timed(once, db, client)
                figures["calendar_change"].append((seconds, waited, result.requests, result.pulled.applied))

                seconds, waited, result = _timed(once, db, client)
                figures["unchanged"].append((seconds, waited, result.requests, result.pushed.unchanged))
            finally:
                for event_id, start_at, end_at in moved:  # put the bench data back
                    event = db.session.get(CalendarEvent, event_id)
                    event.start_at, event.end_at = start_at, end_at
                db.session.delete(db.session.get(CalendarAccount, account.id))
                db.session.commit()
                remote.delete()
    return figures


LABELS = {
    "first": "full first sync",
    "kibray_change": "after one change in Kibray",
    "calendar_change": "after one change in the calendar",
    "unchanged": "nothing changed",
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1, help="first syncs (each to a new calendar)")
    args = parser.parse_args()
    if not bc.database_seeded():
        print("seeding the bench database first…", flush=True)
        bc.prepare_database()
    figures = bench(args.runs)
    report = {}
    print(f"\nCalDAV sync to Radicale, the demo PM's calendar ({args.runs} run(s); median)")
    print("(server: the time spent waiting for Radicale's answers; Kibray: the rest of the run)")
    print(f"{'run':<36}{'seconds':>10}{'server':>10}{'Kibray':>10}{'requests':>10}{'items':>8}")
    for key, rows in figures.items():
        rows = sorted(rows)
        seconds, waited, requests, items = rows[len(rows) // 2]
        report[key] = {
            "seconds": round(seconds, 3),
            "server_seconds": round(waited, 3),
            "kibray_seconds": round(seconds - waited, 3),
            "requests": requests,
            "items": items,
            "all_seconds": [round(r[0], 3) for r in rows],
        }
        print(f"{LABELS[key]:<36}{seconds:>10.3f}{waited:>10.3f}{seconds - waited:>10.3f}{requests:>10}{items:>8}")
    out = bc.ROOT / "instance" / "bench-caldav.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(f"\n(written to {out.relative_to(bc.ROOT)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
