"""The admin's operations page updates live: an alert opened by the evaluator (the CLI
here, as the periodic job would) appears without a reload; screenshots on a phone and a
desktop."""

import os
import subprocess
import time

import pytest
import redis

from tests.e2e.helpers import E2E_DATABASE_URL, E2E_PREFIX, E2E_REDIS_URL, ROOT

pytestmark = pytest.mark.e2e

PHONE_390 = {"width": 390, "height": 844}
DESKTOP_1280 = {"width": 1280, "height": 900}


def _evaluate() -> subprocess.CompletedProcess:
    """`flask operations evaluate` on the browser tests' database and Redis (exit 1: an
    alert holds)."""
    from tests.e2e.conftest import BIN

    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "REDIS_URL", "FLASK_"))}
    env.update(APP_ENV="test", DATABASE_URL=E2E_DATABASE_URL, REDIS_URL=E2E_REDIS_URL, REDIS_KEY_PREFIX=E2E_PREFIX)
    return subprocess.run(  # noqa: S603
        [str(BIN / "flask"), "--app", "wsgi", "operations", "evaluate"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_an_alert_opening_reaches_the_open_page_live(signed_in, screenshots_dir):
    began = time.monotonic()
    page = signed_in("admin", viewport=DESKTOP_1280)
    page.locator("#main-nav [data-nav=operations]").click()
    page.wait_for_selector("[data-testid=ops-alerts]")
    assert page.locator("[data-testid=ops-open-alert]").count() == 0
    page.evaluate("window.__kibrayMarker = 'no reload'")

    # 25 errors in the last complete minute (and this one, should the minute turn meanwhile)
    store = redis.Redis.from_url(E2E_REDIS_URL)
    minute = int(time.time() // 60)
    for m in (minute - 1, minute):
        store.hincrby(f"{E2E_PREFIX}:ops:m:{m}", "errors", 25)
        store.expire(f"{E2E_PREFIX}:ops:m:{m}", 600)
    result = _evaluate()
    assert result.returncode == 1 and "OPENED critical: 25 errors in the last minute" in result.stdout, result

    page.wait_for_selector("[data-testid=ops-open-alert][data-condition=error_rate]", timeout=5_000)
    assert page.evaluate("window.__kibrayMarker") == "no reload"
    assert "SMS: not configured" in page.locator("[data-testid=ops-channel-sms]").inner_text()
    page.screenshot(path=str(screenshots_dir / "operations-1280.png"), full_page=True)

    page.set_viewport_size(PHONE_390)  # the same page on a phone's width
    page.reload()
    page.wait_for_selector("[data-testid=ops-open-alert]")
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than a 390px phone"
    page.screenshot(path=str(screenshots_dir / "operations-390.png"), full_page=True)

    for m in (minute - 1, minute):
        store.delete(f"{E2E_PREFIX}:ops:m:{m}")
    store.delete(f"{E2E_PREFIX}:ops:alerts:open")  # leave no open alert to the next tests
    elapsed = time.monotonic() - began
    print(f"operations live test: {elapsed:.1f} s")
