"""Simultaneous connects against one server: N raw sockets opened at once (asyncio, in
this process), each sending one GET and reading until the answer is complete — the first
`hello` event for `/events`, the whole body for a page. Used by `make bench-sse` and by
tests/e2e/test_bursts.py.

Each attempt reports its status line, the time from the start of the burst to its end,
and the error if the connection failed (refused, reset, timed out)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import resource
import time
from dataclasses import dataclass


@dataclass
class Attempt:
    status: int | None = None
    ms: float = 0.0
    error: str | None = None
    head: bytes = b""


def raise_open_files(wanted: int) -> None:
    """Lift this process's RLIMIT_NOFILE so `wanted` sockets fit (up to the hard limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        limit = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))


async def _one(port: int, path: str, cookie: str, until: bytes | None, start: asyncio.Event, timeout: float):
    attempt = Attempt()
    await start.wait()
    began = time.perf_counter()
    writer = None
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(
                (
                    f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\n"
                    "Accept: text/event-stream, text/html\r\nConnection: close\r\n\r\n"
                ).encode()
            )
            await writer.drain()
            buffer = bytearray()
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                buffer += data
                if until is not None and until in buffer:
                    break
            attempt.head = bytes(buffer[:4096])
            line = bytes(buffer.split(b"\r\n", 1)[0])
            parts = line.split()
            if len(parts) >= 2 and parts[1].isdigit():
                attempt.status = int(parts[1])
            else:
                attempt.error = f"no status line: {line[:80]!r}"
            if until is not None and until not in buffer and attempt.error is None:
                attempt.error = f"closed before {until!r}"
    except (OSError, TimeoutError) as exc:
        attempt.error = f"{type(exc).__name__}: {exc}"
    finally:
        attempt.ms = (time.perf_counter() - began) * 1000
        if writer is not None:
            writer.close()
    return attempt


async def burst_async(
    port: int, path: str, cookie: str, n: int, until: bytes | None = None, timeout: float = 45.0
) -> list[Attempt]:
    start = asyncio.Event()
    tasks = [asyncio.create_task(_one(port, path, cookie, until, start, timeout)) for _ in range(n)]
    await asyncio.sleep(0)  # every task is waiting on the same start
    start.set()
    return await asyncio.gather(*tasks)


def burst(port: int, path: str, cookie: str, n: int, until: bytes | None = None, timeout: float = 45.0):
    """`n` simultaneous GETs of `path`; returns one Attempt each."""
    raise_open_files(n * 2 + 256)
    # its own thread and event loop: the caller's thread may already run one (a test run
    # where Playwright's sync API started first), and asyncio.run() refuses to nest
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(burst_async(port, path, cookie, n, until, timeout))).result()


def summary(attempts: list[Attempt]) -> dict:
    statuses: dict[int, int] = {}
    for a in attempts:
        if a.status is not None:
            statuses[a.status] = statuses.get(a.status, 0) + 1
    times = sorted(a.ms for a in attempts)
    p95 = times[min(len(times) - 1, int(round(0.95 * len(times))) - 1)] if times else 0.0
    return {
        "n": len(attempts),
        "errors": sum(a.error is not None for a in attempts),
        "server_errors": sum(a.status is not None and a.status >= 500 for a in attempts),
        "statuses": statuses,
        "p50_ms": round(times[len(times) // 2], 1) if times else 0.0,
        "p95_ms": round(p95, 1),
        "max_ms": round(times[-1], 1) if times else 0.0,
    }
