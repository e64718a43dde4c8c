"""Daily logs (issue 9): one a project and day, by the superintendent or a PM of the
project; prefilled from the day's punches and the tasks progressed; editable the same
day, then locked (a PM unlocks with a reason); the client sees shared logs without crew,
hours or internal notes; pages, the PDF, live events. "Today" is passed explicitly by
replacing services.today (the company-time day every rule reads)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.core.audit import AuditLog
from app.core.errors import ConflictError, ValidationError
from app.core.permissions import PermissionDenied
from app.core.versioning import StaleObject
from app.daily_logs import services
from app.daily_logs.models import DailyLog, DailyLogCrew, paint_warning
from app.extensions import db as _db
from tests.factories import make_daily_log, make_project, make_punch, make_user

DAY = date(2026, 3, 2)  # a Monday; make_punch clocks in at 8 AM Denver that day


@pytest.fixture()
def today(monkeypatch):
    """Set the company's "today" for the services: today.set(day)."""

    class Clock:
        def set(self, day):
            monkeypatch.setattr(services, "today", lambda: day)
            return day

    clock = Clock()
    clock.set(DAY)
    return clock


@pytest.fixture()
def site(db, today):
    """A project with its PM, trainee, superintendent and designer; a client user of its
    company; an employee who punched in that day; a PM of another project."""
    pm, trainee, superintendent, designer = (
        make_user("project_manager_full", full_name="Pat Manager"),
        make_user("pm_trainee", full_name="Tara Trainee"),
        make_user("superintendent", full_name="Sam Super"),
        make_user("designer", full_name="Dee Signer"),
    )
    project = make_project(members=[pm, trainee, superintendent, designer], name="Harbor lofts")
    owner = make_user("client", client=project.client, full_name="Olive Owner")
    worker = make_user("employee", full_name="Ed Worker")
    make_punch(worker, project, hours=7.5)
    make_punch(superintendent, project, hours=8)
    other_pm = make_user("project_manager_full", full_name="Other PM")
    make_project(members=[other_pm])
    return type(
        "Site",
        (),
        {
            "pm": pm,
            "trainee": trainee,
            "superintendent": superintendent,
            "designer": designer,
            "project": project,
            "owner": owner,
            "worker": worker,
            "other_pm": other_pm,
            "admin": make_user("admin"),
        },
    )


def _count():
    return _db.session.scalar(select(func.count()).select_from(DailyLog))


# --- writing: who, which day, which project ------------------------------------------


def test_superintendent_writes_todays_log_prefilled_from_punches(site):
    log = services.create_log(site.superintendent, site.project, {"date": DAY.isoformat()})
    assert log.date == DAY and log.created_by_id == site.superintendent.id
    assert [u.name for u in log.crew] == ["Ed Worker", "Sam Super"]
    hours = services.crew_hours(site.pm, log)
    assert str(hours[site.worker.id]) == "7.50" and str(hours[site.superintendent.id]) == "8.00"
    assert services.crew_hours(site.owner, log) == {}
    assert not log.is_locked(DAY) and log.version == 1


def test_someone_deactivated_since_is_left_off_the_crew_and_the_rest_stay(site):
    """The day's punches fill the crew; a person deactivated since is left out, the others
    kept (not the whole prefilled crew dropped for one)."""
    site.worker.is_active_flag = False
    _db.session.flush()
    log = services.create_log(site.superintendent, site.project, {"date": DAY.isoformat()})
    assert [u.name for u in log.crew] == ["Sam Super"]
    assert services.prefill(site.pm, site.project, DAY)["crew_ids"] == [site.superintendent.id]


@pytest.mark.parametrize("role", ["admin", "pm", "trainee", "superintendent"])
def test_who_may_write_a_log(site, role):
    actor = getattr(site, role)
    log = services.create_log(actor, site.project, {"date": DAY, "work_done": "Masked"}, crew_ids=[])
    assert log.id and log.crew_ids == []


@pytest.mark.parametrize("role", ["designer", "worker", "owner", "other_pm"])
def test_who_may_not_write_a_log(site, role):
    with pytest.raises(PermissionDenied):
        services.create_log(getattr(site, role), site.project, {"date": DAY})
    assert _count() == 0


def test_a_closed_project_gets_no_log(site):
    site.project.status = "closed"
    _db.session.flush()
    with pytest.raises(ConflictError, match="closed"):
        services.create_log(site.pm, site.project, {"date": DAY})
    assert _count() == 0


