"""Pages as people read them: one label per thing (client- vs staff-facing roles), an
inline notice instead of a page inside the page, form fields wired for screen readers,
the phone navigation, and the link back from the jobs dashboard."""

from __future__ import annotations

import re

import pytest

from app.core import labels
from app.core.roles import CLIENT, PM_TRAINEE, PROJECT_MANAGER
from tests.factories import make_client, make_project, make_user

FRAGMENT = {"HX-Request": "true", "HX-Target": "project-detail"}


# --- inline notice for fragment requests ---------------------------------------------


def test_a_deleted_project_refreshed_in_the_background_is_a_notice_not_a_page(client, login_as, db):
    pm = login_as("project_manager_full")
    project = make_project(members=[pm])
    project_id = project.id
    db.session.delete(project)
    db.session.flush()
    answer = client.get(f"/projects/{project_id}", headers={**FRAGMENT, "X-Kibray-Background": "1"})
    assert answer.status_code == 404
    assert answer.headers["X-Kibray-Notice"] == "1"
    assert 'data-testid="notice"' in answer.text
    assert "This project was deleted or is no longer available to you." in answer.text
    assert 'href="/projects"' in answer.text
    assert "topbar" not in answer.text and "<footer" not in answer.text and "<html" not in answer.text


def test_a_viewer_removed_from_the_team_gets_the_notice(client, login_as, db):
    designer = login_as("designer")
    project = make_project(members=[designer])
    assert client.get(f"/projects/{project.id}", headers=FRAGMENT).status_code == 200
    for membership in list(project.memberships):
        db.session.delete(membership)
    db.session.flush()
    answer = client.get(f"/projects/{project.id}", headers=FRAGMENT)
    assert answer.status_code == 404 and "no longer available to you" in answer.text
    assert "topbar" not in answer.text


def test_a_forbidden_htmx_write_is_a_notice(client, login_as, db):
    login_as("designer")
    project = make_project()
    answer = client.post(
        f"/projects/{project.id}/edit", data={"name": "x"}, headers={"HX-Request": "true", "HX-Target": "project-form"}
    )
    assert answer.status_code == 404  # not on the team: the project is not even visible
    assert 'data-testid="notice"' in answer.text and "topbar" not in answer.text


def test_a_conflict_keeps_its_message_in_the_notice(client, login_as, db):
    login_as("admin")
    project = make_project(status="closed")
    answer = client.post(f"/projects/{project.id}/close", headers=FRAGMENT)
    assert answer.status_code == 409
    assert 'data-testid="notice"' in answer.text and "topbar" not in answer.text
    assert "was deleted" not in answer.text


def test_boosted_navigation_and_plain_browsers_still_get_the_page(client, login_as, db):
    login_as("project_manager_full")
    boosted = {"HX-Request": "true", "HX-Boosted": "true", "HX-Target": "main"}
    for headers in (boosted, {"HX-Request": "true"}, {}):  # boosted link, HX-Location follow-up, plain
        answer = client.get("/projects/999999", headers=headers)
        assert answer.status_code == 404
        assert "error-page" in answer.text and "topbar" in answer.text
        assert "X-Kibray-Notice" not in answer.headers


def test_error_answers_vary_on_the_headers_that_chose_page_or_notice(client, login_as, db):
    """The error page and the inline notice are two answers to one URL: both say which
    request headers chose between them, so no cache hands one to the other."""
    login_as("project_manager_full")
    chosen_by = {"HX-Request", "HX-Boosted", "HX-Target", "X-Kibray-Background"}
    for headers in (FRAGMENT, {**FRAGMENT, "X-Kibray-Background": "1"}, {"HX-Request": "true"}, {}):
        answer = client.get("/projects/999999", headers=headers)
        assert answer.status_code == 404
        assert chosen_by <= set(answer.headers.get("Vary", "").replace(" ", "").split(",")), headers
        assert "Cookie" in answer.headers["Vary"]  # the session's own Vary is kept


def test_sign_in_redirects_vary_on_hx_request(client, db):
    """Anonymous (and one-time-password) requests are answered with an htmx redirect or a
    plain one, chosen by HX-Request: the answer says so."""
    for headers in ({"HX-Request": "true"}, {}):
        answer = client.get("/projects", headers=headers)
        assert answer.status_code in ((401,) if headers else (302,))
        assert "HX-Request" in answer.headers.get("Vary", ""), headers
    user = make_user("project_manager_full", must_change_password=True)
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
    for headers in ({"HX-Request": "true"}, {}):
        answer = client.get("/projects", headers=headers)
        assert ("HX-Redirect" in answer.headers) == bool(headers)
        assert "HX-Request" in answer.headers.get("Vary", ""), headers


# --- labels ----------------------------------------------------------------------------


