"""The Gantt in the browser (issue 10): a PM drags a task's bar two days later and the
move is saved and redrawn; the chart at 375 px and 1280 px. The test makes its own
project and dependent tasks through the JSON API (never the demo's "Hughes interior
repaint", whose board other tests read)."""

from __future__ import annotations

import os
import uuid
from datetime import date, timedelta
from pathlib import Path

import pytest
import requests

from tests.e2e.helpers import E2E_DATABASE_URL, PASSWORD, PHONE, SCREENSHOTS, company_today, run_sql

pytestmark = pytest.mark.e2e

SHOTS = Path(os.environ.get("E2E_SHOTS") or SCREENSHOTS)  # E2E_SHOTS=/tmp/… to look at them elsewhere


def _token(server, username):
    answer = requests.post(f"{server}/api/auth/login/", json={"username": username, "password": PASSWORD}, timeout=10)
    answer.raise_for_status()
    return {"Authorization": "Bearer " + answer.json()["data"]["access_token"]}


def _one(sql, *params):
    return run_sql(E2E_DATABASE_URL, sql, *params)[0][0]


@pytest.fixture()
def gantt_job(server):
    """A project of its own run by the demo PM, with Prep → (Walls, Trim) → Clean."""
    today = company_today()
    admin = _token(server, "admin")
    body = {
        "name": f"Gantt test {uuid.uuid4().hex[:6]}",
        "client_id": _one("SELECT id FROM clients ORDER BY id LIMIT 1"),
        "location": {"address": "12 Gantt Way", "city": "Denver"},
        "start_date": str(today),
        "end_date": str(today + timedelta(days=20)),
        "assigned_pm_ids": [_one("SELECT id FROM users WHERE username = 'pm'")],
    }
    answer = requests.post(f"{server}/api/projects/", json=body, headers=admin, timeout=10)
    assert answer.status_code == 201, answer.text
    project_id = answer.json()["data"]["id"]
    pm = _token(server, "pm")

    def task(title, start, days, needs=()):
        fields = {
            "project_id": project_id,
            "title": title,
            "start_date": str(today + timedelta(days=start)),
            "due_date": str(today + timedelta(days=start + days - 1)),
            "dependency_ids": list(needs),
        }
        made = requests.post(f"{server}/api/tasks/", json=fields, headers=pm, timeout=10)
        assert made.status_code == 201, made.text
        return made.json()["data"]["id"]

    prep = task("Prep rooms", 0, 2)
    walls = task("Paint walls", 2, 5, [prep])
    trim = task("Paint trim", 2, 2, [prep])
    clean = task("Final clean", 7, 1, [walls, trim])
    return {"project": project_id, "prep": prep, "walls": walls, "trim": trim, "clean": clean, "today": today}


def _drag(page, bar, dx, steps=10):
    box = bar.bounding_box()
    x, y = box["x"] + min(20, box["width"] / 2), box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    for step in range(1, steps + 1):
        page.mouse.move(x + dx * step / steps, y)
        page.wait_for_timeout(15)
    page.mouse.up()