def test_no_log_for_a_day_to_come_and_a_day_is_required(site):
    with pytest.raises(ValidationError) as caught:
        services.create_log(site.pm, site.project, {"date": DAY + timedelta(days=1)})
    assert "not come yet" in caught.value.fields["date"]
    for bad in ("", "03/02/2026", "1999-12-31"):
        with pytest.raises(ValidationError) as caught:
            services.create_log(site.pm, site.project, {"date": bad})
        assert "date" in caught.value.fields
    assert _count() == 0


def test_a_past_day_only_by_who_may_unlock_and_it_stays_open_today(site, today):
    past = DAY - timedelta(days=3)
    for actor in (site.superintendent, site.trainee):
        with pytest.raises(PermissionDenied, match="past day"):
            services.create_log(actor, site.project, {"date": past})
    log = services.create_log(site.pm, site.project, {"date": past})
    assert log.unlocked_until == DAY and not log.is_locked(DAY)
    services.update_log(site.superintendent, log, {"problems": "Late delivery"})
    today.set(DAY + timedelta(days=1))
    assert log.is_locked(DAY + timedelta(days=1))


def test_a_second_log_of_the_day_is_the_first_one(site):
    first = services.create_log(site.superintendent, site.project, {"date": DAY})
    with pytest.raises(services.LogExists) as caught:
        services.create_log(site.pm, site.project, {"date": DAY})
    assert caught.value.log.id == first.id and caught.value.details["id"] == first.id
    assert _count() == 1


def test_bad_input_is_refused_all_at_once(site):
    with pytest.raises(ValidationError) as caught:
        services.create_log(
            site.pm,
            site.project,
            {"date": DAY, "temperature_f": "warm", "humidity": 140, "weather_conditions": "tornado"},
            crew_ids=[site.owner.id],
        )
    assert set(caught.value.fields) == {"temperature_f", "humidity", "weather_conditions", "crew_ids"}
    with pytest.raises(ValidationError) as caught:
        services.create_log(site.pm, site.project, {"date": DAY, "temperature_f": 141, "work_done": "x" * 10_001})
    assert set(caught.value.fields) == {"temperature_f", "work_done"}
    inactive = make_user("employee", is_active_flag=False)
    with pytest.raises(ValidationError):
        services.create_log(site.pm, site.project, {"date": DAY}, crew_ids=[inactive.id])
    with pytest.raises(ValidationError):
        services.create_log(site.pm, site.project, {"date": DAY}, crew_ids=[99_999_999])
    assert _count() == 0


# --- the work-done prefill -----------------------------------------------------------


def _audit(project, task_id, label, changes, when):
    _db.session.add(
        AuditLog(
            created_at=when,
            action="update",
            object_type="Task",
            object_id=str(task_id),
            object_label=label,
            project_id=project.id,
            changes=changes,
        )
    )
    _db.session.flush()


def test_work_done_is_the_tasks_progressed_that_day(site):
    noon = datetime(2026, 3, 2, 19, 0, tzinfo=UTC)  # noon in Denver
    _audit(site.project, 1, "Mask the windows", {"progress_percent": [20, 40]}, noon)
    _audit(site.project, 1, "Mask the windows", {"progress_percent": [40, 60]}, noon + timedelta(hours=1))
    _audit(site.project, 2, "Prime the trim", {"status": ["in_progress", "completed"]}, noon)
    _audit(site.project, 3, "Rename only", {"title": ["a", "b"]}, noon)
    _audit(site.project, 4, "Yesterday's", {"progress_percent": [0, 10]}, noon - timedelta(days=1))
    # 11 PM Denver on the 1st is already the 2nd in UTC: not that day
    _audit(site.project, 5, "Late night", {"progress_percent": [0, 10]}, datetime(2026, 3, 2, 6, 0, tzinfo=UTC))
    other = make_project()
    _audit(other, 6, "Other job", {"progress_percent": [0, 10]}, noon)
    assert services.tasks_progressed(site.project.id, DAY) == "Mask the windows: 20% → 60%\nPrime the trim: done"
    log = services.create_log(site.pm, site.project, {"date": DAY})
    assert log.work_done == "Mask the windows: 20% → 60%\nPrime the trim: done"


def test_work_done_from_a_real_task_update(db, monkeypatch):
    """The audit entries a real progress report writes are the ones the prefill reads."""
    from app.tasks import services as tasks
    from app.timeclock.queries import today as company_today

    pm = make_user("project_manager_full")
    project = make_project(members=[pm])
    task = tasks.create_task(pm, project, {"title": "Sand the doors"})
    tasks.update_task(pm, task, {"progress_percent": 30}, partial=True)
    day = company_today()
    monkeypatch.setattr(services, "today", lambda: day)
    assert services.prefill(pm, project, day)["work_done"] == "Sand the doors: 0% → 30%"


