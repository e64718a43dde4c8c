"""Optimistic locking in budgets (issue 13): the set of a project's lines has one version
(budgets.BudgetVersion) — a stale PUT or form never deletes a line added meanwhile, and
of two saves from the same version one wins (the project's row lock, two real
transactions) — and a cost rate is versioned: a date that has a rate is refused, a stale
edit or delete changes nothing."""

from __future__ import annotations

import datetime as dt
import threading
import time
from decimal import Decimal as D

import pytest
from sqlalchemy import delete, func, select

from app.budgets import rates, services
from app.budgets.models import BudgetLine, BudgetVersion, CostRate
from app.extensions import db as _db
from app.notifications.models import Notification
from app.timeclock.models import TimesheetApproval
from tests.conftest import bearer
from tests.factories import make_budget_line, make_cost_rate, make_project, make_user

MON = dt.date(2026, 1, 5)


@pytest.fixture()
def world(db):
    pm = make_user("project_manager_full")
    painter = make_user("employee")
    project = make_project(members=(pm, painter), budget=D("10000.00"))
    return pm, painter, project


def names(project_id):
    _db.session.expire_all()
    return [line.name for line in services.lines_of(project_id)]


def url(project):
    return f"/api/financials/budgets/{project.id}/"


# --- the set's version through the API ----------------------------------------------------------


def test_a_stale_put_is_refused_and_the_line_added_meanwhile_is_kept(world, client):
    pm, _painter, project = world
    make_budget_line(project, name="Paint", amount="1000.00")
    headers = bearer(client, pm)
    read = client.get(url(project), headers=headers)
    version, paint = read.json["data"]["version"], read.json["data"]["lines"][0]
    assert version == 1 and read.headers["ETag"] == '"1"'
    # someone else adds a line (from the same version: theirs wins)
    added = client.put(
        url(project),
        json={"version": version, "lines": [paint, {"name": "Scaffold", "amount": "300.00"}]},
        headers=headers,
    )
    assert added.status_code == 200 and added.json["data"]["version"] == 2
    # the first reader replaces the lines with what they read, plus a change
    mine = {"id": paint["id"], "name": "Paint", "amount": "1200.00"}
    stale = client.put(url(project), json={"version": version, "lines": [mine]}, headers=headers)
    assert stale.status_code == 409 and stale.json["error"]["code"] == "CONFLICT"
    details = stale.json["error"]["details"]
    assert details["version"] == 2 and [li["name"] for li in details["lines"]] == ["Paint", "Scaffold"]
    assert names(project.id) == ["Paint", "Scaffold"]  # nothing deleted, nothing changed
    assert _db.session.scalar(select(BudgetLine.amount).where(BudgetLine.id == paint["id"])) == D("1000.00")
    # a stale If-Match is the same refusal; the current version saves
    by_header = client.put(url(project), json={"lines": [mine]}, headers=headers | {"If-Match": '"1"'})
    assert by_header.status_code == 409
    scaffold = details["lines"][1]
    done = client.put(url(project), json={"version": 2, "lines": [mine, scaffold]}, headers=headers)
    assert done.status_code == 200 and done.json["data"]["version"] == 3 and done.headers["ETag"] == '"3"'
    assert names(project.id) == ["Paint", "Scaffold"]


def test_a_put_without_a_version_replaces_as_before_and_bad_versions_are_field_errors(world, client):
    pm, _painter, project = world
    make_budget_line(project, name="Paint", amount="1000.00")
    headers = bearer(client, pm)
    for bad in (0, "three", -1):
        answer = client.put(url(project), json={"version": bad, "lines": []}, headers=headers)
        assert answer.status_code == 400 and answer.json["error"]["code"] == "VALIDATION_ERROR", bad
    done = client.put(url(project), json={"lines": [{"name": "Crew", "amount": "5"}]}, headers=headers)
    assert done.status_code == 200 and done.json["data"]["version"] == 2
    assert names(project.id) == ["Crew"]  # not checked: the line not sent is deleted (documented)


