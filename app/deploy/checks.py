"""`flask check-deploy`: the production configuration actually in this environment, read
as a production start reads it (app/config.py `production_settings`), checked setting by
setting and against the services it names — Django's `check --deploy`, for this app.

Each check gives one `Finding`: passed or not, the setting to change, and what is wrong
with the fix ("must be true in production (set SECURE_SSL_REDIRECT=true)"). The services
are really asked: PostgreSQL `SELECT 1`, Redis `PING`, the media storage a probe object
written and deleted (the health check's probe, app/core/storage.py)."""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from app.config import (
    DEFAULT_SECRET,
    ENVIRONMENTS,
    ROOT,
    STRICT_ENVIRONMENTS,
    ConfigurationError,
    env,
    production_problems,
)

HSTS_MIN_SECONDS = 31536000  # one year: what browsers' HSTS preload lists require
SECRET_MIN_LENGTH = 32
SECRET_MIN_BITS = 128  # length × log2(the alphabet its character classes span)
SECRET_MIN_DISTINCT = 10  # "xxxx…" or "abcabc…" are long but guessable
SENTRY_OFF = "disabled"  # SENTRY_DSN=disabled: Sentry knowingly off (app/core/logs.py reads it so too)
# values that ship with this code or its docs, and words only placeholders contain
KNOWN_SECRETS = {DEFAULT_SECRET, "test-secret-key-not-for-production-0123456789"}
PLACEHOLDER_WORDS = ("change-me", "changeme", "change_me", "insecure", "not-for-production", "example", "default")
TEST_FERNET_KEY = "q0m2-2bDwWw8xCw4M3rM3q6yqFJ3Hq9JmQpB2tqF3dU="  # app/config.py test_settings
DEFAULT_EMAIL_FROM_DOMAIN = "kibray.local"
TIMEOUT_SECONDS = 5
# the settings production_problems() (app/config.py) also judges that the checks below
# judge themselves, with the fix spelled out
OWN_SETTINGS = ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL", "FIELD_ENCRYPTION_KEY")


@dataclass(frozen=True)
class Finding:
    ok: bool
    setting: str
    message: str

    def line(self) -> str:
        return f"{'✓' if self.ok else '✗'} {self.setting}: {self.message}"


def passed(setting: str, message: str) -> Finding:
    return Finding(True, setting, message)


def failed(setting: str, message: str) -> Finding:
    return Finding(False, setting, message)


def check_deploy(*, services: bool = True, platform_files: bool = True) -> list[Finding]:
    """Every finding, in the order printed. `services=False` skips the round trips to
    PostgreSQL, Redis and the storage (the settings alone)."""
    name = env("APP_ENV", "development")
    findings = []
    if name in STRICT_ENVIRONMENTS:
        findings.append(passed("APP_ENV", name))
    else:
        findings.append(
            failed("APP_ENV", f"is {name!r}; this checks a production start (set APP_ENV=production, or staging)")
        )
        name = "production"
    try:
        settings = ENVIRONMENTS[name]()
    except ConfigurationError as exc:
        setting = str(exc).split()[0]
        return [*findings, failed(setting, str(exc).removeprefix(setting).strip())]
    findings += [
        _debug(settings),
        _secret_key(settings),
        _allowed_hosts(settings),
        _flag(settings, "SECURE_SSL_REDIRECT", "redirects http to https"),
        _hsts(settings),
        _flag(settings, "SESSION_COOKIE_SECURE", "the session cookie travels over https only"),
        _flag(settings, "CSRF_COOKIE_SECURE", "the CSRF cookie travels over https only"),
        _public_url(settings),
        _encryption_key(settings),
        *_email(settings),
        _sentry(),
        *_other_rules(settings),
    ]
    if services:
        findings += [_database(settings), _redis(settings), _storage(settings)]
    if platform_files:
        findings += _platform_files()
    return findings


# --- settings ------------------------------------------------------------------------


def _debug(settings: dict) -> Finding:
    if settings["DEBUG"]:
        return failed("DEBUG", "must be false in production: the debugger runs code for anyone (set DEBUG=false)")
    return passed("DEBUG", "off")


