"""Drill: two web instances, nothing instance-local (issue 14). Two gunicorn instances
(Procfile's `web` line, APP_ENV=production) on different ports against the same
PostgreSQL, Redis and S3 (moto): sessions, uploads, live events, rate limits and login
throttling are shared; an instance killed with SIGKILL loses no committed write and the
other keeps serving; a graceful restart drops no request that had not started.

    .venv/bin/python scripts/drill_two_instances.py      (or: make drills)

Prints one `✓` line per promise proved; exits 1 naming the first that failed."""

from __future__ import annotations

import io
import json
import queue
import random
import signal
import threading
import time
import uuid

import drill_common as d
from drill_common import check, proved

RATE_LIMIT = 20  # the anonymous API's hourly limit on these instances (production: 100)
LOGIN_FAILURES = 3  # failures an account is allowed on these instances (production: 5)


def jpeg(width: int = 640, height: int = 480) -> bytes:
    from PIL import Image

    image = Image.effect_noise((width, height), 40).convert("RGB")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def sse_reader(client, url: str, events: queue.Queue, stop: threading.Event) -> None:
    """Put each (event, data) of the stream at `url` on `events` until `stop`."""
    try:
        with client.get(url, stream=True, timeout=(5, 30), headers={"Accept": "text/event-stream"}) as answer:
            events.put(("status", answer.status_code))
            name = None
            for raw in answer.iter_lines(decode_unicode=True):
                if stop.is_set():
                    return
                if raw.startswith("event: "):
                    name = raw[7:]
                elif raw.startswith("data: ") and name:
                    events.put((name, json.loads(raw[6:])))
                    name = None
    except Exception as exc:  # noqa: BLE001 - reported to the drill, which fails on it
        events.put(("error", repr(exc)))


def wait_event(events: queue.Queue, name: str, seconds: float, where=lambda data: True):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            event, data = events.get(timeout=max(0.05, deadline - time.monotonic()))
        except queue.Empty:
            break
        if event == "error":
            raise d.DrillFailed(f"the live stream failed: {data}")
        if event == name and where(data):
            return data
    raise d.DrillFailed(f"no {name!r} event on the stream within {seconds} s")


def sessions_are_shared(one, two) -> object:
    browser = d.sign_in(one.base, "admin")
    cookie = browser.cookies.get("kibray_session")
    check(cookie, "no kibray_session cookie after signing in")
    other = d.Client()
    other.cookies.set("kibray_session", cookie, domain="127.0.0.1", path="/")
    page = other.get(two.base + "/projects", allow_redirects=False, timeout=10)
    check(page.status_code == 200, f"instance 2 answered {page.status_code} to instance 1's session")
    check('action="/logout"' in page.text or "/logout" in page.text, "instance 2's page is not a signed-in page")
    proved("a user signed in on instance 1 is signed in on instance 2 (the same session cookie)")
    return browser


def uploads_and_live_events(one, two, browser, s3) -> None:
    project_id = d.sql(one.env["DATABASE_URL"], "SELECT min(id) FROM projects")[0][0]
    events: queue.Queue = queue.Queue()
    stop = threading.Event()
    reader = threading.Thread(target=sse_reader, args=(browser, two.base + "/events", events, stop), daemon=True)
    reader.start()
    try:
        wait_event(events, "hello", 10)
        gallery = browser.get(f"{one.base}/projects/{project_id}/photos", timeout=10)
        check(gallery.status_code == 200, f"the gallery answered {gallery.status_code}")
        picture = jpeg()
        answer = browser.post(
            f"{one.base}/projects/{project_id}/photos",
            data={"csrf_token": d.csrf_token(gallery.text), "caption": "drill"},
            files={"file": ("drill.jpg", picture, "image/jpeg")},
            headers={"X-Kibray-Upload": "1"},
            timeout=30,
        )
        check(answer.status_code == 200 and answer.json().get("ok"), f"the upload answered {answer.status_code}")
        photo_id = answer.json()["id"]
        wait_event(events, "photo-added", 10, lambda data: data.get("id") == photo_id)
        proved(f"a live event caused on instance 1 (photo {photo_id} added) reached a stream connected to instance 2")
    finally:
        stop.set()
    image = browser.get(f"{two.base}/photos/{photo_id}/image?size=original", allow_redirects=False, timeout=10)
    check(image.status_code == 302, f"instance 2's image route answered {image.status_code}")
    location = image.headers["Location"]
    check(location.startswith(s3.url), f"the image is not served from the shared S3: {location}")
    import requests
    from PIL import Image

    body = requests.get(location, timeout=10)
    check(body.status_code == 200, f"the presigned URL answered {body.status_code}")
    check(Image.open(io.BytesIO(body.content)).size == (640, 480), "the downloaded photo is not the uploaded one")
    proved("a photo uploaded through instance 1 downloads through instance 2 (presigned S3 URL, 640×480 JPEG)")