def test_project_status_labels_are_the_same_everywhere(client, login_as, db):
    pm = login_as("project_manager_full")
    company = make_client(name="Brightline Dental")
    make_project(company, members=[pm], name="Lobby", status="created")
    closed = make_project(company, members=[pm], name="Fence", status="closed")
    listing = client.get("/projects?status=all").text
    assert ">Not started<" in listing and ">Archived<" in listing
    detail = client.get(f"/projects/{closed.id}").text
    assert 'data-testid="project-status">Archived<' in detail
    home = client.get("/").text
    assert all(f">{label}<" in home for label in ("Not started", "Active", "Archived"))
    for page in (listing, detail, home, client.get(f"/clients/{company.id}").text):
        assert "Not Started" not in page and "closed · archived" not in page.lower()


def test_a_client_sees_a_trainee_as_their_project_manager_and_staff_see_the_grade(client, login_as, db):
    company = make_client()
    trainee = make_user(PM_TRAINEE, full_name="Tom Trainee")
    project = make_project(company, members=[trainee])
    login_as(CLIENT, client=company)
    seen_by_client = client.get(f"/projects/{project.id}").text
    assert re.search(r"Tom Trainee <span[^>]*>Project manager<", seen_by_client)
    assert "PM trainee" not in seen_by_client
    login_as("admin")
    seen_by_staff = client.get(f"/projects/{project.id}").text
    assert re.search(r"Tom Trainee <span[^>]*>PM trainee<", seen_by_staff)


def test_role_labels_by_audience():
    staff, customer = make_viewer("admin"), make_viewer(CLIENT)
    assert labels.role_label(PM_TRAINEE, staff) == "PM trainee"
    assert labels.role_label(PM_TRAINEE, customer) == "Project manager"
    assert labels.role_label(PROJECT_MANAGER, customer) == labels.role_label(PROJECT_MANAGER, staff)
    assert labels.project_status_label("closed") == "Archived"


def make_viewer(role):
    return type("Viewer", (), {"role": role})()


def test_templates_hold_no_status_mapping():
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "templates"
    for path in root.rglob("*.html"):
        text = path.read_text()
        assert "'created':" not in text and "Not Started" not in text, path
        assert "user.role_label" not in text, path  # the viewer decides: |role_label


def _templates():
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "templates"
    return root, {
        str(path.relative_to(root)): path.read_text()
        for path in root.rglob("*.html")
        if path.parts[-2] not in ("macros", "rq_dashboard")
    }


def test_templates_hold_no_rules():
    """Which status means what, which statuses exist and in what order, who may pick the
    PMs, how a field is wired for screen readers: decided in Python or the form macros,
    never by hand in a page."""
    root, pages = _templates()
    for name, text in pages.items():
        assert not re.search(r"status\s*(==|!=)\s*['\"]", text), name  # Project.is_closed / is_not_started
        assert "aria-invalid" not in text and "aria-describedby" not in text, name  # the `field` macros
    assert not re.search(r"'(created|active|closed)'", pages["projects/_home.html"])  # labels.PROJECT_STATUSES
    assert "can('user.manage')" not in pages["projects/_form.html"]  # services.may_choose_pms


def test_home_counters_follow_the_statuses_of_the_labels_module(client, login_as, db):
    admin = login_as("admin")
    make_project(status="active")
    make_project(status="closed", members=[admin])
    assert labels.PROJECT_STATUSES == (("created", "Not started"), ("active", "Active"), ("closed", "Archived"))
    stats = re.findall(
        r'<a class="stat" href="/projects\?status=(\w+)"><span class="stat-n">(\d+)</span><span>([^<]+)</span>',
        client.get("/").text,
    )
    assert [(status, label) for status, _, label in stats] == list(labels.PROJECT_STATUSES)
    assert {status: int(n) for status, n, _ in stats}["closed"] >= 1


def test_who_may_choose_the_pms_is_decided_by_the_service(client, login_as, db):
    from app.projects.services import may_choose_pms

    pm, admin = make_user("project_manager_full"), make_user("admin")
    project = make_project(members=[pm])
    assert may_choose_pms(pm, None) and may_choose_pms(admin, project) and not may_choose_pms(pm, project)
    login_as(pm)
    assert 'name="pm_ids"' in client.get("/projects/new").text
    assert 'name="pm_ids"' not in client.get(f"/projects/{project.id}/edit").text
    login_as(admin)
    assert 'name="pm_ids"' in client.get(f"/projects/{project.id}/edit").text


def test_the_reopen_reason_is_drawn_by_the_field_macro(client, login_as, db):
    login_as("admin")
    project = make_project(status="closed")
    shown = client.get(f"/projects/{project.id}").text
    assert re.search(r'<input id="f-reason" name="reason" type="text" value="" required\s+maxlength="500">', shown)
    refused = client.post(f"/projects/{project.id}/reopen", data={"reason": " "}, headers=FRAGMENT)
    assert refused.status_code == 422
    assert re.search(r'<input id="f-reason"[^>]* aria-invalid="true" aria-describedby="e-reason"', refused.text)
    assert '<p class="error" id="e-reason" data-error-for="reason">' in refused.text


# --- the jobs dashboard links back into the app ----------------------------------------


