"""The calendar in the browser (issue 10): a PM drags an event to another day in the month
view and resizes one in the week view (both saved); dragging a block onto a time that
books the same person again shows the conflict badge on both clashing blocks; a second
browser watching the calendar sees a move live; a move based on a stale version (the
event changed through the API meanwhile) comes back 409 with the calendar redrawn and
the block where it is now; a finger drags a block at 375 px (real touch input through
the DevTools protocol: long press, then move). Screenshots at 375 and 1280 px go to
E2E_SHOTS (default: screenshots/).

Each test makes its own project and events through the JSON API (never the demo's
"Hughes interior repaint", whose board other browser tests read)."""

from __future__ import annotations

import os
import time as clock
import uuid
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests

from tests.e2e.helpers import (
    DEMO,
    E2E_DATABASE_URL,
    PASSWORD,
    PHONE,
    SCREENSHOTS,
    company_today,
    login,
    run_sql,
    wait_live,
)

pytestmark = pytest.mark.e2e

SHOTS = Path(os.environ.get("E2E_SHOTS") or SCREENSHOTS)  # E2E_SHOTS=/tmp/… to look at them elsewhere
WIDE = {"width": 1280, "height": 900}
LIVE_WAIT = 3_000  # ms: a live redraw takes ~100 ms; 3 s allows a loaded machine
ZONE = ZoneInfo(os.environ.get("COMPANY_TIMEZONE", "America/Denver"))


def _token(server, username):
    answer = requests.post(f"{server}/api/auth/login/", json={"username": username, "password": PASSWORD}, timeout=10)
    answer.raise_for_status()
    return {"Authorization": "Bearer " + answer.json()["data"]["access_token"]}


def _one(sql, *params):
    return run_sql(E2E_DATABASE_URL, sql, *params)[0][0]


def at(day: date, hour: int, minute: int = 0) -> str:
    """A company-local time as the API takes it (ISO 8601 with its offset)."""
    return datetime.combine(day, time(hour, minute), ZONE).isoformat()


def local_start(event: dict) -> datetime:
    return datetime.fromisoformat(event["start_datetime"]).astimezone(ZONE)


def local_end(event: dict) -> datetime:
    return datetime.fromisoformat(event["end_datetime"]).astimezone(ZONE)


class Job:
    """A project of the test's own, run by the demo PM, with the demo painter on its crew;
    events are made through the API as the PM."""

    def __init__(self, server):
        self.server = server
        self.today = company_today()
        self.admin = _token(server, "admin")
        self.pm = _token(server, "pm")
        self.painter = _one("SELECT id FROM users WHERE username = 'employee'")
        body = {
            "name": f"Calendar test {uuid.uuid4().hex[:6]}",
            "client_id": _one("SELECT id FROM clients ORDER BY id LIMIT 1"),
            "location": {"address": "4 Calendar Ct", "city": "Denver"},
            "start_date": str(self.today - timedelta(days=40)),
            "end_date": str(self.today + timedelta(days=60)),
            "assigned_pm_ids": [_one("SELECT id FROM users WHERE username = 'pm'")],
        }
        answer = requests.post(f"{server}/api/projects/", json=body, headers=self.admin, timeout=10)
        assert answer.status_code == 201, answer.text
        self.project = answer.json()["data"]["id"]

    def event(self, title, start, end, people=(), **fields) -> dict:
        body = {
            "title": title,
            "start_datetime": start,
            "end_datetime": end,
            "project_id": self.project,
            "event_type": "meeting",
            "assigned_to_ids": list(people),
            **fields,
        }
        answer = requests.post(f"{self.server}/api/calendar/events/", json=body, headers=self.pm, timeout=10)
        assert answer.status_code == 201, answer.text
        return answer.json()["data"]

    def get(self, event_id) -> dict:
        answer = requests.get(f"{self.server}/api/calendar/events/{event_id}/", headers=self.pm, timeout=10)
        assert answer.status_code == 200, answer.text
        return answer.json()["data"]

    def move(self, event_id, start, end) -> dict:
        answer = requests.patch(
            f"{self.server}/api/calendar/events/{event_id}/move/",
            json={"start_datetime": start, "end_datetime": end},
            headers=self.pm,
            timeout=10,
        )
        assert answer.status_code == 200, answer.text
        return answer.json()["data"]


@pytest.fixture()
def job(server):
    return Job(server)


