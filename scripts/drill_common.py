"""Shared pieces of the operations drills (scripts/drill_*.py, `make drills`): private
services, production-like gunicorn instances started from Procfile's `web` line, an HTTP
client that plays the TLS-terminating proxy, and the printed verdicts.

What the drills run against, and nothing else:
- PostgreSQL databases named `kibray_drill*` (DRILL_DATABASE_URL names the server and the
  base name): a template migrated and seeded once (`kibray_drill_tpl`, re-made when the
  migrations change) and a copy of it per drill (`CREATE DATABASE … TEMPLATE`, instant);
- a redis-server of their own on DRILL_REDIS_PORT (6391), started and stopped here;
- moto's S3 server on DRILL_S3_PORT (18150);
- gunicorn instances on 18101… (`gunicorn -c gunicorn.conf.py wsgi:app`, APP_ENV=production).

Production settings are kept except where a drill must: the secret and the encryption key
are fixed drill values, `ALLOWED_HOSTS=127.0.0.1,localhost`, the drill client is the
trusted proxy (`FORWARDED_ALLOW_IPS=127.0.0.1`, `PROXY_HOPS=1`, `X-Forwarded-Proto: https`
on every request, so the HTTPS redirect, HSTS and secure cookies stay on), and two-factor
is required of the client role only (the drills sign in as admin without an authenticator).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pgtools  # noqa: E402 - scripts/pgtools.py

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DATABASE_URL = os.environ.get("DRILL_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/kibray_drill")
REDIS_PORT = int(os.environ.get("DRILL_REDIS_PORT", "6391"))
S3_PORT = int(os.environ.get("DRILL_S3_PORT", "18150"))
FIRST_PORT = int(os.environ.get("DRILL_FIRST_PORT", "18101"))
BUCKET = "kibray-drill"
PASSWORD = "Kibray!2026"  # noqa: S105 - the demo accounts' documented password
# Drill-only secrets: fixed so every instance of a drill (and the template's seed) agree.
SECRET_KEY = "drill-secret-key-not-for-any-real-deployment-0123456789"  # noqa: S105
FIELD_ENCRYPTION_KEY = "7mQ0b6cJ3q1hX9Jm2pW8uQ4tZ5yV0aB3cD6eF9gH1iE="
LOGS = Path(tempfile.gettempdir()) / "kibray-drills"


# --- verdicts ---------------------------------------------------------------------------------


class DrillFailed(Exception):
    """A promise the drill checks did not hold; the message says which."""


_last = [time.monotonic()]


def proved(text: str) -> None:
    """Print what was proved, with the seconds it took since the previous line."""
    now = time.monotonic()
    print(f"✓ {text} [{now - _last[0]:.1f} s]", flush=True)
    _last[0] = now


def check(condition: bool, failure: str) -> None:
    if not condition:
        raise DrillFailed(failure)


def run_drill(name: str, body) -> None:
    """Run `body()`, print the time it took; exit 1 naming the failure."""
    started = _last[0] = time.monotonic()
    try:
        body()
    except DrillFailed as exc:
        print(f"✗ {name}: {exc}", flush=True)
        print(f"  (logs under {LOGS})", flush=True)
        sys.exit(1)
    except Exception as exc:  # noqa: BLE001 - a drill that crashed failed too, and says where
        import traceback

        traceback.print_exc()
        print(f"✗ {name}: {type(exc).__name__}: {exc}", flush=True)
        sys.exit(1)
    print(f"{name}: all proved in {time.monotonic() - started:.1f} s", flush=True)


# --- PostgreSQL ------------------------------------------------------------------------------


def db_url(suffix: str) -> str:
    """The drill database `<base>_<suffix>` (always a `kibray_drill…` name)."""
    from sqlalchemy.engine import make_url

    url = make_url(DATABASE_URL)
    name = f"{url.database}_{suffix}" if suffix else url.database
    if not name.startswith("kibray_drill"):
        raise SystemExit(f"drill databases must be named kibray_drill…; got {name}")
    return url.set(database=name).render_as_string(hide_password=False)


def libpq_url(url: str) -> str:
    return re.sub(r"^postgresql\+\w+://", "postgresql://", url)


def head_revision() -> str:
    """The migrations' head: the one revision no other names as its down_revision."""
    revisions, downs = set(), set()
    for path in pgtools.MIGRATIONS.glob("*.py"):
        text = path.read_text()
        rev = re.search(r'^revision\s*=\s*["\']([^"\']+)["\']', text, re.M)
        down = re.search(r'^down_revision\s*=\s*["\']([^"\']+)["\']', text, re.M)
        if rev:
            revisions.add(rev.group(1))
        if down:
            downs.add(down.group(1))
    heads = revisions - downs
    if len(heads) != 1:
        raise SystemExit(f"expected one migration head, found {sorted(heads)}")
    return heads.pop()


