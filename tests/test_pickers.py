"""Pickers whose options grow with the company (the project list's PM filter): a plain
<select> up to PICKER_LIMIT options, a search-as-you-type box past it, whose
suggestions come from a permission-checked fragment — and which works without
JavaScript (the page resolves the typed text)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import insert

from app.auth.models import User
from app.core.roles import PM_TRAINEE, PROJECT_MANAGER
from app.projects import queries
from tests.factories import make_client, make_project, make_user


def _many_pms(db, n: int, prefix: str = "Bulk") -> None:
    """n active PMs in one statement (faster than the factory)."""
    db.session.execute(
        insert(User),
        [
            {
                "username": f"bulkpm-{i:03d}",
                "email": f"bulkpm{i}@example.com",
                "full_name": f"{prefix} Manager {i:03d}",
                "role": PROJECT_MANAGER,
                "is_active_flag": True,
                "must_change_password": False,
                "session_epoch": 0,
            }
            for i in range(n)
        ],
    )


def test_few_pms_keep_the_plain_select(client, login_as, db):
    login_as("admin")
    make_user(PROJECT_MANAGER, full_name="Paula Martinez")
    page = client.get("/projects").text
    assert '<select id="f-pm" name="pm"' in page
    assert "data-picker>" not in page


def test_many_pms_get_a_picker_and_a_smaller_page(client, login_as, db):
    login_as("admin")
    _many_pms(db, queries.PICKER_LIMIT + 10)
    page = client.get("/projects").text
    assert '<select id="f-pm"' not in page
    assert re.search(r'<input type="hidden" id="f-pm" name="pm" value=""', page)
    assert 'hx-get="/projects/pm-options"' in page
    assert "Bulk Manager" not in page  # no option is sent until asked for


def test_the_chosen_pm_is_named_in_the_box(client, login_as, db):
    login_as("admin")
    _many_pms(db, queries.PICKER_LIMIT + 1)
    chosen = make_user(PM_TRAINEE, full_name="Tom Reyes")
    page = client.get(f"/projects?pm={chosen.id}").text
    assert f'name="pm" value="{chosen.id}"' in page
    assert 'name="pm_search" value="Tom Reyes"' in page


def test_options_search_name_and_username_and_stop_at_the_limit(client, login_as, db):
    login_as("admin")
    _many_pms(db, 30)
    make_user(PROJECT_MANAGER, full_name="Zed Quill", username="zquill")
    make_user(PROJECT_MANAGER, full_name="Old Hand", is_active_flag=False)
    make_user("designer", full_name="Zed Designer")
    answer = client.get("/projects/pm-options?pm_search=bulk")
    assert answer.status_code == 200
    assert answer.text.count("data-pick=") == queries.OPTIONS_LIMIT
    assert "type more of the name" in answer.text
    assert "Zed Quill" in client.get("/projects/pm-options?pm_search=QUILL").text  # username, any case
    only = client.get("/projects/pm-options?pm_search=zed").text
    assert "Zed Quill" in only and "Zed Designer" not in only  # PMs and trainees only
    assert "Old Hand" not in client.get("/projects/pm-options?pm_search=old").text  # active only
    literal = client.get("/projects/pm-options?pm_search=%25").text  # `%` is taken literally
    assert "data-pick=" not in literal and "No match" in literal


@pytest.mark.parametrize(
    "role, status",
    [("admin", 200), (PROJECT_MANAGER, 200), (PM_TRAINEE, 200), ("superintendent", 200)]
    + [("designer", 403), ("employee", 403), ("client", 403)],
)
def test_options_need_team_view(client, login_as, db, role, status):
    make_user(PROJECT_MANAGER, full_name="Paula Martinez")
    login_as(role)
    answer = client.get("/projects/pm-options?pm_search=paula")
    assert answer.status_code == status
    assert ("Paula Martinez" in answer.text) is (status == 200)


def test_options_service_refuses_without_team_view(db):
    from app.core.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        queries.pm_options(make_user("client"), "a")
    with pytest.raises(PermissionDenied):
        queries.pm_filter_choices(make_user("designer"), None)


def test_without_javascript_the_typed_name_filters(client, login_as, db):
    """The box is submitted with the form: one match filters by that PM, several are
    offered as links that choose, an emptied box means any PM."""
    login_as("admin")
    _many_pms(db, queries.PICKER_LIMIT + 1)
    company = make_client()
    paula = make_user(PROJECT_MANAGER, full_name="Paula Martinez")
    make_project(client=company, name="Paula's deck", members=[paula])
    make_project(client=company, name="Someone else's fence")

    one = client.get("/projects?pm=&pm_search=paula+mart").text
    assert "Paula&#39;s deck" in one and "Someone else" not in one
    assert f'name="pm" value="{paula.id}"' in one

    several = client.get("/projects?pm=&pm_search=bulk+manager+00&status=all").text
    assert "Someone else" in several  # not filtered until one is chosen
    links = re.findall(r'<a href="([^"]+)" hx-boost="false" data-pick="\d+"', several)
    assert len(links) == 10 and all("status=all" in link and "pm=" in link for link in links)

    kept = client.get(f"/projects?pm={paula.id}&pm_search=Paula+Martinez").text
    assert "Someone else" not in kept  # the chosen PM still matches the text

    cleared = client.get(f"/projects?pm={paula.id}&pm_search=").text
    assert "Someone else" in cleared


def test_the_typed_name_is_ignored_for_roles_without_team_view(client, login_as, db):
    company = make_client()
    login_as("client", client=company)
    make_project(client=company, name="Their deck")
    answer = client.get("/projects?pm_search=paula")
    assert answer.status_code == 200 and "Their deck" in answer.text


# ---------------------------------------------------------------- the project form's client


def _many_clients(db, n: int) -> None:
    from app.clients.models import Client

    db.session.execute(
        insert(Client), [{"name": f"Bulk Client {i:03d}", "email": f"bulk{i}@clients.example"} for i in range(n)]
    )


def test_few_clients_keep_the_select_many_get_a_picker(client, login_as, db):
    login_as("admin")
    make_client(name="Hughes Residence")
    assert '<select id="f-client_id"' in client.get("/projects/new").text
    _many_clients(db, queries.PICKER_LIMIT + 1)
    page = client.get("/projects/new").text
    assert '<select id="f-client_id"' not in page and "Bulk Client" not in page
    assert 'hx-get="/projects/client-options"' in page
    assert re.search(r'<label for="f-client_id_search">Client <span class="req"', page)


def test_client_options_search_and_need_client_view(client, login_as, db):
    _many_clients(db, 30)
    make_client(name="Hughes Residence")
    login_as("admin")
    answer = client.get("/projects/client-options?client_id_search=bulk")
    assert answer.text.count("data-pick=") == queries.OPTIONS_LIMIT
    assert "Hughes Residence" in client.get("/projects/client-options?client_id_search=HUGHES").text
    for role, status in (("pm_trainee", 200), ("designer", 403), ("employee", 403), ("client", 403)):
        login_as(role)
        assert client.get("/projects/client-options?client_id_search=hughes").status_code == status, role


def test_without_javascript_the_typed_client_is_resolved(client, login_as, db):
    from sqlalchemy import select

    from app.projects.models import Project

    login_as("admin")
    _many_clients(db, queries.PICKER_LIMIT + 1)
    make_client(name="Bulk Client 00")  # whose whole name is also part of others' names
    form = {"name": "Porch", "address": "1 Oak St", "client_id": ""}
    made = client.post("/projects", data=form | {"client_id_search": "bulk client 00"})
    assert made.status_code == 303, made.text  # the exact name settles it
    project = db.session.scalar(select(Project).where(Project.name == "Porch"))
    assert project.client.name == "Bulk Client 00"

    vague = client.post("/projects", data=form | {"name": "Deck", "client_id_search": "bulk client 01"})
    assert vague.status_code == 422  # ten match: nothing is guessed
    assert 'name="client_id_search" value="bulk client 01"' in vague.text  # what was typed stays
    assert 'data-error-for="client_id"' in vague.text


# ---------------------------------------------------------------- the project form's PMs


def test_many_pms_on_the_form_are_checked_boxes_and_a_box_to_add(client, login_as, db):
    from sqlalchemy import select

    from app.projects.models import Project

    login_as("admin")
    company = make_client()
    paula = make_user(PROJECT_MANAGER, full_name="Paula Martinez")
    assert '<select id="f-pm_ids"' in client.get("/projects/new").text  # few: the plain select
    _many_pms(db, queries.PICKER_LIMIT + 1)
    tom = make_user(PM_TRAINEE, full_name="Tom Reyes")
    page = client.get("/projects/new").text
    assert '<select id="f-pm_ids"' not in page and "Bulk Manager" not in page
    assert 'id="f-pm_ids_search" name="pm_ids_search"' in page
    assert "Tom Reyes" in client.get("/projects/pm-options?pm_ids_search=reyes").text  # the box's own name

    form = {"name": "Porch", "address": "1 Oak St", "client_id": company.id, "pm_ids_field": "1"}
    made = client.post("/projects", data=form | {"pm_ids": [paula.id], "pm_ids_search": "tom rey"})
    assert made.status_code == 303  # without JavaScript the typed name is added
    project = db.session.scalar(select(Project).where(Project.name == "Porch"))
    assert {u.id for u in project.pms} == {paula.id, tom.id}

    edit = client.get(f"/projects/{project.id}/edit").text
    for pm in (paula, tom):
        assert f'<input type="checkbox" name="pm_ids" value="{pm.id}" checked> {pm.full_name}' in edit