def test_a_pm_drags_a_bar_two_days_and_it_stays(signed_in, gantt_job, server, problems):
    SHOTS.mkdir(parents=True, exist_ok=True)
    today = gantt_job["today"]
    page = signed_in("project_manager_full", viewport={"width": 1280, "height": 900})
    start = today - timedelta(days=2)
    page.goto(f"/projects/{gantt_job['project']}/gantt?scale=day&start={start}")
    trim = page.locator(f"[data-testid=bar-{gantt_job['trim']}]")
    assert trim.get_attribute("data-start") == str(today + timedelta(days=2))
    assert "is-critical" not in trim.get_attribute("class")
    assert "is-critical" in page.locator(f"[data-testid=bar-{gantt_job['walls']}]").get_attribute("class")
    page.screenshot(path=str(SHOTS / "gantt-1280.png"), full_page=True)

    px = int(page.locator("[data-gantt]").get_attribute("data-px"))
    _drag(page, trim.locator(".gantt-bar-bg"), 2 * px)
    moved = str(today + timedelta(days=4))
    page.wait_for_selector(f"[data-testid=bar-{gantt_job['trim']}][data-start='{moved}']")
    assert page.locator("[data-testid=gantt-message]").inner_text().startswith("Moved")
    saved = _one("SELECT start_date FROM tasks WHERE id = %s", gantt_job["trim"])
    assert saved == date.fromisoformat(moved)
    page.reload()  # persisted: the page drawn anew says the same
    assert page.locator(f"[data-testid=bar-{gantt_job['trim']}]").get_attribute("data-start") == moved
    page.screenshot(path=str(SHOTS / "gantt-1280-moved.png"), full_page=True)

    # someone else changes Paint walls: the open chart follows live. A page that has not
    # heard yet (its bar still carries the old version) drags it: refused (409), and the
    # chart shows the task as it is now, with the reason
    problems.expect(409, "/move")
    walls = page.locator(f"[data-testid=bar-{gantt_job['walls']}]")
    old_version = walls.get_attribute("data-version")
    changed = requests.patch(
        f"{server}/api/tasks/{gantt_job['walls']}/",
        json={"title": "Paint walls twice"},
        headers=_token(server, "admin"),
        timeout=10,
    )
    assert changed.status_code == 200, changed.text
    page.wait_for_selector(f"[data-testid=bar-{gantt_job['walls']}]:not([data-version='{old_version}'])")
    page.locator(f"[data-testid=bar-{gantt_job['walls']}]").evaluate(
        "(bar, version) => bar.setAttribute('data-version', version)", old_version
    )
    _drag(page, walls.locator(".gantt-bar-bg"), 2 * px)
    page.wait_for_selector("[data-testid=gantt-message]:has-text('meanwhile')")
    assert page.locator(f"[data-testid=bar-{gantt_job['walls']}]").get_attribute("data-version") != old_version
    assert page.locator(f"[data-testid=bar-{gantt_job['walls']}]").get_attribute("data-start") == str(
        today + timedelta(days=2)
    )
    assert "Paint walls twice" in page.locator("[data-testid=gantt]").inner_text()

    # the scale changes in place and the URL restores it
    page.click("[data-testid=scale-week]")
    page.wait_for_url("**scale=week**")
    assert page.locator("[data-testid=scale-week]").get_attribute("aria-current") == "page"


def test_the_chart_on_a_phone_drags_by_touch(signed_in, gantt_job):
    SHOTS.mkdir(parents=True, exist_ok=True)
    today = gantt_job["today"]
    page = signed_in("project_manager_full", viewport=PHONE)
    page.goto(f"/projects/{gantt_job['project']}/gantt?scale=day&start={today - timedelta(days=2)}")
    page.wait_for_selector("[data-testid=gantt-svg]")
    page.screenshot(path=str(SHOTS / "gantt-375.png"), full_page=True)
    bar = page.locator(f"[data-testid=bar-{gantt_job['clean']}] .gantt-bar-bg")
    bar.scroll_into_view_if_needed()
    box = bar.bounding_box()
    px = int(page.locator("[data-gantt]").get_attribute("data-px"))
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    # a finger: pointer events of type touch, as a phone sends them
    page.evaluate(
        """([x, y, dx]) => {
            const target = document.elementFromPoint(x, y);
            const fire = (type, cx, el) => (el || target).dispatchEvent(new PointerEvent(type, {
                bubbles: true, cancelable: true, pointerId: 7, pointerType: 'touch', isPrimary: true,
                clientX: cx, clientY: y, button: 0, buttons: 1 }));
            fire('pointerdown', x);
            for (let i = 1; i <= 5; i++) { fire('pointermove', x + dx * i / 5, document); }
            fire('pointerup', x + dx, document);
        }""",
        [x, y, 2 * px],
    )
    moved = str(today + timedelta(days=9))
    page.wait_for_selector(f"[data-testid=bar-{gantt_job['clean']}][data-start='{moved}']")
    assert _one("SELECT start_date FROM tasks WHERE id = %s", gantt_job["clean"]) == date.fromisoformat(moved)
    page.screenshot(path=str(SHOTS / "gantt-375-moved.png"), full_page=True)


def test_the_company_timeline_shows_the_project(signed_in, gantt_job):
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in (1280, 375):
        page = signed_in("admin", viewport={"width": width, "height": 900})
        page.goto("/calendar/gantt")
        bar = page.locator(f"[data-testid=project-bar-{gantt_job['project']}]")
        assert bar.count() == 1
        page.screenshot(path=str(SHOTS / f"timeline-{width}.png"), full_page=True)
        page.click("[data-testid=scale-month]")
        page.wait_for_url("**scale=month**")
        assert page.locator(f"[data-testid=project-bar-{gantt_job['project']}]").count() == 1
