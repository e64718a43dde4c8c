"""Shared pieces of the benchmarks (scripts/bench.py, scripts/bench_sse.py): the bench
database and Redis, gunicorn start/stop, sign-in and percentiles.

The benchmarks run the real stack: PostgreSQL (`kibray_bench`, override with
BENCH_DATABASE_URL), Redis db 8 (BENCH_REDIS_URL) and gunicorn with gevent workers.
The app runs with APP_ENV=test (fixed secret, relaxed API rate limits; CSRF stays on).
"""

from __future__ import annotations

import json
import math
import os
import platform
import re
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pgtools  # scripts/pgtools.py (this folder is on sys.path when a script runs)

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
RESULTS = ROOT / "bench-results"
BASE_DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/kibray_bench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/8")
KEY_PREFIX = "kibray-bench"
PASSWORD = "Kibray!2026"  # noqa: S105 - the demo accounts' documented password
DEFAULT_SCALE = 100


def database_url_for(scale: int, base: str | None = None) -> str:
    """The bench database of a scale: BENCH_DATABASE_URL at the default scale (100), the
    same name with `_<scale>` appended at any other, so switching scales reseeds neither."""
    from sqlalchemy.engine import make_url

    base = base or BASE_DATABASE_URL
    if scale == DEFAULT_SCALE:
        return base
    url = make_url(base)
    return url.set(database=f"{url.database}_{scale}").render_as_string(hide_password=False)


SCALE = int(os.environ.get("BENCH_SCALE", str(DEFAULT_SCALE)))
DATABASE_URL = database_url_for(SCALE)


def set_scale(scale: int) -> None:
    """Switch this process to another scale's bench database (bench.py --scale)."""
    global SCALE, DATABASE_URL
    SCALE, DATABASE_URL = scale, database_url_for(scale)


def app_env(**extra: str) -> dict:
    """Environment for the app's subprocesses (flask CLI, gunicorn)."""
    env = dict(os.environ)
    for name in ("SECRET_KEY", "SENTRY_DSN", "DEBUG", "SECURE_SSL_REDIRECT"):
        env.pop(name, None)
    env.update(
        APP_ENV="test",
        FLASK_APP="wsgi",
        DATABASE_URL=DATABASE_URL,
        REDIS_URL=REDIS_URL,
        REDIS_KEY_PREFIX=KEY_PREFIX,
        LOG_LEVEL="WARNING",
        API_CHECK_RESPONSES="0",  # the tests' answer check: not part of the production request path
        # as in production: /health/ re-checks storage (a write) and migrations at most every
        # 10 s (the test settings' 0 would do both on every probe, which production never does)
        HEALTH_CACHE_SECONDS="10",
        MEDIA_ROOT=str(ROOT / "instance" / "bench-media"),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def database_seeded() -> bool:
    """True if the bench database exists and holds the --scale data."""
    import psycopg

    if not pgtools.database_exists(DATABASE_URL):
        return False
    try:
        with pgtools.connect(DATABASE_URL) as c:
            return c.execute("SELECT count(*) FROM projects").fetchone()[0] >= 20 * SCALE
    except psycopg.Error:
        return False


def prepare_database(scale: int | None = None) -> dict:
    """Drop and create the bench database, empty Redis db 8, migrate, seed --scale data."""
    import redis

    try:
        pgtools.recreate_database(DATABASE_URL)
    except ValueError as exc:
        raise SystemExit(str(exc)) from None
    redis.Redis.from_url(REDIS_URL).flushdb()
    env = app_env()
    started = time.perf_counter()
    run([str(BIN / "flask"), "db", "upgrade"], env)
    migrated = time.perf_counter()
    output = run([str(BIN / "flask"), "seed-demo", "--scale", str(scale or SCALE)], env)
    seeded = time.perf_counter()
    print(output.strip().splitlines()[-1])
    money = seed_money(scale or SCALE)
    counts = table_counts()
    _analyze()
    return {
        "migrate_s": round(migrated - started, 2),
        "seed_s": round(seeded - migrated, 2),
        "money_seed_s": money.get("money_seed_s"),
        "rows": counts,
    }


def seed_money(scale: int | None = None) -> dict:
    """Issue 12's money (scripts/bench_money_seed.py): 100·N invoices with 10 lines each on
    average, their payments, 30·N change orders; nothing when the invoices are there."""
    import bench_money_seed

    found = bench_money_seed.seed(DATABASE_URL, scale or SCALE)
    if "money_seed_s" in found:
        print(", ".join(f"{v} {k}" for k, v in found.items() if k != "money_seed_s") + f" in {found['money_seed_s']} s")
    return found


def _db_connection():
    return pgtools.connect(DATABASE_URL, autocommit=True)


def _analyze() -> None:
    """Fresh planner statistics, as autovacuum would have them after a while."""
    with _db_connection() as c:
        c.execute("VACUUM ANALYZE")


def table_counts() -> dict:
    with _db_connection() as c:
        return {
            t: c.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in (
                "users",
                "clients",
                "projects",
                "project_memberships",
                "tasks",
                "task_assignees",
                "invoices",
                "invoice_lines",
                "change_orders",
            )
        }  # noqa: S608


def run(cmd: list[str], env: dict) -> str:
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"command failed ({done.returncode}): {' '.join(cmd)}")
    return done.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    """`gunicorn -c gunicorn.conf.py wsgi:app` in its own process group; always stopped."""

    def __init__(
        self,
        workers: int,
        log_name: str,
        config: str = "gunicorn.conf.py",
        app: str = "wsgi:app",
        chdir: str | None = None,
        ready_path: str = "/health/",
        **env: str,
    ):
        self.config = config
        self.app = app
        self.chdir = chdir
        self.ready_path = ready_path
        self.launched = 0.0  # perf_counter() just before the process was started
        self.port = free_port()
        self.workers = workers
        self.env = app_env(PORT=str(self.port), GUNICORN_WORKERS=str(workers), **env)
        RESULTS.mkdir(exist_ok=True)
        self.log_path = RESULTS / f"{log_name}.log"
        self.proc: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def launch(self) -> Gunicorn:
        """Start the process without waiting for it to answer (cold start timing)."""
        log = open(self.log_path, "w")  # noqa: SIM115 - closed with the process
        cmd = [str(BIN / "gunicorn"), "-c", self.config, "--bind", f"127.0.0.1:{self.port}"]
        if self.chdir:
            cmd += ["--chdir", self.chdir]
        self.launched = time.perf_counter()
        self.proc = subprocess.Popen(  # noqa: S603
            [*cmd, self.app], cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        return self

    def __enter__(self) -> Gunicorn:
        self.launch()
        self._wait_ready()
        return self

    def _wait_ready(self, timeout: float = 30) -> None:
        import requests

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"gunicorn exited early; see {self.log_path}")
            try:
                if requests.get(self.base + self.ready_path, timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        self.stop()
        raise SystemExit(f"gunicorn did not answer /health/ within {timeout}s; see {self.log_path}")

    def worker_pids(self) -> list[int]:
        out = subprocess.run(
            ["ps", "-o", "pid=", "--ppid", str(self.proc.pid)], capture_output=True, text=True, check=False
        )  # noqa: S603,S607
        return [int(p) for p in out.stdout.split()]

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)
        except ProcessLookupError:
            pass

    def __exit__(self, *exc) -> None:
        self.stop()


