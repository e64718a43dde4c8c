"""/calendar/holidays: the company holidays and each person's daily capacity (admins
only; CSRF-protected forms), and what a holiday does to the schedule."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.calendar.models import CalendarEvent
from app.core.errors import ValidationError
from app.core.permissions import PermissionDenied
from app.extensions import db
from app.schedule import services
from app.schedule.models import CompanyHoliday, ScheduleConflict
from tests.factories import make_project, make_user


def test_admin_lists_adds_and_removes_holidays(client, login_as):
    login_as("admin")
    page = client.get("/calendar/holidays")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'name="csrf_token"' in text and 'data-testid="holiday-form"' in text and "No holidays yet" in text
    added = client.post("/calendar/holidays", data={"day": "2026-11-26", "name": "Thanksgiving"})
    assert added.status_code == 303
    holiday = db.session.scalar(select(CompanyHoliday))
    assert (holiday.day, holiday.name) == (date(2026, 11, 26), "Thanksgiving")
    assert "Thanksgiving" in client.get("/calendar/holidays").get_data(as_text=True)
    again = client.post("/calendar/holidays", data={"day": "2026-11-26", "name": "Again"})
    assert again.status_code == 422 and "already a holiday" in again.get_data(as_text=True)
    bad = client.post("/calendar/holidays", data={"day": "26/11/2026", "name": ""})
    assert bad.status_code == 422
    assert "Enter a date as YYYY-MM-DD." in bad.get_data(as_text=True) and "Name the holiday." in bad.get_data(
        as_text=True
    )
    holiday_id = holiday.id
    gone = client.post(f"/calendar/holidays/{holiday_id}/delete")
    assert gone.status_code == 303 and db.session.scalar(select(CompanyHoliday)) is None
    assert client.post(f"/calendar/holidays/{holiday_id}/delete").status_code == 404


@pytest.mark.parametrize(
    "role", ["project_manager_full", "pm_trainee", "designer", "superintendent", "employee", "client"]
)
def test_others_may_not(client, login_as, role):
    login_as(role)
    assert client.get("/calendar/holidays").status_code == 403
    assert client.post("/calendar/holidays", data={"day": "2026-11-26", "name": "X"}).status_code == 403
    assert client.post("/calendar/capacity", data={"user_id": "1", "hours": "6"}).status_code == 403
    assert db.session.scalar(select(CompanyHoliday)) is None


def test_services_refuse_non_admins(db):
    pm = make_user("project_manager_full")
    with pytest.raises(PermissionDenied):
        services.add_holiday(pm, "2026-11-26", "Thanksgiving")
    with pytest.raises(PermissionDenied):
        services.set_capacity(pm, pm.id, "6")


def test_admin_sets_a_persons_daily_capacity(client, login_as):
    login_as("admin")
    ana = make_user("employee", full_name="Ana Alvarez")
    assert ana.daily_capacity_hours == Decimal("8")
    page = client.get("/calendar/holidays").get_data(as_text=True)
    assert 'data-testid="capacity-form"' in page and "Ana Alvarez" in page
    done = client.post("/calendar/capacity", data={"user_id": str(ana.id), "hours": "6.5"})
    assert done.status_code == 303
    db.session.refresh(ana)
    assert ana.daily_capacity_hours == Decimal("6.50")
    for hours in ("0", "25", "lots", "-3", "NaN"):
        refused = client.post("/calendar/capacity", data={"user_id": str(ana.id), "hours": hours})
        assert refused.status_code == 422, hours
    customer = make_user("client")
    assert client.post("/calendar/capacity", data={"user_id": str(customer.id), "hours": "6"}).status_code == 422
    with pytest.raises(ValidationError):
        services.set_capacity(make_user("admin"), 999999, "6")


def test_a_holiday_flags_client_visible_milestones_on_it(db):
    admin = make_user("admin")
    zone = ZoneInfo("America/Denver")
    project = make_project(start_date=date(2026, 11, 1))
    milestone = CalendarEvent(
        project_id=project.id,
        title="Cabinets in",
        start_at=datetime.combine(date(2026, 11, 26), time(9), tzinfo=zone),
        end_at=datetime.combine(date(2026, 11, 26), time(10), tzinfo=zone),
        event_type="milestone",
        visibility="client_visible",
    )
    db.session.add(milestone)
    db.session.flush()
    assert milestone.risk_level == "none"
    holiday = services.add_holiday(admin, "2026-11-26", "Thanksgiving")
    db.session.refresh(milestone)
    assert milestone.risk_level == "low"
    row = db.session.scalar(select(ScheduleConflict).where(ScheduleConflict.event_id == milestone.id))
    assert (row.kind, row.detail) == ("holiday", "holiday:Thanksgiving")
    services.delete_holiday(admin, holiday.id)
    db.session.refresh(milestone)
    assert milestone.risk_level == "none"