def block(page, event_id):
    return page.locator(f"#calendar-body .cal-item[data-kind='event'][data-id='{event_id}']").first


def open_calendar(page, view, day: date, project: int):
    """The calendar filtered to the test's own project (other tests' events on the same
    days would push its blocks under "+N more")."""
    page.goto(f"/calendar/?view={view}&date={day.isoformat()}&project={project}")
    page.wait_for_selector("#calendar-body [data-move-url] .cal-item, #calendar-body [data-move-url]")
    wait_live(page)


def neighbour_day(day: date) -> date:
    """The day beside `day` in its week's row of the month grid (Monday first)."""
    return day + timedelta(days=1) if day.weekday() == 0 else day - timedelta(days=1)


def in_view(locator):
    locator.evaluate("e => e.scrollIntoView({block: 'center', inline: 'center'})")


def drag(page, source, x, y, steps=12, grip_top=False):
    """A mouse drag from the middle of `source` (or near its top edge) to (x, y), in steps
    (both in the viewport)."""
    box = source.bounding_box()
    sx, sy = box["x"] + min(box["width"] / 2, 30), box["y"] + (3 if grip_top else box["height"] / 2)
    page.mouse.move(sx, sy)
    page.mouse.down()
    for step in range(1, steps + 1):
        page.mouse.move(sx + (x - sx) * step / steps, sy + (y - sy) * step / steps)
        page.wait_for_timeout(15)
    page.mouse.up()


def centre(locator) -> tuple[float, float]:
    box = locator.bounding_box()
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def slot(page, day: date, hour: int, minute: int = 0):
    """The week view's half-hour slot starting at hour:minute of `day`."""
    stamp = datetime.combine(day, time(hour, minute), ZONE).isoformat()
    return page.locator(f"[data-datetime='{stamp}']")


def said(page, text):
    """The flash area (swapped after the response arrives) says `text`."""
    page.locator("[data-testid=move-result]").filter(has_text=text).wait_for()


def shoot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True)


# --- (a) month: drag an event to another day --------------------------------------------------


def test_an_event_dragged_to_another_day_in_the_month_view_is_saved(signed_in, job):
    today = job.today
    event = job.event(f"Colour walk {uuid.uuid4().hex[:4]}", at(today, 9), at(today, 10))
    pm = signed_in("project_manager_full", viewport=WIDE)
    open_calendar(pm, "month", today, job.project)
    target_day = neighbour_day(today)
    cell = pm.locator(f".cal-month [data-date='{target_day.isoformat()}']")
    source = block(pm, event["id"]).locator("summary")
    source.wait_for()
    in_view(source)
    shoot(pm, "calendar-month-1280.png")
    with pm.expect_response(lambda r: r.url.endswith("/calendar/move")) as answer:
        drag(pm, source, *centre(cell))
    assert answer.value.status == 200, answer.value.text()
    pm.wait_for_selector(f".cal-month [data-date='{target_day.isoformat()}'] .cal-item[data-id='{event['id']}']")
    said(pm, "Saved")
    saved = job.get(event["id"])
    assert local_start(saved) == datetime.combine(target_day, time(9), ZONE)
    assert local_end(saved) == datetime.combine(target_day, time(10), ZONE)
    shoot(pm, "calendar-month-after-drag-1280.png")


# --- (b) week: resize an event -----------------------------------------------------------------


def test_an_event_resized_in_the_week_view_gets_its_new_end(signed_in, job):
    today = job.today
    event = job.event(f"Estimate {uuid.uuid4().hex[:4]}", at(today, 10), at(today, 11))
    pm = signed_in("project_manager_full", viewport=WIDE)
    open_calendar(pm, "week", today, job.project)
    item = block(pm, event["id"])
    item.wait_for()
    handle = item.locator("[data-cal-resize]")
    handle.wait_for(state="attached")
    in_view(item)
    goal = slot(pm, today, 11, 30).bounding_box()  # the bottom of 11:30–12:00: the end snaps to 12:00
    with pm.expect_response(lambda r: r.url.endswith("/calendar/move")) as answer:
        box = handle.bounding_box()
        pm.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        pm.mouse.down()
        for step in range(1, 11):
            y = box["y"] + (goal["y"] + goal["height"] - 3 - box["y"]) * step / 10
            pm.mouse.move(box["x"] + box["width"] / 2, y)
            pm.wait_for_timeout(15)
        pm.mouse.up()
    assert answer.value.status == 200, answer.value.text()
    saved = job.get(event["id"])
    assert local_start(saved) == datetime.combine(today, time(10), ZONE)
    assert local_end(saved) == datetime.combine(today, time(12), ZONE)
    shoot(pm, "calendar-week-1280.png")


