"""Tasks in the browser (issue 8): a painter at 375 px starts, reports progress on and
finishes a task while the PM's open board moves the card live; a card dragged to "In
progress" while its dependency is unfinished goes back with the reason; a bulk reassign
of three tasks; the PM's filtered task list follows two quick changes, the second
arriving while the refresh for the first is still on its way; past 50 people the list's
Assignee filter and bulk "Person" are search-as-you-type pickers. Tasks are made through
the JSON API, as an integration would."""

import re
import time
import uuid
from datetime import timedelta

import pytest
import requests
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.e2e.helpers import DESKTOP, E2E_DATABASE_URL, PASSWORD, PHONE, company_today, run_sql, wait_live

pytestmark = pytest.mark.e2e

LIVE_WAIT = 3_000  # ms: live moves measure ~10–50 ms; 3 s allows a loaded CI machine


def _token(server, username):
    answer = requests.post(f"{server}/api/auth/login/", json={"username": username, "password": PASSWORD}, timeout=10)
    answer.raise_for_status()
    return {"Authorization": "Bearer " + answer.json()["data"]["access_token"]}


def _user_id(username):
    return run_sql(E2E_DATABASE_URL, "SELECT id FROM users WHERE username = %s", username)[0][0]


def _project_id(name="Hughes interior repaint"):
    return run_sql(E2E_DATABASE_URL, "SELECT id FROM projects WHERE name = %s", name)[0][0]


def make_task(server, title, people=(), needs=(), **fields):
    body = {"project_id": _project_id(), "title": title, "assigned_to_ids": list(people), "dependency_ids": list(needs)}
    answer = requests.post(f"{server}/api/tasks/", json={**body, **fields}, headers=_token(server, "pm"), timeout=10)
    assert answer.status_code == 201, answer.text
    return answer.json()["data"]["id"]


def column_of(page, task_id):
    return page.locator(f"[data-board] [data-task-id='{task_id}']").evaluate("e => e.parentElement.dataset.status")


def drag(page, source, target):
    """Press, move in steps (SortableJS's fallback follows the pointer), release. The
    window is made as tall as the page first: a long column (other tests' cards on the
    same job) puts the card below the fold, and a mouse outside the viewport drags
    nothing. The card is dropped at its own height in the target column when the column
    reaches there."""
    width = page.viewport_size["width"]
    height = page.evaluate("() => document.documentElement.scrollHeight")
    page.set_viewport_size({"width": width, "height": max(page.viewport_size["height"], height + 40)})
    page.evaluate("() => window.scrollTo(0, 0)")
    box, goal = source.bounding_box(), target.bounding_box()
    x0, y0 = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    x1 = goal["x"] + goal["width"] / 2
    y1 = min(max(y0, goal["y"] + 40), goal["y"] + goal["height"] - 20)
    page.mouse.move(x0, y0)
    page.mouse.down()
    for step in range(1, 16):
        page.mouse.move(x0 + (x1 - x0) * step / 15, y0 + (y1 - y0) * step / 15)
        page.wait_for_timeout(20)
    page.mouse.up()