def test_the_jobs_dashboard_has_the_app_bar_and_a_way_back(client, login_as, db):
    login_as("admin")
    page = client.get("/admin/rq/")
    assert page.status_code == 200
    assert 'data-testid="kibray-bar"' in page.text
    assert re.search(r'<a class="kibray-brand" href="/"[^>]*data-testid="back-to-app"', page.text)
    assert 'data-nav="projects"' in page.text and 'data-nav="jobs"' in page.text  # the app's own navigation
    assert re.search(r"/static/css/rq-dashboard\.[0-9a-f]{10}\.css", page.text)  # fingerprinted (core/assets.py)
    assert 'id="navbar-dashboard"' in page.text and "/view/workers" in page.text  # its own tabs still there
    assert page.text.count('data-testid="kibray-bar"') == 1


# --- form fields and sorting, for screen readers ---------------------------------------


def test_every_select_is_drawn_by_the_form_macro():
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "templates"
    hand_made = [
        str(path.relative_to(root))
        for path in root.rglob("*.html")
        if "<select" in path.read_text() and path.parts[-2] not in ("macros", "rq_dashboard")
    ]
    assert hand_made == []


def test_an_invalid_field_points_at_its_error_and_hint(client, login_as, db):
    login_as("project_manager_full")
    answer = client.post(
        "/projects", data={"name": "", "client_id": "", "pm_ids_field": "1"}, headers={"HX-Target": "project-form"}
    )
    assert answer.status_code == 422
    html = answer.text
    select = re.search(r'<select id="f-client_id"[^>]*>', html).group(0)
    assert 'aria-invalid="true"' in select and 'aria-describedby="h-client_id e-client_id"' in select
    assert 'id="e-client_id" data-error-for="client_id"' in html and 'id="h-client_id"' in html
    name = re.search(r'<input id="f-name"[^>]*>', html).group(0)
    assert 'aria-invalid="true"' in name and 'aria-describedby="e-name"' in name
    pms = re.search(r'<select id="f-pm_ids"[^>]*>', html).group(0)
    assert "aria-invalid" not in pms and 'aria-describedby="h-pm_ids"' in pms
    assert re.search(r'<label for="f-client_id">Client', html)


def test_the_sorted_column_header_carries_aria_sort_and_phones_get_sort_links(client, login_as, db):
    login_as("admin")
    make_project(name="Alpha")
    html = client.get("/projects?sort=client&dir=desc").text
    assert re.search(r'<th aria-sort="descending">\s*<a [^>]*class="sort sorted"', html)
    assert re.search(r'<th aria-sort="none">\s*<a', html)
    assert not re.search(r"<a [^>]*aria-sort", html), "aria-sort belongs on the header cell, not the link"
    phone = html.split('data-testid="phone-sort"')[1].split("</nav>")[0]
    assert phone.count('class="sort') == 5  # name, client, status, start, budget
    assert re.search(r'aria-current="true">Client <span aria-hidden="true">↓', phone)
    assert "sort=budget" in phone


# --- "Add a client first" keeps the new project's form ---------------------------------


def test_add_a_client_first_keeps_what_was_typed(client, login_as, db):
    pm = login_as("project_manager_full")
    form = client.get("/projects/new").text
    assert 'data-testid="add-client-first"' in form and 'formaction="/projects/new/add-client"' in form
    typed = {
        "name": "Hughes deck stain",
        "address": "12 Cedar Ln",
        "city": "Golden",
        "start_date": "2026-06-01",
        "description": "Two coats, semi-transparent",
        "internal_notes": "Quote 4,200",
        "pm_ids_field": "1",
        "pm_ids": [str(pm.id)],
    }
    leave = client.post("/projects/new/add-client", data=typed)
    assert leave.status_code == 303 and leave.headers["Location"] == "/clients/new?next=new-project&draft=1"
    client_form = client.get("/clients/new?next=new-project&draft=1").text
    assert 'data-testid="draft-kept"' in client_form and 'href="/projects/new?draft=1"' in client_form

    added = client.post("/clients/new?next=new-project&draft=1", data={"name": "Hughes Residence"})
    assert added.status_code == 303
    back = added.headers["Location"]
    assert back.startswith("/projects/new?") and "draft=1" in back
    from sqlalchemy import select

    from app.clients.models import Client

    new_client = db.session.scalar(select(Client).where(Client.name == "Hughes Residence"))
    page = client.get(back).text
    for value in ("Hughes deck stain", "12 Cedar Ln", "Golden", "2026-06-01", "Two coats, semi-transparent"):
        assert value in page, value
    assert re.search(rf'<option value="{new_client.id}" selected>Hughes Residence</option>', page)
    assert re.search(rf'<option value="{pm.id}" selected>', page)
    # used once: a fresh form starts empty again
    assert "Hughes deck stain" not in client.get("/projects/new?draft=1").text


@pytest.mark.parametrize("role", ["designer", "superintendent", "employee", "client"])
def test_add_a_client_first_is_for_those_who_may_create_projects(client, login_as, db, role):
    login_as(role)
    assert client.post("/projects/new/add-client", data={"name": "x"}).status_code == 403
    with client.session_transaction() as session:
        assert "project_draft" not in session


def test_add_a_client_first_needs_a_sign_in(client, db):
    answer = client.post("/projects/new/add-client", data={"name": "x"})
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]