GC_FREEZE_HOOK = """
def post_worker_init(worker):
    # Experiment (bench --gc-freeze): move the objects of the loaded app out of the
    # collector's reach, so full collections only walk what requests allocate.
    import gc

    gc.collect()
    gc.freeze()
"""


def gc_freeze_config() -> str:
    """A gunicorn config = gunicorn.conf.py + a post_worker_init hook calling gc.freeze()."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / "gunicorn-gc-freeze.conf.py"
    path.write_text((ROOT / "gunicorn.conf.py").read_text() + "\n" + GC_FREEZE_HOOK)
    return str(path)


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html
    )
    if not match:
        raise SystemExit("no csrf_token in the login form")
    return match.group(1)


def sign_in(base: str, username: str):
    """A requests.Session signed in through the login form (CSRF token included)."""
    import requests

    session = requests.Session()
    page = session.get(base + "/login", timeout=10)
    response = session.post(
        base + "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": csrf_token(page.text)},
        allow_redirects=False,
        timeout=10,
    )
    if response.status_code != 302:
        raise SystemExit(f"sign-in as {username} failed: HTTP {response.status_code}")
    return session


def api_token(base: str, username: str) -> str:
    import requests

    response = requests.post(base + "/api/auth/login/", json={"username": username, "password": PASSWORD}, timeout=10)
    response.raise_for_status()
    return response.json()["data"]["access_token"]


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def summary(values_ms: list[float]) -> dict:
    return {
        "n": len(values_ms),
        "p50_ms": round(percentile(values_ms, 50), 2),
        "p95_ms": round(percentile(values_ms, 95), 2),
        "max_ms": round(max(values_ms), 2),
    }


def machine() -> dict:
    cpu = ""
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))  # noqa: SIM115
    except (OSError, StopIteration):
        pass
    with _db_connection() as c:
        pg = c.execute("SHOW server_version").fetchone()[0]
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "postgresql": pg,
        "kernel": platform.release(),
    }


def cpu_seconds(pid: int) -> float:
    """CPU time a process has used so far (from /proc): the sum over its threads of
    /proc/<pid>/task/<tid>/schedstat's on-CPU nanoseconds (exact, where /proc/<pid>/stat
    counts 10 ms clock ticks: too coarse for slices of 50 requests of 1–2 ms), falling
    back to stat's user + system time where schedstat is missing."""
    try:
        total = 0
        for task in Path(f"/proc/{pid}/task").iterdir():
            total += int((task / "schedstat").read_text().split()[0])
        return total / 1e9
    except (OSError, IndexError, ValueError):
        pass
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def rss_mb(pid: int) -> float:
    """Resident memory of a process in MB (VmRSS from /proc/<pid>/status)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except (OSError, ValueError, IndexError):
        pass
    return 0.0


def memory_mb(pid: int) -> dict:
    """A process's resident memory in MB: `rss` (VmRSS, every resident page it maps, shared
    or not: the figure judged), `pss` (shared pages divided among their sharers) and
    `private` (pages only it holds: what another worker would add), from smaps_rollup."""
    found = {"rss": rss_mb(pid)}
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            name, _, rest = line.partition(":")
            if name in ("Pss", "Private_Clean", "Private_Dirty"):
                found[name] = int(rest.split()[0]) / 1024
    except (OSError, ValueError, IndexError):
        return found
    return {
        "rss": found["rss"],
        "pss": round(found.get("Pss", 0.0), 1),
        "private": round(found.get("Private_Clean", 0.0) + found.get("Private_Dirty", 0.0), 1),
    }


def load_average() -> float:
    return round(os.getloadavg()[0], 2)


def wait_for_quiet(limit: float, timeout: float) -> float:
    """Wait (up to `timeout` s) until the 1-minute load average is under `limit`: other
    work on a 2-core machine inflates every latency figure."""
    deadline = time.monotonic() + timeout
    while load_average() >= limit and time.monotonic() < deadline:
        time.sleep(5)
    return load_average()


def write_results(name: str, data: dict) -> Path:
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    data = {"when": stamp, "machine": machine(), **data}
    path = RESULTS / f"{name}-{stamp}.json"
    path.write_text(json.dumps(data, indent=2))
    (RESULTS / f"{name}-latest.json").write_text(json.dumps(data, indent=2))
    return path


def sign_in_burst(base: str, burst: int, probe_path: str = "/health/", interval: float = 0.01) -> dict:
    """`burst` simultaneous wrong-password API sign-ins (distinct unknown names: each is a
    full argon2 check against the timing equaliser) while `probe_path` is timed over and
    over until the last sign-in is answered. Returns the probe's figures, its status
    codes, the sign-ins' status codes and how long the burst took."""
    import threading
    import uuid
    from concurrent.futures import ThreadPoolExecutor

    import requests

    probe = requests.Session()
    for _ in range(5):
        probe.get(base + probe_path, timeout=10)
    # the worker's first wrong sign-in makes the timing equaliser's hash: not part of the burst
    requests.post(base + "/api/auth/login/", json={"username": "warm-up", "password": "Wrong-pass1!"}, timeout=60)
    start = threading.Barrier(burst + 1)
    done = threading.Event()
    timings: list[float] = []
    probe_codes: dict[int, int] = {}

    def sign_in(i: int) -> int:
        start.wait()
        name = f"burst-{uuid.uuid4().hex[:8]}-{i}"
        response = requests.post(
            base + "/api/auth/login/", json={"username": name, "password": "Wrong-pass1!"}, timeout=120
        )
        return response.status_code

    def run_probe() -> None:
        start.wait()
        while not done.is_set():
            began = time.perf_counter()
            response = probe.get(base + probe_path, timeout=60)
            timings.append((time.perf_counter() - began) * 1000)
            probe_codes[response.status_code] = probe_codes.get(response.status_code, 0) + 1
            time.sleep(interval)

    prober = threading.Thread(target=run_probe)
    prober.start()
    began = time.perf_counter()
    try:
        with ThreadPoolExecutor(burst) as pool:
            codes = [f.result() for f in [pool.submit(sign_in, i) for i in range(burst)]]
    finally:
        done.set()
        prober.join(timeout=120)
    sign_in_codes: dict[int, int] = {}
    for code in codes:
        sign_in_codes[code] = sign_in_codes.get(code, 0) + 1
    return {
        **summary(timings or [0.0]),
        "statuses": probe_codes,
        "sign_in_statuses": sign_in_codes,
        "burst": burst,
        "burst_s": round(time.perf_counter() - began, 2),
    }