# --- (c) a double booking: the badge on both clashing blocks --------------------------------------


def test_dragging_onto_the_painters_other_booking_flags_both_blocks(signed_in, job):
    # three weeks out: the demo painter's own work (the demo job's tasks around the seed
    # day, all day) would otherwise already clash with both events before the drag
    today = job.today + timedelta(days=21)
    token = uuid.uuid4().hex[:4]
    first = job.event(f"Sand deck {token}", at(today, 14), at(today, 15), people=[job.painter])
    second = job.event(f"Stain rails {token}", at(today, 17), at(today, 18), people=[job.painter])
    pm = signed_in("project_manager_full", viewport=WIDE)
    open_calendar(pm, "week", today, job.project)
    for event in (first, second):
        assert block(pm, event["id"]).locator("[data-testid=risk-badge]").count() == 0
    target = slot(pm, today, 14, 30)
    in_view(target)
    with pm.expect_response(lambda r: r.url.endswith("/calendar/move")) as answer:
        # taken by its top edge (17:00) and put on the top of 14:30: it starts at 14:30
        x, _ = centre(target)
        box = target.bounding_box()
        drag(pm, block(pm, second["id"]).locator("summary"), x, box["y"] + 2, grip_top=True)
    assert answer.value.status == 200, answer.value.text()
    said(pm, "Saved, with conflicts")
    for event in (first, second):
        block(pm, event["id"]).locator("[data-testid=risk-badge]").wait_for()
    assert local_start(job.get(second["id"])) == datetime.combine(today, time(14, 30), ZONE)  # saved all the same
    shoot(pm, "calendar-conflict-1280.png")


# --- (d) a second browser sees the move live -------------------------------------------------------


def test_a_second_browser_sees_the_move_live(signed_in, job):
    today = job.today
    event = job.event(f"Gutter check {uuid.uuid4().hex[:4]}", at(today, 8), at(today, 9))
    watcher = signed_in("admin", viewport=WIDE)
    open_calendar(watcher, "month", today, job.project)
    block(watcher, event["id"]).wait_for()
    pm = signed_in("project_manager_full", viewport=WIDE)
    open_calendar(pm, "month", today, job.project)
    target_day = neighbour_day(today)
    in_view(block(pm, event["id"]))
    with pm.expect_response(lambda r: r.url.endswith("/calendar/move")) as answer:
        drag(
            pm,
            block(pm, event["id"]).locator("summary"),
            *centre(pm.locator(f".cal-month [data-date='{target_day.isoformat()}']")),
        )
    assert answer.value.status == 200, answer.value.text()
    since = clock.monotonic()
    watcher.wait_for_selector(
        f".cal-month [data-date='{target_day.isoformat()}'] .cal-item[data-id='{event['id']}']", timeout=LIVE_WAIT
    )
    print(f"the other browser showed the move after {(clock.monotonic() - since) * 1000:.0f} ms")


# --- (e) a stale move: 409, the calendar redrawn with the block where it is now ----------------------


def test_a_stale_move_comes_back_409_with_the_block_where_it_is_now(signed_in, job, problems):
    today = job.today
    event = job.event(f"Client visit {uuid.uuid4().hex[:4]}", at(today, 13), at(today, 14))
    problems.expect(409, "/calendar/move")  # the refusal is the point of the test
    pm = signed_in("project_manager_full", viewport=WIDE)
    open_calendar(pm, "week", today, job.project)
    source = block(pm, event["id"]).locator("summary")
    source.wait_for()
    in_view(source)
    target = slot(pm, today, 16)
    x, y = centre(target)
    box = source.bounding_box()
    sx, sy = box["x"] + box["width"] / 2, box["y"] + 4
    pm.mouse.move(sx, sy)
    pm.mouse.down()
    for step in range(1, 6):
        pm.mouse.move(sx + (x - sx) * step / 12, sy + (y - sy) * step / 12)
        pm.wait_for_timeout(15)
    # meanwhile, someone moves it through the API (the page's live redraw may come in mid-drag)
    job.move(event["id"], at(today, 7), at(today, 8))
    pm.wait_for_timeout(300)
    with pm.expect_response(lambda r: r.url.endswith("/calendar/move")) as answer:
        for step in range(6, 13):
            pm.mouse.move(sx + (x - sx) * step / 12, sy + (y - sy) * step / 12)
            pm.wait_for_timeout(15)
        pm.mouse.up()
    assert answer.value.status == 409, answer.value.text()
    said(pm, "changed meanwhile")
    moved = block(pm, event["id"])
    moved.wait_for()
    # drawn where it is now (7:00), not where it was dropped
    assert moved.get_attribute("data-start").startswith(f"{today.isoformat()}T07:00")
    saved = job.get(event["id"])
    assert local_start(saved) == datetime.combine(today, time(7), ZONE)