def test_a_painter_works_a_task_on_the_phone_while_the_pms_board_follows(signed_in, server, screenshots_dir):
    token = uuid.uuid4().hex[:5]
    today = company_today()
    task_id = make_task(
        server,
        f"Stain porch {token}",
        people=[_user_id("employee")],
        start_date=str(today),
        due_date=str(today + timedelta(days=1)),
        checklist=[{"item": "Sand rails", "checked": False}],
    )
    pm = signed_in("project_manager_full", viewport=DESKTOP)
    pm.goto(f"/projects/{_project_id()}/board")
    pm.wait_for_selector(f"[data-board] [data-task-id='{task_id}']")
    wait_live(pm)  # the board's own stream is open before anything changes
    assert column_of(pm, task_id) == "pending"

    painter = signed_in("employee", viewport=PHONE)
    painter.goto("/tasks/my-day")
    card = painter.locator(f"#task-card-{task_id}")
    card.wait_for()
    card.locator("[data-testid=start-task]").click()
    painter.wait_for_selector("[data-testid=day-notice]:has-text('Started')")
    since = time.monotonic()
    # (About one run in six this used to time out: live events were sent when attempt()'s
    # savepoint was released, before the request committed, so the board sometimes read
    # the old state — core/transaction.py now waits for the real commit.)
    pm.wait_for_function(
        f"() => (document.querySelector(\"[data-board] [data-task-id='{task_id}']\") || {{}}).parentElement?.dataset.status === 'in_progress'",
        timeout=LIVE_WAIT,
    )
    print(f"the board moved the card: {(time.monotonic() - since) * 1000:.0f} ms")

    card = painter.locator(f"#task-card-{task_id}")
    card.locator("[data-testid=progress-input]").fill("60")
    card.locator("[data-testid=hours-input]").fill("2.5")
    card.locator("[data-testid=save-progress]").click()
    painter.wait_for_selector(f"#task-card-{task_id} [data-testid=task-progress]:has-text('60%')")
    card = painter.locator(f"#task-card-{task_id}")
    with painter.expect_response(lambda r: "/checklist/" in r.url) as ticked:
        card.locator("[data-testid=check-item]").click()
    assert ticked.value.status == 200, ticked.value.text()
    painter.wait_for_selector(f"#task-card-{task_id} [data-testid=check-item][aria-pressed=true]")
    painter.screenshot(path=str(screenshots_dir / "tasks-my-day-phone.png"), full_page=True)
    card = painter.locator(f"#task-card-{task_id}")
    card.locator("[data-testid=open-complete]").click()
    card.locator("textarea[name=completion_notes]").fill("Two coats, rails sanded")
    card.locator("[data-testid=complete-task]").click()
    painter.wait_for_selector(f"#task-card-{task_id} [data-testid=task-status]:has-text('Done')")
    since = time.monotonic()
    pm.wait_for_function(
        f"() => (document.querySelector(\"[data-board] [data-task-id='{task_id}']\") || {{}}).parentElement?.dataset.status === 'completed'",
        timeout=LIVE_WAIT,
    )
    print(f"the board showed it done: {(time.monotonic() - since) * 1000:.0f} ms")
    # at 375 px nothing scrolls sideways and the buttons are thumb-sized
    assert painter.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    start_height = painter.locator("[data-testid=save-progress]").first.bounding_box()["height"]
    assert start_height >= 40
    pm.screenshot(path=str(screenshots_dir / "tasks-board-desktop.png"), full_page=True)


def test_a_card_dragged_before_its_dependency_goes_back_with_the_reason(signed_in, server, problems):
    token = uuid.uuid4().hex[:5]
    first = make_task(server, f"Prime doors {token}")
    second = make_task(server, f"Paint doors {token}", needs=[first])
    problems.expect(422, f"/tasks/{second}/move")  # the refusal is the point of the test
    pm = signed_in("project_manager_full", viewport=DESKTOP)
    pm.goto(f"/projects/{_project_id()}/board")
    card = pm.locator(f"[data-board] [data-task-id='{second}']")
    card.wait_for()
    pm.wait_for_function("() => document.querySelector('[data-board]')?.kibrayWired === true")
    # A live redraw of the board (the two new tasks' events) can replace the card under
    # the pointer mid-drag on a slow machine, and nothing is sent: drag again, up to three
    # times; never a move request at all still fails the test.
    for attempt in range(3):
        try:
            with pm.expect_response(lambda r: r.url.endswith(f"/tasks/{second}/move"), timeout=5000) as answer:
                drag(pm, card, pm.locator("[data-testid=column-in_progress]"))
            break
        except PlaywrightTimeout:
            if attempt == 2:
                raise
    assert answer.value.status == 422
    refusal = pm.locator("[data-testid=board-refusal]")
    refusal.wait_for()
    assert f"Prime doors {token}" in refusal.inner_text()
    pm.wait_for_function(
        f"() => document.querySelector(\"[data-board] [data-task-id='{second}']\")?.parentElement?.dataset.status === 'pending'"
    )
    status = run_sql(E2E_DATABASE_URL, "SELECT status FROM tasks WHERE id = %s", second)[0][0]
    assert status == "pending"