def test_every_save_of_the_lines_bumps_the_version_not_the_projects(world, client, login_as):
    pm, _painter, project = world
    project_version = project.version
    login_as(pm)
    form = {f"line_{k}": [v] for k, v in {"id": "", "version": "", "code": "", "name": "Crew", "category": "",
                                          "amount": "10", "estimated_hours": ""}.items()}  # fmt: skip
    assert client.post(f"/projects/{project.id}/budget/edit", data=form | {"budget_version": "1"}).status_code == 303
    assert services.lines_version(project.id) == 2
    services.save_lines(pm, project, [{"name": "Crew", "amount": "11"}], version=2)
    assert services.lines_version(project.id) == 3
    _db.session.expire_all()
    assert _db.session.get(type(project), project.id).version == project_version  # project forms stay fresh


# --- two saves at once -------------------------------------------------------------------------


@pytest.fixture()
def committed_budget(app):
    """A project with one saved line (version 2), committed for real (the threads must see
    it), and all it brought deleted afterwards."""
    from app.auth.models import User
    from app.clients.models import Client
    from app.core.audit import AuditLog, acting_as
    from app.projects.models import Project

    with app.app_context():
        last_audit = _db.session.scalar(select(func.coalesce(func.max(AuditLog.id), 0)))
        admin = make_user("admin")
        project = make_project()
        with acting_as("setup", "admin"):
            services.save_lines(admin, project, [{"name": "Paint", "amount": "1000.00"}], version=1)
        _db.session.commit()
        ids = (project.id, admin.id, project.client_id)
        _db.session.remove()
    yield ids
    with app.app_context():
        _db.session.execute(delete(Project).where(Project.id == ids[0]))  # its lines and version cascade
        _db.session.execute(delete(Client).where(Client.id == ids[2]))
        _db.session.execute(delete(User).where(User.id == ids[1]))
        _db.session.execute(delete(AuditLog).where(AuditLog.id > last_audit))
        _db.session.commit()
        _db.session.remove()


