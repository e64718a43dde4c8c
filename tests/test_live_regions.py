"""Regions that redraw on a live event are wrappers that stay (hx-swap innerHTML, a
refresh queued while another is in flight is kept): the task list, the project list and
a comment thread. The page carries the wrapper once; a request aimed at it (HX-Target:
a filter, a page, a bulk action, a post, the live refresh) gets only its content, with
the query of what it shows for the next live refresh to ask again."""

from __future__ import annotations

import re

import pytest

from app.tasks import services
from tests.factories import make_project, make_user


def _aimed_at(target: str) -> dict:
    return {"HX-Request": "true", "HX-Target": target}


def _wrapper(html: str, element_id: str) -> str:
    """The opening tag of the element with `element_id` (exactly one in `html`)."""
    tags = re.findall(r'<[a-z]+ [^>]*id="' + re.escape(element_id) + r'"[^>]*>', html)
    assert len(tags) == 1, tags
    return tags[0]


def _live_state(html: str) -> dict:
    block = re.search(r"<div hidden data-live-state>(.*?)</div>", html, re.S)
    assert block, "no live state"
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', block.group(1)))


def _assert_live_wrapper(tag: str, event: str) -> None:
    assert f'hx-trigger="{event} from:body"' in tag
    assert 'hx-sync="this:queue last"' in tag and 'hx-swap="innerHTML"' in tag
    assert "outerHTML" not in tag


@pytest.fixture()
def job(db):
    pm = make_user("project_manager_full")
    project = make_project(members=[pm], name="Harbor lofts")
    for title in ("Prime walls", "Cut in trim", "Trim doors"):
        services.create_task(pm, project, {"title": title}, [], [])
    return pm, project


def test_the_task_list_redraws_inside_a_wrapper_that_stays(client, login_as, job):
    pm, project = job
    login_as(pm)
    page = client.get(f"/projects/{project.id}/tasks?q=trim&sort=title").text
    tag = _wrapper(page, "task-results")
    _assert_live_wrapper(tag, "kibray:tasks")
    assert f'hx-get="/projects/{project.id}/tasks"' in tag and 'hx-include="find [data-live-state]"' in tag
    assert 'hx-target="#task-results" hx-swap="innerHTML"' in page  # the filters swap the content
    assert _live_state(page) == {"q": "trim", "sort": "title"}

    # what the filters, the pager and the live refresh get: the content, never the wrapper
    fragment = client.get(f"/projects/{project.id}/tasks?q=doors", headers=_aimed_at("task-results")).text
    assert 'id="task-results"' not in fragment and "<html" not in fragment
    assert "Trim doors" in fragment and "Cut in trim" not in fragment
    assert _live_state(fragment) == {"q": "doors"}

    everywhere = client.get("/tasks?q=trim").text
    _assert_live_wrapper(_wrapper(everywhere, "task-results"), "kibray:tasks")
    assert 'hx-get="/tasks"' in _wrapper(everywhere, "task-results")


def test_a_bulk_action_answers_the_list_with_the_filters_it_showed(client, login_as, job):
    pm, project = job
    login_as(pm)
    ids = re.findall(r'name="task_ids" value="(\d+)"', client.get(f"/projects/{project.id}/tasks?q=trim").text)
    assert len(ids) == 2
    # the bulk form carries the list's live state along (hx-include), as htmx sends it
    answer = client.post(
        "/tasks/bulk",
        data={"action": "status", "value": "in_progress", "task_ids": ids, "project_id": project.id, "q": "trim"},
        headers=_aimed_at("task-results"),
    )
    assert answer.status_code == 200 and "Done: 2 tasks changed." in answer.text
    assert 'id="task-results"' not in answer.text
    assert "Prime walls" not in answer.text and _live_state(answer.text) == {"q": "trim"}


def test_the_project_list_redraws_inside_a_wrapper_that_stays(client, login_as, db):
    login_as("admin")
    for n in range(3):
        make_project(name=f"Deck stain {n}")
    page = client.get("/projects?q=deck&sort=name&dir=desc").text
    tag = _wrapper(page, "project-results")
    _assert_live_wrapper(tag, "kibray:projects")
    assert 'hx-get="/projects"' in tag and 'hx-include="find [data-live-state]"' in tag
    assert _live_state(page) == {"q": "deck", "sort": "name", "dir": "desc"}
    fragment = client.get("/projects?q=deck&page=1", headers=_aimed_at("project-results")).text
    assert 'id="project-results"' not in fragment and "<html" not in fragment and "Deck stain 2" in fragment
    assert _live_state(fragment) == {"q": "deck"}  # page 1 is the default: not repeated


def test_a_comment_thread_redraws_inside_a_wrapper_that_stays(client, login_as, job):
    pm, project = job
    login_as(pm)
    task_id = int(re.findall(r'name="task_ids" value="(\d+)"', client.get(f"/projects/{project.id}/tasks").text)[0])
    wrapper_id = f"comments-task-{task_id}"
    slot = client.get(f"/tasks/{task_id}/comments").text  # the page's slot loads the wrapper
    _assert_live_wrapper(_wrapper(slot, wrapper_id), "kibray:comments")
    assert slot.count('data-testid="comments"') == 1
    assert f'hx-target="#{wrapper_id}" hx-swap="innerHTML"' in slot

    posted = client.post(f"/tasks/{task_id}/comments", data={"body": "Tape first"}, headers=_aimed_at(wrapper_id))
    assert posted.status_code == 200 and "Tape first" in posted.text
    assert f'id="{wrapper_id}"' not in posted.text and posted.text.count('data-testid="comments"') == 1
    refreshed = client.get(f"/tasks/{task_id}/comments", headers=_aimed_at(wrapper_id)).text
    assert f'id="{wrapper_id}"' not in refreshed and "Tape first" in refreshed
    project_slot = client.get(f"/projects/{project.id}/comments").text
    _assert_live_wrapper(_wrapper(project_slot, f"comments-project-{project.id}"), "kibray:comments")
