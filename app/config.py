"""Configuration read only from environment variables (12-factor).

`APP_ENV` picks the class: development (default), test, staging, production.
With no DATABASE_URL / REDIS_URL the app runs embedded: SQLite under instance/,
an in-process Redis stand-in, jobs inline, media on local disk.
"""

from __future__ import annotations

import os
from datetime import timedelta

from argon2 import DEFAULT_MEMORY_COST, DEFAULT_TIME_COST
from cryptography.fernet import Fernet

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), os.pardir))
DEFAULT_SECRET = "dev-insecure-secret-key-change-me"  # noqa: S105 - the known default that production rejects


# DB_PLAN_CACHE_MODE: PostgreSQL's values, or "server" to send none (the server's own setting).
PLAN_CACHE_MODES = ("force_generic_plan", "auto", "force_custom_plan", "server")


def env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return default if value in (None, "") else value


def env_bool(name: str, default: bool = False) -> bool:
    value = env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = env(name)
    return default if value is None else int(value)


def roles_list(value: str | None) -> tuple[str, ...]:
    """A comma-separated list of role codes (an empty string means none)."""
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


def normalise_database_url(url: str | None) -> str | None:
    """Accept the platform's postgres:// URLs and use the psycopg 3 driver."""
    if not url:
        return url
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def base_settings() -> dict:
    """Settings shared by every environment, read from the environment now."""
    database_url = normalise_database_url(env("DATABASE_URL"))
    redis_url = env("REDIS_URL")
    idle = env_int("SESSION_IDLE_SECONDS", 30 * 60)
    conn_max_age = env_int("CONN_MAX_AGE", 600)
    max_request_bytes = env_int("MAX_REQUEST_BYTES", 1024 * 1024)
    worker_connections = env_int("GUNICORN_WORKER_CONNECTIONS", 1000)
    # How a pooled connection is known to be alive at checkout (app/core/pool_check.py):
    # "socket" looks at its socket (no round trip), "ping" sends a statement, "off": neither.
    liveness = env("DB_LIVENESS_CHECK", "socket")
    if liveness not in ("socket", "ping", "off"):
        raise ConfigurationError(f"DB_LIVENESS_CHECK must be socket, ping or off; got {liveness!r}")
    engine_options: dict = {"pool_pre_ping": liveness == "ping", "pool_recycle": conn_max_age}
    if database_url:
        # PostgreSQL pool per worker. A gevent worker runs up to GUNICORN_WORKER_CONNECTIONS
        # requests at once but each holds a connection only for its short transaction, so
        # a small pool serves a burst: the rest wait up to DB_POOL_TIMEOUT seconds in
        # line (a wait that runs out is a 503, core/outage.py), never a 500.
        engine_options.update(
            pool_size=env_int("DB_POOL_SIZE", 10),
            max_overflow=env_int("DB_MAX_OVERFLOW", 20),
            pool_timeout=env_int("DB_POOL_TIMEOUT", 30),
        )
        # Planner settings sent at connection start. `random_page_cost`: PostgreSQL's
        # default (4) assumes spinning disks; this company's data sits in memory or on SSD,
        # where 1.1 is the usual setting — with 4 a search matching a fifth of the projects
        # read every row (2 ms) instead of the trigram indexes (0.5 ms).
        # `plan_cache_mode`: psycopg prepares a statement run five times on a connection;
        # `force_generic_plan` plans it once for any values. The values a plan must know
        # (a viewer's id: a PM's list planned without it read every membership; a status)
        # are written into the SQL (core/statements.py `inline`), and a search's shape is
        # chosen by the app from cached totals, so what stays a parameter — typed text,
        # times — plans alike; PostgreSQL's own choice (auto) re-planned every search
        # (0.25–0.35 ms each time, more than running it).
        page_cost = env("DB_RANDOM_PAGE_COST", "1.1")
        plan_mode = env("DB_PLAN_CACHE_MODE", "force_generic_plan")
        settings = []
        if page_cost != "server":
            try:
                float(page_cost)
            except ValueError:
                raise ConfigurationError(f"DB_RANDOM_PAGE_COST must be a number; got {page_cost!r}") from None
            settings.append(f"-c random_page_cost={page_cost}")
        if plan_mode not in PLAN_CACHE_MODES:
            raise ConfigurationError(
                f"DB_PLAN_CACHE_MODE must be one of {', '.join(PLAN_CACHE_MODES)}; got {plan_mode!r}"
            )
        if plan_mode != "server":
            settings.append(f"-c plan_cache_mode={plan_mode}")
        if settings:
            engine_options["connect_args"] = {"options": " ".join(settings)}
    return {
        "SECRET_KEY": env("SECRET_KEY", DEFAULT_SECRET),
        "DEBUG": env_bool("DEBUG", False),
        "TESTING": False,
        "ALLOWED_HOSTS": [h.strip() for h in (env("ALLOWED_HOSTS", "*") or "*").split(",") if h.strip()],
        # Forwarded headers are believed only from these peers, for PROXY_HOPS hops (core/net.py).
        "FORWARDED_ALLOW_IPS": env("FORWARDED_ALLOW_IPS", "") or "",
        "PROXY_HOPS": env_int("PROXY_HOPS", 0),
        "DATABASE_URL": database_url,
        "SQLALCHEMY_DATABASE_URI": database_url or "sqlite:///" + os.path.join(ROOT, "instance", "kibray.db"),
        "CONN_MAX_AGE": conn_max_age,
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options,
        "DB_LIVENESS_CHECK": liveness,
        "REDIS_URL": redis_url,
        # Redis connections per worker (a blocking pool: a burst waits for one, see
        # extensions.RedisConnections) and how long a request waits before its 503.
        "REDIS_MAX_CONNECTIONS": env_int("REDIS_MAX_CONNECTIONS", worker_connections),
        "REDIS_POOL_TIMEOUT": env_int("REDIS_POOL_TIMEOUT", 10),
        "EMBEDDED": database_url is None and redis_url is None,
        "AWS_ACCESS_KEY_ID": env("AWS_ACCESS_KEY_ID"),
        "AWS_SECRET_ACCESS_KEY": env("AWS_SECRET_ACCESS_KEY"),
        "AWS_STORAGE_BUCKET_NAME": env("AWS_STORAGE_BUCKET_NAME"),
        "AWS_S3_REGION_NAME": env("AWS_S3_REGION_NAME", "us-east-1"),
        "AWS_S3_ENDPOINT_URL": env("AWS_S3_ENDPOINT_URL"),
        "MEDIA_ROOT": env("MEDIA_ROOT", os.path.join(ROOT, "instance", "media")),
        # uploads (core/uploads.py): size limits per kind, and whether photos keep their GPS
        "UPLOAD_MAX_PHOTO_MB": env_int("UPLOAD_MAX_PHOTO_MB", 20),
        "UPLOAD_MAX_PDF_MB": env_int("UPLOAD_MAX_PDF_MB", 25),
        "PHOTOS_KEEP_LOCATION": env_bool("PHOTOS_KEEP_LOCATION", False),
        # how long a download's presigned S3 URL is valid, issued after a permission check
        "MEDIA_URL_SECONDS": env_int("MEDIA_URL_SECONDS", 300),
        # No EMAIL_HOST: nothing is emailed (notifications reach the bell only).
        "EMAIL_HOST": env("EMAIL_HOST", "") or "",
        "EMAIL_PORT": env_int("EMAIL_PORT", 25),
        "EMAIL_HOST_USER": env("EMAIL_HOST_USER"),
        "EMAIL_HOST_PASSWORD": env("EMAIL_HOST_PASSWORD"),
        "EMAIL_USE_TLS": env_bool("EMAIL_USE_TLS", False),
        "EMAIL_FROM": env("EMAIL_FROM", "Kibray ERP <no-reply@kibray.local>"),
        # The address people reach the app at: links in emails (notifications, digests).
        "PUBLIC_URL": env("PUBLIC_URL", "http://localhost:5000"),
        # The company-time hour at which the daily notification digest goes out.
        "NOTIFICATION_DIGEST_HOUR": env_int("NOTIFICATION_DIGEST_HOUR", 7),
        "FIELD_ENCRYPTION_KEY": env("FIELD_ENCRYPTION_KEY"),
        "OPENAI_API_KEY": env("OPENAI_API_KEY"),
        "GOOGLE_CALENDAR_CLIENT_ID": env("GOOGLE_CALENDAR_CLIENT_ID"),
        "GOOGLE_CALENDAR_CLIENT_SECRET": env("GOOGLE_CALENDAR_CLIENT_SECRET"),
        # CalDAV server URLs are user input the server calls: private, loopback and
        # link-local addresses are refused unless this is on (development and tests: a
        # CalDAV server on this machine)
        "CALDAV_ALLOW_PRIVATE_HOSTS": env_bool("CALDAV_ALLOW_PRIVATE_HOSTS", False),
        "SENTRY_DSN": env("SENTRY_DSN"),
        # Operations alerts (app/operations): Slack's incoming webhook (every alert); an SMS
        # provider (none is built: set, the page says it has no sender); a process's memory
        # limit when no cgroup limit is found (else the machine's RAM)
        "SLACK_WEBHOOK_URL": env("SLACK_WEBHOOK_URL", "") or "",
        "SMS_PROVIDER": env("SMS_PROVIDER", "") or "",
        "MEMORY_LIMIT_MB": env_int("MEMORY_LIMIT_MB", 0),
        # `Authorization: Bearer <METRICS_TOKEN>` reads /metrics (so does an admin's API token)
        "METRICS_TOKEN": env("METRICS_TOKEN"),
        "GUNICORN_WORKERS": env_int("GUNICORN_WORKERS", 2),
        "GUNICORN_THREADS": env_int("GUNICORN_THREADS", 1),
        "GUNICORN_WORKER_CONNECTIONS": worker_connections,
        "SECURE_SSL_REDIRECT": env_bool("SECURE_SSL_REDIRECT", False),
        "SECURE_HSTS_SECONDS": env_int("SECURE_HSTS_SECONDS", 0),
        "SESSION_COOKIE_SECURE": env_bool("SESSION_COOKIE_SECURE", False),
        "CSRF_COOKIE_SECURE": env_bool("CSRF_COOKIE_SECURE", False),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_NAME": "kibray_session",
        "SESSION_IDLE_SECONDS": idle,
        "PERMANENT_SESSION_LIFETIME": timedelta(seconds=idle),
        "CACHE_TTL": env_int("CACHE_TTL", 300),
        # /health/ re-checks storage (a write) and migrations at most this often per process.
        "HEALTH_CACHE_SECONDS": env_int("HEALTH_CACHE_SECONDS", 10),
        # `Server-Timing: app;dur=<ms>` on every answer (core/net.py): the app's own time.
        "SERVER_TIMING": env_bool("SERVER_TIMING", True),
        # The largest request body accepted (bytes): anything larger is answered 413 from
        # its Content-Length, before a byte of it is read or parsed. A future upload route
        # raises it for itself (`request.max_content_length`).
        "MAX_REQUEST_BYTES": max_request_bytes,
        "MAX_CONTENT_LENGTH": max_request_bytes,
        "MAX_FORM_MEMORY_SIZE": max_request_bytes,
        "WTF_CSRF_TIME_LIMIT": None,  # tied to the session, which already expires
        "JWT_ACCESS_SECONDS": 3600,
        "JWT_REFRESH_SECONDS": 7 * 24 * 3600,
        "RATELIMIT_AUTHENTICATED": env_int("RATELIMIT_AUTHENTICATED", 1000),
        "RATELIMIT_ANONYMOUS": env_int("RATELIMIT_ANONYMOUS", 100),
        "RATELIMIT_EXPENSIVE": env_int("RATELIMIT_EXPENSIVE", 10),
        "LOGIN_MAX_FAILURES_ACCOUNT": env_int("LOGIN_MAX_FAILURES_ACCOUNT", 5),
        "LOGIN_MAX_FAILURES_IP": env_int("LOGIN_MAX_FAILURES_IP", 20),
        "LOGIN_LOCKOUT_SECONDS": env_int("LOGIN_LOCKOUT_SECONDS", 15 * 60),
        # argon2id cost: iterations and memory in KiB (argon2-cffi's defaults; production
        # refuses anything weaker, the test settings use cheap values so the suite is fast).
        "PASSWORD_HASH_TIME_COST": env_int("PASSWORD_HASH_TIME_COST", DEFAULT_TIME_COST),
        "PASSWORD_HASH_MEMORY_COST": env_int("PASSWORD_HASH_MEMORY_COST", DEFAULT_MEMORY_COST),
        # Native threads per gevent worker that hash and check passwords off the event loop
        # (app/auth/passwords.py); a sign-in burst queues for them. Workers × threads ≈ cores.
        "PASSWORD_HASH_THREADS": env_int("PASSWORD_HASH_THREADS", 1),
        "TWO_FACTOR_REQUIRED_ROLES": roles_list(env("TWO_FACTOR_REQUIRED_ROLES", "")),
        "SSE_HEARTBEAT_SECONDS": env_int("SSE_HEARTBEAT_SECONDS", 15),
        "REDIS_KEY_PREFIX": env("REDIS_KEY_PREFIX", "kibray"),
        "LOG_LEVEL": env("LOG_LEVEL", "INFO"),
        "COMPANY_TIMEZONE": env("COMPANY_TIMEZONE", "America/Denver"),
    }


