"""`flask check-deploy` (app/deploy): a good production environment passes — against the
real PostgreSQL and Redis of the tests and an S3 bucket on moto's server — and each single
bad setting fails naming exactly that setting; the command itself runs even when the app
would refuse to start (DEBUG=true), and exits non-zero."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet

from app.deploy.checks import HSTS_MIN_SECONDS, check_deploy

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), os.pardir))
BUCKET = "kibray-check-deploy"
# every variable a case changes: cleared first, so the machine's own cannot leak in
CHECKED = (
    "APP_ENV",
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "PUBLIC_URL",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "FIELD_ENCRYPTION_KEY",
    "EMAIL_HOST",
    "EMAIL_PORT",
    "EMAIL_HOST_USER",
    "EMAIL_HOST_PASSWORD",
    "EMAIL_USE_TLS",
    "EMAIL_FROM",
    "SENTRY_DSN",
    "AWS_STORAGE_BUCKET_NAME",
    "AWS_S3_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_S3_REGION_NAME",
    "COMPANY_TIMEZONE",
    "PASSWORD_HASH_TIME_COST",
    "PASSWORD_HASH_MEMORY_COST",
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint():
    import boto3
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    client = boto3.client(
        "s3", endpoint_url=endpoint, aws_access_key_id="t", aws_secret_access_key="t", region_name="us-east-1"
    )
    client.create_bucket(Bucket=BUCKET)
    yield endpoint
    server.stop()


@pytest.fixture()
def good_env(s3_endpoint, app):
    """A complete production environment: the suite's database and Redis, moto's S3."""
    return {
        "APP_ENV": "production",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "ALLOWED_HOSTS": "erp.kibraypaint.com,healthcheck.railway.app",
        "PUBLIC_URL": "https://erp.kibraypaint.com",
        "DATABASE_URL": app.config["DATABASE_URL"],
        "REDIS_URL": app.config["REDIS_URL"],
        "FIELD_ENCRYPTION_KEY": f"{Fernet.generate_key().decode()},{Fernet.generate_key().decode()}",
        "EMAIL_HOST": "smtp.kibraypaint.com",
        "EMAIL_PORT": "587",
        "EMAIL_HOST_USER": "erp",
        "EMAIL_HOST_PASSWORD": "mail-password",
        "EMAIL_USE_TLS": "true",
        "EMAIL_FROM": "Kibray ERP <erp@kibraypaint.com>",
        "SENTRY_DSN": "https://0123456789abcdef@o1.ingest.sentry.io/42",
        "AWS_STORAGE_BUCKET_NAME": BUCKET,
        "AWS_S3_ENDPOINT_URL": s3_endpoint,
        "AWS_ACCESS_KEY_ID": "t",
        "AWS_SECRET_ACCESS_KEY": "t",
        "AWS_S3_REGION_NAME": "us-east-1",
    }


def _findings(monkeypatch, environment: dict):
    for name in CHECKED:
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    return check_deploy()


def test_a_good_production_environment_passes_every_check(monkeypatch, good_env):
    findings = _findings(monkeypatch, good_env)
    assert [f.line() for f in findings if not f.ok] == []
    settings = {f.setting for f in findings}
    for setting in ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS"):
        assert setting in settings
    for setting in ("SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "DATABASE_URL", "REDIS_URL", "SENTRY_DSN"):
        assert setting in settings
    for setting in ("AWS_STORAGE_BUCKET_NAME", "FIELD_ENCRYPTION_KEY", "EMAIL_HOST", "EMAIL_FROM", "Procfile"):
        assert setting in settings
    assert all(f.line().startswith("✓ ") for f in findings)
    # the storage probe left nothing behind
    import boto3

    s3 = boto3.client(
        "s3", endpoint_url=good_env["AWS_S3_ENDPOINT_URL"], aws_access_key_id="t", aws_secret_access_key="t"
    )
    assert s3.list_objects_v2(Bucket=BUCKET).get("KeyCount", 0) == 0


def test_sentry_knowingly_off_passes(monkeypatch, good_env):
    findings = _findings(monkeypatch, {**good_env, "SENTRY_DSN": "disabled"})
    sentry = next(f for f in findings if f.setting == "SENTRY_DSN")
    assert sentry.ok and "knowingly" in sentry.message
    assert all(f.ok for f in findings)


BAD = [
    ({"APP_ENV": "development"}, "APP_ENV"),
    ({"DEBUG": "true"}, "DEBUG"),
    ({"SECRET_KEY": None}, "SECRET_KEY"),
    ({"SECRET_KEY": "dev-insecure-secret-key-change-me"}, "SECRET_KEY"),
    ({"SECRET_KEY": "x" * 64}, "SECRET_KEY"),
    ({"SECRET_KEY": "Short-but-random-9"}, "SECRET_KEY"),
    ({"ALLOWED_HOSTS": "*"}, "ALLOWED_HOSTS"),
    ({"ALLOWED_HOSTS": None}, "ALLOWED_HOSTS"),
    ({"SECURE_SSL_REDIRECT": "false"}, "SECURE_SSL_REDIRECT"),
    ({"SECURE_HSTS_SECONDS": "3600"}, "SECURE_HSTS_SECONDS"),
    ({"SECURE_HSTS_SECONDS": str(HSTS_MIN_SECONDS - 1)}, "SECURE_HSTS_SECONDS"),
    ({"SESSION_COOKIE_SECURE": "false"}, "SESSION_COOKIE_SECURE"),
    ({"CSRF_COOKIE_SECURE": "false"}, "CSRF_COOKIE_SECURE"),
    ({"PUBLIC_URL": "http://erp.kibraypaint.com"}, "PUBLIC_URL"),
    ({"DATABASE_URL": "postgresql://postgres@127.0.0.1:1/kibray"}, "DATABASE_URL"),
    ({"DATABASE_URL": None}, "DATABASE_URL"),
    ({"REDIS_URL": "redis://127.0.0.1:1/0"}, "REDIS_URL"),
    ({"AWS_STORAGE_BUCKET_NAME": "no-such-bucket"}, "AWS_STORAGE_BUCKET_NAME"),
    ({"AWS_STORAGE_BUCKET_NAME": None}, "AWS_STORAGE_BUCKET_NAME"),
    ({"FIELD_ENCRYPTION_KEY": "not-a-fernet-key"}, "FIELD_ENCRYPTION_KEY"),
    ({"FIELD_ENCRYPTION_KEY": None}, "FIELD_ENCRYPTION_KEY"),
    ({"EMAIL_HOST": None}, "EMAIL_HOST"),
    ({"EMAIL_FROM": None}, "EMAIL_FROM"),
    ({"EMAIL_HOST_PASSWORD": None}, "EMAIL_HOST_PASSWORD"),
    ({"EMAIL_USE_TLS": "false"}, "EMAIL_USE_TLS"),
    ({"SENTRY_DSN": None}, "SENTRY_DSN"),
    ({"SENTRY_DSN": "not a dsn"}, "SENTRY_DSN"),
    ({"COMPANY_TIMEZONE": "Mars/Olympus"}, "COMPANY_TIMEZONE"),
    ({"PASSWORD_HASH_TIME_COST": "1"}, "PASSWORD_HASH_TIME_COST"),
]


@pytest.mark.parametrize(("change", "setting"), BAD, ids=[f"{s}={list(c.values())[0]}"[:50] for c, s in BAD])
def test_each_bad_setting_fails_naming_that_setting(monkeypatch, good_env, change, setting):
    findings = _findings(monkeypatch, {**good_env, **change})
    bad = [f for f in findings if not f.ok]
    assert [f.setting for f in bad] == [setting], [f.line() for f in bad]
    line = bad[0].line()
    assert line.startswith(f"✗ {setting}: ")
    assert f"set {setting}" in line or f"check {setting}" in line or "set both" in line, line


def test_secrets_never_printed(monkeypatch, good_env):
    database = good_env["DATABASE_URL"].replace("postgres@", "postgres:hunter2secret@")
    findings = _findings(monkeypatch, {**good_env, "DATABASE_URL": database})
    text = "\n".join(f.line() for f in findings)
    for secret in (good_env["SECRET_KEY"], good_env["EMAIL_HOST_PASSWORD"], "hunter2secret"):
        assert secret not in text
    assert good_env["FIELD_ENCRYPTION_KEY"].split(",")[0] not in text


def _command(environment: dict) -> subprocess.CompletedProcess:
    keep = {k: v for k, v in os.environ.items() if k not in CHECKED and not k.startswith(("DATABASE_URL", "REDIS_URL"))}
    flask = os.path.join(os.path.dirname(sys.executable), "flask")
    return subprocess.run(  # noqa: S603 - the virtualenv's flask
        [flask, "--app", "wsgi", "check-deploy"],
        cwd=ROOT,
        env={**keep, **environment, "LOG_LEVEL": "WARNING"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_command_prints_a_line_per_check_and_exits_zero_when_all_pass(app, monkeypatch, good_env):
    from app.deploy.cli import check_deploy_command

    for name, value in good_env.items():
        monkeypatch.setenv(name, value)
    result = app.test_cli_runner().invoke(check_deploy_command)
    assert result.exit_code == 0, result.output
    assert "✓ SECURE_SSL_REDIRECT: " in result.output and "✗" not in result.output
    assert "check-deploy: all" in result.output
    monkeypatch.setenv("SECURE_HSTS_SECONDS", "60")
    result = app.test_cli_runner().invoke(check_deploy_command)
    assert result.exit_code == 1
    assert "✗ SECURE_HSTS_SECONDS: is 60; must be at least 31536000" in result.output
    assert "check-deploy: 1 problem(s): SECURE_HSTS_SECONDS" in result.output


def test_flask_check_deploy_runs_where_the_app_would_refuse_to_start(good_env):
    """A real `flask check-deploy` process: the CLI builds the app before the command runs,
    and production refuses to build it with DEBUG=true — the check still runs and names
    DEBUG alone (one process start, ~3 s on an idle machine)."""
    bad = _command({**good_env, "DEBUG": "true", "SENTRY_DSN": "disabled"})
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "✗ DEBUG: must be false in production" in bad.stdout
    assert "set DEBUG=false" in bad.stdout
    assert [line for line in bad.stdout.splitlines() if line.startswith("✗")] == [
        line for line in bad.stdout.splitlines() if line.startswith("✗ DEBUG")
    ]


@pytest.mark.parametrize(
    ("argv", "checking"),
    [
        (["/venv/bin/flask", "check-deploy"], True),
        (["/venv/bin/flask", "--app", "wsgi", "check-deploy"], True),
        (["/venv/bin/flask", "-A", "wsgi", "-e", ".env", "--no-debug", "check-deploy"], True),
        (["/venv/bin/flask", "--app=wsgi", "check-deploy"], True),
        (["/venv/bin/flask", "run", "--host", "check-deploy"], False),  # would build an unsafe app
        (["/venv/bin/flask", "--app", "check-deploy", "run"], False),
        (["/venv/bin/flask", "run", "check-deploy"], False),
        (["/venv/bin/gunicorn", "check-deploy"], False),
    ],
)
def test_only_the_check_deploy_command_itself_is_checking(monkeypatch, argv, checking):
    from app.config import checking_deploy

    monkeypatch.setattr(sys, "argv", argv)
    assert checking_deploy() is checking