def recorded_revision(url: str) -> str | None:
    if not pgtools.database_exists(url):
        return None
    with pgtools.connect(url, autocommit=True) as conn:
        if not conn.execute("SELECT to_regclass('public.alembic_version') IS NOT NULL").fetchone()[0]:
            return None
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        return row[0] if row else None


def flask(args: list[str], env: dict, check_ok: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(  # noqa: S603
        [str(BIN / "flask"), *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    if check_ok and done.returncode:
        sys.stderr.write(done.stdout[-3000:] + done.stderr[-3000:])
        raise DrillFailed(f"flask {' '.join(args)} failed ({done.returncode})")
    return done


def template_database(redis_url: str) -> str:
    """`kibray_drill_tpl`: migrated to this checkout's head and seeded with the demo
    company (flask seed-demo), made again only when the head changed."""
    url = db_url("tpl")
    if recorded_revision(url) == head_revision():
        with pgtools.connect(url, autocommit=True) as conn:
            if conn.execute("SELECT count(*) FROM users WHERE username = 'admin'").fetchone()[0]:
                return url
    pgtools.recreate_database(url)
    env = app_env(url, redis_url)
    flask(["db", "upgrade"], env)
    flask(["seed-demo"], env)
    with pgtools.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return url


def copy_database(suffix: str, redis_url: str) -> str:
    """A fresh `kibray_drill_<suffix>`: a copy of the template (its data included)."""
    template = template_database(redis_url)
    url = db_url(suffix)
    drop_database(url)
    with pgtools.connect(url, "postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{pgtools._checked_name(url)}" TEMPLATE "{pgtools._checked_name(template)}"')
    return url


def drop_database(url: str) -> None:
    name = pgtools._checked_name(url)
    if not name.startswith("kibray_drill"):
        raise SystemExit(f"refusing to drop {name}")
    with pgtools.connect(url, "postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def sql(url: str, statement: str, params: tuple = ()) -> list[tuple]:
    with pgtools.connect(url, autocommit=True) as conn:
        cursor = conn.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


def table_counts(url: str) -> dict[str, int]:
    """Rows in every table of the public schema."""
    with pgtools.connect(url, autocommit=True) as conn:
        tables = [
            r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
        ]
        return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}  # noqa: S608


# --- Redis and S3 ----------------------------------------------------------------------------


def port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def wait_port(port: int, timeout: float = 15, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise DrillFailed(f"the process for port {port} exited ({proc.returncode})")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise DrillFailed(f"nothing answered on port {port} within {timeout} s")


class RedisServer:
    """A redis-server of the drill's own on REDIS_PORT, persisting to a directory of its
    own, so `stop()` + `start()` is a Redis restart that keeps its data (sessions)."""

    def __init__(self, port: int = REDIS_PORT):
        self.port = port
        self.dir = tempfile.mkdtemp(prefix="kibray-drill-redis-")
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        if not port_free(self.port):
            raise DrillFailed(
                f"port {self.port} is taken: a drill Redis left running? (redis-cli -p {self.port} shutdown)"
            )
        self.proc = subprocess.Popen(  # noqa: S603
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir]  # noqa: S607
            + ["--save", "", "--appendonly", "no", "--daemonize", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_port(self.port, proc=self.proc)
        return self

    def stop(self, save: bool = True) -> None:
        """Shut down (SHUTDOWN SAVE: the data written to its dump, as a managed Redis with
        persistence restarts) or, with save=False, SIGKILL (a crash: the data is gone)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        if save:
            subprocess.run(  # noqa: S603
                ["redis-cli", "-p", str(self.port), "shutdown", "save"],  # noqa: S607
                capture_output=True,
                check=False,
                timeout=10,
            )
            try:
                self.proc.wait(10)
                return
            except subprocess.TimeoutExpired:
                pass
        self.proc.kill()
        self.proc.wait(5)

    def close(self) -> None:
        self.stop(save=False)
        shutil.rmtree(self.dir, ignore_errors=True)


class MotoServer:
    """moto's S3 server (requirements-dev's moto[server]) on S3_PORT, with the drill bucket."""

    def __init__(self, port: int = S3_PORT):
        self.port = port
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> MotoServer:
        if not port_free(self.port):
            raise DrillFailed(f"port {self.port} is taken (a drill's moto server left running?)")
        LOGS.mkdir(exist_ok=True)
        log = open(LOGS / "moto.log", "w")  # noqa: SIM115 - closed with the process
        self.proc = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_port(self.port, 30, self.proc)
        self.s3().create_bucket(Bucket=BUCKET)
        return self

    def s3(self):
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.url,
            aws_access_key_id="drill",
            aws_secret_access_key="drill",  # noqa: S106 - moto accepts anything
            region_name="us-east-1",
        )

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


# --- the app ---------------------------------------------------------------------------------


def app_env(database_url: str, redis_url: str, s3_url: str | None = None, **extra: str) -> dict:
    """Production settings (APP_ENV=production) against the drill's services."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SENTRY", "EMAIL_", "GUNICORN_"))}
    for name in ("DEBUG", "SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "MEDIA_ROOT"):
        env.pop(name, None)
    env.update(
        APP_ENV="production",
        FLASK_APP="wsgi",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        REDIS_KEY_PREFIX="kibray-drill",
        SECRET_KEY=SECRET_KEY,
        FIELD_ENCRYPTION_KEY=FIELD_ENCRYPTION_KEY,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        FORWARDED_ALLOW_IPS="127.0.0.1",
        PROXY_HOPS="1",
        TWO_FACTOR_REQUIRED_ROLES="client",
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
        PUBLIC_URL="https://127.0.0.1",
    )
    if s3_url:
        env.update(
            AWS_STORAGE_BUCKET_NAME=BUCKET,
            AWS_S3_ENDPOINT_URL=s3_url,
            AWS_ACCESS_KEY_ID="drill",
            AWS_SECRET_ACCESS_KEY="drill",  # noqa: S106 - moto accepts anything
            AWS_S3_REGION_NAME="us-east-1",
        )
    else:
        env["MEDIA_ROOT"] = str(LOGS / "media")
    env.update(extra)
    return env


def procfile_web() -> list[str]:
    """Procfile's `web` command, as the platform runs it."""
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith("web:"):
            words = line.split(":", 1)[1].split()
            return [str(BIN / words[0]), *words[1:]]
    raise SystemExit("Procfile has no web line")


class Instance:
    """One web instance: Procfile's `web` line with PORT, in its own process group, with a
    control socket of its own (GUNICORN_CONTROL_SOCKET)."""

    def __init__(self, name: str, port: int, env: dict, workers: int = 2):
        self.name = name
        self.port = port
        self.env = dict(env, PORT=str(port), GUNICORN_WORKERS=str(workers))
        self.env["GUNICORN_CONTROL_SOCKET"] = str(LOGS / f"gunicorn-{port}.ctl")
        self.proc: subprocess.Popen | None = None
        self.log_path = LOGS / f"{name}.log"

    @property
    def base(self) -> str:
        """The address the drill's client uses (https: the client plays the TLS proxy)."""
        return f"https://127.0.0.1:{self.port}"

    def start(self, wait: bool = True) -> Instance:
        if not port_free(self.port):
            raise DrillFailed(f"port {self.port} is taken (an instance left running?)")
        LOGS.mkdir(exist_ok=True)
        log = open(self.log_path, "a")  # noqa: SIM115 - closed with the process
        self.proc = subprocess.Popen(  # noqa: S603
            procfile_web(), cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        if wait:
            self.wait_healthy()
        return self

    def wait_healthy(self, timeout: float = 40) -> None:
        client = Client()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise DrillFailed(f"{self.name} exited ({self.proc.returncode}); see {self.log_path}")
            try:
                if client.get(self.base + "/health/", timeout=2).status_code == 200:
                    return
            except OSError:
                pass
            except Exception:  # noqa: BLE001,S110 - requests' connection errors while it starts
                pass
            time.sleep(0.1)
        raise DrillFailed(f"{self.name} did not answer /health/ 200 within {timeout} s; see {self.log_path}")

    def workers(self) -> list[int]:
        out = subprocess.run(  # noqa: S603
            ["ps", "-o", "pid=", "--ppid", str(self.proc.pid)],  # noqa: S607
            capture_output=True,
            text=True,
            check=False,
        )
        return [int(p) for p in out.stdout.split()]

    def signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def kill(self) -> None:
        """SIGKILL to the master and its workers (the whole process group)."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(10)

    def stop(self, timeout: float = 35) -> None:
        """Graceful: SIGTERM (requests in progress are finished, up to graceful_timeout)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
        except ProcessLookupError:
            pass

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.kill()


def _terminator_adapter():
    from requests.adapters import HTTPAdapter

    class TLSTerminator(HTTPAdapter):
        """Sends an https:// request as plain HTTP with `X-Forwarded-Proto: https` and an
        https Referer of its own origin: what the platform's proxy hands gunicorn."""

        def send(self, request, **kwargs):
            plain = request.copy()
            origin = request.url.split("/", 3)[:3]
            plain.url = "http://" + request.url[len("https://") :]
            plain.headers["X-Forwarded-Proto"] = "https"
            plain.headers.setdefault("Referer", "/".join(origin) + "/")
            response = super().send(plain, **kwargs)
            response.request = request
            response.url = request.url
            return response

    return TLSTerminator()


def Client(forwarded_for: str | None = None):  # noqa: N802 - reads as a class
    """A requests.Session for the drill's https:// instance addresses (see Instance.base);
    `forwarded_for` is the client address the proxy reports (X-Forwarded-For)."""
    import requests

    session = requests.Session()
    session.mount("https://", _terminator_adapter())
    if forwarded_for:
        session.headers["X-Forwarded-For"] = forwarded_for
    return session


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(r'"X-CSRFToken": "([^"]+)"', html)
    if not match:
        raise DrillFailed("no CSRF token on the page")
    return match.group(1)


def sign_in(base: str, username: str = "admin", client=None):
    """A session signed in through the sign-in form."""
    client = client or Client()
    page = client.get(base + "/login", timeout=10)
    check(page.status_code == 200, f"GET /login answered {page.status_code}")
    answer = client.post(
        base + "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": csrf_token(page.text)},
        allow_redirects=False,
        timeout=20,
    )
    check(answer.status_code == 302, f"signing in as {username} answered {answer.status_code}")
    return client


def api_token(base: str, username: str = "admin") -> str:
    answer = Client().post(base + "/api/auth/login/", json={"username": username, "password": PASSWORD}, timeout=20)
    check(answer.status_code == 200, f"API sign-in as {username} answered {answer.status_code}")
    return answer.json()["data"]["access_token"]


def no_stack_trace(body: str) -> bool:
    return "Traceback" not in body and 'File "' not in body and "werkzeug" not in body.lower()


@contextmanager
def services(s3: bool = True):
    """A private Redis and (optionally) moto's S3 for one drill; always stopped."""
    LOGS.mkdir(exist_ok=True)
    redis_server = RedisServer()
    moto = MotoServer() if s3 else None
    try:
        redis_server.start()
        if moto:
            moto.start()
        yield redis_server, moto
    finally:
        if moto:
            moto.close()
        redis_server.close()
