"""The task list's people controls (the Assignee filter and the bulk bar's reassign
"Person"): a plain <select> while the people a task may be given to are at most
PICKER_LIMIT, a search-as-you-type picker past it, whose suggestions come from
/tasks/people-options (task.view, only the people the user may assign) — and which
works without JavaScript (the page, or the bulk action, resolves the typed name)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import insert

from app.auth.models import User
from app.projects.queries import OPTIONS_LIMIT, PICKER_LIMIT
from app.tasks import queries, services
from app.tasks.models import Task
from tests.factories import make_project, make_user

FILTER_SELECT = '<select id="f-assignee" name="assignee"'
BULK_SELECT = '<select id="f-bulk-person" name="value"'


def _many_employees(db, n: int = PICKER_LIMIT + 5, prefix: str = "Bulk Employee") -> None:
    """n active employees (anyone may be given a task) in one statement."""
    db.session.execute(
        insert(User),
        [
            {
                "username": f"bulk-emp-{i:03d}",
                "email": f"bulkemp{i}@example.com",
                "full_name": f"{prefix} {i:03d}",
                "role": "employee",
                "is_active_flag": True,
                "must_change_password": False,
                "session_epoch": 0,
            }
            for i in range(n)
        ],
    )


@pytest.fixture()
def job(db):
    pm = make_user("project_manager_full", full_name="Paula Martinez")
    pat, sam = make_user("employee", full_name="Pat Painter"), make_user("employee", full_name="Sam Sander")
    project = make_project(members=[pm], name="Harbor lofts")
    today = services.today()

    def task(title, people=()):
        return services.create_task(
            pm, project, {"title": title, "due_date": str(today + timedelta(days=2))}, [p.id for p in people], []
        )

    tasks = (task("Prime walls", [pat]), task("Paint walls", [pat]), task("Cut in trim", [sam]))
    return pm, pat, sam, project, tasks


def _live_state(html: str) -> str:
    return re.search(r"<div hidden data-live-state>(.*?)</div>", html, re.S).group(1)


# ---------------------------------------------------------------- select or picker


def test_few_people_keep_the_plain_selects(client, login_as, job):
    pm, pat, sam, project, _ = job
    login_as(pm)
    for url in (f"/projects/{project.id}/tasks", "/tasks"):
        page = client.get(url).text
        assert FILTER_SELECT in page and BULK_SELECT in page, url
        assert f'<option value="{pat.id}">Pat Painter</option>' in page
        assert "data-picker>" not in page


def test_many_people_get_pickers_and_no_option_per_person(client, login_as, db, job):
    pm, pat, sam, project, _ = job
    _many_employees(db)
    login_as(pm)
    for url, source in (
        (f"/projects/{project.id}/tasks", f"/tasks/people-options?project_id={project.id}"),
        ("/tasks", "/tasks/people-options"),
    ):
        page = client.get(url).text
        assert FILTER_SELECT not in page and BULK_SELECT not in page, url
        assert "Bulk Employee" not in page and "Pat Painter</option>" not in page  # none sent until asked for
        assert page.count("<option") < PICKER_LIMIT  # only the statuses and actions
        # the filter: a hidden `assignee` (what the form and live_state carry), a box
        assert re.search(r'<input type="hidden" id="f-assignee" name="assignee" value=""', page)
        assert 'name="assignee_search" value="" placeholder="Anyone"' in page
        assert f'hx-get="{source}"' in page
        # the bulk bar: a hidden `value` (what bulk.py reads), in a fieldset app.js disables
        # with the reassign action's other controls
        bulk = re.search(r'<fieldset class="picker-set bulk-picker" data-bulk-for="reassign".*?</fieldset>', page, re.S)
        assert bulk and 'name="value" value="" data-picker-value' in bulk.group(0)
        assert 'hx-include="unset"' in bulk.group(0)  # not the bulk form's live state
    # the fragment a filter or a live refresh swaps has the bulk picker too, not the people
    fragment = client.get(
        f"/projects/{project.id}/tasks?status=", headers={"HX-Request": "true", "HX-Target": "task-results"}
    ).text
    assert 'data-bulk-for="reassign"' in fragment and "Bulk Employee" not in fragment


def test_the_filter_reacts_to_a_choice_not_to_the_typing(client, login_as, db, job):
    """The picker's box fires `change` when left; the list refreshes on the chosen id
    (app.js fires `change` on the hidden input), not on the text."""
    pm, *_ = job
    login_as(pm)
    form = re.search(r'<form id="task-filters".*?>', client.get("/tasks").text, re.S).group(0)
    trigger = re.search(r'hx-trigger="([^"]+)"', form).group(1)
    assert "#task-filters [data-picker-value]" in trigger and "#task-filters select" in trigger
    assert not re.search(r"(^|, )change($|,)", trigger)  # not every change under the form


def test_the_chosen_person_is_named_in_the_box(client, login_as, db, job):
    pm, pat, sam, project, _ = job
    _many_employees(db)
    login_as(pm)
    page = client.get(f"/projects/{project.id}/tasks?assignee={pat.id}").text
    assert f'name="assignee" value="{pat.id}"' in page
    assert 'name="assignee_search" value="Pat Painter"' in page
    # someone the user may not assign is not named (an id is no way to read names)
    stranger = make_user("designer", full_name="Dora Stranger")
    page = client.get(f"/projects/{project.id}/tasks?assignee={stranger.id}").text
    assert "Dora Stranger" not in page


def test_the_choices_are_the_assignable_people_bounded(db, job):
    pm, pat, sam, project, _ = job
    make_user("designer", full_name="Dora Elsewhere")  # not on the team, not an employee
    few = queries.people_choices(pm, project)
    # every active employee, and the project's team
    assert [p.name for p in few.options] == ["Pat Painter", "Paula Martinez", "Sam Sander"]
    _many_employees(db)
    many = queries.people_choices(pm, project, pat.id)
    assert many.options is None and many.chosen == "Pat Painter"
    everyone = 3 + PICKER_LIMIT + 5  # the three, and _many_employees
    assert queries.people_choices(pm, project, limit=everyone).options
    assert queries.people_choices(pm, None).options is None  # the company-wide list too


# ---------------------------------------------------------------- the suggestions


def test_options_search_name_and_username_and_stop_at_the_limit(client, login_as, db, job):
    pm, pat, sam, project, _ = job
    _many_employees(db, 30)
    make_user("employee", full_name="Zed Quill", username="zquill")
    login_as(pm)
    answer = client.get(f"/tasks/people-options?project_id={project.id}&assignee_search=bulk")
    assert answer.status_code == 200
    assert answer.text.count("data-pick=") == OPTIONS_LIMIT and "type more of the name" in answer.text
    assert "Zed Quill" in client.get("/tasks/people-options?value_search=QUILL").text  # username, any case
    one = client.get(f"/tasks/people-options?project_id={project.id}&assignee_search=pat+pa").text
    assert re.findall(r'data-label="([^"]+)"', one) == ["Pat Painter"]
    # a suggestion's link (without JavaScript) filters the list by that person
    assert f'href="/projects/{project.id}/tasks?assignee={pat.id}"' in one
    literal = client.get("/tasks/people-options?assignee_search=%25").text  # `%` is taken literally
    assert "data-pick=" not in literal and "No match" in literal


def test_options_are_only_the_people_the_user_may_assign(client, login_as, db, job):
    pm, pat, sam, project, _ = job
    elsewhere = make_user("designer", full_name="Dana Elsewhere")
    make_project(members=[elsewhere], name="Birch Row")  # a team the PM is not on
    teammate = make_user("designer", full_name="Dana Teammate")
    from app.projects.models import ProjectMembership

    db.session.add(ProjectMembership(project_id=project.id, user_id=teammate.id))
    make_user("employee", full_name="Dana Gone", is_active_flag=False)
    make_user("client", full_name="Dana Client")
    db.session.flush()
    login_as(pm)
    for url in (
        f"/tasks/people-options?project_id={project.id}&assignee_search=dana",
        "/tasks/people-options?value_search=dana",
    ):
        assert re.findall(r'data-label="([^"]+)"', client.get(url).text) == ["Dana Teammate"], url
    login_as("admin")  # an admin may give tasks to anyone on any team
    names = re.findall(r'data-label="([^"]+)"', client.get("/tasks/people-options?assignee_search=dana").text)
    assert names == ["Dana Elsewhere", "Dana Teammate"]
    assert set(
        re.findall(
            r'data-label="([^"]+)"',
            client.get(f"/tasks/people-options?project_id={project.id}&assignee_search=dana").text,
        )
    ) == {"Dana Teammate"}


def test_options_need_task_view_and_a_project_the_user_sees(client, login_as, db, job):
    pm, pat, sam, project, _ = job
    theirs = make_project(name="Birch Row")
    login_as(pm)
    assert client.get(f"/tasks/people-options?project_id={theirs.id}&assignee_search=pat").status_code == 404
    login_as("client")
    answer = client.get("/tasks/people-options?assignee_search=pat")
    assert answer.status_code == 403 and "Pat Painter" not in answer.text
    login_as(pat)  # an employee sees their tasks, not the project (as its Tasks tab)
    assert "Sam Sander" in client.get("/tasks/people-options?assignee_search=sam").text
    assert client.get(f"/tasks/people-options?project_id={project.id}&assignee_search=sam").status_code == 404


# ---------------------------------------------------------------- filtering


def test_filtering_by_the_pickers_id(client, login_as, db, job):
    pm, pat, sam, project, _ = job
    _many_employees(db)
    login_as(pm)
    html = client.get(
        f"/projects/{project.id}/tasks?assignee={pat.id}", headers={"HX-Request": "true", "HX-Target": "task-results"}
    ).text
    assert "Prime walls" in html and "Paint walls" in html and "Cut in trim" not in html
    assert f'<input type="hidden" name="assignee" value="{pat.id}">' in _live_state(html)  # a live refresh keeps it
    everywhere = client.get(f"/tasks?assignee={sam.id}").text
    assert "Cut in trim" in everywhere and "Prime walls" not in everywhere


def test_without_javascript_the_typed_name_filters(client, login_as, db, job):
    """The box is submitted with the form: one match filters by that person, several are
    offered as links that choose (the other filters kept), a blank box means anyone."""
    pm, pat, sam, project, _ = job
    _many_employees(db)
    login_as(pm)
    url = f"/projects/{project.id}/tasks"

    one = client.get(f"{url}?assignee=&assignee_search=pat+pain&status=open").text
    assert "Prime walls" in one and "Cut in trim" not in one
    assert f'name="assignee" value="{pat.id}"' in one and 'name="assignee_search" value="Pat Painter"' in one
    state = _live_state(one)
    assert f'name="assignee" value="{pat.id}"' in state and "assignee_search" not in state

    several = client.get(f"{url}?assignee=&assignee_search=bulk+employee+00&status=").text
    assert "Cut in trim" in several and "Prime walls" in several  # not filtered until one is chosen
    assert 'name="assignee_search" value="bulk employee 00"' in several  # what was typed stays
    links = re.findall(r'<a href="([^"]+)" hx-boost="false" data-pick="\d+"', several)
    assert len(links) == 10 and all("status=" in link and "assignee=" in link for link in links)
    assert 'name="assignee"' not in _live_state(several)

    nobody = client.get(f"{url}?assignee_search=nobody+at+all").text
    assert "No match." in nobody and "Cut in trim" in nobody

    kept = client.get(f"{url}?assignee={sam.id}&assignee_search=Sam+Sander").text
    assert "Cut in trim" in kept and "Prime walls" not in kept  # the chosen one still matches

    cleared = client.get(f"{url}?assignee={sam.id}&assignee_search=").text
    assert "Prime walls" in cleared and "Cut in trim" in cleared  # an emptied box: anyone

    exact = client.get(f"{url}?assignee_search=paula+martinez").text  # a teammate, whole name
    assert 'name="assignee_search" value="Paula Martinez"' in exact and "No tasks match." in exact


# ---------------------------------------------------------------- bulk reassign


def test_bulk_reassign_through_the_pickers_value(client, login_as, db, job):
    pm, pat, sam, project, tasks = job
    _many_employees(db)
    login_as(pm)
    ids = [str(t.id) for t in tasks]
    form = {"action": "reassign", "task_ids": ids, "project_id": project.id}
    done = client.post("/tasks/bulk", data=form | {"value": str(sam.id)})  # app.js: the box's text left out
    assert done.status_code == 200 and "Done: 3 tasks changed." in done.text
    assert 'data-bulk-for="reassign"' in done.text  # the list comes back with the picker
    db.session.expire_all()
    assert all(db.session.get(Task, int(i)).assignee_ids == {sam.id} for i in ids)
    kept = client.post("/tasks/bulk", data=form | {"value": str(pat.id), "value_search": "Pat Painter"})
    assert kept.status_code == 200
    db.session.expire_all()
    assert all(db.session.get(Task, int(i)).assignee_ids == {pat.id} for i in ids)
    empty = client.post("/tasks/bulk", data=form | {"value": "", "value_search": ""})
    assert empty.status_code == 422 and "Choose who does the tasks." in empty.text


def test_without_javascript_the_typed_person_is_resolved_for_bulk_reassign(client, login_as, db, job):
    pm, pat, sam, project, tasks = job
    _many_employees(db)
    login_as(pm)
    ids = [str(t.id) for t in tasks]
    form = {"action": "reassign", "task_ids": ids, "project_id": project.id, "value": ""}

    one = client.post("/tasks/bulk", data=form | {"value_search": "sam sand"})
    assert one.status_code == 200 and "Done: 3 tasks changed." in one.text
    db.session.expire_all()
    assert all(db.session.get(Task, int(i)).assignee_ids == {sam.id} for i in ids)

    several = client.post("/tasks/bulk", data=form | {"value_search": "bulk employee"})
    assert several.status_code == 422 and "Several people match “bulk employee”" in several.text
    assert 'name="value_search" value="bulk employee"' in several.text  # what was typed stays
    nobody = client.post("/tasks/bulk", data=form | {"value_search": "Dora Stranger"})
    assert nobody.status_code == 422 and "No one you may give tasks to matches" in nobody.text
    db.session.expire_all()
    assert all(db.session.get(Task, int(i)).assignee_ids == {sam.id} for i in ids)  # nothing changed

    # the company-wide list's bulk bar resolves among the people of the PM's projects
    everywhere = client.post("/tasks/bulk", data={**form, "project_id": "", "value_search": "pat painter"})
    assert everywhere.status_code == 200
    db.session.expire_all()
    assert all(db.session.get(Task, int(i)).assignee_ids == {pat.id} for i in ids)


def test_another_action_ignores_the_person_box(client, login_as, db, job):
    """app.js disables the Person fieldset for other actions; a box sent anyway (without
    JavaScript every control is sent) does not get in the way of a shift."""
    pm, pat, sam, project, tasks = job
    _many_employees(db)
    login_as(pm)
    ids = [str(t.id) for t in tasks]
    moved = client.post(
        "/tasks/bulk",
        data={"action": "shift", "task_ids": ids, "project_id": project.id, "value": "2", "value_search": "bulk"},
    )
    assert moved.status_code == 200 and "Done: 3 tasks changed." in moved.text
