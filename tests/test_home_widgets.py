"""Home pages per role (issue 8): the superintendent's crews and blockers, the projects card
of PMs, trainees and designers (overdue, blocked, double-booked, due this week), the
admin's company counts — each a fragment the home page loads and redraws on live events,
showing only tasks its reader may see, refused to the roles whose home does not carry it,
in a number of statements that does not grow with the rows."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.core.roles import ADMIN, CLIENT, DESIGNER, EMPLOYEE, PM_TRAINEE, PROJECT_MANAGER, SUPERINTENDENT
from app.projects.models import Project
from app.tasks import services, widgets
from tests.factories import make_project, make_user

FRAGMENT = {"HX-Request": "true", "HX-Target": "home-widget"}
LIVE = {"HX-Request": "true", "X-Kibray-Background": "1"}  # a refresh after a live event
CREWS, ATTENTION, COMPANY = "/tasks/home/crews", "/tasks/home/attention", "/tasks/home/company"
SLOTS = {CREWS: "home-crews-slot", ATTENTION: "home-attention-slot", COMPANY: "home-company-slot"}


@pytest.fixture()
def site(db):
    """Harbor lofts (PM, trainee, designer, superintendent on its team) and Birch Row
    (another PM only). Around today on Harbor lofts: an overdue task, two tasks double-
    booking Pat, a blocked one, one nobody is on, a late design task, a finished one;
    on Birch Row an overdue, a blocked and a task that double-books Pat once more."""
    people = {
        role: make_user(role, full_name=name)
        for role, name in (
            (PROJECT_MANAGER, "Kim Manager"),
            (PM_TRAINEE, "Tia Trainee"),
            (DESIGNER, "Dee Designer"),
            (SUPERINTENDENT, "Sue Super"),
            (ADMIN, "Ada Admin"),
            (EMPLOYEE, "Eve Employee"),
            (CLIENT, "Cal Client"),
        )
    }
    pat, sam = make_user(EMPLOYEE, full_name="Pat Painter"), make_user(EMPLOYEE, full_name="Sam Sander")
    rae = make_user(EMPLOYEE, full_name="Rae Roller")
    other_pm = make_user(PROJECT_MANAGER, full_name="Olly Other")
    team = [people[r] for r in (PROJECT_MANAGER, PM_TRAINEE, DESIGNER, SUPERINTENDENT)]
    harbor = make_project(members=team, name="Harbor lofts", client=people[CLIENT].client)
    birch = make_project(members=[other_pm], name="Birch Row")
    today = services.today()
    pm = people[PROJECT_MANAGER]

    def task(project, title, who=(), by=pm, **days):
        data = {"title": title, **{k: str(today + timedelta(days=v)) for k, v in days.items() if k != "is_design"}}
        if days.get("is_design"):
            data["is_design"] = True
        return services.create_task(by, project, data, [p.id for p in who])

    t = {
        "late": task(harbor, "Scrape fence", [pat], start_date=-4, due_date=-1),
        "mask": task(harbor, "Mask windows", [pat], start_date=0, due_date=1),
        "prime": task(harbor, "Prime doors", [pat], start_date=1, due_date=2),
        "sand": task(harbor, "Sand rails", [rae], start_date=0, due_date=0),
        "gutter": task(harbor, "Fix gutter", [sam], start_date=-1, due_date=3),
        "ladders": task(harbor, "Stage ladders", start_date=0),
        "trim": task(harbor, "Choose trim colour", [people[DESIGNER]], start_date=-3, due_date=-2, is_design=1),
        "done": task(harbor, "Wash siding", [sam], start_date=-5, due_date=-3),
        "birch_late": task(birch, "Birch overdue", [sam], by=other_pm, start_date=-6, due_date=-2),
        "birch_blocked": task(birch, "Birch blocked", [sam], by=other_pm, due_date=9),
        "birch_today": task(birch, "Birch today", [pat], by=other_pm, start_date=0, due_date=0),
    }
    services.report_blocker(pm, t["gutter"], "Waiting for the lift")
    services.report_blocker(other_pm, t["birch_blocked"], "Client away")
    services.complete_task(pm, t["done"], notes="Clean")
    return people, harbor, birch, t


def _ids(html: str, testid: str) -> set[int]:
    return {int(i) for i in re.findall(rf'data-testid="{testid}" data-task-id="(\d+)"', html)}


def _section(html: str, key: str) -> str:
    return html.split(f'data-testid="attention-{key}"')[1].split("</section>")[0]


def _count(html: str, key: str) -> int:
    return int(re.search(r'data-testid="attention-count">\((\d+)\)', _section(html, key)).group(1))


def _fragment(client, url: str, headers=FRAGMENT):
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.status_code
    assert "<html" not in response.text  # the card alone, for the wrapper's innerHTML
    return response.text


# --- the home page carries each role's card -----------------------------------------


@pytest.mark.parametrize(
    ("role", "card"),
    [
        (SUPERINTENDENT, CREWS),
        (PROJECT_MANAGER, ATTENTION),
        (PM_TRAINEE, ATTENTION),
        (DESIGNER, ATTENTION),
        (ADMIN, COMPANY),
        (EMPLOYEE, None),
        (CLIENT, None),
    ],
)
def test_each_role_home_carries_its_card_and_no_other(role, card, site, client, login_as):
    people, *_ = site
    login_as(people[role])
    home = client.get("/").text
    for url, slot in SLOTS.items():
        assert (f'data-testid="{slot}"' in home) is (url == card), url
    if card is None:
        return
    wrapper = home.split(f'data-testid="{SLOTS[card]}"')[0].rsplit("<div", 1)[1]
    # a wrapper that stays, fetches its card once loaded and again on every task event,
    # swapping its inside, a refresh asked for meanwhile queued (not dropped)
    assert f'hx-get="{card}"' in wrapper
    assert 'hx-swap="innerHTML"' in wrapper and 'hx-sync="this:queue last"' in wrapper
    triggers = re.search(r'hx-trigger="([^"]*)"', wrapper).group(1).split(", ")
    assert "load" in triggers and "kibray:tasks from:body" in triggers
    assert ("kibray:projects from:body" in triggers) is (card == COMPANY)  # the active projects' count


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        (CREWS, {SUPERINTENDENT}),
        (ATTENTION, {PROJECT_MANAGER, PM_TRAINEE, DESIGNER}),
        (COMPANY, {ADMIN}),
    ],
)
def test_a_card_is_refused_to_roles_whose_home_does_not_carry_it(url, allowed, site, client, login_as):
    people, *_ = site
    for role, user in people.items():
        login_as(user)
        response = client.get(url, headers=FRAGMENT)
        assert response.status_code == (200 if role in allowed else 403), role
        if role not in allowed:
            assert "Harbor lofts" not in response.text and "Scrape fence" not in response.text


def test_a_card_opened_as_a_page_is_inside_the_layout(site, client, login_as):
    people, *_ = site
    login_as(people[SUPERINTENDENT])
    page = client.get(CREWS)
    assert page.status_code == 200 and "<html" in page.text and "Today&#39;s crews" in page.text
    assert "Mask windows" in page.text


# --- the superintendent: today's crews and blockers ---------------------------------


def test_superintendent_sees_todays_crews_and_the_blockers_of_their_projects(site, client, login_as):
    people, harbor, birch, t = site
    login_as(people[SUPERINTENDENT])
    html = _fragment(client, CREWS)
    members = re.findall(r'data-testid="crew-member">([^<]+)<', html)
    assert members == ["Pat Painter", "Rae Roller", "Sam Sander", "Nobody assigned yet"]
    crews = {
        name: _ids(block, "crew-task")
        for name, block in zip(members, html.split('data-testid="crew-member"')[1:], strict=True)
    }
    assert crews == {
        "Pat Painter": {t["mask"].id},
        "Rae Roller": {t["sand"].id},
        "Sam Sander": {t["gutter"].id},  # blocked is still today's work
        "Nobody assigned yet": {t["ladders"].id},
    }
    assert "4 tasks on for today" in html
    assert f'href="/tasks/{t["mask"].id}"' in html
    # each task with its status
    pat = html.split('data-testid="crew-member">Pat Painter')[1].split("</ul>")[0]
    assert "In progress" not in pat and "To do" in pat
    blockers = html.split('data-testid="blockers"')[1]
    assert _ids(html, "blocker") == {t["gutter"].id}
    assert "Waiting for the lift" in blockers and "Harbor lofts" in blockers
    assert "Blockers" in html and "(1)" in html.split('data-testid="blockers-heading"')[1].split("</h3>")[0]
    # Birch Row is not theirs: none of its tasks, its blocker or its reason
    for hidden in ("Birch", "Client away", "Scrape fence", "Prime doors", "Wash siding"):
        assert hidden not in html, hidden


def test_superintendent_with_a_quiet_day_is_told_so(client, db, login_as):
    sue = make_user(SUPERINTENDENT)
    make_project(members=[sue])
    login_as(sue)
    html = _fragment(client, CREWS)
    assert 'data-testid="crews-empty"' in html and 'data-testid="blockers-empty"' in html


def test_a_blocker_reported_later_shows_at_the_next_live_refresh(site, client, login_as):
    people, harbor, birch, t = site
    login_as(people[SUPERINTENDENT])
    assert t["sand"].id not in _ids(_fragment(client, CREWS, LIVE), "blocker")
    services.report_blocker(people[SUPERINTENDENT], t["sand"], "Rain")
    html = _fragment(client, CREWS, LIVE)
    assert _ids(html, "blocker") == {t["sand"].id, t["gutter"].id} and "Rain" in html


# --- PMs, trainees, designers: what needs them --------------------------------------


@pytest.mark.parametrize("role", [PROJECT_MANAGER, PM_TRAINEE])
def test_pm_and_trainee_see_their_projects_overdue_blocked_conflicting_and_due_this_week(role, site, client, login_as):
    people, harbor, birch, t = site
    login_as(people[role])
    html = _fragment(client, ATTENTION)
    expected = {
        "overdue": {t["late"].id, t["trim"].id},
        "blocked": {t["gutter"].id},
        "conflict": {t["mask"].id, t["prime"].id},  # Pat on both on day 1 (and on Birch today)
        "week": {t["mask"].id, t["prime"].id, t["sand"].id, t["gutter"].id},
    }
    for key, ids in expected.items():
        shown = _ids(_section(html, key), "attention-task")
        assert shown <= ids and len(shown) == min(len(ids), widgets.LIST_LIMIT), key
        assert _count(html, key) == len(ids), key
    # the first of each list by due date: the week's four show the three due first
    assert _ids(_section(html, "week"), "attention-task") == {t["mask"].id, t["prime"].id, t["sand"].id}
    assert "And 1 more" in _section(html, "week")
    assert "Waiting for the lift" in _section(html, "blocked")
    conflict = _section(html, "conflict")
    assert re.search(r"booked twice: Pat Painter \([A-Z][a-z]{2} \d", conflict)
    # the other booking is on a project they do not see: not named, nor anything of Birch Row
    assert "Birch" not in html and "Client away" not in html and "Wash siding" not in html
    # each list links to the company-wide list filtered the same way
    for key, link in (
        ("overdue", "/tasks?overdue=1"),
        ("blocked", "/tasks?status=blocked"),
        ("conflict", "/tasks?conflict=1"),
    ):
        assert f'href="{link}"' in _section(html, key), key


def test_designer_gets_the_projects_card_for_their_design_tasks_only(site, client, login_as):
    people, harbor, birch, t = site
    login_as(people[DESIGNER])
    html = _fragment(client, ATTENTION)
    assert _ids(_section(html, "overdue"), "attention-task") == {t["trim"].id}
    assert [_count(html, k) for k in ("overdue", "blocked", "conflict", "week")] == [1, 0, 0, 0]
    assert "Scrape fence" not in html and "Mask windows" not in html


def test_the_card_counts_what_the_linked_list_shows_and_says_how_many_more(site, client, login_as):
    people, harbor, birch, t = site
    pm = people[PROJECT_MANAGER]
    today = services.today()
    for n in range(widgets.LIST_LIMIT + 2):
        services.create_task(pm, harbor, {"title": f"Late {n}", "due_date": str(today - timedelta(days=n + 2))})
    login_as(pm)
    html = _fragment(client, ATTENTION)
    overdue = _section(html, "overdue")
    total = 2 + widgets.LIST_LIMIT + 2
    assert _count(html, "overdue") == total
    assert len(_ids(overdue, "attention-task")) == widgets.LIST_LIMIT
    assert f"And {total - widgets.LIST_LIMIT} more" in overdue and 'href="/tasks?overdue=1"' in overdue
    listed = client.get("/tasks?overdue=1").text
    assert len(set(re.findall(r'<tr id="task-row-(\d+)"', listed))) == total


def test_a_quiet_project_says_nothing_needs_them(client, db, login_as):
    kim = make_user(PROJECT_MANAGER)
    make_project(members=[kim])
    login_as(kim)
    assert 'data-testid="attention-empty"' in _fragment(client, ATTENTION)


# --- the admin: the company's counts ------------------------------------------------


def test_admin_sees_the_company_counts_with_links(site, client, login_as, db):
    people, harbor, birch, t = site
    login_as(people[ADMIN])
    html = _fragment(client, COMPANY)

    def number(testid):
        block = html.split(f'data-testid="{testid}"')[0].rsplit("<a", 1)[1] + html.split(f'data-testid="{testid}"')[1]
        return int(re.search(r'class="stat-n">(\d+)<', block).group(1)), re.search(r'href="([^"]+)"', block).group(1)

    active = db.session.scalar(select(func.count()).select_from(Project).where(Project.status == "active"))
    assert number("count-active-projects") == (active, "/projects?status=active")
    assert active >= 2  # both sites started with their first task
    assert number("count-overdue") == (3, "/tasks?overdue=1")  # Scrape fence, trim colour, Birch overdue
    assert number("count-conflicts") == (3, "/tasks?conflict=1")  # Mask windows, Prime doors, Birch today
    assert number("count-blockers") == (2, "/tasks?status=blocked")  # Fix gutter, Birch blocked
    # and they move with the tasks
    services.complete_task(people[ADMIN], t["late"], notes="Done")
    html = _fragment(client, COMPANY, LIVE)
    assert number("count-overdue")[0] == 2


# --- a card costs the same few statements however many tasks there are -------------


def _more_tasks(site, n: int) -> None:
    people, harbor, birch, t = site
    pm, today = people[PROJECT_MANAGER], services.today()
    painters = [make_user(EMPLOYEE) for _ in range(3)]
    for i in range(n):
        task = services.create_task(
            pm,
            harbor,
            {
                "title": f"Extra {i}",
                "start_date": str(today - timedelta(days=i % 3 + 1)),
                "due_date": str(today + timedelta(days=i % 4 - 1)),
            },
            [painters[i % 3].id],
        )
        if i % 5 == 0:
            services.report_blocker(pm, task, f"Reason {i}")


@pytest.mark.parametrize(("role", "url"), [(SUPERINTENDENT, CREWS), (PROJECT_MANAGER, ATTENTION), (ADMIN, COMPANY)])
def test_statements_do_not_grow_with_tasks(role, url, site, client, login_as, count_queries):
    people, *_ = site
    login_as(people[role])
    _fragment(client, url)  # warm: the signed-in copy, the membership cache
    with count_queries() as few:
        _fragment(client, url)
    _more_tasks(site, 40)
    with count_queries() as many:
        html = _fragment(client, url)
    assert "Extra" in html or url == COMPANY
    assert many.n == few.n, (few.statements, many.statements)
    assert few.n <= 10, few.statements
