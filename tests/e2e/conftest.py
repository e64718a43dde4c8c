"""Browser-test fixtures: a real gunicorn server (gevent worker, CSRF on, as in
production) on its own PostgreSQL database and Redis db, seeded with the demo company,
and the system Chromium driven by Playwright's sync API.

Every page opened through `browser_page` records JavaScript console errors, uncaught
exceptions, failed requests and 5xx answers; a test fails if any were seen (the
SSE stream being cut when a page goes away is normal and ignored).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from scripts.pgtools import recreate_database
from tests.e2e.helpers import DEMO, DESKTOP, E2E_DATABASE_URL, E2E_PREFIX, E2E_REDIS_URL, ROOT, SCREENSHOTS, login

BIN = Path(sys.executable).parent  # the virtualenv running the tests
CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


# ---------------------------------------------------------------- the server


def _recreate_database(url: str) -> None:
    try:
        recreate_database(url)
    except ValueError as exc:
        raise pytest.UsageError(f"E2E database: {exc}") from None


def _server_env(port: int) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "REDIS_URL", "FLASK_"))}
    env.update(
        APP_ENV="test",
        DATABASE_URL=E2E_DATABASE_URL,
        REDIS_URL=E2E_REDIS_URL,
        REDIS_KEY_PREFIX=E2E_PREFIX,
        PORT=str(port),
        GUNICORN_WORKERS="1",
        PYTHONUNBUFFERED="1",
        LOG_LEVEL="WARNING",
    )
    env.pop("GUNICORN_WORKER_CLASS", None)  # the production default (gevent)
    return env


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _flask(env: dict, *args: str) -> None:
    result = subprocess.run(
        [str(BIN / "flask"), "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    if result.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")


def _wait_healthy(url: str, proc: subprocess.Popen, log_path: Path, timeout: float = 30) -> None:
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {proc.returncode}:\n{log_path.read_text()[-4000:]}")
        try:
            if requests.get(url + "/health/", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not become healthy in {timeout}s:\n{log_path.read_text()[-4000:]}")


@contextlib.contextmanager
def gunicorn(env: dict, log_path: Path):
    """gunicorn (gunicorn.conf.py) with `env`, logging to `log_path`; yields its base URL
    once it answers, and stops it (quick shutdown: open streams end too) afterwards."""
    with open(log_path, "w") as log:
        proc = subprocess.Popen(  # noqa: S603
            [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        base_url = f"http://127.0.0.1:{env['PORT']}"
        try:
            _wait_healthy(base_url, proc, log_path)
            yield base_url
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGINT)
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """Base URL of a gunicorn server on a freshly migrated and seeded database."""
    import redis

    if not Path(CHROMIUM).exists():
        message = f"browser tests need Chromium at {CHROMIUM} (make chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    try:
        _recreate_database(E2E_DATABASE_URL)
        redis.Redis.from_url(E2E_REDIS_URL, socket_connect_timeout=3).flushdb()
    except Exception as exc:  # noqa: BLE001 - say what is missing
        message = f"browser tests need PostgreSQL and Redis: {exc}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)

    port = _free_port()
    env = _server_env(port)
    _flask(env, "db", "upgrade")
    _flask(env, "seed-demo")
    log_path = tmp_path_factory.mktemp("gunicorn") / "gunicorn.log"
    with gunicorn(env, log_path) as base_url:
        yield base_url
    errors = [line for line in log_path.read_text().splitlines() if '"level": "ERROR"' in line]  # (JSON lines)
    if errors:
        sys.stderr.write(f"\n[e2e] server log had errors, see {log_path}\n")


# ---------------------------------------------------------------- the browser


@pytest.fixture(scope="session")
def browser(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


class Problems:
    """What went wrong in the pages of one test: console errors, page errors,
    failed requests, 5xx answers. `expect(status, path)` allows a known 4xx answer
    (the browser logs those as console errors)."""

    def __init__(self):
        self.seen: list[str] = []
        self.allowed: list[tuple[int, str]] = []
        self.closing = False

    def expect(self, status: int, path: str) -> None:
        self.allowed.append((status, path))

    def _allowed_console(self, text: str, location: dict) -> bool:
        if "Failed to load resource" not in text:
            return False
        url = (location or {}).get("url", "")
        return any(f"status of {status}" in text and path in url for status, path in self.allowed)

    def watch(self, page, label: str) -> None:
        # Requests the browser drops because the page went away (a navigation while
        # the bell or an icon was still loading) are not failures of the app.
        navigations = {"count": 0}
        started: dict = {}
        request_order: dict = {}

        def on_framenavigated(frame):
            if frame == page.main_frame:
                navigations["count"] += 1

        requested: dict = {}  # GET url → how many times it was requested so far

        def on_request(request):
            started[request] = navigations["count"]
            if request.method == "GET":
                requested[request.url] = requested.get(request.url, 0) + 1
                request_order[request] = requested[request.url]
            if request.is_navigation_request() and request.frame == page.main_frame:
                navigations["count"] += 1  # counted as it starts: aborts come before it commits

        def on_console(message):
            if message.type == "error" and not self._allowed_console(message.text, message.location):
                self.seen.append(
                    f"[{label}] console error on {page.url}: {message.text} (at {message.location.get('url', '')})"
                )

        def on_pageerror(error):
            self.seen.append(f"[{label}] page error on {page.url}: {error}")

        def on_requestfailed(request):
            if request.url.split("?")[0].endswith("/events"):
                return  # the live stream is cut whenever a page goes away
            navigated_away = navigations["count"] > started.get(request, navigations["count"])
            background = request.headers.get("x-kibray-background") == "1"
            # htmx aborts a fragment's request when the same element asks again (the bell's
            # first load overtaken by a live notification): the newer answer is shown
            superseded = request.method == "GET" and requested.get(request.url, 0) > request_order.get(request, 0)
            # a fragment htmx loads (hx-trigger="load", a refresh) is cancelled when the page
            # swaps its body for the next one (a boosted link): the person has moved on
            superseded = superseded or (request.method == "GET" and request.headers.get("hx-request") == "true")
            # an image whose <img> left the document (a live swap redrew its section) is
            # aborted by the browser; a broken image is an error status or a console error
            gone = request.resource_type == "image"
            if request.failure == "net::ERR_ABORTED" and (
                navigated_away or self.closing or background or superseded or gone
            ):
                # the page went on, the test is over and its pages are closing, or a
                # refresh was superseded by the next one: nothing the person would see
                return
            self.seen.append(f"[{label}] request failed: {request.method} {request.url} {request.failure}")

        def on_response(response):
            if response.status >= 500:
                self.seen.append(f"[{label}] server error: {response.status} {response.request.method} {response.url}")

        page.on("framenavigated", on_framenavigated)
        page.on("request", on_request)
        page.on("console", on_console)
        page.on("pageerror", on_pageerror)
        page.on("requestfailed", on_requestfailed)
        page.on("response", on_response)


@pytest.fixture()
def problems():
    return Problems()


@pytest.fixture()
def browser_page(browser, server, problems):
    """browser_page(viewport=DESKTOP, label="...") → a Page in a fresh context."""
    contexts = []

    def _open(viewport=None, label=None):
        context = browser.new_context(base_url=server, viewport=viewport or DESKTOP)
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        problems.watch(page, label or f"page{len(contexts)}")
        return page

    yield _open
    problems.closing = True  # a live refresh still in flight is aborted by the close, not failed
    for context in contexts:
        context.close()
    assert not problems.seen, "problems in the browser:\n" + "\n".join(problems.seen)


@pytest.fixture()
def signed_in(browser_page):
    """signed_in(role_or_username, viewport=..., live=True) → a Page signed in."""

    def _open(who: str, viewport=None, live: bool = True):
        username = DEMO.get(who, who)
        page = browser_page(viewport=viewport, label=username)
        login(page, username, live=live)
        return page

    return _open


@pytest.fixture(scope="session")
def screenshots_dir():
    SCREENSHOTS.mkdir(exist_ok=True)
    return SCREENSHOTS