def secret_strength(secret: str) -> float:
    """Bits an attacker must guess, estimated from its length and the character classes
    it uses (lower case, upper case, digits, anything else)."""
    alphabet = 0
    for pattern, size in ((r"[a-z]", 26), (r"[A-Z]", 26), (r"[0-9]", 10), (r"[^a-zA-Z0-9]", 33)):
        if re.search(pattern, secret):
            alphabet += size
    return len(secret) * math.log2(alphabet) if alphabet > 1 else 0.0


def _secret_key(settings: dict) -> Finding:
    secret = settings["SECRET_KEY"] or ""
    fix = "(set SECRET_KEY to a random value: python -c 'import secrets; print(secrets.token_urlsafe(48))')"
    lowered = secret.lower()
    if not env("SECRET_KEY"):
        return failed("SECRET_KEY", f"not set {fix}")
    if secret in KNOWN_SECRETS or any(word in lowered for word in PLACEHOLDER_WORDS):
        return failed("SECRET_KEY", f"is a known default or placeholder {fix}")
    if len(secret) < SECRET_MIN_LENGTH:
        return failed("SECRET_KEY", f"is {len(secret)} characters; at least {SECRET_MIN_LENGTH} {fix}")
    bits = secret_strength(secret)
    if len(set(secret)) < SECRET_MIN_DISTINCT or bits < SECRET_MIN_BITS:
        return failed(
            "SECRET_KEY", f"is too predictable (~{bits:.0f} bits, {len(set(secret))} distinct characters) {fix}"
        )
    return passed("SECRET_KEY", f"{len(secret)} characters, ~{bits:.0f} bits")


def _allowed_hosts(settings: dict) -> Finding:
    hosts = settings["ALLOWED_HOSTS"]
    if not env("ALLOWED_HOSTS") or not hosts or "*" in hosts:
        return failed(
            "ALLOWED_HOSTS",
            "must name the site's host names, not '*' (set ALLOWED_HOSTS=erp.example.com,healthcheck.railway.app)",
        )
    return passed("ALLOWED_HOSTS", ", ".join(hosts))


def _flag(settings: dict, setting: str, meaning: str) -> Finding:
    if not settings[setting]:
        return failed(setting, f"must be true in production (set {setting}=true)")
    return passed(setting, meaning)


def _hsts(settings: dict) -> Finding:
    seconds = settings["SECURE_HSTS_SECONDS"]
    if seconds < HSTS_MIN_SECONDS:
        return failed(
            "SECURE_HSTS_SECONDS",
            f"is {seconds}; must be at least {HSTS_MIN_SECONDS} (one year) (set SECURE_HSTS_SECONDS={HSTS_MIN_SECONDS})",
        )
    return passed("SECURE_HSTS_SECONDS", f"{seconds} (≥ one year)")


def _public_url(settings: dict) -> Finding:
    url = urlsplit(settings["PUBLIC_URL"] or "")
    if url.scheme != "https" or not url.hostname or url.hostname in ("localhost", "127.0.0.1"):
        return failed(
            "PUBLIC_URL",
            f"is {settings['PUBLIC_URL']!r}; links in emails need the site's https address "
            "(set PUBLIC_URL=https://erp.example.com)",
        )
    return passed("PUBLIC_URL", settings["PUBLIC_URL"])


def _encryption_key(settings: dict) -> Finding:
    from cryptography.fernet import Fernet

    fix = "(set FIELD_ENCRYPTION_KEY: python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')"
    value = settings["FIELD_ENCRYPTION_KEY"]
    if not value:
        return failed("FIELD_ENCRYPTION_KEY", f"not set {fix}")
    keys = [part.strip() for part in value.split(",")]
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key.encode())
        except (ValueError, TypeError):
            return failed(
                "FIELD_ENCRYPTION_KEY", f"key {position} is not a valid Fernet key (32 url-safe base64 bytes) {fix}"
            )
        if key == TEST_FERNET_KEY:
            return failed("FIELD_ENCRYPTION_KEY", f"key {position} is the test suite's published key {fix}")
    return passed("FIELD_ENCRYPTION_KEY", f"{len(keys)} valid Fernet key(s), the first encrypts")


