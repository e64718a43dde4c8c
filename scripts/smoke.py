#!/usr/bin/env python
"""Post-deployment smoke test: what docs/deployment.md asks people to check by hand after
each deployment, done in a real browser (Playwright's sync API on the system Chromium).

    SMOKE_USERNAME=smoke SMOKE_PASSWORD=… SMOKE_TOTP_SECRET=… python scripts/smoke.py https://erp.example.com

Steps, each printed as `✓ step (123 ms)` or `✗ step: reason`:
  health         GET /health/ answers 200 with every check true
  sign in        the login form, then the two-factor code (computed from SMOKE_TOTP_SECRET
                 with pyotp) when the account has two-factor sign-in
  dashboard      every widget the home page loads by htmx (hx-trigger="load") answered
  live           the live connection (SSE, GET /events) opened: <body data-live="on">
  API sign in    POST /api/auth/login/ (the same account; its next code) → an access token
  project        created through the UI (/projects/new) for the smoke client
  event          a calendar event on it through the UI (/calendar/events/new?project=…)
  task           a task on it through the UI (the project's tasks page → Add task)
  photo          a generated PNG uploaded through the project's gallery (straight to S3
                 with a presigned POST when the storage is S3, as a person's browser does),
                 then its thumbnail made by a worker (proves the workers run)
  invoice        a draft invoice through the invoice wizard
  no JS errors   no uncaught exception and no console error on any page opened
  clean up       the photo deleted (its objects leave the storage), then the project
                 (which takes its event, task and draft invoice with it) — through the API,
                 so it also runs after any failure
  nothing left   each object created answers 404, no project named this run's tag remains,
                 and the photo's storage URLs no longer serve it
Budgets (docs/deployment.md "Performance budgets"; the median of 5 requests for the
request ones, one measurement for the browser ones): home (GET / signed out, redirect
followed) < 500 ms, API (GET /api/projects/ with the token) < 200 ms, dashboard (the page
and every widget loaded, in the browser) < 1 s, reports (/reports/profitability, the page
loaded, in the browser) < 5 s. Over budget is a warning line; with --strict it fails the run.

The smoke client: a project needs a client and clients are never deleted, so the projects
are made for one standing client (SMOKE_CLIENT, default "Smoke test (internal)"), created
through the API the first time and reused after; nothing else is left behind.

Exit status: 0 when every step passed (and, with --strict, every budget held); 1 with the
failed step named otherwise; 2 for a usage error (missing credentials).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
import zlib
from datetime import UTC, datetime
from struct import pack
from urllib.parse import urljoin

import requests

CHROMIUM = os.environ.get("SMOKE_CHROMIUM", "/usr/bin/chromium")
# As tests/e2e/conftest.py launches it.
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
# More flags, space-separated (scripts/smoke_local.sh: trust its certificate by its key's hash).
EXTRA_ARGS = os.environ.get("SMOKE_CHROMIUM_ARGS", "").split()
BUDGETS_MS = {"home": 500, "API": 200, "dashboard": 1000, "reports": 5000}
TIMEOUT_MS = 15_000


class StepFailed(Exception):
    def __init__(self, step: str, reason: str):
        super().__init__(f"{step}: {reason}")
        self.step, self.reason = step, reason


def png(width: int = 64, height: int = 48) -> bytes:
    """A small PNG with a gradient (no image library needed)."""
    raw = b"".join(
        b"\x00" + b"".join(bytes(((x * 4) % 256, (y * 5) % 256, 128)) for x in range(width)) for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return pack(">I", len(data)) + kind + data + pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


class Smoke:
    def __init__(self, args):
        self.base = args.base_url.rstrip("/")
        self.username, self.password, self.totp_secret = args.username, args.password, args.totp_secret
        self.client_name = args.client
        self.strict = args.strict
        self.verify = args.ca_cert or True
        self.args_ca_cert = args.ca_cert
        self.tag = "SMOKE " + datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        self.http = requests.Session()
        self.http.verify = self.verify
        # A session's own `verify` loses to the environment's CA settings (requests merges
        # the request's, from the environment, over the session's): with a certificate of
        # its own, the environment is not read.
        self.http.trust_env = args.ca_cert is None
        self.token: str | None = None
        self.used_steps: set[int] = set()  # TOTP time steps this run has used (a code works once)
        self.created: dict[str, int] = {}  # project, event, task, photo, invoice → id
        self.photo_urls: list[str] = []  # the photo's storage URLs (presigned, on S3)
        self.js_errors: list[str] = []
        self.timings: dict[str, float] = {}
        self.failed: StepFailed | None = None
        self.page = None

    # ------------------------------------------------------------------ output

    def step(self, name: str, action):
        start = time.perf_counter()
        try:
            result = action()
        except StepFailed:
            raise
        except Exception as exc:  # noqa: BLE001 - any failure is the step's, named
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            print(f"✗ {name}: {reason}", flush=True)
            raise StepFailed(name, reason) from exc
        print(f"✓ {name} ({(time.perf_counter() - start) * 1000:.0f} ms)", flush=True)
        return result

    def url(self, path: str) -> str:
        return urljoin(self.base + "/", path.lstrip("/"))

    # ------------------------------------------------------------------ two-factor

    def code(self, ahead: int = 0) -> str:
        """A TOTP code for a time step this run has not used: the server accepts a code
        once, for the current step or one either side (app/auth/twofactor.py)."""
        import pyotp

        totp = pyotp.TOTP(self.totp_secret)
        step = int(time.time() // totp.interval) + ahead
        while step in self.used_steps:
            step += 1
        self.used_steps.add(step)
        return totp.generate_otp(step)

    # ------------------------------------------------------------------ API

    def api(self, method: str, path: str, expect=(200,), **kwargs):
        headers = kwargs.pop("headers", {})
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        answer = self.http.request(method, self.url(path), headers=headers, timeout=30, **kwargs)
        if answer.status_code not in expect:
            raise AssertionError(f"{method} {path} answered {answer.status_code}: {answer.text[:300]}")
        return answer

    def api_sign_in(self):
        body = {"username": self.username, "password": self.password}
        if self.totp_secret:
            body["otp_code"] = self.code(ahead=1)  # the browser used this step's code
        answer = self.http.post(self.url("/api/auth/login/"), json=body, timeout=30)
        if answer.status_code != 200:
            raise AssertionError(f"POST /api/auth/login/ answered {answer.status_code}: {answer.text[:300]}")
        data = answer.json()["data"]
        if data["user"]["role"] != "admin":
            raise AssertionError(f"{self.username} is a {data['user']['role']}, not an admin")
        self.token = data["access_token"]

    def smoke_client(self) -> int:
        found = self.api("GET", "/api/clients/", params={"search": self.client_name}).json()["data"]["results"]
        for client in found:
            if client["name"] == self.client_name:
                return client["id"]
        created = self.api("POST", "/api/clients/", expect=(201,), json={"name": self.client_name})
        print(f"  (created the standing smoke client {self.client_name!r}: clients are never deleted)")
        return created.json()["data"]["id"]

    # ------------------------------------------------------------------ budgets

    def timed_get(self, path: str, runs: int = 5, **kwargs) -> float:
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            answer = self.http.get(self.url(path), timeout=30, **kwargs)
            times.append((time.perf_counter() - start) * 1000)
            if answer.status_code != 200:
                raise AssertionError(f"GET {path} answered {answer.status_code}")
        return statistics.median(times)

    def budget_home(self):
        anonymous = requests.Session()
        anonymous.verify, anonymous.trust_env = self.verify, self.http.trust_env
        saved, self.http = self.http, anonymous
        try:
            self.timings["home"] = self.timed_get("/")
        finally:
            self.http = saved

    def budget_api(self):
        self.timings["API"] = self.timed_get("/api/projects/", headers={"Authorization": f"Bearer {self.token}"})

    # ------------------------------------------------------------------ browser

    def watch(self, page):
        def on_console(message):
            if message.type == "error":
                where = (message.location or {}).get("url", "")
                if where.split("?")[0].endswith("/events"):
                    return  # the live stream is cut whenever a page goes away
                self.js_errors.append(f"console error on {page.url}: {message.text} (at {where})")

        page.on("console", on_console)
        page.on("pageerror", lambda error: self.js_errors.append(f"page error on {page.url}: {error}"))

    def sign_in(self):
        page = self.page
        page.goto(self.url("/login"))
        page.fill("#username", self.username)
        page.fill("#password", self.password)
        with page.expect_navigation():
            page.click("button[type=submit]")
        if "/login/code" in page.url:
            if not self.totp_secret:
                raise AssertionError(
                    "the account has two-factor sign-in: set SMOKE_TOTP_SECRET (its key) or --totp-secret"
                )
            page.fill("#code", self.code())
            with page.expect_navigation():
                page.click("button[type=submit]")
        if "/login" in page.url:
            error = page.locator("[role=alert]").all_inner_texts()
            raise AssertionError("sign-in refused: " + (" ".join(error) or page.url))
        if "/account/two-factor" in page.url:
            raise AssertionError(
                "the account must set up two-factor sign-in first: sign in as it once in a browser, "
                "scan the code and keep its key as SMOKE_TOTP_SECRET"
            )
        if "/account/password" in page.url:
            raise AssertionError("the account must choose a new password first (a one-time password)")

    def dashboard(self):
        """The home page and every widget it loads by htmx on load, each answered (2xx)."""
        page = self.page
        start = time.perf_counter()
        page.goto(self.url("/"))
        slots = page.eval_on_selector_all(
            "main [hx-get][hx-trigger]",
            "els => els.filter(e => /(^|,)\\s*load\\b/.test(e.getAttribute('hx-trigger'))).map(e => e.id)",
        )
        if not slots:
            raise AssertionError("the dashboard has no widgets that load")
        page.wait_for_function(
            "ids => ids.every(id => (window.__smokeLoaded || {})[id] !== undefined)", arg=slots, timeout=TIMEOUT_MS
        )
        self.timings["dashboard"] = (time.perf_counter() - start) * 1000
        failed = page.evaluate("ids => ids.filter(id => !window.__smokeLoaded[id])", slots)
        if failed:
            raise AssertionError("widgets that failed to load: " + ", ".join(failed))
        return len(slots)

    def live(self):
        self.page.wait_for_selector("body[data-live='on']", state="attached", timeout=TIMEOUT_MS)

    def create_project(self):
        page = self.page
        page.goto(self.url("/projects/new"))
        page.wait_for_selector("[data-testid=project-form]")
        page.fill("#f-name", self.tag)
        page.select_option("#f-client_id", label=self.client_name)
        page.fill("#f-address", "1 Smoke Test Way")
        page.locator("[data-testid=save-project]").click()
        page.wait_for_url(re.compile(r"/projects/\d+$"), wait_until="commit")
        self.created["project"] = int(re.search(r"/projects/(\d+)$", page.url).group(1))
        page.wait_for_selector("#project-detail")
        title = page.locator("#project-detail h1").inner_text()
        if title != self.tag:
            raise AssertionError(f"the project page shows {title!r}")

    def create_event(self):
        page = self.page
        page.goto(self.url(f"/calendar/events/new?project={self.created['project']}"))
        page.wait_for_selector("[data-testid=event-form]")
        page.fill("#f-title", f"{self.tag} event")
        page.locator("[data-testid=save-event]").click()
        page.wait_for_url(re.compile(r"/calendar/events/\d+$"), wait_until="commit")
        self.created["event"] = int(re.search(r"/calendar/events/(\d+)$", page.url).group(1))
        page.wait_for_selector(f"h1:has-text('{self.tag} event')")

    def create_task(self):
        page = self.page
        page.goto(self.url(f"/projects/{self.created['project']}/tasks"))
        page.locator("[data-testid=add-task]").click()
        page.wait_for_selector("[data-testid=task-form]")
        page.fill("#f-title", f"{self.tag} task")
        page.locator("[data-testid=save-task]").click()
        page.wait_for_url(re.compile(r"/tasks/\d+$"), wait_until="commit")
        self.created["task"] = int(re.search(r"/tasks/(\d+)$", page.url).group(1))
        page.wait_for_selector(f"h1:has-text('{self.tag} task')")

    def upload_photo(self):
        page = self.page
        page.goto(self.url(f"/projects/{self.created['project']}/photos"))
        page.wait_for_selector("[data-testid=photo-upload]")
        page.fill("#f-caption", f"{self.tag} photo")

        def added(response):
            return response.request.method == "POST" and response.request.headers.get("x-kibray-upload") == "1"

        with page.expect_response(added, timeout=TIMEOUT_MS) as answer:
            page.locator("[data-testid=photo-files]").set_input_files(
                files=[{"name": "smoke.png", "mimeType": "image/png", "buffer": png()}]
            )
        body = answer.value.json()
        if not body.get("ok"):
            raise AssertionError(f"the upload was refused: {body.get('error')}")
        self.created["photo"] = body["id"]
        page.wait_for_selector("[data-testid=upload-item][data-state=done]", timeout=TIMEOUT_MS)

    def image_location(self, size: str) -> tuple[str | None, str]:
        """Where the photo at `size` is served from (the presigned URL on S3) and its type."""
        answer = self.page.request.get(
            self.url(f"/photos/{self.created['photo']}/image?size={size}"), max_redirects=0, timeout=TIMEOUT_MS
        )
        if answer.status == 302:
            location = answer.headers["location"]
            kind = "image/jpeg" if "image%2Fjpeg" in location else "other"
            return location, kind
        if answer.status != 200:
            raise AssertionError(f"the photo's {size} image answered {answer.status}")
        return None, answer.headers.get("content-type", "")

    def thumbnail(self, wait_s: float = 30):
        """The worker makes the thumbnail (a JPEG) after the upload: wait for it."""
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            location, kind = self.image_location("thumb")
            if kind.startswith("image/jpeg"):
                break
            time.sleep(0.5)
        else:
            raise AssertionError(f"no thumbnail after {wait_s:.0f} s: is a worker (python -m workers) running?")
        for size in ("original", "thumb", "web"):
            location, _ = self.image_location(size)
            if location:
                if self.http.get(location, timeout=30).status_code != 200:
                    raise AssertionError(f"the photo's {size} object does not download from storage")
                self.photo_urls.append(location)

    def create_invoice(self):
        page = self.page
        page.goto(self.url(f"/invoices/wizard?project_id={self.created['project']}"))
        page.wait_for_selector("[data-testid=invoice-wizard][data-step=project]")
        page.get_by_test_id("wizard-next").click()
        page.wait_for_selector("[data-testid=invoice-wizard][data-step=lines]")
        rows = page.locator("[data-testid=invoice-line-row]")
        for index in range(rows.count()):
            rows.nth(index).locator("input[name=line_description]").fill("")
        rows.nth(0).locator("input[name=line_description]").fill(f"{self.tag} line")
        rows.nth(0).locator("input[name=line_quantity]").fill("1")
        rows.nth(0).locator("input[name=line_unit_price]").fill("1.00")
        page.get_by_test_id("wizard-next").click()
        page.wait_for_selector("[data-testid=invoice-wizard][data-step=terms]")
        page.get_by_test_id("wizard-next").click()
        page.wait_for_selector("[data-testid=invoice-wizard][data-step=review]")
        page.get_by_test_id("wizard-save").click()
        page.wait_for_selector("[data-testid=invoice][data-status=DRAFT]", timeout=TIMEOUT_MS)
        self.created["invoice"] = int(re.search(r"/invoices/(\d+)", page.url).group(1))

    def reports(self):
        page = self.page
        start = time.perf_counter()
        page.goto(self.url("/reports/profitability"), wait_until="load")
        page.wait_for_load_state("networkidle", timeout=TIMEOUT_MS)  # its charts and fragments too
        self.timings["reports"] = (time.perf_counter() - start) * 1000
        if "/reports/profitability" not in page.url:
            raise AssertionError(f"the report opened {page.url}")

    def no_js_errors(self):
        if self.js_errors:
            raise AssertionError(f"{len(self.js_errors)} error(s); first: {self.js_errors[0]}")

    # ------------------------------------------------------------------ clean up

    def clean_up(self):
        """Through the API, whatever the browser got to: the photo (its objects are deleted
        from the storage after the commit), then the project, which takes its events,
        tasks and draft invoices with it (app/projects/services.delete_project)."""
        if self.token is None:
            self.api_sign_in()
        if "photo" in self.created:
            self.api("DELETE", f"/api/photos/{self.created['photo']}/", expect=(200, 404))
        for kind, path in (("event", "/api/calendar/events/{}/"), ("task", "/api/tasks/{}/")):
            if kind in self.created and "project" not in self.created:
                self.api("DELETE", path.format(self.created[kind]), expect=(200, 204, 404))
        if "project" in self.created:
            self.api("DELETE", f"/api/projects/{self.created['project']}/", expect=(200, 404))
        else:  # the browser may have saved it before failing to read its id
            for project in self.projects_tagged():
                self.api("DELETE", f"/api/projects/{project['id']}/", expect=(200, 404))

    def projects_tagged(self) -> list[dict]:
        answer = self.api("GET", "/api/projects/", params={"search": self.tag, "page_size": 100})
        return [p for p in answer.json()["data"]["results"] if p["name"].startswith(self.tag)]

    def nothing_left(self):
        paths = {
            "project": "/api/projects/{}/",
            "event": "/api/calendar/events/{}/",
            "task": "/api/tasks/{}/",
            "photo": "/api/photos/{}/",
            "invoice": "/api/invoices/{}/",
        }
        left = [
            f"{kind} {ident}"
            for kind, ident in self.created.items()
            if self.api("GET", paths[kind].format(ident), expect=(200, 404)).status_code != 404
        ]
        left += [f"project {p['id']} ({p['name']})" for p in self.projects_tagged()]
        deadline = time.monotonic() + 10  # the objects go after the commit
        while True:
            kept = [u for u in self.photo_urls if self.http.get(u, timeout=30).status_code == 200]
            if not kept or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        left += [f"{len(kept)} storage object(s) of the photo"] if kept else []
        if left:
            raise AssertionError("still there: " + ", ".join(left))
        return len(self.created)

    # ------------------------------------------------------------------ the run

    def run(self) -> int:
        from playwright.sync_api import sync_playwright

        print(f"Smoke test of {self.base} as {self.username} (tag {self.tag!r})", flush=True)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS + EXTRA_ARGS)
            context = browser.new_context(
                # the script's own requests in the browser (page.request) with a local
                # certificate; the pages themselves trust it by SMOKE_CHROMIUM_ARGS
                ignore_https_errors=bool(self.args_ca_cert),
                viewport={"width": 1440, "height": 900},
            )
            context.set_default_timeout(TIMEOUT_MS)
            # Which of the htmx requests answered: the widgets' (by the id of their element).
            context.add_init_script(
                "document.addEventListener('htmx:afterRequest', function (e) {"
                " var el = e.detail.elt; if (el && el.id) {"
                " (window.__smokeLoaded = window.__smokeLoaded || {})[el.id] = !!e.detail.successful; } });"
            )
            self.page = context.new_page()
            self.watch(self.page)
            try:
                self.step("health", self.health)
                self.step("home budget", self.budget_home)
                self.step("sign in", self.sign_in)
                count = self.step("dashboard widgets", self.dashboard)
                print(f"  ({count} widgets loaded)")
                self.step("live connection", self.live)
                self.step("API sign in", self.api_sign_in)
                self.step("API budget", self.budget_api)
                self.client_id = self.step("smoke client", self.smoke_client)
                self.step("create project", self.create_project)
                self.step("add calendar event", self.create_event)
                self.step("create task", self.create_task)
                self.step("upload photo", self.upload_photo)
                self.step("photo thumbnail (worker)", self.thumbnail)
                self.step("draft invoice", self.create_invoice)
                self.step("reports page", self.reports)
                self.step("no JavaScript errors", self.no_js_errors)
            except StepFailed as exc:
                self.failed = exc
            finally:
                try:
                    self.step("delete test data", self.clean_up)
                    left = self.step("nothing left behind", self.nothing_left)
                    print(f"  ({left} objects created and gone)")
                except StepFailed as exc:
                    self.failed = self.failed or exc
                context.close()
                browser.close()
        return self.report()

    def health(self):
        answer = self.http.get(self.url("/health/"), timeout=30)
        if answer.status_code != 200:
            raise AssertionError(f"GET /health/ answered {answer.status_code}: {answer.text[:300]}")

    def report(self) -> int:
        over = []
        print("Budgets (docs/deployment.md):")
        for name, budget in BUDGETS_MS.items():
            if name not in self.timings:
                print(f"  – {name}: not measured (an earlier step failed)")
                continue
            value = self.timings[name]
            if value <= budget:
                print(f"  ✓ {name}: {value:.0f} ms (budget {budget} ms)")
            else:
                over.append(name)
                print(f"  ⚠ {name}: {value:.0f} ms, OVER its budget of {budget} ms")
        if self.failed:
            for error in self.js_errors[:5]:
                print(f"  (JavaScript: {error})")
            print(f"SMOKE TEST FAILED at step: {self.failed.step}: {self.failed.reason}")
            return 1
        if over and self.strict:
            print(f"SMOKE TEST FAILED: over budget (--strict): {', '.join(over)}")
            return 1
        print("SMOKE TEST PASSED" + (f" (over budget: {', '.join(over)})" if over else ""))
        return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("base_url", help="the deployment's address, e.g. https://erp.example.com")
    parser.add_argument("--username", default=os.environ.get("SMOKE_USERNAME"), help="an admin (env SMOKE_USERNAME)")
    parser.add_argument("--password", default=os.environ.get("SMOKE_PASSWORD"), help="(env SMOKE_PASSWORD)")
    parser.add_argument(
        "--totp-secret",
        default=os.environ.get("SMOKE_TOTP_SECRET"),
        help="the account's two-factor key (env SMOKE_TOTP_SECRET); needed where admins use two-factor",
    )
    parser.add_argument(
        "--client",
        default=os.environ.get("SMOKE_CLIENT", "Smoke test (internal)"),
        help="the standing client the test project is made for (env SMOKE_CLIENT)",
    )
    parser.add_argument("--strict", action="store_true", help="a response-time budget exceeded fails the run")
    parser.add_argument(
        "--ca-cert",
        default=os.environ.get("SMOKE_CA_CERT"),
        help="a local instance's own certificate, for the script's requests (the browser is told"
        " by SMOKE_CHROMIUM_ARGS, see scripts/smoke_local.sh)",
    )
    args = parser.parse_args(argv)
    missing = [name for name in ("username", "password") if not getattr(args, name)]
    if missing:
        print(
            "smoke.py needs an admin account: set SMOKE_USERNAME and SMOKE_PASSWORD "
            "(and SMOKE_TOTP_SECRET where admins use two-factor sign-in)",
            file=sys.stderr,
        )
        return 2
    if not os.path.exists(CHROMIUM):
        print(f"smoke.py needs Chromium at {CHROMIUM} (make chromium, or SMOKE_CHROMIUM)", file=sys.stderr)
        return 2
    return Smoke(args).run()


if __name__ == "__main__":
    sys.exit(main())
