"""A task's own form in the browser (tasks/form_routes.py): a PM adds a task to a project
and edits every field of one — people, what it waits for, its checklist — with the
service's rules shown inline, a stale save answered with what was saved meanwhile, and a
task deleted unless others depend on it. The form is submitted as a browser would (the
rendered inputs read back, tests/test_notification_prefs_page.browser_form)."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.tasks import services
from app.tasks.form_routes import _checklist, _checklist_text
from app.tasks.models import Task
from tests.factories import make_project, make_user
from tests.test_notification_prefs_page import _Form

FRAGMENT = {"HX-Request": "true", "HX-Target": "task-form"}


class _TaskForm(_Form):
    """The task form's fields as a browser sends them (selected options, textareas too)."""

    def __init__(self):
        super().__init__()
        self.select, self.area = None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and a.get("id") == "task-form":
            self.inside = True
            return
        if not self.inside:
            return
        if tag == "select":
            self.select = a.get("name")
        elif tag == "option" and self.select and "selected" in a:
            self.fields.add(self.select, a.get("value", ""))
        elif tag == "textarea":
            self.area = a.get("name")
            self.fields.add(self.area, "")
        elif tag == "input":
            super().handle_starttag(tag, attrs)

    def handle_data(self, data):
        if self.area:
            self.fields[self.area] = self.fields[self.area] + data

    def handle_endtag(self, tag):
        if tag == "select":
            self.select = None
        elif tag == "textarea":
            self.area = None
        elif tag == "form":
            self.inside = False


def form_of(html: str):
    parser = _TaskForm()
    parser.feed(html)
    return parser.fields


@pytest.fixture()
def job(db):
    pm = make_user("project_manager_full")
    pat, sam = make_user("employee", full_name="Pat Painter"), make_user("employee", full_name="Sam Sander")
    project = make_project(members=[pm], name="Harbor lofts")
    prime = services.create_task(pm, project, {"title": "Prime walls"}, [pat.id])
    return pm, pat, sam, project, prime


def test_a_pm_adds_a_task_with_people_dependencies_and_a_checklist(client, db, login_as, job):
    pm, pat, sam, project, prime = job
    login_as(pm)
    listing = client.get(f"/projects/{project.id}/tasks").text
    assert f'href="/projects/{project.id}/tasks/new" data-testid="add-task"' in listing
    form = form_of(client.get(f"/projects/{project.id}/tasks/new").text)
    today = services.today()
    form["title"] = "Paint walls"
    form["start_date"], form["due_date"] = str(today), str(today + timedelta(days=2))
    form["estimated_hours"], form["priority"] = "12.5", "high"
    form.setlist("assigned_to_ids", [str(pat.id), str(sam.id)])
    form.setlist("dependency_ids", [str(prime.id)])
    form["checklist"] = "Mask windows\n[x] Sand patches\n\n"
    saved = client.post(f"/projects/{project.id}/tasks/new", data=form)
    assert saved.status_code == 303
    task = db.session.scalar(select(Task).where(Task.title == "Paint walls"))
    assert saved.headers["Location"].endswith(f"/tasks/{task.id}")
    assert task.priority == "high" and task.estimated_hours == Decimal("12.50")
    assert task.assignee_ids == {pat.id, sam.id} and task.dependency_ids == [prime.id]
    assert task.checklist == [{"item": "Mask windows", "checked": False}, {"item": "Sand patches", "checked": True}]
    assert task.due_date == today + timedelta(days=2)


def test_bad_input_comes_back_inline_and_nothing_is_written(client, db, login_as, job):
    pm, pat, sam, project, prime = job
    login_as(pm)
    form = form_of(client.get(f"/projects/{project.id}/tasks/new").text)
    form["title"] = "Two coats"
    form["start_date"], form["due_date"] = "2026-12-10", "2026-12-01"
    form["progress_percent"] = "140"
    answer = client.post(f"/projects/{project.id}/tasks/new", data=form, headers=FRAGMENT)
    assert answer.status_code == 422
    assert answer.text.lstrip().startswith("<form") and 'data-testid="form-errors"' in answer.text
    assert re.search(r'data-error-for="due_date"', answer.text) and re.search(
        r'data-error-for="progress_percent"', answer.text
    )
    assert 'value="Two coats"' in answer.text  # what was typed stays
    assert db.session.scalar(select(Task).where(Task.title == "Two coats")) is None