# --- editing, locking, unlocking ------------------------------------------------------


def test_editable_the_same_day_then_locked(site, today):
    log = services.create_log(site.superintendent, site.project, {"date": DAY})
    services.update_log(site.superintendent, log, {"problems": "Rain at 2 PM"}, crew_ids=[site.worker.id])
    assert log.problems == "Rain at 2 PM" and log.crew_ids == [site.worker.id] and log.version == 2
    today.set(DAY + timedelta(days=1))
    assert log.is_locked(DAY + timedelta(days=1))
    for actor in (site.superintendent, site.pm, site.admin):
        with pytest.raises(ConflictError, match="locked"):
            services.update_log(actor, log, {"problems": "later"})
    assert log.problems == "Rain at 2 PM"


@pytest.mark.parametrize("role", ["designer", "worker", "owner", "other_pm"])
def test_who_may_not_edit(site, role):
    log = make_daily_log(site.project, DAY, is_client_visible=True)
    with pytest.raises(PermissionDenied):
        services.update_log(getattr(site, role), log, {"problems": "x"})


def test_unlock_with_a_reason_holds_until_the_end_of_that_day(site, today):
    log = services.create_log(site.superintendent, site.project, {"date": DAY})
    later = today.set(DAY + timedelta(days=2))
    for actor in (site.superintendent, site.trainee, site.designer, site.owner):
        with pytest.raises(PermissionDenied):
            services.unlock_log(actor, log, "Add the delivery")
    with pytest.raises(ValidationError) as caught:
        services.unlock_log(site.pm, log, "   ")
    assert "reason" in caught.value.fields and log.is_locked(later)
    services.unlock_log(site.pm, log, "Add the paint delivery")
    assert not log.is_locked(later) and log.unlocked_until == later
    entry = _db.session.scalars(
        select(AuditLog)
        .where(AuditLog.object_type == "DailyLog", AuditLog.object_id == str(log.id))
        .order_by(AuditLog.id.desc())
    ).first()
    assert entry.changes["reason"] == [None, "Add the paint delivery"]
    services.update_log(site.superintendent, log, {"materials_delivered": "12 gal primer"})
    with pytest.raises(ConflictError, match="not locked"):
        services.unlock_log(site.pm, log, "again")
    today.set(later + timedelta(days=1))
    assert log.is_locked(later + timedelta(days=1))
    with pytest.raises(ConflictError):
        services.update_log(site.superintendent, log, {"materials_delivered": "more"})


def test_lock_by_hand_then_unlock(site):
    log = services.create_log(site.superintendent, site.project, {"date": DAY})
    services.lock_log(site.superintendent, log)
    assert log.is_locked(DAY)
    with pytest.raises(ConflictError):
        services.update_log(site.superintendent, log, {"problems": "x"})
    with pytest.raises(ConflictError, match="already"):
        services.lock_log(site.pm, log)
    services.unlock_log(site.admin, log, "Typo in the crew")
    assert not log.locked and not log.is_locked(DAY)


def test_a_closed_projects_logs_are_read_only(site):
    log = services.create_log(site.superintendent, site.project, {"date": DAY})
    site.project.status = "closed"
    _db.session.flush()
    with pytest.raises(ConflictError, match="closed"):
        services.update_log(site.pm, log, {"problems": "x"})
    with pytest.raises(ConflictError, match="closed"):
        services.unlock_log(site.pm, log, "x")
    assert not services.may_edit(site.pm, log)


def test_stale_version_is_refused(site):
    log = services.create_log(site.superintendent, site.project, {"date": DAY})
    services.update_log(site.pm, log, {"problems": "first"}, version=1)
    with pytest.raises(StaleObject):
        services.update_log(site.superintendent, log, {"problems": "second"}, version=1)
    assert log.problems == "first"


def test_paint_warning():
    assert paint_warning(None, None) == ""
    assert paint_warning(50, 85) == ""
    assert "49 °F is below 50 °F" in paint_warning(49, None)
    assert "86 % humidity is above 85 %" in paint_warning(None, 86)
    assert " and " in paint_warning(40, 90)


# --- visibility -------------------------------------------------------------------------