def test_bulk_reassign_of_three_tasks(signed_in, server):
    token = uuid.uuid4().hex[:5]
    ids = [make_task(server, f"Caulk {token} {n}") for n in range(3)]
    pm = signed_in("project_manager_full", viewport=DESKTOP)
    pm.goto(f"/projects/{_project_id()}/tasks?q={token}")
    for task_id in ids:
        pm.locator(f"#task-row-{task_id} [data-testid=select-task]").check()
    assert pm.locator("[data-testid=select-task]:checked").count() == 3
    pm.select_option("[data-testid=bulk-action]", "reassign")
    pm.select_option("[data-testid=bulk-person]", label="Eli Brooks")
    with pm.expect_response(lambda r: r.url.endswith("/tasks/bulk")) as answer:
        pm.locator("[data-testid=bulk-apply]").click()
    assert answer.value.status == 200, answer.value.text()[:2000]
    pm.wait_for_selector("[data-testid=bulk-done]:has-text('Done: 3 tasks changed.')")
    for task_id in ids:
        assert "Eli Brooks" in pm.locator(f"#task-row-{task_id}").inner_text()
    rows = run_sql(
        E2E_DATABASE_URL,
        "SELECT count(*) FROM task_assignees a JOIN users u ON u.id = a.user_id WHERE u.username = 'employee' AND a.task_id = ANY(%s)",
        ids,
    )
    assert rows[0][0] == 3
    # a row saves in place (the CSRF token travels in htmx's headers, not in the row)
    with pm.expect_response(lambda r: r.url.endswith(f"/tasks/{ids[0]}/inline")) as answer:
        pm.select_option(f"#task-row-{ids[0]} [data-testid=row-status]", "in_progress")
    assert answer.value.status == 200, answer.value.text()[:2000]
    assert run_sql(E2E_DATABASE_URL, "SELECT status FROM tasks WHERE id = %s", ids[0])[0][0] == "in_progress"


def test_a_mention_rings_the_mentioned_persons_bell_live(signed_in, server):
    token = uuid.uuid4().hex[:5]
    task_id = make_task(server, f"Seal grout {token}", people=[_user_id("employee")])
    painter = signed_in("employee", viewport=PHONE)
    painter.goto("/tasks/my-day")
    wait_live(painter)
    # the bell is a fragment loaded after the page: read the count once it is there (read
    # before, it was 0 whatever the painter had unread, and the +1 never matched)
    painter.wait_for_selector("[data-testid=bell]", state="attached")
    count = painter.locator("[data-testid=bell-count]")
    before = int(count.inner_text()) if count.count() else 0
    pm = signed_in("project_manager_full", viewport=DESKTOP)
    pm.goto(f"/tasks/{task_id}")
    box = pm.locator("[data-testid=comment-body]")
    box.wait_for()
    box.fill("")
    box.type("Please check @empl", delay=20)
    pm.wait_for_selector("[data-mention='employee']")
    pm.locator("[data-mention='employee']").click()
    assert box.input_value() == "Please check @employee "
    box.type("before Friday")
    with pm.expect_response(
        lambda r: r.url.endswith(f"/tasks/{task_id}/comments") and r.request.method == "POST"
    ) as answer:
        pm.locator("[data-testid=post-comment]").click()
    assert answer.value.status == 200
    since = time.monotonic()
    painter.wait_for_function(
        f"() => Number((document.querySelector('[data-testid=bell-count]') || {{}}).textContent || 0) === {before + 1}",
        timeout=3000,
    )
    print(f"the mention reached the bell: {(time.monotonic() - since) * 1000:.0f} ms")
    assert pm.locator("[data-testid=comment] .mention").first.inner_text() == "@employee"


def test_a_task_taken_off_the_painter_leaves_their_open_my_day_live(signed_in, server):
    """The painter may no longer see a task taken off them: their open My day drops it
    (the "task-withdrawn" event), instead of keeping a card that would answer 404."""
    token = uuid.uuid4().hex[:5]
    today = company_today().isoformat()
    task_id = make_task(
        server, f"Mask windows {token}", people=[_user_id("employee")], start_date=today, due_date=today
    )
    painter = signed_in("employee", viewport=PHONE)
    painter.goto("/tasks/my-day")
    painter.wait_for_selector(f"#task-card-{task_id}")
    wait_live(painter)
    answer = requests.patch(
        f"{server}/api/tasks/{task_id}/", json={"assigned_to_ids": []}, headers=_token(server, "pm"), timeout=10
    )
    assert answer.status_code == 200, answer.text
    since = time.monotonic()
    painter.wait_for_selector(f"#task-card-{task_id}", state="detached", timeout=LIVE_WAIT)
    print(f"the withdrawn task left My day: {(time.monotonic() - since) * 1000:.0f} ms")