def test_two_puts_from_the_same_version_cannot_both_win(app, committed_budget):
    """Both sent version 2. The first saves and holds its transaction open a moment; the
    second, started meanwhile, waits on the project's row lock and then finds version 3:
    refused, and the first one's line is kept. (Without the lock both would read 2 and
    both save — the second deleting the first one's line.)"""
    from app.auth.models import User
    from app.core.audit import acting_as
    from app.projects.models import Project

    project_id, admin_id, _client = committed_budget
    first_saved, outcomes, errors = threading.Event(), {}, []

    def save(who, lines, pause):
        try:
            with app.app_context(), acting_as("race", "admin"):
                admin = _db.session.get(User, admin_id)
                project = _db.session.get(Project, project_id)
                if who == "second":
                    assert first_saved.wait(10)
                try:
                    services.save_lines(admin, project, lines, version=2)
                    if who == "first":
                        first_saved.set()
                        time.sleep(pause)  # the second is now waiting on the lock
                    _db.session.commit()
                    outcomes[who] = "saved"
                except services.StaleBudget:
                    _db.session.rollback()
                    outcomes[who] = "stale"
                finally:
                    _db.session.remove()
        except Exception as exc:  # noqa: BLE001 - shown by the assertion below
            first_saved.set()
            errors.append(exc)

    with app.app_context():
        paint = _db.session.scalar(select(BudgetLine).where(BudgetLine.project_id == project_id))
        kept = {"id": paint.id, "name": "Paint", "amount": "1000.00"}
        _db.session.remove()
    threads = [
        threading.Thread(target=save, args=("first", [kept, {"name": "Scaffold", "amount": "300"}], 0.5)),
        threading.Thread(target=save, args=("second", [kept | {"amount": "900.00"}], 0)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors, errors
    assert outcomes == {"first": "saved", "second": "stale"}
    with app.app_context():
        assert names(project_id) == ["Paint", "Scaffold"]
        assert _db.session.get(BudgetVersion, project_id).version == 3
        _db.session.remove()


# --- the page's form -----------------------------------------------------------------------------


def _form(rows, version, remove=()):
    keys = ("id", "version", "code", "name", "category", "amount", "estimated_hours")
    data = {f"line_{k}": [str(r.get(k, "")) for r in rows] for k in keys}
    data["remove_line"] = [str(i) for i in remove]
    data["budget_version"] = str(version)
    return data


def test_a_stale_form_shows_changed_meanwhile_keeps_what_was_typed_and_saves_the_second_time(world, client, login_as):
    pm, _painter, project = world
    paint = make_budget_line(project, name="Paint", amount="1000.00", code="02")
    gone = make_budget_line(project, name="Old", amount="5.00", position=1)
    login_as(pm)
    page = client.get(f"/projects/{project.id}/budget/edit").get_data(as_text=True)
    assert 'name="budget_version" value="1"' in page
    # meanwhile someone else adds a line, deletes one and changes another
    other = make_user("admin")
    services.save_lines(
        other,
        project,
        [{"id": paint.id, "code": "02", "name": "Paint", "amount": "1100.00"}, {"name": "Scaffold", "amount": "300"}],
        version=1,
    )
    rows = [
        {"id": paint.id, "version": 1, "code": "02", "name": "Paint", "amount": "900.00"},
        {"id": gone.id, "version": 1, "name": "Old", "amount": "7.00"},
        {"name": "Crew", "category": "LABOR", "amount": "2000"},
    ]
    answer = client.post(f"/projects/{project.id}/budget/edit", data=_form(rows, 1))
    text = answer.get_data(as_text=True)
    assert answer.status_code == 409 and 'data-testid="changed-meanwhile"' in text
    assert 'name="budget_version" value="2"' in text
    assert 'value="900.00"' in text and 'value="Crew"' in text and 'value="7.00"' in text  # what was typed
    assert "02 Paint: budget" in text and "1100" in text  # theirs beside it
    assert "Scaffold" in text and "not in your form" in text  # the line they added, shown as saved
    assert "deleted" in text
    assert names(project.id) == ["Paint", "Scaffold"]  # nothing saved
    # saving again (the form as re-rendered: current versions, Old as a new row) saves
    scaffold = _db.session.scalar(select(BudgetLine).where(BudgetLine.name == "Scaffold"))
    paint = _db.session.get(BudgetLine, paint.id)
    again = [
        rows[0] | {"version": paint.version},
        {"name": "Old", "amount": "7.00"},
        rows[2],
        {"id": scaffold.id, "version": scaffold.version, "name": "Scaffold", "amount": "300.00"},
    ]
    assert client.post(f"/projects/{project.id}/budget/edit", data=_form(again, 2)).status_code == 303
    assert names(project.id) == ["Paint", "Old", "Crew", "Scaffold"]
    assert _db.session.get(BudgetLine, paint.id).amount == D("900.00")


# --- cost rates ---------------------------------------------------------------------------------


def test_a_rate_is_edited_from_its_own_form_and_a_stale_edit_changes_nothing(world, client, login_as):
    _pm, painter, _project = world
    rate = make_cost_rate(painter, "30.00", MON)
    login_as("admin")
    person = client.get(f"/admin/cost-rates/{painter.id}").get_data(as_text=True)
    assert f'href="/admin/cost-rates/rate/{rate.id}/edit"' in person
    assert 'name="version" value="1"' in person  # the delete form carries it too
    page = client.get(f"/admin/cost-rates/rate/{rate.id}/edit").get_data(as_text=True)
    assert 'name="version" value="1"' in page and 'value="30.00"' in page
    rate.hourly_cost = D("32.00")  # another admin's save: version 2
    _db.session.flush()
    form = {"hourly_cost": "35.00", "effective_from": "2026-01-05", "version": "1"}
    stale = client.post(f"/admin/cost-rates/rate/{rate.id}/edit", data=form)
    text = stale.get_data(as_text=True)
    assert stale.status_code == 409 and 'data-testid="changed-meanwhile"' in text
    assert "32.00" in text and 'value="35.00"' in text and 'name="version" value="2"' in text
    _db.session.expire_all()
    assert _db.session.get(CostRate, rate.id).hourly_cost == D("32.00")
    saved = client.post(f"/admin/cost-rates/rate/{rate.id}/edit", data=form | {"version": "2"})
    assert saved.status_code == 303
    _db.session.expire_all()
    rate = _db.session.get(CostRate, rate.id)
    assert (rate.hourly_cost, rate.version) == (D("35.00"), 3)


def test_an_edit_onto_a_date_that_has_a_rate_is_refused(world, client, login_as):
    _pm, painter, _project = world
    first = make_cost_rate(painter, "30.00", MON)
    later = make_cost_rate(painter, "33.00", dt.date(2026, 2, 2))
    login_as("admin")
    form = {"hourly_cost": "34.00", "effective_from": "2026-01-05", "version": str(later.version)}
    answer = client.post(f"/admin/cost-rates/rate/{later.id}/edit", data=form)
    text = answer.get_data(as_text=True)
    assert answer.status_code == 422 and "There is already a rate from 2026-01-05: 30.00 an hour" in text
    assert f'href="/admin/cost-rates/rate/{first.id}/edit"' in text
    _db.session.expire_all()
    assert _db.session.get(CostRate, later.id).effective_from == dt.date(2026, 2, 2)


def test_a_stale_delete_deletes_nothing(world, client, login_as):
    _pm, painter, _project = world
    rate = make_cost_rate(painter, "30.00", MON)
    login_as("admin")
    rate.hourly_cost = D("31.00")
    _db.session.flush()  # version 2 meanwhile
    rate_id = rate.id
    answer = client.post(f"/admin/cost-rates/rate/{rate_id}/delete", data={"version": "1"}, follow_redirects=True)
    assert "nothing was deleted" in answer.get_data(as_text=True)
    assert _db.session.scalar(select(func.count()).select_from(CostRate).where(CostRate.id == rate_id)) == 1
    done = client.post(f"/admin/cost-rates/rate/{rate_id}/delete", data={"version": "2"})
    assert done.status_code == 303
    assert _db.session.scalar(select(func.count()).select_from(CostRate).where(CostRate.id == rate_id)) == 0


def test_a_concurrent_rate_edit_is_stale_not_lost(world):
    """The version read is checked at the UPDATE too (`WHERE version = …`): a save
    committed between the read and the flush makes the edit a StaleObject."""
    from app.core.versioning import StaleObject

    _pm, painter, _project = world
    admin = make_user("admin")
    rate = make_cost_rate(painter, "30.00", MON)
    _db.session.execute(CostRate.__table__.update().where(CostRate.id == rate.id).values(version=2, hourly_cost=31))
    with pytest.raises(StaleObject) as caught:
        rates.edit_rate(admin, rate, {"hourly_cost": "40.00", "effective_from": "2026-01-05"}, "1")
    assert caught.value.obj.hourly_cost == D("31.00") and caught.value.obj.version == 2


def test_editing_or_deleting_a_rate_rechecks_the_budget_alerts(world):
    pm, painter, project = world
    admin = make_user("admin")
    make_budget_line(project, name="Crew", category="LABOR", amount="1000.00")
    rate = make_cost_rate(painter, "10.00", MON)
    _db.session.add(TimesheetApproval(user_id=painter.id, project_id=project.id, week_start=MON, hours=D("40")))
    _db.session.flush()

    def alerts():
        return _db.session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.kind == "budget_alert", Notification.user_id == pm.id)
        )

    assert alerts() == 0  # 400.00 of 1,000.00
    rates.edit_rate(admin, rate, {"hourly_cost": "24.00", "effective_from": "2026-01-05"}, rate.version)
    assert alerts() == 1  # 960.00: 96 % of the line (and of nothing else)