def test_client_sees_only_shared_logs_of_their_projects(site, client, login_as):
    shared = make_daily_log(site.project, DAY, is_client_visible=True, internal_notes="margin is thin")
    shared.crew_links.append(DailyLogCrew(user_id=site.worker.id))
    hidden = make_daily_log(site.project, DAY - timedelta(days=1), work_done="Hidden work")
    elsewhere = make_daily_log(make_project(), DAY, is_client_visible=True, work_done="Other company")
    _db.session.flush()
    assert {log.id for log in _db.session.scalars(services.log_list(site.owner))} == {shared.id}
    login_as(site.owner)
    page = client.get(f"/projects/{site.project.id}/daily-logs")
    assert page.status_code == 200 and "Hidden work" not in page.text
    html = client.get(f"/daily-logs/{shared.id}").text
    assert "Ed Worker" not in html and "margin is thin" not in html and "Sam Super" not in html
    assert 'data-testid="edit-log"' not in html and 'data-testid="lock-log"' not in html
    assert 'data-testid="log-pdf"' in html and 'data-testid="new-daily-log"' not in page.text
    assert client.get(f"/daily-logs/{hidden.id}").status_code == 404
    assert client.get(f"/daily-logs/{elsewhere.id}").status_code == 404
    assert client.get(f"/daily-logs/{hidden.id}.pdf").status_code == 404
    login_as(site.superintendent)
    html = client.get(f"/daily-logs/{shared.id}").text
    assert "Ed Worker" in html and "7.50 h" in html and "margin is thin" in html


def test_list_is_newest_first_and_paged(site, client, login_as):
    for n in range(25):
        make_daily_log(site.project, DAY - timedelta(days=n), work_done=f"Day {n} work")
    login_as(site.pm)
    first = client.get(f"/projects/{site.project.id}/daily-logs").text
    assert first.index("Day 0 work") < first.index("Day 1 work")
    assert "Day 24 work" not in first and "Page 1 of 2" in first
    second = client.get(f"/projects/{site.project.id}/daily-logs?page=2").text
    assert "Day 24 work" in second


# --- pages --------------------------------------------------------------------------------


def test_new_form_is_prefilled_and_saves(site, client, login_as):
    login_as(site.superintendent)
    form = client.get(f"/projects/{site.project.id}/daily-logs/new")
    assert form.status_code == 200 and 'name="date"' in form.text
    assert f'<option value="{site.worker.id}" selected>' in form.text
    assert 'type="date"' not in form.text  # a superintendent writes today's log only
    response = client.post(
        f"/projects/{site.project.id}/daily-logs/new",
        data={
            "date": DAY.isoformat(),
            "crew_ids_field": "1",
            "crew_ids": [str(site.worker.id)],
            "work_done": "Primed the hall",
            "weather_conditions": "overcast",
            "temperature_f": "45",
            "humidity": "60",
            "is_client_visible": "1",
        },
    )
    assert response.status_code == 303
    log = _db.session.scalars(select(DailyLog)).one()
    assert response.headers["Location"].endswith(f"/daily-logs/{log.id}")
    assert log.crew_ids == [site.worker.id] and log.is_client_visible and log.temperature_f == 45
    page = client.get(f"/daily-logs/{log.id}").text
    assert 'data-testid="paint-warning"' in page and "45 °F is below 50 °F" in page
    assert f'hx-get="/projects/{site.project.id}/photos?day=2026-03-02&embed=1"' in page
    # the same day again: the existing log is opened, nothing new saved
    again = client.post(f"/projects/{site.project.id}/daily-logs/new", data={"date": DAY.isoformat()})
    assert again.status_code == 303 and again.headers["Location"].endswith(f"/daily-logs/{log.id}/edit")
    assert _count() == 1
    opened = client.get(f"/projects/{site.project.id}/daily-logs/new")
    assert opened.status_code == 303 and opened.headers["Location"].endswith(f"/daily-logs/{log.id}")


def test_pm_picks_a_past_day_on_the_form(site, client, login_as):
    login_as(site.pm)
    form = client.get(f"/projects/{site.project.id}/daily-logs/new?date=2026-02-27").text
    assert 'type="date"' in form and 'value="2026-02-27"' in form
    future = client.post(f"/projects/{site.project.id}/daily-logs/new", data={"date": "2026-03-09"})
    assert future.status_code == 422 and "not come yet" in future.text and _count() == 0


