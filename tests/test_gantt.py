"""The Gantt (app/gantt): a project's tasks over a scale with the critical path, the planned
end, milestones and the today line; dragging a bar (the move route: versions, refusals,
dependants); the company's projects as a timeline."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from app.tasks import services
from app.tasks.models import Task
from tests.factories import make_client, make_project, make_user


@pytest.fixture()
def job(db):
    """A diamond: Prep (2 d) → Walls (5 d) and Trim (2 d) → Clean (1 d), planned back to
    back from today; Walls is on the critical path, Trim has 3 days of float."""
    admin = make_user("admin")
    pm, trainee = make_user("project_manager_full", full_name="Paula PM"), make_user("pm_trainee")
    designer, sup = make_user("designer"), make_user("superintendent")
    pat = make_user("employee", full_name="Pat Painter")
    company = make_client(name="Harbor Holdings")
    client_user = make_user("client", client=company)
    today = services.today()
    project = make_project(
        client=company,
        members=[pm, trainee, designer, sup],
        name="Gantt lofts",
        start_date=today,
        end_date=today + timedelta(days=30),
    )

    def task(title, needs=(), people=(), start=0, days=1, **data):
        return services.create_task(
            pm,
            project,
            {
                "title": title,
                "start_date": str(today + timedelta(days=start)),
                "due_date": str(today + timedelta(days=start + days - 1)),
                **data,
            },
            [p.id for p in people],
            [t.id for t in needs],
        )

    prep = task("Prep rooms", start=0, days=2, people=[pat])
    walls = task("Paint walls", [prep], start=2, days=5)
    trim = task("Paint trim", [prep], start=2, days=2)
    clean = task("Final clean", [walls, trim], start=7, days=1)
    colour = services.create_task(pm, project, {"title": "Pick colours", "is_design": True}, [], [])
    db.session.flush()
    users = {
        "admin": admin,
        "pm": pm,
        "trainee": trainee,
        "designer": designer,
        "super": sup,
        "employee": pat,
        "client": client_user,
    }
    return type(
        "Job",
        (),
        {
            "project": project,
            "users": users,
            "prep": prep,
            "walls": walls,
            "trim": trim,
            "clean": clean,
            "colour": colour,
            "today": today,
        },
    )


def _bar(html: str, task_id: int) -> str:
    found = re.search(rf'<g class="([^"]*)"[^>]*data-testid="bar-{task_id}"', html)
    return found.group(1) if found else ""


PAGE = {"admin": 200, "pm": 200, "trainee": 200, "designer": 200, "super": 200, "employee": 404, "client": 403}


@pytest.mark.parametrize("who", list(PAGE))
def test_the_page_for_each_role(who, job, client, login_as):
    login_as(job.users[who])
    response = client.get(f"/projects/{job.project.id}/gantt")
    assert response.status_code == PAGE[who]
    html = response.text
    if PAGE[who] != 200:
        assert "Paint walls" not in html
        return
    assert 'data-testid="gantt-svg"' in html
    if who == "designer":  # the design tasks only; the same planned end as everyone
        assert "Paint walls" not in html and "Pick colours" in html
        assert f'data-testid="bar-{job.walls.id}"' not in html
    else:
        assert "Paint walls" in html
    assert "Planned end (critical path)" in html
    movable = who in ("admin", "pm", "trainee")
    assert ("data-gantt-bar" in html) is movable
    assert re.search(r'src="/static/js/gantt\.[0-9a-f]{10}\.js"', html)  # fingerprinted (core/assets.py)


def test_the_svg_highlights_the_critical_path_and_tells_the_float(job, client, login_as):
    login_as(job.users["pm"])
    html = client.get(f"/projects/{job.project.id}/gantt?scale=day").text
    for task in (job.prep, job.walls, job.clean):
        assert "is-critical" in _bar(html, task.id), task.title
    assert "is-critical" not in _bar(html, job.trim.id)
    assert "float 3 days" in html  # Paint trim's <title>
    assert html.count('class="gantt-link') == 4  # the diamond's arrows
    assert html.count('class="gantt-link is-critical"') == 2
    assert 'data-testid="critical-count">3<' in html
    assert 'data-testid="today-line"' in html
    assert "Pick colours" in html and 'data-testid="unscheduled"' in html  # no dates: listed, not drawn


def test_the_planned_end_follows_the_critical_path_and_is_flagged_when_late(job, client, login_as, db):
    from app.core.timezones import format_date

    login_as(job.users["pm"])
    html = client.get(f"/projects/{job.project.id}/gantt").text
    assert f'data-testid="planned-end">{format_date(job.today + timedelta(days=7))}<' in html
    assert 'data-testid="planned-end-late"' not in html
    # walls take three weeks longer: the planned end moves past the project's end date
    services.update_task(job.users["pm"], job.walls, {"due_date": str(job.today + timedelta(days=28))}, partial=True)
    services.update_task(
        job.users["pm"],
        job.clean,
        {"start_date": str(job.today + timedelta(days=29)), "due_date": str(job.today + timedelta(days=33))},
        partial=True,
    )
    db.session.flush()
    html = client.get(f"/projects/{job.project.id}/gantt").text
    assert f'data-testid="planned-end">{format_date(job.today + timedelta(days=33))}<' in html
    assert "ends 3 days after the project" in html


def test_a_dependency_finishing_later_pushes_the_earliest_start(job, client, login_as, db):
    """Trim planned before Prep is over: its bar stays where planned, flagged with the
    earliest start the dependency allows."""
    services.update_task(job.users["pm"], job.trim, {"start_date": str(job.today)}, partial=True)
    db.session.flush()
    login_as(job.users["pm"])
    html = client.get(f"/projects/{job.project.id}/gantt?scale=day").text
    assert "is-late" in _bar(html, job.trim.id)
    assert "waits for a dependency" in html


@pytest.mark.parametrize("scale", ["day", "week", "month"])
def test_each_scale_and_the_fragment(scale, job, client, login_as):
    login_as(job.users["pm"])
    url = f"/projects/{job.project.id}/gantt?scale={scale}&start={job.today}"
    page = client.get(url)
    assert page.status_code == 200 and "<html" in page.text
    assert f'data-testid="scale-{scale}"' in page.text and 'aria-current="page" href' in page.text
    fragment = client.get(url, headers={"HX-Request": "true", "HX-Target": "gantt-chart"})
    assert fragment.status_code == 200
    assert "<html" not in fragment.text and 'data-testid="gantt-svg"' in fragment.text
    assert f'name="scale" value="{scale}"' in fragment.text  # what a live refresh asks again with
    assert "style=" not in fragment.text  # CSP: geometry in attributes only


def test_a_bad_scale_or_start_falls_back(job, client, login_as):
    login_as(job.users["pm"])
    response = client.get(f"/projects/{job.project.id}/gantt?scale=year&start=soon")
    assert response.status_code == 200 and 'name="scale" value="week"' in response.text


def test_milestones_are_the_visible_ones(job, client, login_as, db):
    from app.calendar.models import CalendarEvent

    at = datetime.combine(job.today + timedelta(days=3), datetime.min.time(), UTC) + timedelta(hours=18)
    shown = CalendarEvent(
        title="Walkthrough with owner",
        start_at=at,
        end_at=at,
        all_day=False,
        project_id=job.project.id,
        event_type="milestone",
        visibility="project_team",
    )
    secret = CalendarEvent(
        title="Board review",
        start_at=at,
        end_at=at,
        project_id=job.project.id,
        event_type="milestone",
        visibility="admin_only",
    )
    meeting = CalendarEvent(
        title="Site meeting",
        start_at=at,
        end_at=at,
        project_id=job.project.id,
        event_type="meeting",
    )
    db.session.add_all([shown, secret, meeting])
    db.session.flush()
    login_as(job.users["pm"])
    html = client.get(f"/projects/{job.project.id}/gantt?scale=day&start={job.today}").text
    assert f'data-testid="milestone-{shown.id}"' in html and "Walkthrough with owner" in html
    assert "Board review" not in html and "Site meeting" not in html
    login_as(job.users["admin"])
    assert "Board review" in client.get(f"/projects/{job.project.id}/gantt?scale=day&start={job.today}").text


def test_risk_badges_when_the_column_exists(job, client, login_as, db):
    if not hasattr(Task, "risk_level"):
        pytest.skip("tasks.risk_level arrives with migration 0023")
    job.walls.risk_level = "high"
    db.session.flush()
    login_as(job.users["pm"])
    assert f'data-testid="risk-{job.walls.id}"' in client.get(f"/projects/{job.project.id}/gantt").text


# --- the move ---------------------------------------------------------------------------


def _move(client, task, days=2, version=None, **extra):
    return client.post(
        f"/gantt/tasks/{task.id}/move",
        data={
            "start_date": str(task.start_date + timedelta(days=days)),
            "due_date": str(task.due_date + timedelta(days=days)),
            "version": str(task.version if version is None else version),
            "scale": "day",
            **extra,
        },
        headers={"HX-Request": "true", "HX-Target": "gantt-chart"},
    )


def test_moving_a_bar_saves_and_redraws_the_critical_path(job, client, login_as, db):
    login_as(job.users["pm"])
    trim_start, version = job.trim.start_date, job.trim.version
    response = _move(client, job.trim, days=4)  # past its float: now trim drives the end
    assert response.status_code == 200, response.text
    db.session.refresh(job.trim)
    assert job.trim.start_date == trim_start + timedelta(days=4) and job.trim.version > version
    html = response.text
    assert "<html" not in html and "Moved “Paint trim”" in html
    assert "is-critical" in _bar(html, job.trim.id)  # 1 day late: trim is now critical…
    assert "is-critical" not in _bar(html, job.walls.id)  # …and walls has the float


def test_a_stale_version_is_409_with_the_chart_as_it_is(job, client, login_as, db):
    login_as(job.users["pm"])
    old = job.walls.version
    services.update_task(job.users["admin"], job.walls, {"notes": "Two coats"}, partial=True)
    db.session.flush()
    start = job.walls.start_date
    response = _move(client, job.walls, days=3, version=old)
    assert response.status_code == 409
    assert "changed “Paint walls” meanwhile" in response.text
    assert f'data-version="{job.walls.version}"' in response.text  # the bar as it is now
    db.session.refresh(job.walls)
    assert job.walls.start_date == start


def test_moving_with_dependants_shifts_them_too(job, client, login_as, db):
    login_as(job.users["pm"])
    clean_start = job.clean.start_date
    response = _move(client, job.walls, days=2, shift_dependants="1")
    assert response.status_code == 200, response.text
    db.session.refresh(job.clean)
    assert job.clean.start_date == clean_start + timedelta(days=2)


def test_resizing_and_bad_dates(job, client, login_as, db):
    login_as(job.users["pm"])
    response = client.post(
        f"/gantt/tasks/{job.walls.id}/move",
        data={
            "start_date": str(job.walls.start_date),
            "due_date": str(job.walls.due_date + timedelta(days=3)),
            "version": str(job.walls.version),
        },
    )
    assert response.status_code == 200
    db.session.refresh(job.walls)
    assert (job.walls.due_date - job.walls.start_date).days == 7
    bad = client.post(
        f"/gantt/tasks/{job.walls.id}/move",
        data={
            "start_date": str(job.walls.start_date),
            "due_date": str(job.walls.start_date - timedelta(days=1)),
            "version": str(job.walls.version),
        },
    )
    assert bad.status_code == 422 and "cannot be before" in bad.text
    garbage = client.post(
        f"/gantt/tasks/{job.walls.id}/move", data={"start_date": "soon", "due_date": "", "version": "x"}
    )
    assert garbage.status_code in (400, 422)


MOVE = {"admin": 200, "pm": 200, "trainee": 200, "designer": 404, "super": 403, "employee": 403, "client": 403}


@pytest.mark.parametrize("who", list(MOVE))
def test_who_may_drag(who, job, client, login_as, db):
    login_as(job.users[who])
    start = job.prep.start_date
    response = _move(client, job.prep, days=1)
    assert response.status_code == MOVE[who]
    db.session.refresh(job.prep)
    assert (job.prep.start_date != start) is (MOVE[who] == 200)


def test_a_closed_task_is_not_draggable(job, client, login_as, db):
    services.complete_task(job.users["pm"], job.prep)
    db.session.flush()
    login_as(job.users["pm"])
    html = client.get(f"/projects/{job.project.id}/gantt").text
    assert "data-gantt-bar" in html
    assert "data-gantt-bar" not in re.search(rf'<g [^>]*data-testid="bar-{job.prep.id}"', html).group(0)


# --- the company's timeline ------------------------------------------------------------


def test_the_timeline_lists_visible_active_projects(job, client, login_as, db):
    job.project.status = "active"
    other = make_project(name="Birch Row exterior", status="active", start_date=job.today)
    db.session.flush()
    login_as(job.users["pm"])
    html = client.get("/calendar/gantt").text
    assert f'data-testid="project-bar-{job.project.id}"' in html
    assert "Birch Row exterior" not in html
    login_as(job.users["admin"])
    html = client.get("/calendar/gantt").text
    assert "Birch Row exterior" in html and f'data-testid="project-bar-{other.id}"' in html
    # the PM filter
    html = client.get(f"/calendar/gantt?pm={job.users['pm'].id}").text
    assert "Gantt lofts" in html and "Birch Row exterior" not in html


def test_the_timeline_pm_filter_is_refused_to_clients(job, client, login_as, db):
    job.project.status = "active"
    db.session.flush()
    login_as(job.users["client"])
    assert "Gantt lofts" in client.get("/calendar/gantt").text
    refused = client.get(f"/calendar/gantt?pm={job.users['pm'].id}")
    assert refused.status_code == 422 and "Your role cannot filter by team member." in refused.text


def test_the_timeline_pages_and_says_how_many_more(job, client, login_as, db):
    from app.projects.models import Project

    job.project.status = "active"  # with the 60 below: 61
    company = make_client(name="Many Jobs Inc")
    db.session.add_all(
        Project(name=f"Job {i:03}", client=company, address=f"{i} Main", status="active", start_date=job.today)
        for i in range(60)
    )
    db.session.flush()
    login_as(job.users["admin"])
    html = client.get("/calendar/gantt").text
    assert html.count('data-testid="project-bar-') == 50
    assert 'data-testid="timeline-more"' in html and "Showing 50 of 61 active projects" in html and "11 more" in html
    second = client.get("/calendar/gantt?page=2", headers={"HX-Request": "true", "HX-Target": "timeline-chart"}).text
    assert second.count('data-testid="project-bar-') == 11 and "<html" not in second


def test_bars_outside_the_window_say_which_way(job, client, login_as):
    login_as(job.users["pm"])
    later = client.get(f"/projects/{job.project.id}/gantt?scale=day&start={job.today + timedelta(days=100)}").text
    assert 'class="gantt-offscreen"' in later and "◂" in later
    assert f'data-testid="bar-{job.walls.id}"' not in later  # not drawn, but its row and label stay
    assert "Paint walls" in later