def test_a_painter_adds_a_photo_from_the_card_and_the_pm_sees_it(signed_in, server):
    token = uuid.uuid4().hex[:5]
    today = company_today().isoformat()
    task_id = make_task(
        server, f"Patch ceiling {token}", people=[_user_id("employee")], start_date=today, due_date=today
    )
    painter = signed_in("employee", viewport=PHONE)
    painter.goto("/tasks/my-day")
    card = painter.locator(f"#task-card-{task_id}")
    card.locator("[data-testid=open-photo]").click()
    from tests.images import png as make_png

    png = make_png()
    card.locator("[data-testid=photo-input]").set_input_files(
        files=[{"name": "ceiling.png", "mimeType": "image/png", "buffer": png}]
    )
    with painter.expect_response(lambda r: r.url.endswith(f"/tasks/{task_id}/photo")) as answer:
        card.locator("[data-testid=add-photo]").click()
    assert answer.value.status == 200, answer.value.text()[:2000]
    painter.wait_for_selector("[data-testid=day-notice]:has-text('Photo added.')")
    pm = signed_in("project_manager_full", viewport=DESKTOP)
    pm.goto(f"/tasks/{task_id}")
    image = pm.locator("[data-testid=task-photos] img")
    assert image.count() == 1
    shown = pm.request.get(server + image.get_attribute("src"))
    # the thumbnail once the media job has run, else the original (written again by Pillow)
    assert shown.status == 200 and shown.body()[:4] in (b"\x89PNG", b"\xff\xd8\xff\xe0", b"\xff\xd8\xff\xdb")


def test_a_pm_changes_who_does_a_task_in_its_row(signed_in, server):
    token = uuid.uuid4().hex[:5]
    task_id = make_task(server, f"Fill nail holes {token}", people=[_user_id("employee")])
    pm = signed_in("project_manager_full", viewport=DESKTOP)
    pm.goto(f"/projects/{_project_id()}/tasks?q={token}")
    row = pm.locator(f"#task-row-{task_id}")
    row.locator("[data-testid=row-people-edit]").click()
    editor = row.locator("[data-testid=row-people-editor]")
    editor.wait_for()
    editor.locator(f"input[value='{_user_id('employee')}']").uncheck()
    editor.locator(f"input[value='{_user_id('super')}']").check()
    with pm.expect_response(lambda r: r.url.endswith(f"/tasks/{task_id}/inline")) as answer:
        editor.locator("[data-testid=row-people-save]").click()
    assert answer.value.status == 200, answer.value.text()[:2000]
    pm.wait_for_selector(f"#task-row-{task_id}:has-text('Saved.')")
    people = run_sql(
        E2E_DATABASE_URL,
        "SELECT u.username FROM task_assignees a JOIN users u ON u.id = a.user_id WHERE a.task_id = %s",
        task_id,
    )
    assert [p[0] for p in people] == ["super"]


def test_a_pm_adds_a_task_from_the_project_on_a_phone(signed_in, server, screenshots_dir):
    token = uuid.uuid4().hex[:5]
    pm = signed_in("project_manager_full", viewport=PHONE)
    pm.goto(f"/projects/{_project_id()}/tasks")
    pm.locator("[data-testid=add-task]").click()
    pm.wait_for_selector("[data-testid=task-form]")
    pm.fill("#f-title", f"Stain the deck {token}")
    pm.fill("#f-due_date", company_today().isoformat())
    pm.fill("#f-checklist", "Sand\nTwo coats")
    pm.screenshot(path=str(screenshots_dir / "task-form-phone.png"), full_page=True)
    with pm.expect_response(lambda r: r.url.endswith("/tasks/new") and r.request.method == "POST") as answer:
        pm.locator("[data-testid=save-task]").click()
    assert answer.value.status == 200, answer.value.text()[:2000]  # htmx: HX-Location to the task
    pm.wait_for_selector(f"h1:has-text('Stain the deck {token}')")
    assert "/tasks/" in pm.url
    rows = run_sql(E2E_DATABASE_URL, "SELECT checklist::text FROM tasks WHERE title = %s", f"Stain the deck {token}")
    assert "Two coats" in rows[0][0]