def rate_limits_are_shared(one, two) -> None:
    # an address of its own each run (the hourly window outlives a run only in a kept Redis)
    client = d.Client(forwarded_for=f"203.0.{random.randint(0, 255)}.{random.randint(1, 250)}")  # noqa: S311
    remaining, statuses = [], []
    for n in range(RATE_LIMIT + 2):
        base = (one, two)[n % 2].base
        answer = client.get(base + "/api/openapi.json", timeout=10)
        statuses.append(answer.status_code)
        remaining.append(answer.headers.get("X-RateLimit-Remaining"))
    first_refused = statuses.index(429) + 1 if 429 in statuses else None
    check(
        first_refused == RATE_LIMIT + 1,
        f"alternating instances, the anonymous limit of {RATE_LIMIT} refused request #{first_refused} ({statuses})",
    )
    proved(
        f"API rate limits are shared: {RATE_LIMIT} anonymous requests alternating between the instances, "
        f"the {RATE_LIMIT + 1}st refused 429 (X-RateLimit-Remaining {remaining[0]}→{remaining[RATE_LIMIT - 1]})"
    )

    def failures_until_locked(bases) -> int:
        who = d.Client(forwarded_for=f"192.0.2.{random.randint(1, 250)}")  # noqa: S311
        name = f"drill-{uuid.uuid4().hex[:8]}"
        for attempt in range(1, LOGIN_FAILURES + 4):
            base = bases[attempt % len(bases)]
            page = who.get(base + "/login", timeout=10)
            answer = who.post(
                base + "/login",
                data={"username": name, "password": "wrong", "csrf_token": d.csrf_token(page.text)},
                allow_redirects=False,
                timeout=20,
            )
            if answer.status_code == 429:
                return attempt
            check(answer.status_code == 401, f"a wrong password answered {answer.status_code}")
        raise d.DrillFailed(f"{LOGIN_FAILURES + 3} wrong passwords were never throttled")

    alone = failures_until_locked([one.base])
    spread = failures_until_locked([one.base, two.base])
    check(alone == LOGIN_FAILURES + 1, f"throttled at attempt {alone} on one instance, not {LOGIN_FAILURES + 1}")
    check(alone == spread, f"throttled at attempt {alone} on one instance but {spread} spread over two")
    proved(f"login throttling is shared: refused at attempt {alone} on one instance and at {spread} spread over both")


def sigkill_loses_nothing(one, two, token: str) -> None:
    url = one.env["DATABASE_URL"]
    tag = uuid.uuid4().hex[:8]
    answered: list[str] = []
    failed: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def writer(n: int) -> None:
        client = d.Client()
        client.headers["Authorization"] = f"Bearer {token}"
        i = 0
        while not stop.is_set():
            name = f"Drill kill {tag} {n}-{i}"
            i += 1
            try:
                answer = client.post(one.base + "/api/clients/", json={"name": name}, timeout=10)
            except Exception:  # noqa: BLE001 - any failure of a request is counted
                with lock:
                    failed.append(name)
                return
            with lock:
                (answered if answer.status_code == 201 else failed).append(name)

    served_by_two: list[int] = []

    def reader() -> None:
        client = d.Client()
        client.headers["Authorization"] = f"Bearer {token}"
        while not stop.is_set():
            try:
                served_by_two.append(client.get(two.base + "/api/clients/", timeout=10).status_code)
            except Exception:  # noqa: BLE001 - any failure of a request is counted
                served_by_two.append(0)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)] + [threading.Thread(target=reader)]
    for t in threads:
        t.start()
    time.sleep(1.5)
    one.kill()
    killed_at = len(answered)
    time.sleep(1.0)
    stop.set()
    for t in threads:
        t.join(15)
    stored = {row[0] for row in d.sql(url, "SELECT name FROM clients WHERE name LIKE %s", (f"Drill kill {tag} %",))}
    missing = [name for name in answered if name not in stored]
    check(killed_at > 0, "no write succeeded before the kill")
    check(not missing, f"{len(missing)} writes answered 201 are not in the database: {missing[:3]}")
    check(served_by_two and set(served_by_two) == {200}, f"instance 2 answered {sorted(set(served_by_two))}")
    after = d.Client().get(two.base + "/health/", timeout=10).status_code
    check(after == 200, f"instance 2's /health/ answered {after} after the kill")
    unanswered = len(failed)
    proved(
        f"SIGKILL of instance 1 in the middle of writes: all {len(answered)} writes answered 201 are in the "
        f"database ({len(stored) - len(answered)} of the {unanswered} cut off were committed too, the rest rolled back)"
    )
    proved(f"instance 2 kept serving throughout ({len(served_by_two)} reads, all 200) and after")


