"""Two gunicorn instances vs one (issue 14): requests per second and p95 of `/health/` and
the project list under a concurrent load (threads with keep-alive http.client
connections, spread round-robin over the instances), and the resident memory of every
process (each master and worker). Same bench database and Redis as scripts/bench.py
(seeded by it, or here when missing). On a 2-core machine the ratio is the point: a
second instance adds processes, not cores.

    .venv/bin/python scripts/bench_instances.py [--seconds 8] [--clients 16] [--workers 2]
    make bench-instances"""

from __future__ import annotations

import argparse
import http.client
import os
import threading
import time

import bench_common as bc

FIRST_PORT = int(os.environ.get("BENCH_INSTANCES_PORT", "18110"))
PATHS = (("/health/", "health"), ("/projects", "project list"))


def load(ports: list[int], path: str, cookie: str, seconds: float, clients: int) -> dict:
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def client(n: int) -> None:
        port = ports[n % len(ports)]
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine, failed = [], 0
        while time.perf_counter() < stop_at:
            began = time.perf_counter()
            try:
                conn.request("GET", path, headers={"Cookie": cookie})
                answer = conn.getresponse()
                answer.read()
                if answer.status != 200:
                    failed += 1
                mine.append((time.perf_counter() - began) * 1000)
            except (OSError, http.client.HTTPException):
                failed += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.close()
        with lock:
            latencies.extend(mine)
            errors[0] += failed

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    return {
        "rps": round(len(latencies) / elapsed, 1),
        "p50_ms": round(bc.percentile(latencies, 50), 1),
        "p95_ms": round(bc.percentile(latencies, 95), 1),
        "requests": len(latencies),
        "errors": errors[0],
    }


def memory(instances: list) -> list[dict]:
    found = []
    for index, instance in enumerate(instances, 1):
        found.append({"process": f"instance {index} master", **bc.memory_mb(instance.proc.pid)})
        for number, pid in enumerate(instance.worker_pids(), 1):
            found.append({"process": f"instance {index} worker {number}", **bc.memory_mb(pid)})
    return found


def run(count: int, workers: int, seconds: float, clients: int) -> dict:
    instances = []
    try:
        for n in range(count):
            instance = bc.Gunicorn(workers, f"bench-instances-{count}-{n + 1}")
            instance.port = FIRST_PORT + n
            instance.env.update(
                PORT=str(instance.port),
                GUNICORN_CONTROL_SOCKET=str(bc.RESULTS / f"gunicorn-{instance.port}.ctl"),
            )
            instances.append(instance.launch())
        for instance in instances:
            instance._wait_ready(60)
        session = bc.sign_in(instances[0].base, "admin")  # the session is shared: one cookie for all
        cookie = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
        ports = [i.port for i in instances]
        results = {}
        for path, label in PATHS:
            load(ports, path, cookie, 1.5, clients)  # warm-up: pools, caches
            results[label] = load(ports, path, cookie, seconds, clients)
        return {"instances": count, "workers_each": workers, "paths": results, "memory_mb": memory(instances)}
    finally:
        for instance in instances:
            instance.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per instance")
    args = parser.parse_args()
    if not bc.database_seeded():
        bc.prepare_database()
    else:  # seeded under an older release: migrate it (/health/ is 503 until it is at head)
        bc.run([str(bc.BIN / "flask"), "db", "upgrade"], bc.app_env())
    load_avg = bc.wait_for_quiet(2.0, 30)
    runs = [run(1, args.workers, args.seconds, args.clients), run(2, args.workers, args.seconds, args.clients)]
    print(f"\n{args.clients} concurrent clients, {args.seconds:g} s per path, load average before: {load_avg}")
    print(f"{'':28}{'1 instance':>24}{'2 instances':>24}{'ratio':>8}")
    for _, label in PATHS:
        one, two = (r["paths"][label] for r in runs)
        print(
            f"{label:<28}{one['rps']:>9} req/s p95 {one['p95_ms']:>6} ms"
            f"{two['rps']:>9} req/s p95 {two['p95_ms']:>6} ms{two['rps'] / max(one['rps'], 0.1):>7.2f}×"
        )
        if one["errors"] or two["errors"]:
            print(f"  errors: {one['errors']} with one instance, {two['errors']} with two")
    for r in runs:
        print(f"\nmemory, {r['instances']} instance(s) of {r['workers_each']} workers (MB: rss / pss / private)")
        for row in r["memory_mb"]:
            print(f"  {row['process']:<24}{row['rss']:>8}{row.get('pss', 0):>8}{row.get('private', 0):>8}")
        print(
            f"  {'total rss / pss':<24}{sum(x['rss'] for x in r['memory_mb']):>8.1f}{sum(x.get('pss', 0) for x in r['memory_mb']):>8.1f}"
        )
    path = bc.write_results(
        "bench-instances", {"clients": args.clients, "seconds": args.seconds, "load_before": load_avg, "runs": runs}
    )
    print(f"\nresults: {path}")


if __name__ == "__main__":
    main()
