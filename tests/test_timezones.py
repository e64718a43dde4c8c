"""Dates and times are shown in the company's time zone (COMPANY_TIMEZONE), one way,
with the zone's abbreviation; an unknown zone stops staging and production."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from cryptography.fernet import Fernet

from app.config import ConfigurationError, load_config
from app.core.timezones import format_date, format_datetime

DENVER = ZoneInfo("America/Denver")
ROOT = Path(__file__).resolve().parents[1]


def test_winter_time_is_mountain_standard():
    assert format_datetime(datetime(2026, 11, 29, 22, 4, tzinfo=UTC), DENVER) == "Nov 29, 2026 3:04 PM MST"


def test_summer_time_is_mountain_daylight():
    assert format_datetime(datetime(2026, 7, 4, 18, 30, tzinfo=UTC), DENVER) == "Jul 4, 2026 12:30 PM MDT"


def test_both_sides_of_the_spring_change():
    # 2026-03-08 02:00 MST the clocks jump to 03:00 MDT (09:00 UTC)
    assert format_datetime(datetime(2026, 3, 8, 8, 59, tzinfo=UTC), DENVER) == "Mar 8, 2026 1:59 AM MST"
    assert format_datetime(datetime(2026, 3, 8, 9, 0, tzinfo=UTC), DENVER) == "Mar 8, 2026 3:00 AM MDT"


def test_both_sides_of_the_autumn_change():
    # 2026-11-01 02:00 MDT the clocks fall back to 01:00 MST (08:00 UTC): 1 AM happens twice
    assert format_datetime(datetime(2026, 11, 1, 7, 30, tzinfo=UTC), DENVER) == "Nov 1, 2026 1:30 AM MDT"
    assert format_datetime(datetime(2026, 11, 1, 8, 30, tzinfo=UTC), DENVER) == "Nov 1, 2026 1:30 AM MST"


def test_the_day_is_the_company_day_not_the_utc_day():
    late_evening = datetime(2026, 1, 1, 4, 0, tzinfo=UTC)  # Dec 31, 9 PM in Denver
    assert format_date(late_evening, DENVER) == "Dec 31, 2025"
    assert format_datetime(late_evening, ZoneInfo("UTC")) == "Jan 1, 2026 4:00 AM UTC"


def test_naive_values_are_utc_and_calendar_dates_stay_as_they_are():
    assert format_datetime(datetime(2026, 11, 29, 12, 0), DENVER) == "Nov 29, 2026 5:00 AM MST"
    assert format_date(date(2026, 5, 1), DENVER) == "May 1, 2026"
    assert format_date(None) == "—" and format_datetime(None) == "—"


def test_midnight_and_noon():
    assert format_datetime(datetime(2026, 1, 5, 7, 0, tzinfo=UTC), DENVER) == "Jan 5, 2026 12:00 AM MST"
    assert format_datetime(datetime(2026, 1, 5, 19, 5, tzinfo=UTC), DENVER) == "Jan 5, 2026 12:05 PM MST"


def test_the_filters_use_the_configured_zone(app):
    with app.app_context():
        saved = app.config["COMPANY_TIMEZONE"]
        try:
            template = app.jinja_env.from_string("{{ t|datetime }} · {{ t|date }}")
            moment = datetime(2026, 11, 29, 22, 4, tzinfo=UTC)
            assert template.render(t=moment) == "Nov 29, 2026 3:04 PM MST · Nov 29, 2026"
            app.config["COMPANY_TIMEZONE"] = "America/New_York"
            assert template.render(t=moment) == "Nov 29, 2026 5:04 PM EST · Nov 29, 2026"
        finally:
            app.config["COMPANY_TIMEZONE"] = saved


def test_default_setting_is_denver(monkeypatch):
    monkeypatch.delenv("COMPANY_TIMEZONE", raising=False)
    assert load_config("development")["COMPANY_TIMEZONE"] == "America/Denver"


@pytest.fixture()
def production_env(monkeypatch):
    for name in ("DEBUG", "TWO_FACTOR_REQUIRED_ROLES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SECRET_KEY", "k" * 24 + "-production-secret-0123456789")
    monkeypatch.setenv("DATABASE_URL", "postgresql://kibray:pw@db.internal:5432/kibray")
    monkeypatch.setenv("REDIS_URL", "redis://cache.internal:6379/0")
    monkeypatch.setenv("FIELD_ENCRYPTION_KEY", Fernet.generate_key().decode())
    monkeypatch.setenv("ALLOWED_HOSTS", "erp.kibray.example")
    return monkeypatch


@pytest.mark.parametrize("env_name", ["production", "staging"])
def test_an_unknown_zone_refuses_to_start_and_is_named(production_env, env_name):
    production_env.setenv("COMPANY_TIMEZONE", "America/Denvr")
    with pytest.raises(ConfigurationError) as info:
        load_config(env_name)
    assert "COMPANY_TIMEZONE" in str(info.value) and "America/Denvr" in str(info.value)
    production_env.setenv("COMPANY_TIMEZONE", "America/Chicago")
    assert load_config(env_name)["COMPANY_TIMEZONE"] == "America/Chicago"


def test_no_strftime_in_templates():
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "templates").rglob("*.html")
        if re.search(r"strftime|isoformat\(", path.read_text())
    ]
    assert offenders == []