def test_a_live_refresh_asked_while_another_is_in_flight_reaches_the_filtered_list(signed_in, server):
    """The list's wrapper stays (innerHTML): the refresh the second change queues while the
    first one's is in flight is kept, and asks with the list's filters. The first refresh's
    answer (showing the first change) is held back in the browser until the second
    change's event has surely arrived."""
    token = uuid.uuid4().hex[:5]
    task_id = make_task(server, f"Mask windows {token}")
    other = make_task(server, f"Mask doors {token}")
    make_task(server, f"Sand sills {uuid.uuid4().hex[:5]}")  # outside the filter
    pm = signed_in("project_manager_full", viewport=DESKTOP)
    pm.goto(f"/projects/{_project_id()}/tasks?q={token}&sort=title")
    pm.wait_for_selector(f"#task-row-{task_id}")
    wait_live(pm)
    api = _token(server, "pm")  # another session: its events are not this page's own echo

    def rename(title):
        answer = requests.patch(f"{server}/api/tasks/{task_id}/", json={"title": title}, headers=api, timeout=10)
        assert answer.status_code == 200, answer.text

    refreshes = []

    def hold_the_first(route):
        if route.request.headers.get("x-kibray-background") != "1":
            route.continue_()
            return
        refreshes.append(route.request.url)
        if len(refreshes) > 1:
            route.continue_()
            return
        answer = route.fetch()  # the list with the first change
        rename(f"Mask windows {token} second")  # its event arrives while this answer waits
        time.sleep(0.6)
        route.fulfill(response=answer)

    the_list = re.compile(r"/projects/\d+/tasks(\?|$)")
    pm.route(the_list, hold_the_first)
    rename(f"Mask windows {token} first")
    pm.wait_for_function(
        f"() => (document.querySelector('#task-row-{task_id}') || {{}}).textContent?.includes('{token} second')",
        timeout=3000 + 600,
    )
    assert len(refreshes) >= 2, refreshes  # the first, and the one queued behind it
    assert all(f"q={token}" in url and "sort=title" in url for url in refreshes), refreshes
    # still the filtered list: one wrapper, the other match, nothing outside the filter
    assert pm.locator("#task-results").count() == 1
    assert pm.locator(f"#task-row-{other}").count() == 1
    assert pm.locator("#task-results tbody tr[data-task-id]").count() == 2
    pm.unroute(the_list)


@pytest.fixture()
def many_people():
    """55 more active employees for the duration of the test (anyone may be given a task,
    so past queries.PICKER_LIMIT the task list's people controls are pickers); removed
    afterwards: the other tests expect the demo company's plain <select>s."""
    rows = run_sql(
        E2E_DATABASE_URL,
        """INSERT INTO users (username, email, username_key, email_key, full_name, role, is_active,
                              must_change_password, session_epoch, version, created_at, updated_at)
           SELECT 'picker-emp-' || n, 'picker-emp-' || n || '@example.com', 'picker-emp-' || n,
                  'picker-emp-' || n || '@example.com', 'Picker Painter ' || lpad(n::text, 2, '0'),
                  'employee', true, false, 0, 1, now(), now()
           FROM generate_series(1, 55) AS n RETURNING id""",
    )
    yield [row[0] for row in rows]
    run_sql(E2E_DATABASE_URL, "DELETE FROM users WHERE username LIKE 'picker-emp-%%' RETURNING id")