def _email(settings: dict) -> list[Finding]:
    found = []
    if not settings["EMAIL_HOST"]:
        return [
            failed(
                "EMAIL_HOST",
                "not set: nothing would be emailed (critical alerts, notifications, invoices) "
                "(set EMAIL_HOST, EMAIL_PORT, EMAIL_FROM and, if the server wants a login, EMAIL_HOST_USER, "
                "EMAIL_HOST_PASSWORD, EMAIL_USE_TLS=true)",
            )
        ]
    found.append(passed("EMAIL_HOST", f"{settings['EMAIL_HOST']}:{settings['EMAIL_PORT']}"))
    sender = settings["EMAIL_FROM"] or ""
    if not env("EMAIL_FROM") or sender.rstrip(">").endswith("@" + DEFAULT_EMAIL_FROM_DOMAIN):
        found.append(
            failed(
                "EMAIL_FROM",
                f"is {sender!r}, not the company's address (set EMAIL_FROM='Kibray ERP <erp@company.com>')",
            )
        )
    else:
        found.append(passed("EMAIL_FROM", sender))
    user, password = settings["EMAIL_HOST_USER"], settings["EMAIL_HOST_PASSWORD"]
    if bool(user) != bool(password):
        missing = "EMAIL_HOST_PASSWORD" if user else "EMAIL_HOST_USER"
        found.append(
            failed(
                missing,
                f"not set while {'EMAIL_HOST_USER' if user else 'EMAIL_HOST_PASSWORD'} is (set both, or neither)",
            )
        )
    elif user and not settings["EMAIL_USE_TLS"]:
        found.append(
            failed(
                "EMAIL_USE_TLS",
                "off while signing in to the mail server: the password would cross in clear (set EMAIL_USE_TLS=true)",
            )
        )
    else:
        found.append(
            passed("EMAIL_HOST_USER", "signs in over TLS" if user else "no login (the server accepts the app's mail)")
        )
    return found


def _sentry() -> Finding:
    value = (os.environ.get("SENTRY_DSN") or "").strip()
    fix = "(set SENTRY_DSN to the project's DSN, or SENTRY_DSN=disabled to run without Sentry knowingly)"
    if not value:
        return failed("SENTRY_DSN", f"not set {fix}")
    if value.lower() == SENTRY_OFF:
        return passed("SENTRY_DSN", "disabled, knowingly (errors only in the logs)")
    from sentry_sdk.utils import BadDsn, Dsn

    try:
        dsn = Dsn(value)
    except BadDsn as exc:
        return failed("SENTRY_DSN", f"is not a valid DSN ({exc}) {fix}")
    return passed("SENTRY_DSN", f"errors go to {dsn.host} (project {dsn.project_id})")


def _other_rules(settings: dict) -> list[Finding]:
    """What else a production start refuses (app/config.py production_problems)."""
    found = []
    for problem in production_problems(settings):
        setting = problem.split()[0]
        if setting not in OWN_SETTINGS:
            found.append(failed(setting, f"{problem.removeprefix(setting).strip()} (set {setting} so)"))
    return found


# --- services ------------------------------------------------------------------------


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".strip()


def _database(settings: dict) -> Finding:
    url = settings["DATABASE_URL"]
    if not url:
        return failed("DATABASE_URL", "not set (set DATABASE_URL=postgresql://user:password@host:5432/name)")
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool

    shown = make_url(url).render_as_string(hide_password=True)
    if not url.startswith("postgresql"):
        return failed("DATABASE_URL", f"{shown} is not PostgreSQL (set DATABASE_URL to the PostgreSQL service's URL)")
    engine = create_engine(url, poolclass=NullPool, connect_args={"connect_timeout": TIMEOUT_SECONDS})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - reported as the finding
        return failed("DATABASE_URL", f"{shown} did not answer SELECT 1: {_first_line(exc)} (check DATABASE_URL)")
    finally:
        engine.dispose()
    return passed("DATABASE_URL", f"{shown} answers SELECT 1")


