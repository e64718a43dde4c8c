"""`make bench-sse`: one gunicorn gevent worker holding 500 open SSE streams.

Starts ONE gunicorn worker (gevent, GUNICORN_WORKER_CONNECTIONS=2000) on the bench
database (seeded by scripts/bench.py; seeded here if missing), opens 500 `GET /events`
streams signed in as the demo admin (asyncio sockets in this process, not threads),
waits until every stream got its first "hello" event, then:

1. times 200 sequential `GET /health/` requests while the streams are held
   (target: p95 under 50 ms), compared with the same worker before the streams;
2. publishes events and measures when each of the 500 streams received them
   (target: all 500 within 1 s): rounds via `app.core.events.send_now` in-process (the
   Redis publish alone) and rounds via `PATCH /api/projects/<id>/` (the whole path: API,
   commit, publish after commit, hub fan-out, stream write);
3. bursts (`--burst`, default 1,000), on the same worker once the streams are closed:
   that many simultaneous `GET /events` connects (each read to its first `hello`), then
   that many simultaneous `GET /notifications/bell` requests — errors (failed connection
   or 5xx) and p50/p95/max from the burst's start (target: 0 errors; some may wait).

Results go to bench-results/bench-sse-<time>.json.

    .venv/bin/python scripts/bench_sse.py [--streams 500] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import time
import uuid
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parent.parent)]

import bench_common as bc  # noqa: E402
import burst as burst_tool  # noqa: E402

HEALTH_TARGET_MS = 50.0
FANOUT_TARGET_MS = 1000.0


class Stream:
    """One open `GET /events`; records when markers show up in what it received."""

    def __init__(self, index: int):
        self.index = index
        self.buffer = bytearray()
        self.hello = asyncio.Event()
        self.status = b""
        self.marker: bytes | None = None
        self.offset = 0
        self.arrived: float | None = None
        self.closed = False
        self.writer: asyncio.StreamWriter | None = None

    def expect(self, marker: bytes) -> None:
        self.marker, self.offset, self.arrived = marker, len(self.buffer), None
        self._check()

    def _check(self) -> None:
        if self.marker and self.arrived is None and self.buffer.find(self.marker, self.offset) >= 0:
            self.arrived = time.perf_counter()

    async def run(self, port: int, cookie: str) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        self.writer = writer
        writer.write(
            (
                "GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
                f"Cache-Control: no-cache\r\nCookie: {cookie}\r\n\r\n"
            ).encode()
        )
        await writer.drain()
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                self.buffer += data
                if not self.status and b"\r\n" in self.buffer:
                    self.status = bytes(self.buffer.split(b"\r\n", 1)[0])
                if not self.hello.is_set() and b"event: hello" in self.buffer:
                    self.hello.set()
                self._check()
        finally:
            self.closed = True
            self.hello.set()  # never leave a waiter hanging on a dead stream

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def _rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def time_health(base: str, n: int) -> tuple[list[float], dict]:
    import requests

    session = requests.Session()
    statuses: dict[int, int] = {}
    for _ in range(20):
        session.get(base + "/health/", timeout=10)
    elapsed = []
    for _ in range(n):
        started = time.perf_counter()
        response = session.get(base + "/health/", timeout=10)
        elapsed.append((time.perf_counter() - started) * 1000)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
    return elapsed, statuses


def wait_idle(base: str) -> None:
    """Until the worker answers again (closed streams leave at their next heartbeat)."""
    import requests

    requests.get(base + "/health/", timeout=60).raise_for_status()


def via_api_once(base: str, project_id: int, token: str) -> None:
    import requests

    response = requests.patch(
        f"{base}/api/projects/{project_id}/",
        json={"description": f"bench {uuid.uuid4().hex[:8]}"},
        headers={"Authorization": "Bearer " + token},
        timeout=10,
    )
    response.raise_for_status()


def in_process_app():
    os.environ.update(bc.app_env())
    from app import create_app

    return create_app(env_name="test")


async def fanout_round(streams: list[Stream], marker: bytes, publish, timeout: float = 10.0) -> dict:
    live = [s for s in streams if not s.closed]
    for stream in live:
        stream.expect(marker)
    started = time.perf_counter()
    await asyncio.to_thread(publish)
    published = time.perf_counter()
    deadline = started + timeout
    while time.perf_counter() < deadline and any(s.arrived is None for s in live):
        await asyncio.sleep(0.002)
    delays = [(s.arrived - started) * 1000 for s in live if s.arrived is not None]
    result = {"received": len(delays), "streams": len(live), "publish_call_ms": round((published - started) * 1000, 2)}
    if delays:
        result.update(
            first_ms=round(min(delays), 2),
            p50_ms=round(bc.percentile(delays, 50), 2),
            p95_ms=round(bc.percentile(delays, 95), 2),
            max_ms=round(max(delays), 2),
        )
    return result


async def main_async(args) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = max(args.streams, args.burst) * 2 + 256
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(max(wanted, soft), hard), hard))
    if not bc.database_seeded():
        print(f"Seeding {bc.DATABASE_URL.rsplit('/', 1)[-1]} with flask seed-demo --scale {bc.SCALE} …")
        bc.prepare_database()
    app = in_process_app()
    from app.core.events import send_now

    results: dict = {"streams_requested": args.streams, "rounds": [], "load_average_before": bc.load_average()}
    with bc.Gunicorn(
        1, "bench-sse-gunicorn", GUNICORN_WORKER_CONNECTIONS=str(args.connections), GUNICORN_WORKER_CLASS="gevent"
    ) as server:
        worker = server.worker_pids()[0]
        print(f"gunicorn: 1 gevent worker (pid {worker}, worker_connections={args.connections}) on {server.base}")
        base_health, base_status = await asyncio.to_thread(time_health, server.base, args.health)
        results["health_without_streams"] = {**bc.summary(base_health), "statuses": base_status}
        rss_before = _rss_mb(worker)

        admin = bc.sign_in(server.base, "admin")
        cookie = "; ".join(f"{c.name}={c.value}" for c in admin.cookies)
        token = bc.api_token(server.base, "admin")
        project_id = (
            bc._db_connection()
            .execute("SELECT id FROM projects WHERE status <> 'closed' ORDER BY id LIMIT 1")
            .fetchone()[0]
        )

        # The worker's first PATCH pays one-time costs (imports, compiled statements):
        # do it before the streams so the rounds measure the steady state; report it.
        cold = time.perf_counter()
        via_api_once(server.base, project_id, token)
        results["first_patch_cold_ms"] = round((time.perf_counter() - cold) * 1000, 1)
        via_api_once(server.base, project_id, token)

        streams = [Stream(i) for i in range(args.streams)]
        tasks = []
        opened = time.perf_counter()
        for start in range(0, len(streams), 50):  # open in waves, as browsers arrive
            batch = streams[start : start + 50]
            tasks += [asyncio.create_task(s.run(server.port, cookie)) for s in batch]
            await asyncio.gather(*(asyncio.wait_for(s.hello.wait(), 60) for s in batch), return_exceptions=True)
        all_open_s = time.perf_counter() - opened
        ok = [s for s in streams if not s.closed and b"event: hello" in s.buffer]
        print(f"{len(ok)}/{len(streams)} streams open with their first event in {all_open_s:.2f} s")
        if len(ok) < len(streams):
            bad = next(s for s in streams if s not in ok)
            print(f"  e.g. stream {bad.index}: {bad.status!r} {bytes(bad.buffer[:300])!r}")
        results.update(streams_open=len(ok), open_all_s=round(all_open_s, 2))

        cpu_before = bc.cpu_seconds(worker)
        held_health, held_status = await asyncio.to_thread(time_health, server.base, args.health)
        results["health_with_streams"] = {**bc.summary(held_health), "statuses": held_status}
        results["worker_rss_mb"] = {"before_streams": rss_before, "with_streams": _rss_mb(worker)}

        def via_send_now(nonce):
            def publish():
                send_now(app, {"event": "bench-ping", "data": {"nonce": nonce}, "users": [], "roles": ["admin"]})

            return publish

        def via_api():
            via_api_once(server.base, project_id, token)

        for round_number in range(args.rounds):
            nonce = uuid.uuid4().hex
            result = await fanout_round(streams, f'"nonce":"{nonce}"'.encode(), via_send_now(nonce))
            results["rounds"].append({"via": "send_now (Redis publish)", **result})
            await asyncio.sleep(0.5)
            # The API's event for this project: the stream sees its id in the next "project-updated".
            result = await fanout_round(
                streams, f'event: project-updated\ndata: {{"id":{project_id}}}'.encode(), via_api
            )
            results["rounds"].append({"via": f"PATCH /api/projects/{project_id}/", **result})
            await asyncio.sleep(0.5)
            print(f"round {round_number + 1}: done")
        cpu_after = bc.cpu_seconds(worker)
        results["worker_cpu_s_during_health_and_rounds"] = round((cpu_after or 0) - (cpu_before or 0), 2)
        results["streams_still_open"] = sum(not s.closed for s in streams)
        for stream in streams:
            stream.close()
        await asyncio.gather(*tasks, return_exceptions=True)

        if args.burst:
            # Closed streams leave at their next heartbeat: start the bursts on an idle worker.
            await asyncio.to_thread(wait_idle, server.base)
            results["bursts"] = {}
            for label, path, until in (
                ("stream connects", "/events", b"event: hello"),
                ("bell requests", "/notifications/bell", None),
            ):
                attempts = await burst_tool.burst_async(server.port, path, cookie, args.burst, until, timeout=60)
                results["bursts"][label] = burst_tool.summary(attempts)
                print(f"burst of {args.burst} {label}: done")
                await asyncio.to_thread(wait_idle, server.base)

    _report(results)
    bc.write_results("bench-sse", results)
    health_ok = results["health_with_streams"]["p95_ms"] < HEALTH_TARGET_MS
    fanout_ok = all(
        r["received"] == r["streams"] == args.streams and r.get("max_ms", 1e9) < FANOUT_TARGET_MS
        for r in results["rounds"]
    )
    print(
        f"\n{'PASS' if health_ok else 'FAIL'}: /health/ p95 with {results['streams_open']} streams held "
        f"{results['health_with_streams']['p95_ms']:.1f} ms (target < {HEALTH_TARGET_MS:g} ms)"
    )
    print(
        f"{'PASS' if fanout_ok else 'FAIL'}: every event reached all {args.streams} streams within {FANOUT_TARGET_MS:g} ms"
    )
    bursts_ok = all(b["errors"] == 0 and b["server_errors"] == 0 for b in results.get("bursts", {}).values())
    if results.get("bursts"):
        print(f"{'PASS' if bursts_ok else 'FAIL'}: simultaneous bursts of {args.burst} without an error or a 5xx")
    return 0 if health_ok and fanout_ok and bursts_ok and results["streams_open"] == args.streams else 1


def _report(results: dict) -> None:
    print()
    print(f"{'measure':<46} | {'n':>4} | {'p50 ms':>7} | {'p95 ms':>7} | {'max ms':>7}")
    print("-" * 84)
    for key, label in (
        ("health_without_streams", "/health/, no streams"),
        ("health_with_streams", f"/health/, {results['streams_open']} streams held"),
    ):
        r = results[key]
        print(f"{label:<46} | {r['n']:>4} | {r['p50_ms']:>7.1f} | {r['p95_ms']:>7.1f} | {r['max_ms']:>7.1f}")
    print()
    print(
        f"{'event fan-out (arrival after publish started)':<46} | {'got':>7} | {'first':>6} | {'p50 ms':>7} | {'p95 ms':>7} | {'max ms':>7}"
    )
    print("-" * 100)
    for r in results["rounds"]:
        got = f"{r['received']}/{r['streams']}"
        print(
            f"{r['via']:<46} | {got:>7} | {r.get('first_ms', 0):>6.1f} | {r.get('p50_ms', 0):>7.1f} | "
            f"{r.get('p95_ms', 0):>7.1f} | {r.get('max_ms', 0):>7.1f}"
        )
    if results.get("bursts"):
        print()
        print(
            f"{'simultaneous burst (one worker)':<46} | {'n':>5} | {'errors':>6} | {'5xx':>4} | {'p50 ms':>7} | {'p95 ms':>7} | {'max ms':>7}"
        )
        print("-" * 100)
        for label, b in results["bursts"].items():
            print(
                f"{label:<46} | {b['n']:>5} | {b['errors']:>6} | {b['server_errors']:>4} | {b['p50_ms']:>7.1f} | "
                f"{b['p95_ms']:>7.1f} | {b['max_ms']:>7.1f}"
            )
    rss = results["worker_rss_mb"]
    print(
        f"\nworker RSS: {rss['before_streams']} MB before, {rss['with_streams']} MB with the streams open; "
        f"{results['open_all_s']} s to open them all; {results['streams_still_open']} still open at the end; "
        f"the worker's first PATCH (cold) took {results['first_patch_cold_ms']} ms"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3, help="publish rounds (each: one send_now and one API PATCH)")
    parser.add_argument("--health", type=int, default=200, help="timed /health/ requests (at least 200)")
    parser.add_argument("--connections", type=int, default=2000, help="GUNICORN_WORKER_CONNECTIONS")
    parser.add_argument("--burst", type=int, default=1000, help="simultaneous connects per burst (0: none)")
    args = parser.parse_args()
    args.health = max(args.health, 200)
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