def test_form_errors_inline_and_closed_project(site, client, login_as):
    login_as(site.pm)
    bad = client.post(
        f"/projects/{site.project.id}/daily-logs/new",
        data={"date": DAY.isoformat(), "temperature_f": "hot", "humidity": "101"},
        headers={"HX-Request": "true", "HX-Target": "daily-log-form"},
    )
    assert bad.status_code == 422 and "<html" not in bad.text
    assert 'data-error-for="temperature_f"' in bad.text and 'data-error-for="humidity"' in bad.text
    assert 'value="hot"' in bad.text and _count() == 0
    site.project.status = "closed"
    _db.session.flush()
    closed = client.post(f"/projects/{site.project.id}/daily-logs/new", data={"date": DAY.isoformat()})
    assert closed.status_code == 409 and "This project is closed" in closed.text and _count() == 0
    assert client.get(f"/projects/{site.project.id}/daily-logs/new").status_code == 409


def test_edit_form_changed_meanwhile(site, client, login_as):
    log = services.create_log(site.superintendent, site.project, {"date": DAY})
    services.update_log(site.pm, log, {"problems": "Saved by the PM"})
    login_as(site.superintendent)
    response = client.post(
        f"/daily-logs/{log.id}/edit",
        data={"version": "1", "problems": "Typed by the super", "crew_ids_field": "1"},
    )
    assert response.status_code == 409 and 'data-testid="changed-meanwhile"' in response.text
    assert "Saved by the PM" in response.text and "Typed by the super" in response.text
    assert f'name="version" value="{log.version}"' in response.text
    _db.session.refresh(log)
    assert log.problems == "Saved by the PM"
    ok = client.post(
        f"/daily-logs/{log.id}/edit",
        data={"version": str(log.version), "problems": "Typed by the super", "crew_ids_field": "1"},
    )
    assert ok.status_code == 303
    _db.session.refresh(log)
    assert log.problems == "Typed by the super" and log.crew_ids == [] and not log.is_client_visible


def test_locked_log_pages_and_unlock_buttons(site, client, login_as, today):
    log = services.create_log(site.superintendent, site.project, {"date": DAY})
    today.set(DAY + timedelta(days=1))
    login_as(site.superintendent)
    page = client.get(f"/daily-logs/{log.id}").text
    assert 'data-testid="log-locked"' in page and 'data-testid="edit-log"' not in page
    assert 'data-testid="unlock-log"' not in page
    assert client.get(f"/daily-logs/{log.id}/edit").status_code == 409
    refused = client.post(f"/daily-logs/{log.id}/edit", data={"problems": "x", "crew_ids_field": "1"})
    assert refused.status_code == 409 and "locked" in refused.text
    assert client.post(f"/daily-logs/{log.id}/unlock", data={"reason": "x"}).status_code == 403
    login_as(site.pm)
    assert 'data-testid="unlock-log"' in client.get(f"/daily-logs/{log.id}").text
    empty = client.post(f"/daily-logs/{log.id}/unlock", data={"reason": ""})
    assert empty.status_code == 303
    _db.session.refresh(log)
    assert log.is_locked(DAY + timedelta(days=1))
    assert client.post(f"/daily-logs/{log.id}/unlock", data={"reason": "Crew was wrong"}).status_code == 303
    _db.session.refresh(log)
    assert not log.is_locked(DAY + timedelta(days=1))
    assert 'data-testid="edit-log"' in client.get(f"/daily-logs/{log.id}").text
    assert client.post(f"/daily-logs/{log.id}/lock", data={}).status_code == 303
    _db.session.refresh(log)
    assert log.locked


def test_paint_check_fragment(site, client, login_as):
    login_as(site.superintendent)
    warm = client.get("/daily-logs/paint-check?temperature_f=70&humidity=40")
    assert warm.status_code == 200 and "Poor weather" not in warm.text
    cold = client.get("/daily-logs/paint-check?temperature_f=40&humidity=nonsense").text
    assert "40 °F is below 50 °F" in cold


def test_project_page_links_to_its_logs(site, client, login_as):
    login_as(site.superintendent)
    html = client.get(f"/projects/{site.project.id}").text
    assert f"/projects/{site.project.id}/daily-logs" in html
    login_as(site.designer)
    assert f"/projects/{site.project.id}/daily-logs" not in client.get(f"/projects/{site.project.id}").text


# --- the PDF --------------------------------------------------------------------------------


@pytest.fixture()
def printed(monkeypatch):
    """The HTML each PDF was made from (the real WeasyPrint still prints it)."""
    from app.daily_logs import pdf

    pages = []
    real = pdf.render_pdf

    def keep(html):
        pages.append(html)
        return real(html)

    monkeypatch.setattr(pdf, "render_pdf", keep)
    return pages