def development_settings() -> dict:
    settings = base_settings()
    settings.update(
        APP_ENV="development",
        DEBUG=env_bool("DEBUG", True),
        CALDAV_ALLOW_PRIVATE_HOSTS=env_bool("CALDAV_ALLOW_PRIVATE_HOSTS", True),
    )
    return settings


def test_settings() -> dict:
    settings = base_settings()
    settings.update(
        APP_ENV="test",
        TESTING=True,
        # Fixed so tests are reproducible; production never accepts it (too well known).
        SECRET_KEY=env("SECRET_KEY", "test-secret-key-not-for-production-0123456789"),
        FIELD_ENCRYPTION_KEY=env("FIELD_ENCRYPTION_KEY", "q0m2-2bDwWw8xCw4M3rM3q6yqFJ3Hq9JmQpB2tqF3dU="),
        RATELIMIT_AUTHENTICATED=env_int("RATELIMIT_AUTHENTICATED", 100000),
        RATELIMIT_ANONYMOUS=env_int("RATELIMIT_ANONYMOUS", 100000),
        RATELIMIT_EXPENSIVE=env_int("RATELIMIT_EXPENSIVE", 100000),
        MEDIA_ROOT=env("MEDIA_ROOT", os.path.join(ROOT, "instance", "test-media")),
        # Cheap hashing: the suite hashes and checks passwords hundreds of times.
        PASSWORD_HASH_TIME_COST=env_int("PASSWORD_HASH_TIME_COST", 1),
        PASSWORD_HASH_MEMORY_COST=env_int("PASSWORD_HASH_MEMORY_COST", 64),
        # Every JSON answer is checked against what its endpoint declares (core/openapi.py).
        API_CHECK_RESPONSES=env_bool("API_CHECK_RESPONSES", True),
        HEALTH_CACHE_SECONDS=env_int("HEALTH_CACHE_SECONDS", 0),  # tests change what is checked
        CALDAV_ALLOW_PRIVATE_HOSTS=env_bool("CALDAV_ALLOW_PRIVATE_HOSTS", True),  # Radicale on 127.0.0.1
    )
    if not settings["DATABASE_URL"]:
        settings["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.path.join(ROOT, "instance", "test.db")
    return settings


def production_settings() -> dict:
    settings = base_settings()
    settings.update(
        TWO_FACTOR_REQUIRED_ROLES=roles_list(env("TWO_FACTOR_REQUIRED_ROLES", "admin,project_manager_full,pm_trainee")),
        APP_ENV="production",
        SESSION_COOKIE_SECURE=env_bool("SESSION_COOKIE_SECURE", True),
        CSRF_COOKIE_SECURE=env_bool("CSRF_COOKIE_SECURE", True),
        SECURE_SSL_REDIRECT=env_bool("SECURE_SSL_REDIRECT", True),
        SECURE_HSTS_SECONDS=env_int("SECURE_HSTS_SECONDS", 31536000),
    )
    return settings


def staging_settings() -> dict:
    settings = production_settings()
    settings["APP_ENV"] = "staging"
    return settings


ENVIRONMENTS = {
    "development": development_settings,
    "test": test_settings,
    "staging": staging_settings,
    "production": production_settings,
}
STRICT_ENVIRONMENTS = {"production", "staging"}


class ConfigurationError(RuntimeError):
    """Raised at start when the configuration is unsafe; the message names each problem."""


def production_problems(settings: dict) -> list[str]:
    """Everything that makes a production configuration unsafe, each named."""
    found = []
    if settings["DEBUG"]:
        found.append("DEBUG must be off in production")
    secret = settings["SECRET_KEY"] or ""
    if secret == DEFAULT_SECRET or len(secret) < 32:
        found.append("SECRET_KEY is missing, the default, or shorter than 32 characters")
    if not settings["DATABASE_URL"]:
        found.append("DATABASE_URL is required")
    if not settings["REDIS_URL"]:
        found.append("REDIS_URL is required")
    from app.core.roles import ROLES

    if not settings["ALLOWED_HOSTS"] or "*" in settings["ALLOWED_HOSTS"]:
        found.append("ALLOWED_HOSTS must name the site's host names (not '*')")

    if settings["PASSWORD_HASH_TIME_COST"] < DEFAULT_TIME_COST:
        found.append(f"PASSWORD_HASH_TIME_COST must be at least {DEFAULT_TIME_COST}")
    if settings["PASSWORD_HASH_MEMORY_COST"] < DEFAULT_MEMORY_COST:
        found.append(f"PASSWORD_HASH_MEMORY_COST must be at least {DEFAULT_MEMORY_COST} (KiB)")
    unknown = [r for r in settings["TWO_FACTOR_REQUIRED_ROLES"] if r not in ROLES]
    if unknown:
        found.append(f"TWO_FACTOR_REQUIRED_ROLES names unknown roles: {', '.join(unknown)}")
    from app.core.timezones import zone_problem

    zone = zone_problem(settings["COMPANY_TIMEZONE"])
    if zone:
        found.append(zone)
    key = settings["FIELD_ENCRYPTION_KEY"]
    if not key:
        found.append("FIELD_ENCRYPTION_KEY is required")
    else:
        try:
            for part in key.split(","):
                Fernet(part.strip().encode())
        except (ValueError, TypeError):
            found.append("FIELD_ENCRYPTION_KEY is not a valid Fernet key (32 url-safe base64 bytes)")
    return found


def load_config(name: str | None = None, overrides: dict | None = None) -> dict:
    """Settings for APP_ENV (or `name`), validated: strict environments refuse unsafe ones."""
    name = name or env("APP_ENV", "development")
    if name not in ENVIRONMENTS:
        raise ConfigurationError(f"APP_ENV must be one of {', '.join(ENVIRONMENTS)}; got {name!r}")
    settings = ENVIRONMENTS[name]()
    settings.update(overrides or {})
    if name in STRICT_ENVIRONMENTS:
        problems = production_problems(settings)
        if problems and not checking_deploy():
            raise ConfigurationError("Refusing to start: " + "; ".join(problems))
    return settings


def checking_deploy() -> bool:
    """This process is `flask check-deploy`: the CLI builds the app before it runs a command,
    and the check reports an unsafe configuration line by line (app/deploy/checks.py)
    instead of the app refusing to load. Nothing else starts this way: gunicorn, the
    workers and every other command still refuse."""
    import sys

    program = sys.argv[0] if sys.argv else ""
    is_flask = os.path.basename(program) == "flask" or program.endswith(os.path.join("flask", "__main__.py"))
    return is_flask and flask_command(sys.argv[1:]) == "check-deploy"


def flask_command(args: list[str]) -> str | None:
    """The command of a `flask` command line: its first argument that is neither an option
    of flask's own nor the value of one (`--app X`, `-e .env`), so `flask run --host
    check-deploy` is `run`."""
    args = iter(args)
    for arg in args:
        if arg in ("--app", "-A", "--env-file", "-e"):
            next(args, None)
        elif not arg.startswith("-"):
            return arg
    return None