# --- the crew view: a drop on another person's row moves and reassigns --------------------------------


def test_a_block_dropped_on_another_persons_row_in_the_crew_view_is_theirs(signed_in, job):
    today = job.today
    pm_id = _one("SELECT id FROM users WHERE username = 'pm'")
    event = job.event(f"Caulk windows {uuid.uuid4().hex[:4]}", at(today, 9), at(today, 11), people=[job.painter])
    pm = signed_in("project_manager_full", viewport=WIDE)
    open_calendar(pm, "crew", today, job.project)
    source = pm.locator(f"td[data-user='{job.painter}'] .cal-item[data-id='{event['id']}'] summary")
    source.wait_for()
    in_view(source)
    target = pm.locator(f"td[data-user='{pm_id}'][data-date='{today.isoformat()}']")
    with pm.expect_response(lambda r: r.url.endswith("/calendar/move")) as answer:
        drag(pm, source, *centre(target))
    assert answer.value.status == 200, answer.value.text()
    said(pm, "and given to")
    pm.wait_for_selector(f"td[data-user='{pm_id}'] .cal-item[data-id='{event['id']}']")
    saved = job.get(event["id"])
    assert [person["id"] for person in saved["assigned_to"]] == [pm_id]
    assert local_start(saved) == datetime.combine(today, time(9), ZONE)  # the same day and time
    shoot(pm, "calendar-crew-1280.png")


# --- (f) a finger at 375 px ------------------------------------------------------------------------


@pytest.fixture()
def phone_page(browser, server, problems):
    """A phone: touch screen, mobile viewport (375 px), signed in as the PM."""
    context = browser.new_context(
        base_url=server, viewport=PHONE, has_touch=True, is_mobile=True, device_scale_factor=2
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    problems.watch(page, "pm-phone")
    login(page, DEMO["project_manager_full"])
    yield page
    problems.closing = True
    context.close()


def touch_drag(page, start, end, hold_ms=450, steps=12):
    """A real finger through the DevTools protocol (Chromium turns it into pointer events of
    type touch): press, hold (the long press that lifts a block), move, lift."""
    cdp = page.context.new_cdp_session(page)

    def touch(kind, x, y):
        points = [] if kind == "touchEnd" else [{"x": x, "y": y, "id": 1, "radiusX": 4, "radiusY": 4, "force": 1}]
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})

    (sx, sy), (ex, ey) = start, end
    touch("touchStart", sx, sy)
    page.wait_for_timeout(hold_ms)
    for step in range(1, steps + 1):
        touch("touchMove", sx + (ex - sx) * step / steps, sy + (ey - sy) * step / steps)
        page.wait_for_timeout(20)
    touch("touchEnd", ex, ey)
    cdp.detach()


def test_a_finger_drags_an_event_to_another_day_at_375_px(phone_page, job):
    page = phone_page
    today = job.today
    event = job.event(f"Touch-up {uuid.uuid4().hex[:4]}", at(today, 11), at(today, 12))
    open_calendar(page, "month", today, job.project)
    target_day = neighbour_day(today)
    source = block(page, event["id"]).locator("summary")
    source.wait_for()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # nothing scrolls sideways
    shoot(page, "calendar-month-375.png")
    cell = page.locator(f".cal-month [data-date='{target_day.isoformat()}']")
    in_view(source)
    box = source.bounding_box()
    with page.expect_response(lambda r: r.url.endswith("/calendar/move")) as answer:
        touch_drag(page, (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2), centre(cell))
    assert answer.value.status == 200, answer.value.text()
    page.wait_for_selector(f".cal-month [data-date='{target_day.isoformat()}'] .cal-item[data-id='{event['id']}']")
    assert local_start(job.get(event["id"])) == datetime.combine(target_day, time(11), ZONE)
    shoot(page, "calendar-month-after-touch-375.png")