def _redis(settings: dict) -> Finding:
    url = settings["REDIS_URL"]
    if not url:
        return failed("REDIS_URL", "not set (set REDIS_URL=redis://host:6379/0)")
    import redis

    shown = re.sub(r"//[^@/]*@", "//***@", url)
    client = redis.Redis.from_url(url, socket_connect_timeout=TIMEOUT_SECONDS, socket_timeout=TIMEOUT_SECONDS)
    try:
        client.ping()
    except Exception as exc:  # noqa: BLE001 - reported as the finding
        return failed("REDIS_URL", f"{shown} did not answer PING: {_first_line(exc)} (check REDIS_URL)")
    finally:
        client.close()
    return passed("REDIS_URL", f"{shown} answers PING")


def _storage(settings: dict) -> Finding:
    """A probe object written and deleted through app/core/storage.py, as /health/ does."""
    bucket = settings["AWS_STORAGE_BUCKET_NAME"]
    if not bucket:
        return failed(
            "AWS_STORAGE_BUCKET_NAME",
            "not set: production keeps media in S3, never on an instance's disk (set AWS_STORAGE_BUCKET_NAME, "
            "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_S3_REGION_NAME)",
        )
    import uuid

    from flask import Flask

    from app.core import storage

    probe = Flask("kibray-check-deploy")
    probe.config.update(settings)
    key = f"health/check-deploy-{uuid.uuid4().hex}.txt"
    with probe.app_context():
        try:
            storage.save(key, b"ok", "text/plain")
            storage.delete(key)
            left = storage.exists(key)
        except Exception as exc:  # noqa: BLE001 - reported as the finding
            return failed(
                "AWS_STORAGE_BUCKET_NAME",
                f"could not write and delete a probe object in {bucket!r}: {_first_line(exc)} "
                "(check AWS_STORAGE_BUCKET_NAME, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_S3_ENDPOINT_URL)",
            )
    if left:
        return failed("AWS_STORAGE_BUCKET_NAME", f"the probe object stayed in {bucket!r} after its delete")
    return passed("AWS_STORAGE_BUCKET_NAME", f"{bucket!r} writable (a probe object written and deleted)")


# --- the platform's files ------------------------------------------------------------


def _platform_files(root: str = ROOT) -> list[Finding]:
    """Procfile, railway.json and nixpacks.toml describe the release as docs/deployment.md
    does (the structural checks this command took over from the old deploy-config script)."""
    found = []
    try:
        with open(os.path.join(root, "Procfile")) as handle:
            procfile = handle.read()
    except OSError:
        procfile = ""
    missing = [kind for kind in ("web:", "worker:", "release:") if kind not in procfile]
    if missing or "db upgrade" not in procfile:
        found.append(
            failed(
                "Procfile",
                f"needs web, worker and a release running `flask db upgrade` (missing: {', '.join(missing) or 'db upgrade'})",
            )
        )
    else:
        found.append(passed("Procfile", "web, worker, release (migrations)"))
    try:
        with open(os.path.join(root, "railway.json")) as handle:
            railway = json.load(handle).get("deploy", {})
    except (OSError, ValueError):
        railway = {}
    expected = {
        "healthcheckPath": "/health/",
        "healthcheckTimeout": 100,
        "restartPolicyType": "ON_FAILURE",
        "restartPolicyMaxRetries": 3,
    }
    wrong = [f"deploy.{key} should be {value!r}" for key, value in expected.items() if railway.get(key) != value]
    found.append(
        failed("railway.json", "; ".join(wrong)) if wrong else passed("railway.json", "health check and restart policy")
    )
    try:
        with open(os.path.join(root, "nixpacks.toml")) as handle:
            compiles = "compileall" in handle.read()
    except OSError:
        compiles = False
    if compiles:
        found.append(passed("nixpacks.toml", "the build compiles the app"))
    else:
        found.append(failed("nixpacks.toml", "the build does not compile the app (cold starts would compile it)"))
    return found
