"""Project templates (issue 8): the three standard ones every install starts with, the
rules of a valid step list, who manages them, and a new project laid out from one —
through the page and through the API."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from app.core.errors import ValidationError
from app.core.permissions import PermissionDenied
from app.project_templates import services
from app.project_templates.models import ProjectTemplate
from app.projects import services as project_services
from app.tasks.models import Task, TaskDependency
from tests.conftest import bearer
from tests.factories import make_client, make_user


def _standard(name: str) -> ProjectTemplate:
    return db_scalar(select(ProjectTemplate).where(ProjectTemplate.name == name))


def db_scalar(stmt):
    from app.extensions import db

    return db.session.scalars(stmt).one()


def _rows(*steps):
    return [dict(zip(("title", "start_day", "days", "estimated_hours", "after"), s, strict=False)) for s in steps]


def test_every_install_starts_with_the_three_standard_templates(db):
    names = [t.name for t in services.templates(make_user("admin"))]
    assert names == ["Cabinet refinish", "Exterior stain", "Interior repaint"]
    interior = _standard("Interior repaint")
    titles = [s["title"] for s in interior.steps]
    assert titles[0] == "Protect floors and furniture" and titles[-1] == "Walkthrough with the client"
    assert [s["after"] for s in interior.steps][1:] == [[n] for n in range(1, len(titles))]


def test_steps_are_checked_every_problem_at_once(db):
    steps, errors = services.clean_steps(
        [
            {"title": "Prime", "start_day": "0", "days": "1"},
            {"title": "", "start_day": "2", "days": "x"},
            {"title": "Paint", "estimated_hours": "-3", "after": "1, 9", "schedule_weight": "140"},
        ]
    )
    assert errors == {
        "step-1-start_day": "The start day must be a whole number from 1 to 730.",
        "step-2-title": "Give the task a title.",
        "step-2-days": "The length in days must be a whole number from 1 to 365.",
        "step-3-estimated_hours": "Hours cannot be negative.",
        "step-3-schedule_weight": "The schedule weight must be from 0 to 100.",
        "step-3-after": "There is no step 9.",
    }


def test_a_loop_of_steps_is_named(db):
    _, errors = services.clean_steps(
        _rows(("Patch", "1", "1", "", "3"), ("Prime", "2", "1", "", "1"), ("Paint", "3", "1", "", "2"))
    )
    assert errors == {"step-1-after": "These steps wait for each other: Patch → Paint → Prime → Patch"}
    _, errors = services.clean_steps(_rows(("Patch", "1", "1", "", "1")))
    assert errors == {"step-1-after": "A step cannot wait for itself."}


def test_blank_rows_are_dropped_and_references_renumbered(db):
    steps, errors = services.clean_steps(
        _rows(
            ("Mask", "1", "1", "2"), ("", "", "", "", ""), ("Spray", "2", "3", "7.5", "1"), ("Clean", "5", "", "", "3")
        )
    )
    assert errors == {}
    assert [(s["title"], s["start_day"], s["days"], s["estimated_hours"], s["after"]) for s in steps] == [
        ("Mask", 1, 1, "2.00", []),
        ("Spray", 2, 3, "7.50", [1]),
        ("Clean", 5, 1, None, [2]),
    ]
    assert services.clean_steps([])[1] == {"steps": "Add at least one step."}


def test_admins_and_full_pms_manage_templates_nobody_else(db):
    data = {"name": "Garage floor", "steps": _rows(("Grind", "1", "1"), ("Epoxy", "2", "1", "", "1"))}
    for role in ("pm_trainee", "designer", "superintendent", "employee", "client"):
        with pytest.raises(PermissionDenied):
            services.create_template(make_user(role), data)
    made = services.create_template(make_user("project_manager_full"), data)
    assert [s["after"] for s in made.steps] == [[], [1]]
    with pytest.raises(ValidationError) as refused:
        services.create_template(make_user("admin"), {**data, "name": "GARAGE floor"})
    assert refused.value.fields == {"name": "A template named GARAGE floor already exists."}


def test_a_project_from_a_template_gets_its_tasks_dated_and_chained(db):
    pm = make_user("project_manager_full")
    interior = _standard("Interior repaint")
    project = project_services.create_project(
        pm,
        {
            "name": "Maple St repaint",
            "client_id": make_client().id,
            "address": "12 Maple St",
            "start_date": "2026-12-07",
            "template_id": str(interior.id),
        },
        [pm.id],
    )
    tasks = list(db.session.scalars(select(Task).where(Task.project_id == project.id).order_by(Task.id)))
    assert [t.title for t in tasks] == [s["title"] for s in interior.steps]
    patch, prime = tasks[1], tasks[2]
    assert (patch.start_date, patch.due_date) == (date(2026, 12, 7), date(2026, 12, 8))  # day 1, 2 days
    assert (prime.start_date, prime.due_date) == (date(2026, 12, 9), date(2026, 12, 9))
    assert prime.estimated_hours == 6 and prime.schedule_weight == 15
    chain = set(db.session.execute(select(TaskDependency.task_id, TaskDependency.depends_on_id)).all())
    assert {(tasks[i].id, tasks[i - 1].id) for i in range(1, len(tasks))} <= chain
    assert project.status == "active"  # its first task, and a PM runs it


def test_a_template_needs_the_start_date_and_must_exist(db):
    pm = make_user("project_manager_full")
    data = {"name": "Oak Ave", "client_id": make_client().id, "address": "1 Oak Ave"}
    interior = _standard("Interior repaint")
    with pytest.raises(ValidationError) as refused:
        project_services.create_project(pm, {**data, "template_id": interior.id}, [pm.id])
    assert refused.value.fields == {
        "start_date": "Set the start date: the tasks of “Interior repaint” are dated from it."
    }
    with pytest.raises(ValidationError) as refused:
        project_services.create_project(pm, {**data, "template_id": 999999, "start_date": "2026-12-07"}, [pm.id])
    assert refused.value.fields == {"template_id": "That project template does not exist."}


def test_new_project_page_offers_templates_and_lays_one_out(client, login_as, db):
    pm = login_as("project_manager_full")
    page = client.get("/projects/new").text
    assert 'name="template_id"' in page and "Exterior stain" in page
    stain = _standard("Exterior stain")
    form = {
        "name": "Birch deck",
        "client_id": str(make_client().id),
        "address": "4 Birch Rd",
        "start_date": "2026-06-01",
        "template_id": str(stain.id),
        "pm_ids_field": "1",
        "pm_ids": str(pm.id),
    }
    response = client.post("/projects", data=form)
    assert response.status_code == 303
    titles = db.session.scalars(select(Task.title).join(Task.project).where(Task.project.has(name="Birch deck")))
    assert sorted(titles) == sorted(s["title"] for s in stain.steps)
    refused = client.post("/projects", data={**form, "name": "Birch fence", "start_date": ""})
    assert refused.status_code == 422
    assert "are dated from it" in refused.text and "Birch fence" in refused.text  # what was typed is kept


def test_template_form_adds_rows_edits_and_refuses_inline(client, login_as, db):
    login_as("admin")
    page = client.get("/project-templates/new").text
    assert page.count('name="step-') == 3 * 7  # three empty rows of seven fields
    form = {"name": "Doors", "rows": "3", "step-1-title": "Sand doors", "step-2-title": "Paint doors"}
    longer = client.post("/project-templates/new", data={**form, "more": "1"})
    assert longer.status_code == 200 and 'value="Sand doors"' in longer.text
    assert longer.text.count('name="step-') == 8 * 7  # the three typed rows, five more
    assert db.session.scalar(select(ProjectTemplate.id).where(ProjectTemplate.name == "Doors")) is None
    refused = client.post("/project-templates/new", data={**form, "step-2-after": "2"})
    assert refused.status_code == 422 and "A step cannot wait for itself." in refused.text
    assert client.post("/project-templates/new", data={**form, "step-2-after": "1"}).status_code == 303
    doors = _standard("Doors")
    assert [s["after"] for s in doors.steps] == [[], [1]]
    edit = client.get(f"/project-templates/{doors.id}/edit").text
    assert 'value="Sand doors"' in edit and 'name="step-2-after" type="text" value="1"' in edit
    saved = client.post(f"/project-templates/{doors.id}/edit", data={**form, "name": "Doors and trim", "version": "1"})
    assert saved.status_code == 303 and doors.name == "Doors and trim"
    stale = client.post(f"/project-templates/{doors.id}/edit", data={**form, "name": "Front doors", "version": "1"})
    assert stale.status_code == 409 and "changed" in stale.text and doors.name == "Doors and trim"
    doors_id = doors.id
    assert client.post(f"/project-templates/{doors_id}/delete", data={"version": "2"}).status_code == 303
    assert db.session.get(ProjectTemplate, doors_id) is None


def test_trainee_sees_templates_but_does_not_manage_them(client, login_as, db):
    login_as("pm_trainee")
    page = client.get("/project-templates").text
    assert "Interior repaint" in page and "New template" not in page and "/edit" not in page
    interior = _standard("Interior repaint")
    assert client.post(f"/project-templates/{interior.id}/delete", data={"version": "1"}).status_code == 403


def test_api_lists_templates_and_creates_a_project_from_one(client, db):
    pm = make_user("project_manager_full")
    headers = bearer(client, pm)
    listed = client.get("/api/project-templates/", headers=headers).json["data"]["results"]
    assert [t["name"] for t in listed] == ["Cabinet refinish", "Exterior stain", "Interior repaint"]
    cabinet = listed[0]
    assert cabinet["steps"][1]["after"] == [1] and cabinet["steps"][0]["estimated_hours"] == "6.00"
    body = {
        "name": "Elm kitchen",
        "client_id": make_client().id,
        "location": {"address": "9 Elm St"},
        "start_date": "2026-05-04",
        "template_id": cabinet["id"],
    }
    created = client.post("/api/projects/", json=body, headers=headers)
    assert created.status_code == 201, created.json
    tasks = client.get(f"/api/tasks/?project_id={created.json['data']['id']}", headers=headers).json
    assert len(tasks["data"]["results"]) == len(cabinet["steps"])
    missing = client.post("/api/projects/", json={**body, "name": "Elm bath", "start_date": None}, headers=headers)
    assert missing.status_code == 400 and "start_date" in missing.json["error"]["details"]
    employee = bearer(client, make_user("employee"))
    assert client.get("/api/project-templates/", headers=employee).status_code == 403