def test_a_pm_edits_every_field_and_a_loop_is_named(client, db, login_as, job):
    pm, pat, sam, project, prime = job
    paint = services.create_task(pm, project, {"title": "Paint walls", "checklist": ["Cut in"]}, [pat.id], [prime.id])
    db.session.commit()
    login_as(pm)
    form = form_of(client.get(f"/tasks/{prime.id}/edit").text)
    assert form["title"] == "Prime walls" and form["version"] == str(prime.version)
    form.setlist("dependency_ids", [str(paint.id)])  # Prime waits for Paint, which waits for Prime
    looped = client.post(f"/tasks/{prime.id}/edit", data=form, headers=FRAGMENT)
    assert looped.status_code == 422 and "Prime walls → Paint walls → Prime walls" in looped.text
    form = form_of(client.get(f"/tasks/{paint.id}/edit").text)
    assert form["checklist"] == "Cut in" and form.getlist("dependency_ids") == [str(prime.id)]
    form["title"], form["notes"] = "Paint walls, two coats", "Eggshell in the hall"
    form["checklist"] = "[x] Cut in\nRoll"
    form.setlist("assigned_to_ids", [str(sam.id)])
    form.setlist("dependency_ids", [])
    assert client.post(f"/tasks/{paint.id}/edit", data=form).status_code == 303
    db.session.expire_all()
    task = db.session.get(Task, paint.id)
    assert task.title == "Paint walls, two coats" and task.notes == "Eggshell in the hall"
    assert task.assignee_ids == {sam.id} and task.dependency_ids == []
    assert task.checklist == [{"item": "Cut in", "checked": True}, {"item": "Roll", "checked": False}]


def test_a_stale_edit_shows_what_was_saved_meanwhile_and_overwrites_nothing(client, db, login_as, job):
    pm, pat, sam, project, prime = job
    db.session.commit()
    login_as(pm)
    form = form_of(client.get(f"/tasks/{prime.id}/edit").text)
    services.update_task(pm, prime, {"title": "Prime every wall"}, partial=True)  # another window
    db.session.commit()
    form["title"] = "Prime the hall"
    stale = client.post(f"/tasks/{prime.id}/edit", data=form, headers=FRAGMENT)
    assert stale.status_code == 409 and 'data-testid="changed-meanwhile"' in stale.text
    assert "Prime every wall" in stale.text and 'value="Prime the hall"' in stale.text
    db.session.expire_all()
    assert db.session.get(Task, prime.id).title == "Prime every wall"
    again = form_of(stale.text)
    assert client.post(f"/tasks/{prime.id}/edit", data=again).status_code == 303
    db.session.expire_all()
    assert db.session.get(Task, prime.id).title == "Prime the hall"


def test_a_task_others_wait_for_is_not_deleted_the_page_says_why(client, db, login_as, job):
    pm, pat, sam, project, prime = job
    paint = services.create_task(pm, project, {"title": "Paint walls"}, [], [prime.id])
    db.session.commit()
    login_as(pm)
    page = client.get(f"/tasks/{prime.id}").text
    assert 'data-testid="edit-task"' in page and 'data-testid="confirm-delete"' in page
    refused = client.post(f"/tasks/{prime.id}/delete", data={"version": prime.version}, follow_redirects=True)
    assert "“Paint walls” depends on “Prime walls”" in refused.text
    assert db.session.get(Task, prime.id) is not None
    paint_id, project_id = paint.id, project.id
    gone = client.post(f"/tasks/{paint_id}/delete", data={"version": paint.version})
    assert gone.status_code == 303 and gone.headers["Location"].endswith(f"/projects/{project_id}/tasks")
    db.session.expire_all()
    assert db.session.get(Task, paint_id) is None


def test_an_employee_reports_progress_from_my_day_not_the_form(client, db, login_as, job):
    pm, pat, sam, project, prime = job
    db.session.commit()
    login_as(pat)
    page = client.get(f"/tasks/{prime.id}").text
    assert 'data-testid="edit-task"' not in page and 'data-testid="confirm-delete"' not in page
    assert client.get(f"/tasks/{prime.id}/edit").status_code == 403
    assert client.post(f"/tasks/{prime.id}/edit", data={"title": "Mine now"}).status_code == 403


def test_checklist_lines_round_trip():
    items = _checklist(" Mask windows \n[x] Sand\n[X]   Caulk\n\n")
    assert items == [
        {"item": "Mask windows", "checked": False},
        {"item": "Sand", "checked": True},
        {"item": "Caulk", "checked": True},
    ]
    assert _checklist(_checklist_text(items)) == items
