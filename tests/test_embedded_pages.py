"""`make run` is the embedded app (SQLite, an in-process Redis stand-in): every page a
role reaches from the navigation must work there too, not only on PostgreSQL. A SQL
function or clause PostgreSQL has and SQLite lacks (timezone(), LATERAL, …) answers 503
on that page alone, which no PostgreSQL test sees. This runs the app as `make run` does
(a fresh SQLite file, `flask db upgrade`, the demo seed) in a subprocess, signs in as
each demo role and opens every page of its navigation."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = r"""
import json, sys
from app import create_app
from app.core.features import nav_entries
from app.core.permissions import can
from app.extensions import db
from flask import url_for
from flask_migrate import upgrade
from app.core.migrations import init_migrate

app = create_app({"WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False}, env_name="development")
init_migrate(app)
results = {}
EXTRA = ["/timesheets/review", "/tasks", "/projects/1", "/projects/1/tasks", "/projects/1/board", "/calendar/",
         "/calendar/?view=week", "/calendar/?view=day", "/calendar/?view=crew", "/calendar/conflicts",
         "/projects/1/gantt", "/calendar/gantt", "/api/calendar/events/", "/api/calendar/conflicts/"]
with app.app_context():
    upgrade()
    from app.seed import seed_demo
    from app.core.audit import acting_as
    with acting_as("seed-demo", "system"):
        seed_demo("Kibray!2026")
    db.session.commit()
    from app.auth.models import User
    users = {u.username: u for u in db.session.query(User).all()}
    pages = []
    with app.test_request_context():
        for entry in nav_entries(app):
            if entry.endpoint:
                pages.append((entry.permission, url_for(entry.endpoint)))
for username in ("admin", "pm", "trainee", "designer", "super", "employee", "client"):
    web = app.test_client()
    answer = web.post("/login", data={"username": username, "password": "Kibray!2026"})
    assert answer.status_code in (200, 302, 303), (username, answer.status_code)
    with app.app_context():
        user = db.session.get(User, users[username].id)
        wanted = ["/"] + [url for permission, url in pages if permission is None or can(user, permission)]
        wanted += EXTRA  # pages reached from others (their refusals are fine: never a 5xx)
    for url in dict.fromkeys(wanted):
        status = web.get(url).status_code
        results[f"{username} {url}"] = status
# a move recomputes conflicts through the engine's SQLite statements (not PostgreSQL's)
web = app.test_client()
token = web.post("/api/auth/login/", json={"username": "pm", "password": "Kibray!2026"}).get_json()["data"]["access_token"]
with app.app_context():
    from app.calendar.models import CalendarEvent
    from datetime import UTC, timedelta
    from sqlalchemy import select
    event = db.session.scalars(
        select(CalendarEvent).where(CalendarEvent.rrule.is_(None), CalendarEvent.assignments.any()).order_by(CalendarEvent.id)
    ).first()
    start, end = (t.replace(tzinfo=t.tzinfo or UTC) + timedelta(days=1) for t in (event.start_at, event.end_at))
    body = {"start_datetime": start.isoformat(), "end_datetime": end.isoformat(), "version": event.version}
    event_id = event.id
answer = web.patch(f"/api/calendar/events/{event_id}/move/", json=body, headers={"Authorization": f"Bearer {token}"})
results["pm move"] = answer.status_code
# a subscription feed on SQLite (its crew names are group_concat there, string_agg on PostgreSQL)
url = web.get("/api/calendar/feed/", headers={"Authorization": f"Bearer {token}"}).get_json()["data"]["url"]
feed = web.get(url.replace("http://localhost", ""))
results["pm feed"] = feed.status_code if b"BEGIN:VEVENT" in feed.data else -1
if answer.status_code != 200:
    print(answer.get_data(as_text=True)[:500], file=sys.stderr)
print(json.dumps(results))
"""


def test_every_page_of_every_role_works_on_the_embedded_database(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "APP_ENV")}
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'embedded.db'}",
        MEDIA_ROOT=str(tmp_path / "media"),
        FLASK_APP="wsgi",
        PYTHONDONTWRITEBYTECODE="1",
    )
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    statuses = json.loads(done.stdout.strip().splitlines()[-1])
    assert len(statuses) > 20
    assert statuses["pm move"] == 200
    assert statuses["pm feed"] == 200
    broken = {page: status for page, status in statuses.items() if status >= 500}
    assert broken == {}, f"pages failing on SQLite: {broken}"