def test_a_quick_swipe_over_a_block_scrolls_instead_of_dragging(phone_page, job):
    """No long press, no drag: a finger that moves at once is a scroll (or nothing), and
    nothing is posted."""
    page = phone_page
    today = job.today
    event = job.event(f"Swipe {uuid.uuid4().hex[:4]}", at(today, 15), at(today, 16))
    open_calendar(page, "month", today, job.project)
    source = block(page, event["id"]).locator("summary")
    source.wait_for()
    in_view(source)
    posted = []
    page.on("request", lambda r: posted.append(r.url) if r.url.endswith("/calendar/move") else None)
    box = source.bounding_box()
    touch_drag(page, (box["x"] + 5, box["y"] + box["height"] / 2), (box["x"] + 5, box["y"] + 150), hold_ms=0)
    page.wait_for_timeout(500)
    assert posted == []
    assert local_start(job.get(event["id"])) == datetime.combine(today, time(15), ZONE)


# --- the keyboard's way and the bulk bar, at 1280 px ----------------------------------------------------


def test_move_by_keyboard_and_bulk_move(signed_in, job):
    today = job.today
    token = uuid.uuid4().hex[:4]
    one = job.event(f"Order paint {token}", at(today, 7), at(today, 8))
    two = job.event(f"Pick up sprayer {token}", at(today, 8), at(today, 9))
    three = job.event(f"Old reminder {token}", at(today, 12), at(today, 13))
    pm = signed_in("project_manager_full", viewport=WIDE)
    open_calendar(pm, "week", today, job.project)
    # Move…: open the block, then its form, type a new time, save
    block(pm, one["id"]).locator("summary").click()
    opener = block(pm, one["id"]).locator("[data-testid=move-open]")
    opener.wait_for()
    opener.click()
    form = pm.locator("[data-testid=move-form]")
    form.wait_for()
    form.locator("input[name=start_time]").fill("09:30")
    form.locator("input[name=end_time]").fill("10:30")
    with pm.expect_response(lambda r: r.url.endswith("/calendar/move")) as answer:
        form.locator("[data-testid=move-save]").click()
    assert answer.value.status == 200, answer.value.text()
    assert local_start(job.get(one["id"])) == datetime.combine(today, time(9, 30), ZONE)
    # bulk: select both, move them a week later
    pm.locator("[data-testid=cal-select-toggle]").click()
    for event in (one, two):
        block(pm, event["id"]).locator("summary").click()
    assert "2 selected" in pm.locator("[data-cal-count]").inner_text()
    pm.locator("[data-testid=cal-bulk-days]").fill("7")
    shoot(pm, "calendar-bulk-1280.png")
    with pm.expect_response(lambda r: r.url.endswith("/calendar/bulk")) as answer:
        pm.locator("[data-testid=cal-bulk-apply]").click()
    assert answer.value.status == 200, answer.value.text()
    said(pm, "2 done.")
    assert local_start(job.get(two["id"])) == datetime.combine(today + timedelta(days=7), time(8), ZONE)
    # delete asks first, then the confirmed one goes
    pm.wait_for_function("() => document.querySelector('[data-cal-count]').textContent.startsWith('0 selected')")
    block(pm, three["id"]).locator("summary").click()
    pm.locator("[data-testid=cal-bulk-action]").select_option("delete")
    with pm.expect_response(lambda r: r.url.endswith("/calendar/bulk")) as answer:
        pm.locator("[data-testid=cal-bulk-apply]").click()
    assert answer.value.status == 200
    said(pm, "Delete 1 item? This cannot be undone.")
    assert job.get(three["id"])["title"].startswith("Old reminder")  # not yet
    with pm.expect_response(lambda r: r.url.endswith("/calendar/bulk")) as answer:
        pm.locator("[data-testid=bulk-confirm-delete]").click()
    assert answer.value.status == 200
    said(pm, "1 done.")
    gone = requests.get(f"{job.server}/api/calendar/events/{three['id']}/", headers=job.pm, timeout=10)
    assert gone.status_code == 404
    assert block(pm, three["id"]).count() == 0
