"""The PM's task views (issue 8): a project's list with filters and in-place edits, bulk
actions all or nothing with each refusal named, the board's moves through the rules,
the company-wide list, and the time analysis with its CSV."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.tasks import services
from app.tasks.models import Task
from tests.factories import make_project, make_user


@pytest.fixture()
def job(db):
    pm = make_user("project_manager_full")
    pat, sam = make_user("employee", full_name="Pat Painter"), make_user("employee", full_name="Sam Sander")
    project = make_project(members=[pm], name="Harbor lofts")
    today = services.today()

    def task(title, people=(), needs=(), **data):
        return services.create_task(
            pm, project, {"title": title, **data}, [p.id for p in people], [t.id for t in needs]
        )

    prime = task(
        "Prime walls", [pat], start_date=str(today), due_date=str(today + timedelta(days=1)), estimated_hours="8"
    )
    paint = task(
        "Paint walls",
        [pat],
        [prime],
        start_date=str(today + timedelta(days=2)),
        due_date=str(today + timedelta(days=3)),
        estimated_hours="10",
    )
    trim = task(
        "Cut in trim",
        [sam],
        start_date=str(today - timedelta(days=3)),
        due_date=str(today - timedelta(days=1)),
        estimated_hours="4",
    )
    return pm, pat, sam, project, (prime, paint, trim)


def test_the_project_list_filters_and_edits_in_place(client, db, login_as, job):
    pm, pat, sam, project, (prime, paint, trim) = job
    login_as(pm)
    html = client.get(f"/projects/{project.id}/tasks").text
    assert all(t.title in html for t in (prime, paint, trim))
    late = client.get(
        f"/projects/{project.id}/tasks?overdue=1", headers={"HX-Request": "true", "HX-Target": "task-results"}
    ).text
    assert "Cut in trim" in late and "Prime walls" not in late and "<html" not in late
    mine = client.get(f"/projects/{project.id}/tasks?assignee={pat.id}").text
    assert "Prime walls" in mine and "Cut in trim" not in mine
    row = client.post(
        f"/tasks/{trim.id}/inline", data={"field": "due_date", "due_date": "2000-01-01", "version": trim.version}
    )
    assert row.status_code == 422 and "before the start date" in row.text
    row = client.post(
        f"/tasks/{trim.id}/inline",
        data={"field": "progress_percent", "progress_percent": "50", "version": trim.version},
    )
    assert row.status_code == 200 and 'value="50"' in row.text
    refused = client.post(
        f"/tasks/{paint.id}/inline", data={"field": "status", "status": "in_progress", "version": paint.version}
    )
    assert refused.status_code == 422 and "Prime walls" in refused.text and "Start anyway" in refused.text
    forced = client.post(
        f"/tasks/{paint.id}/inline",
        data={"field": "status", "status": "in_progress", "reason": "primer dry", "version": paint.version},
    )
    assert forced.status_code == 200
    assert db.session.get(Task, paint.id).status == "in_progress"


def test_a_row_asks_for_the_reason_its_status_needs_and_says_what_it_will_do(client, db, login_as, job):
    """Blocking needs a reason, and so does reopening: the row's box comes back with the
    button for that status (not "Start anyway"), which sends that status."""
    pm, pat, sam, project, (prime, paint, trim) = job
    login_as(pm)
    asked = client.post(
        f"/tasks/{trim.id}/inline", data={"field": "status", "status": "blocked", "version": trim.version}
    )
    assert asked.status_code == 422 and "Mark blocked" in asked.text and "Start anyway" not in asked.text
    assert '"status": "blocked"' in asked.text
    blocked = client.post(
        f"/tasks/{trim.id}/inline",
        data={"field": "status", "status": "blocked", "reason": "No ladder", "version": trim.version},
    )
    assert blocked.status_code == 200 and db.session.get(Task, trim.id).blocked_reason == "No ladder"
    services.complete_task(pm, prime, override=None)
    db.session.commit()
    reopen = client.post(
        f"/tasks/{prime.id}/inline", data={"field": "status", "status": "pending", "version": prime.version}
    )
    assert reopen.status_code == 422 and ">Reopen</button>" in reopen.text


def test_bulk_actions_are_all_or_nothing_and_name_each_refusal(client, db, login_as, job):
    pm, pat, sam, project, (prime, paint, trim) = job
    login_as(pm)
    ids = [str(t.id) for t in (prime, paint, trim)]
    moved = client.post(
        "/tasks/bulk", data={"action": "shift", "value": "3", "task_ids": ids, "project_id": project.id}
    )
    assert moved.status_code == 200 and "Done: 3 tasks changed." in moved.text
    db.session.expire_all()
    starts = {t.title: t.start_date for t in db.session.scalars(select(Task).where(Task.project_id == project.id))}
    assert starts["Prime walls"] == services.today() + timedelta(days=3)
    # deleting all three: the two others depend on nothing, but Prime walls is depended on
    refused = client.post("/tasks/bulk", data={"action": "delete", "task_ids": ids, "project_id": project.id})
    assert refused.status_code == 422 and "Nothing was changed." in refused.text
    assert "Prime walls: “Paint walls” depends on “Prime walls”" in refused.text
    assert db.session.scalar(select(Task.id).where(Task.id == trim.id)) == trim.id  # not deleted either
    reassigned = client.post(
        "/tasks/bulk", data={"action": "reassign", "value": [str(sam.id)], "task_ids": ids, "project_id": project.id}
    )
    assert reassigned.status_code == 200
    db.session.expire_all()
    assert all(db.session.get(Task, int(i)).assignee_ids == {sam.id} for i in ids)
    bad = client.post("/tasks/bulk", data={"action": "status", "value": "finished", "task_ids": ids})
    assert bad.status_code == 422 and "Choose a status" in bad.text


def test_a_board_move_goes_through_the_rules(client, db, login_as, job):
    pm, pat, sam, project, (prime, paint, trim) = job
    login_as(pat)
    board = client.get(f"/projects/{project.id}/board")
    assert board.status_code == 404  # an employee does not see projects; their day is My day
    login_as(pm)
    html = client.get(f"/projects/{project.id}/board").text
    assert (
        'data-status="in_progress"' in html
        and "Paint walls" in html
        and re.search(r"sortable-1\.15\.7\.min\.[0-9a-f]{10}\.js", html)
    )
    superintendent = make_user("superintendent")
    from app.projects.models import ProjectMembership

    db.session.add(ProjectMembership(project_id=project.id, user_id=superintendent.id))
    db.session.flush()
    login_as(superintendent)
    refused = client.post(f"/tasks/{paint.id}/move", data={"status": "in_progress", "version": paint.version})
    assert refused.status_code == 422 and "waits for" in refused.headers["X-Kibray-Refusal"]
    assert 'data-testid="board-card"' in refused.text
    done = client.post(f"/tasks/{prime.id}/move", data={"status": "completed", "version": prime.version})
    assert done.status_code == 200 and "X-Kibray-Refusal" not in done.headers
    stale = client.post(f"/tasks/{trim.id}/move", data={"status": "blocked", "version": "9"})
    assert stale.status_code == 409


def test_the_company_wide_list_shows_what_each_may_see(client, db, login_as, job):
    pm, pat, sam, project, (prime, paint, trim) = job
    elsewhere_pm = make_user("project_manager_full")
    other = make_project(members=[elsewhere_pm], name="Birch Row")
    services.create_task(elsewhere_pm, other, {"title": "Stain fence"})
    login_as(pm)
    html = client.get("/tasks").text
    assert "Prime walls" in html and "Stain fence" not in html and "Harbor lofts" in html
    # the due-date range (the home card's "Due this week" link): inclusive at both ends
    today = services.today()
    window = client.get(f"/tasks?due_from={today}&due_to={today + timedelta(days=2)}").text
    assert "Prime walls" in window and "Paint walls" not in window and "Cut in trim" not in window
    assert f'value="{today}"' in window  # the filter form shows the range it applied
    assert "Prime walls" in client.get("/tasks?due_from=not-a-date").text  # ignored, not an error
    login_as(make_user("admin"))
    assert "Stain fence" in client.get("/tasks").text


def test_time_analysis_and_its_csv(client, db, login_as, job):
    pm, pat, sam, project, (prime, paint, trim) = job
    services.report_progress(pm, prime, {"actual_hours": "9.5"})
    services.report_progress(pm, trim, {"actual_hours": "2"})
    login_as(pm)
    html = client.get(f"/projects/{project.id}/tasks/time").text
    assert 'data-over="1"' in html and "+1.50" in html
    response = client.get(f"/projects/{project.id}/tasks/time.csv")
    assert response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    by = {(r["level"], r["name"]): r for r in rows}
    assert by[("task", "Prime walls")]["over_estimate"] == "yes" and by[("task", "Prime walls")]["difference"] == "1.50"
    assert by[("task", "Cut in trim")]["difference"] == "-2.00"
    assert by[("person", "Pat Painter")]["actual_hours"] == "9.50"
    assert Decimal(by[("project", "Project")]["estimated_hours"]) == Decimal("22.00")
    services.create_task(pm, project, {"title": '=HYPERLINK("http://x")'})
    text = client.get(f"/projects/{project.id}/tasks/time.csv").text
    assert "'=HYPERLINK" in text  # a spreadsheet reads it as text, never as a formula


def test_closing_shows_what_is_open_and_a_project_without_a_pm_says_it_cannot_start(client, db, login_as, job):
    pm, pat, sam, project, (prime, paint, trim) = job
    login_as(pm)
    page = client.get(f"/projects/{project.id}/close").text
    assert "<strong>3</strong> open tasks" in page and "Prime walls" in page and 'data-testid="confirm-close"' in page
    admin = make_user("admin")
    orphan = make_project(name="No PM yet")
    services.create_task(admin, orphan, {"title": "Walk the site"})
    login_as(admin)
    detail = client.get(f"/projects/{orphan.id}").text
    assert "No PM assigned — it cannot start." in detail
    assert "No PM assigned — this project cannot start." in client.get(f"/projects/{orphan.id}/tasks").text


def test_a_row_changes_who_does_the_task_in_place(client, db, login_as, job):
    """People change in the row: "Change" opens a box per person (they are few here),
    Save sends the ticked ones and the row comes back with the names; an employee is not
    offered it and may not open it."""
    pm, pat, sam, project, (prime, paint, trim) = job
    db.session.commit()
    login_as(pm)
    listing = client.get(f"/projects/{project.id}/tasks").text
    assert f'hx-get="/tasks/{prime.id}/people-editor"' in listing
    editor = client.get(f"/tasks/{prime.id}/people-editor?show_project=0", headers={"HX-Request": "true"}).text
    assert 'data-testid="row-people-editor"' in editor
    assert re.search(rf'value="{pat.id}" checked', editor) and re.search(rf'value="{sam.id}">', editor)
    saved = client.post(
        f"/tasks/{prime.id}/inline",
        data={"field": "assignees", "assigned_to_ids": [str(pat.id), str(sam.id)], "version": prime.version},
    )
    assert saved.status_code == 200 and "Pat Painter, Sam Sander" in saved.text and "Saved." in saved.text
    db.session.expire_all()
    assert db.session.get(Task, prime.id).assignee_ids == {pat.id, sam.id}
    stranger = make_user("client")
    bad = client.post(
        f"/tasks/{prime.id}/inline",
        data={"field": "assignees", "assigned_to_ids": [str(stranger.id)], "version": prime.version},
    )
    assert bad.status_code == 422 and 'data-testid="row-people-editor"' in bad.text
    back = client.get(f"/tasks/{prime.id}/row?show_project=0")
    assert back.status_code == 200 and 'data-testid="row-people-editor"' not in back.text
    login_as(pat)
    mine = client.get("/tasks").text
    assert "people-editor" not in mine
    assert client.get(f"/tasks/{prime.id}/people-editor").status_code == 403
