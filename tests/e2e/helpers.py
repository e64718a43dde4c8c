"""Helpers shared by the browser tests (imported by conftest.py and the tests)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "Kibray!2026"
# username of the demo user of each role (app/seed.py)
DEMO = {
    "admin": "admin",
    "project_manager_full": "pm",
    "pm_trainee": "trainee",
    "designer": "designer",
    "superintendent": "super",
    "employee": "employee",
    "client": "client",
}
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1440, "height": 900}
SCREENSHOTS = ROOT / "screenshots"


def _default_database_url() -> str:
    """The e2e database lives on the same server as the unit-test database."""
    from sqlalchemy.engine import make_url

    base = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/kibray_test")
    return make_url(base).set(database="kibray_e2e").render_as_string(hide_password=False)


E2E_DATABASE_URL = os.environ.get("E2E_DATABASE_URL") or _default_database_url()
E2E_REDIS_URL = os.environ.get("E2E_REDIS_URL", "redis://127.0.0.1:6379/13")
# This run's own: pub/sub channels ignore the Redis database number (see tests/conftest.py).
E2E_PREFIX = f"kibray-e2e-{uuid.uuid4().hex[:8]}"


def login(page, username: str, password: str = PASSWORD, *, live: bool = True) -> None:
    """Sign in through the login form; wait for the live stream when `live`."""
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", password)
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert "/login" not in page.url, f"sign-in as {username} failed"
    page.wait_for_selector("#bell [data-testid=bell]", state="attached")  # the bell fragment has loaded
    if live:
        wait_live(page)


def wait_live(page, timeout: float = 5_000) -> None:
    page.wait_for_selector("body[data-live='on']", state="attached", timeout=timeout)


def run_sql(url: str, sql: str, *params):
    """A read on the e2e database (to find ids the tests need)."""
    from scripts.pgtools import connect

    with connect(url) as conn:
        return conn.execute(sql, params).fetchall()


def company_today():
    """Today where the company works (COMPANY_TIMEZONE, as the server decides "today"),
    not on this machine's clock: from midnight UTC until the company's midnight the two
    differ, and a task "due today" would be tomorrow's."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo(os.environ.get("COMPANY_TIMEZONE", "America/Denver"))).date()