def test_past_fifty_people_the_task_lists_people_controls_are_pickers(many_people, signed_in, server, screenshots_dir):
    """The Assignee filter: a click on a suggestion filters the list (?assignee=<id>, as
    the <select> did) and emptying the box is anyone again; the bulk bar's Person: a
    click chooses whom the selected tasks go to, and another action sends nothing of it."""
    token = uuid.uuid4().hex[:5]
    eli = _user_id("employee")
    due = str(company_today() + timedelta(days=10))
    ids = [make_task(server, f"Tape trim {token} {n}", people=[eli] if n == 0 else [], due_date=due) for n in range(3)]
    pm = signed_in("project_manager_full", viewport=DESKTOP)
    pm.goto(f"/projects/{_project_id()}/tasks?q={token}")
    pm.wait_for_selector(f"#task-row-{ids[2]}")
    assert pm.locator("select#f-assignee").count() == 0 and pm.locator("select#f-bulk-person").count() == 0
    shown = pm.locator("#task-results tbody tr[data-task-id]")
    assert shown.count() == 3

    box = pm.locator("#f-assignee_search")
    box.click()
    box.press_sequentially("picker painter", delay=20)
    suggestions = pm.locator("#f-assignee-options [data-pick]")
    suggestions.first.wait_for()
    assert suggestions.count() == 20, "at most 20 suggestions"
    assert "/people-options" not in pm.url, "a suggestion fetch is not a page to go back to"
    pm.screenshot(path=str(screenshots_dir / "task-assignee-picker-open-desktop.png"), caret="initial")
    box.fill("")
    box.press_sequentially("eli bro", delay=20)
    pm.wait_for_function(
        "() => [...document.querySelectorAll('#f-assignee-options [data-pick]')].map(a => a.dataset.label).join() === 'Eli Brooks'"
    )
    with pm.expect_response(lambda r: "/tasks?" in r.url and f"assignee={eli}" in r.url):
        suggestions.first.click()
    pm.wait_for_function(f"() => location.search.includes('assignee={eli}')")
    assert "assignee_search" not in pm.url, "the chosen id travels alone, as a <select>'s would"
    pm.wait_for_function("() => document.querySelectorAll('#task-results tbody tr[data-task-id]').length === 1")
    assert pm.locator(f"#task-row-{ids[0]}").count() == 1
    with pm.expect_response(lambda r: "/tasks?" in r.url and f"assignee={eli}" not in r.url):
        box.fill("")  # emptied: anyone again
    pm.wait_for_function("() => document.querySelectorAll('#task-results tbody tr[data-task-id]').length === 3")

    for task_id in ids:
        pm.locator(f"#task-row-{task_id} [data-testid=select-task]").check()
    pm.select_option("[data-testid=bulk-action]", "reassign")
    person = pm.locator("#f-value_search")
    assert person.is_visible()
    person.press_sequentially("eli bro", delay=20)
    pm.wait_for_function(
        "() => [...document.querySelectorAll('#f-value-options [data-pick]')].map(a => a.dataset.label).join() === 'Eli Brooks'"
    )
    pm.locator("#f-value-options [data-pick]").first.click()
    assert pm.locator("#f-value").input_value() == str(eli)
    with pm.expect_response(lambda r: r.url.endswith("/tasks/bulk")) as answer:
        pm.locator("[data-testid=bulk-apply]").click()
    assert answer.value.status == 200, answer.value.text()[:2000]
    pm.wait_for_selector("[data-testid=bulk-done]:has-text('Done: 3 tasks changed.')")
    rows = run_sql(
        E2E_DATABASE_URL,
        "SELECT count(*) FROM task_assignees WHERE user_id = %s AND task_id = ANY(%s)",
        eli,
        ids,
    )
    assert rows[0][0] == 3

    # another action: the Person picker is hidden and disabled, so only the days are sent
    for task_id in ids:
        pm.locator(f"#task-row-{task_id} [data-testid=select-task]").check()
    pm.select_option("[data-testid=bulk-action]", "shift")
    assert not pm.locator("#f-value_search").is_visible()
    pm.fill("#bulk-days", "1")
    with pm.expect_response(lambda r: r.url.endswith("/tasks/bulk")) as answer:
        pm.locator("[data-testid=bulk-apply]").click()
    assert answer.value.status == 200, answer.value.text()[:2000]
    pm.wait_for_selector("[data-testid=bulk-done]:has-text('Done: 3 tasks changed.')")