def rolling_restart(one, two) -> None:
    """A client loop during (a) SIGHUP (gunicorn replaces its workers, the socket stays
    open) and (b) SIGTERM then a new start on the same port. On SIGTERM gunicorn finishes
    every request it has read, but connections the kernel had queued on the listening
    socket and no worker had accepted yet are reset when the socket closes: the client
    sees a reset before any byte of an answer, for a request the app never read. So the
    promise proved is: nothing read is dropped; what was never read fails fast (refused or
    reset) and a client that retries it on the other instance loses nothing. Behind the
    platform's proxy, draining the instance before its SIGTERM closes that window."""

    def loop(stop: threading.Event, results: list, fallback=None) -> None:
        import requests

        # A new connection per request (Connection: close): a kept-alive connection the
        # server closes while idle fails the next request sent on it before the server
        # reads it — a client-side race every HTTP client retries, not a dropped request.
        client = d.Client()
        client.headers["Connection"] = "close"
        while not stop.is_set():
            try:
                answer = client.get(one.base + "/health/", timeout=20)
                results.append(("answered", answer.status_code, len(answer.content)))
            except requests.exceptions.ConnectionError as exc:
                text = repr(exc)
                if "refused" in text.lower():
                    kind = "refused"  # never connected
                elif "Connection aborted" in text and "ConnectionResetError" in text:
                    kind = "reset"  # reset before the first byte of an answer: see rolling_restart
                else:
                    results.append(("broken", 0, text[:300]))
                    continue
                if fallback is not None:
                    retried = client.get(fallback.base + "/health/", timeout=20)
                    results.append((kind + "+retried", retried.status_code, len(retried.content)))
                else:
                    results.append((kind, 0, 0))
                time.sleep(0.05)
            except requests.exceptions.RequestException as exc:
                results.append(("broken", 0, repr(exc)))

    def run(action, fallback=None) -> list:
        results: list = []
        stop = threading.Event()
        threads = [threading.Thread(target=loop, args=(stop, results, fallback)) for _ in range(3)]
        for t in threads:
            t.start()
        time.sleep(0.5)
        began = time.monotonic()
        action()
        time.sleep(max(0.5, 1.5 - (time.monotonic() - began)))
        stop.set()
        for t in threads:
            t.join(30)
        return results

    def hup() -> None:
        old = set(one.workers())
        one.signal(signal.SIGHUP)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            now = set(one.workers())
            if now and not (now & old) and len(now) == len(old):
                break
            time.sleep(0.1)
        else:
            raise d.DrillFailed("SIGHUP did not replace instance 1's workers within 30 s")

    results = run(hup)
    bad = [r for r in results if r[:2] != ("answered", 200)]
    check(not bad, f"during SIGHUP {len(bad)} of {len(results)} requests were not answered 200: {bad[:3]}")
    proved(f"SIGHUP of instance 1 (every worker replaced): {len(results)} requests in a loop, every one answered 200")

    def term_and_start() -> None:
        one.stop()
        one.start()

    results = run(term_and_start, fallback=two)
    first = [r[0].split("+")[0] for r in results]
    check(
        "broken" not in first,
        f"a request was cut off during the restart: {[r for r in results if r[0] == 'broken'][:3]}",
    )
    check(all(r[1] == 200 for r in results), f"some requests failed: {[r for r in results if r[1] != 200][:3]}")
    proved(
        f"SIGTERM + start of instance 1 under a client loop: of {len(results)} requests sent to instance 1, "
        f"{first.count('answered')} answered 200 in full, {first.count('refused')} refused and "
        f"{first.count('reset')} reset before any answer (queued in the closed socket, never read by the app), "
        f"none cut off in the middle; retried on instance 2, all {len(results)} answered 200"
    )


def main() -> None:
    with d.services() as (redis_server, moto):
        url = d.copy_database("two", redis_server.url)
        env = d.app_env(
            url,
            redis_server.url,
            moto.url,
            RATELIMIT_ANONYMOUS=str(RATE_LIMIT),
            LOGIN_MAX_FAILURES_ACCOUNT=str(LOGIN_FAILURES),
        )
        one = d.Instance("instance-1", d.FIRST_PORT, env)
        two = d.Instance("instance-2", d.FIRST_PORT + 1, env)
        try:
            one.start(wait=False)
            two.start(wait=False)
            one.wait_healthy()
            two.wait_healthy()
            proved(f"two instances of Procfile's web line (APP_ENV=production) on ports {one.port} and {two.port}")
            browser = sessions_are_shared(one, two)
            uploads_and_live_events(one, two, browser, moto)
            rate_limits_are_shared(one, two)
            token = d.api_token(two.base)
            sigkill_loses_nothing(one, two, token)
            one.start()
            rolling_restart(one, two)
        finally:
            one.close()
            two.close()
            d.drop_database(url)


if __name__ == "__main__":
    d.run_drill("drill_two_instances", main)