def test_pdf_for_staff_and_the_clients_variant(site, client, login_as, printed):
    log = make_daily_log(
        site.project, DAY, is_client_visible=True, internal_notes="Margin is thin", work_done="Second coat"
    )
    log.crew_links.append(DailyLogCrew(user_id=site.worker.id))
    _db.session.flush()
    login_as(site.pm)
    response = client.get(f"/daily-logs/{log.id}.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    assert response.headers["Content-Type"] == "application/pdf"
    assert "Ed Worker" in printed[-1] and "Margin is thin" in printed[-1] and "Second coat" in printed[-1]
    login_as(site.owner)
    response = client.get(f"/daily-logs/{log.id}.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    assert "Second coat" in printed[-1]
    assert "Ed Worker" not in printed[-1] and "Margin is thin" not in printed[-1] and "7.50" not in printed[-1]
    assert b"Ed Worker" not in response.data


def test_pdf_fetches_nothing(site, client, login_as):
    log = make_daily_log(site.project, DAY, work_done='<img src="http://169.254.169.254/x"> file:///etc/passwd')
    login_as(site.pm)
    response = client.get(f"/daily-logs/{log.id}.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")


# --- live -------------------------------------------------------------------------------------


def _events(app):
    from app.extensions import redis_store

    with app.app_context():
        raw = redis_store.client.zrange(redis_store.key("events", "log"), 0, -1)
    return [json.loads(item) for item in raw]


def test_saved_log_is_published_to_those_entitled(app, site, client, login_as):
    before = len(_events(app))
    login_as(site.superintendent)
    client.post(f"/projects/{site.project.id}/daily-logs/new", data={"date": DAY.isoformat(), "crew_ids_field": "1"})
    saved = [e for e in _events(app)[before:] if e["event"] == "daily-log-saved"]
    assert len(saved) == 1
    users = set(saved[0]["users"])
    assert {site.pm.id, site.trainee.id, site.superintendent.id} <= users
    assert site.designer.id not in users and site.owner.id not in users and site.other_pm.id not in users
    assert saved[0]["roles"] == ["admin"] and set(saved[0]["data"]) <= {"id", "project_id", "origin"}
    log = _db.session.scalars(select(DailyLog)).one()
    client.post(
        f"/daily-logs/{log.id}/edit",
        data={"is_client_visible": "1", "crew_ids_field": "1", "work_done": "Shared"},
    )
    shared = [e for e in _events(app)[before:] if e["event"] == "daily-log-saved"][-1]
    assert site.owner.id in shared["users"]


def test_a_refused_write_publishes_nothing(app, site, client, login_as):
    before = len(_events(app))
    login_as(site.superintendent)
    client.post(f"/projects/{site.project.id}/daily-logs/new", data={"date": DAY.isoformat(), "humidity": "900"})
    assert not [e for e in _events(app)[before:] if e["event"] == "daily-log-saved"]


def test_two_saves_of_the_same_day_at_once(site, monkeypatch):
    """The check before the insert saw no log (the other request had not committed): the
    unique index refuses the second, which opens the first instead of failing."""
    first = make_daily_log(site.project, DAY, work_done="Written first")
    real_scalars = _db.session.scalars
    calls = {"n": 0}

    def blind_once(stmt, *args, **kwargs):
        result = real_scalars(stmt, *args, **kwargs)
        if calls["n"] == 0 and "daily_logs" in str(stmt):
            calls["n"] += 1
            return type("Empty", (), {"first": staticmethod(lambda: None)})()
        return result

    monkeypatch.setattr(_db.session, "scalars", blind_once)
    with pytest.raises(services.LogExists) as caught:
        services.create_log(site.pm, site.project, {"date": DAY}, crew_ids=[])
    assert caught.value.log.id == first.id
    monkeypatch.undo()
    assert _count() == 1


def test_fragments_answer_without_the_layout(site, client, login_as):
    log = make_daily_log(site.project, DAY, work_done="Fragment work")
    login_as(site.pm)
    htmx = {"HX-Request": "true"}
    listing = client.get(f"/projects/{site.project.id}/daily-logs", headers=htmx | {"HX-Target": "daily-log-list"})
    assert listing.status_code == 200 and "<html" not in listing.text and "Fragment work" in listing.text
    one = client.get(f"/daily-logs/{log.id}", headers=htmx | {"HX-Target": "daily-log"})
    assert one.status_code == 200 and "<html" not in one.text and 'id="daily-log"' in one.text
