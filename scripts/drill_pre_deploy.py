"""Drill: scripts/pre_deploy_check.sh passes on a clean checkout and fails, naming exactly
the step, when one thing at a time is broken.

The committed tree (`git archive HEAD`) is unpacked into a temporary folder, once per
case; each copy reuses this checkout's virtualenv (DRILL_VENV, default .venv: linked as
the copy's .venv, no new virtualenv) and runs the pre-deploy check in its quick mode
(PRE_DEPLOY_TESTS=quick: a few representative files per test step), with a production
environment file (PRE_DEPLOY_ENV_FILE) naming the local PostgreSQL and Redis and an S3
bucket on moto's server, which the drill starts:

  clean copy                             → ALL CHECKS PASSED
  a failing test appended to a test file → FAILED: unit and integration tests
  a model column without a migration     → FAILED: no pending migrations + reviewable plan
  a template naming a missing static file→ FAILED: static files complete
  DEBUG=true in the production settings  → FAILED: deploy configuration (flask check-deploy)

Two copies run at a time (DRILL_JOBS, default 2), each on its own databases
(DRILL_DATABASE_URL's server, `kibray_drill_pd<lane>` and `…_e2e`) and its own Redis
database (DRILL_REDIS_DBS, default "11 10": one per lane, shared by a copy's unit and
browser steps, which run one after the other; DRILL_LANE<n>_TEST_DATABASE_URL and
DRILL_LANE<n>_E2E_DATABASE_URL name a lane's databases outright). The dependency audit's result is reused
from this checkout's last `make audit` (instance/dependency-audit.json) when it is less
than a day old; otherwise the first copy asks PyPI (about a minute).

DRILL_MODE=each (the default when run by hand) breaks one thing per copy: five copies,
two at a time (about 50 s a copy on an idle 2-core machine). DRILL_MODE=together (what
`make drills`, and so CI, runs — CI's 30 minutes have no room for five copies) runs the
clean copy and ONE copy with all four breaks at once, and expects the check to fail
naming exactly those four steps and no other: each break is caught by its own step and
none spills into another (a spill would name a fifth step, a miss would leave one out).

Prints what it proved and the time; exit status 1 if any case did not end as expected.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = Path(os.environ.get("DRILL_VENV", str(ROOT / ".venv"))).resolve()
DATABASE_URL = os.environ.get("DRILL_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/kibray_drill")
REDIS_DBS = os.environ.get("DRILL_REDIS_DBS", "11 10").split()
REDIS_BASE = os.environ.get("DRILL_REDIS_BASE", "redis://127.0.0.1:6379")
JOBS = int(os.environ.get("DRILL_JOBS", "2"))
MODE = os.environ.get("DRILL_MODE", "each")
BUCKET = "kibray-pre-deploy-drill"

ALL_PASSED = "ALL CHECKS PASSED"  # the script's last line when every step passed
UNIT = "unit and integration tests"
MIGRATIONS = "no pending migrations + reviewable plan"
STATIC = "static files complete"
CONFIG = "deploy configuration (flask check-deploy)"


def _append(path: str, text: str):
    def breaks(copy: Path, env_file: Path) -> None:
        with open(copy / path, "a") as handle:
            handle.write(text)

    return breaks


def _insert_after(path: str, anchor: str, line: str):
    def breaks(copy: Path, env_file: Path) -> None:
        target = copy / path
        source = target.read_text()
        if anchor not in source:
            raise RuntimeError(f"{path} no longer has {anchor!r}: the drill needs a new place to break")
        target.write_text(source.replace(anchor, anchor + "\n" + line, 1))

    return breaks


def _debug_on(copy: Path, env_file: Path) -> None:
    with open(env_file, "a") as handle:
        handle.write("DEBUG=true\n")


CASES = [
    ("a clean copy", None, ALL_PASSED),
    (
        "a failing test appended to tests/test_smoke.py",
        _append(
            "tests/test_smoke.py", '\n\ndef test_drill_breaks_this():\n    assert 1 == 2, "the drill\'s failing test"\n'
        ),
        UNIT,
    ),
    (
        "a column added to a model (SyncConflict) without a migration",
        _insert_after(
            "app/calendar_sync/models.py",
            '    __tablename__ = "calendar_sync_conflicts"',
            "    drill_unmigrated: Mapped[str | None] = mapped_column(String(20))",
        ),
        MIGRATIONS,
    ),
    (
        "a template (gantt/timeline.html) naming a missing static file",
        _append(
            "templates/gantt/timeline.html",
            "\n<link rel=\"stylesheet\" href=\"{{ url_for('static', filename='css/drill-missing.css') }}\">\n",
        ),
        STATIC,
    ),
    ("DEBUG=true in the production settings", _debug_on, CONFIG),
]


CASE_TIMEOUT = 900  # seconds a copy's pre-deploy check may take


def _run_in_group(command: list[str], cwd: Path, env: dict, timeout: float) -> tuple[int | None, str, str]:
    """Run command in a session (process group) of its own and return (exit status, its
    stdout, its stderr); the status is None when it ran past timeout. Then, and on any way
    out (an error, ^C), the whole group is killed: the script's pytest, gunicorn and
    Chromium children too, not only bash (which is all subprocess.run's timeout kills)."""
    process = subprocess.Popen(  # noqa: S603 - the copy's own script
        command,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
        return process.returncode, stdout, stderr
    except subprocess.TimeoutExpired:
        _kill_group(process)
        try:
            stdout, stderr = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:  # a child left its own group and holds the pipes
            stdout, stderr = "", ""
        return None, stdout, stderr
    finally:
        _kill_group(process)  # what the script left running (none when it ended cleanly)
        if process.poll() is None:
            process.wait(timeout=30)


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:  # the group is gone: nothing left of it
        pass


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_s3() -> tuple[subprocess.Popen, str]:
    port = _free_port()
    log = open(Path(tempfile.gettempdir()) / "kibray-drill-pre-deploy-moto.log", "w")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(  # noqa: S603 - the virtualenv's moto server
        [str(VENV / "bin" / "python"), "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    endpoint = f"http://127.0.0.1:{port}"
    import boto3

    s3 = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="drill",
        aws_secret_access_key="drill",  # noqa: S106 - moto accepts any
        region_name="us-east-1",
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            s3.create_bucket(Bucket=BUCKET)
            return process, endpoint
        except Exception:  # noqa: BLE001 - not up yet
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError("moto's S3 server did not start") from None
            time.sleep(0.2)


def _production_env(path: Path, s3_endpoint: str, redis_url: str) -> None:
    from cryptography.fernet import Fernet
    from sqlalchemy.engine import make_url

    database = make_url(DATABASE_URL).set(database="postgres").render_as_string(hide_password=False)
    settings = {
        "APP_ENV": "production",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "ALLOWED_HOSTS": "erp.kibraypaint.com,healthcheck.railway.app",
        "PUBLIC_URL": "https://erp.kibraypaint.com",
        "DATABASE_URL": database,
        "REDIS_URL": redis_url,
        "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "EMAIL_HOST": "smtp.kibraypaint.com",
        "EMAIL_PORT": "587",
        "EMAIL_HOST_USER": "erp",
        "EMAIL_HOST_PASSWORD": secrets.token_urlsafe(16),
        "EMAIL_USE_TLS": "true",
        "EMAIL_FROM": "'Kibray ERP <erp@kibraypaint.com>'",
        "SENTRY_DSN": "disabled",
        "AWS_STORAGE_BUCKET_NAME": BUCKET,
        "AWS_S3_ENDPOINT_URL": s3_endpoint,
        "AWS_ACCESS_KEY_ID": "drill",
        "AWS_SECRET_ACCESS_KEY": "drill",
        "AWS_S3_REGION_NAME": "us-east-1",
        "LOG_LEVEL": "WARNING",
    }
    path.write_text("".join(f"{key}={value}\n" for key, value in settings.items()))


def _unpack(destination: Path) -> None:
    destination.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", "HEAD"], cwd=ROOT, capture_output=True, check=True).stdout  # noqa: S607
    subprocess.run(["tar", "-x", "-C", str(destination)], input=archive, check=True)  # noqa: S607
    (destination / ".venv").symlink_to(VENV)


def _together():
    """One copy with every break of CASES at once; it must fail naming exactly their steps."""
    breaks = [case[1] for case in CASES if case[1] is not None]

    def all_breaks(copy: Path, env_file: Path) -> None:
        for one in breaks:
            one(copy, env_file)

    steps = " + ".join(case[2] for case in CASES if case[1] is not None)
    return [CASES[0], ("all four breaks in one copy", all_breaks, steps)]


def _failed_steps(output: str) -> str:
    """The steps the script reported FAILED (one '    FAILED: <step>' line each), joined
    with ' + ' in the order CASES names them; the step names themselves hold spaces."""
    failed = {
        re.sub(r" \(\d+ s\)$", "", line.strip().removeprefix("FAILED: ").strip())
        for line in output.splitlines()
        if line.startswith("    FAILED: ")
    }
    order = [case[2] for case in CASES if case[1] is not None]
    return " + ".join([step for step in order if step in failed] + sorted(failed - set(order)))


def _verdict(output: str) -> str:
    for line in reversed(output.strip().splitlines()):
        if line.startswith(ALL_PASSED):
            return ALL_PASSED
        if line.startswith("FAILED: "):
            return _failed_steps(output) or line.removeprefix("FAILED: ").strip()
    return "(no verdict line)"


def main() -> int:
    from sqlalchemy.engine import make_url

    cases = _together() if MODE == "together" else CASES

    started = time.monotonic()
    if not (VENV / "bin" / "python").exists():
        print(f"DRILL_VENV {VENV} has no bin/python")
        return 1
    work = Path(tempfile.mkdtemp(prefix="kibray-drill-pre-deploy-"))
    audit_cache = ROOT / "instance" / "dependency-audit.json"
    s3, endpoint = _start_s3()
    lanes: list[int] = list(range(min(JOBS, len(REDIS_DBS))))
    free = list(lanes)
    lock = threading.Lock()
    results: dict[int, tuple[str, float, Path]] = {}

    def run(index: int) -> None:
        name, breaks, expected = cases[index]
        with lock:
            lane = free.pop(0)
        try:
            copy = work / f"case{index}"
            _unpack(copy)
            redis_url = f"{REDIS_BASE}/{REDIS_DBS[lane]}"
            env_file = work / f"case{index}.env"
            _production_env(env_file, endpoint, redis_url)
            if breaks is not None:
                breaks(copy, env_file)
            base = make_url(DATABASE_URL)
            env = {
                k: v
                for k, v in os.environ.items()
                if not k.startswith(("TEST_", "E2E_", "DATABASE_URL", "REDIS_URL", "APP_ENV", "PYTEST_"))
            }
            env.update(
                PRE_DEPLOY_TESTS="quick",
                PRE_DEPLOY_ENV_FILE=str(env_file),
                TEST_DATABASE_URL=os.environ.get(f"DRILL_LANE{lane}_TEST_DATABASE_URL")
                or base.set(database=f"{base.database}_pd{lane}").render_as_string(hide_password=False),
                E2E_DATABASE_URL=os.environ.get(f"DRILL_LANE{lane}_E2E_DATABASE_URL")
                or base.set(database=f"{base.database}_pd{lane}_e2e").render_as_string(hide_password=False),
                TEST_REDIS_URL=redis_url,
                E2E_REDIS_URL=redis_url,
                MIGCHECK_REDIS_URL=redis_url,
                AUDIT_CACHE=str(audit_cache),
                PYTHONDONTWRITEBYTECODE="1",
            )
            clock = time.monotonic()
            returncode, stdout, stderr = _run_in_group(["bash", "scripts/pre_deploy_check.sh"], copy, env, CASE_TIMEOUT)
            log = work / f"case{index}.log"
            log.write_text(stdout + stderr)
            if returncode is None:
                verdict = f"(timed out after {CASE_TIMEOUT} s; its process group killed)"
            else:
                verdict = _verdict(stdout)
                if verdict == ALL_PASSED and returncode != 0:
                    verdict = f"(exit {returncode} after {ALL_PASSED})"
            results[index] = (verdict, time.monotonic() - clock, log)
        finally:
            with lock:
                free.append(lane)

    try:
        with ThreadPoolExecutor(max_workers=len(lanes)) as pool:
            list(pool.map(run, range(len(cases))))
    finally:
        s3.terminate()
        s3.wait(timeout=10)
    failures = 0
    print("Pre-deploy check drill (scripts/pre_deploy_check.sh, PRE_DEPLOY_TESTS=quick, a copy of HEAD each):")
    for index, (name, _breaks, expected) in enumerate(cases):
        verdict, seconds, log = results.get(index, ("(did not run)", 0.0, work))
        ok = verdict == expected
        failures += not ok
        said = "passes: ALL CHECKS PASSED" if expected == ALL_PASSED else f"fails naming exactly: {expected}"
        if ok:
            print(f"  PROVED  {name} → {said}  ({seconds:.0f} s)")
        else:
            print(f"  BROKEN  {name} → expected '{expected}', got '{verdict}'  (log: {log})")
    total = time.monotonic() - started
    if failures:
        print(f"drill_pre_deploy: {failures} of {len(cases)} cases did not hold ({total:.0f} s); copies kept in {work}")
        return 1
    shutil.rmtree(work, ignore_errors=True)
    print(f"drill_pre_deploy: all {len(cases)} cases held in {total:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
