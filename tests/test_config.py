"""Configuration from the environment (SPEC.md §4): production refuses unsafe settings
and names each problem; the embedded default; database URL normalisation."""

from __future__ import annotations

import base64
import os

import pytest
from cryptography.fernet import Fernet

from app.config import DEFAULT_SECRET, ConfigurationError, load_config, normalise_database_url

GOOD_SECRET = "k" * 24 + "-production-secret-0123456789"
CONFIG_VARS = (
    "APP_ENV", "DEBUG", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "FIELD_ENCRYPTION_KEY",
    "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "ALLOWED_HOSTS",
    "PASSWORD_HASH_TIME_COST", "PASSWORD_HASH_MEMORY_COST",
)  # fmt: skip


@pytest.fixture()
def environ(monkeypatch):
    """A clean environment for the settings under test (restored afterwards)."""
    for name in CONFIG_VARS:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.fixture()
def production_env(environ):
    environ.setenv("SECRET_KEY", GOOD_SECRET)
    environ.setenv("DATABASE_URL", "postgresql://kibray:pw@db.internal:5432/kibray")
    environ.setenv("REDIS_URL", "redis://cache.internal:6379/0")
    environ.setenv("FIELD_ENCRYPTION_KEY", Fernet.generate_key().decode())
    environ.setenv("ALLOWED_HOSTS", "erp.kibray.example")
    return environ


def refusal(name: str = "production") -> str:
    with pytest.raises(ConfigurationError) as info:
        load_config(name)
    return str(info.value)


def test_a_complete_production_configuration_starts(production_env):
    settings = load_config("production")
    assert settings["APP_ENV"] == "production"
    assert settings["DEBUG"] is False
    assert settings["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://kibray:pw@db.internal:5432/kibray"
    assert settings["EMBEDDED"] is False
    # production hardening defaults
    assert settings["SESSION_COOKIE_SECURE"] is True
    assert settings["CSRF_COOKIE_SECURE"] is True
    assert settings["SECURE_SSL_REDIRECT"] is True
    assert settings["SECURE_HSTS_SECONDS"] >= 31536000
    assert settings["SESSION_COOKIE_HTTPONLY"] is True
    assert settings["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert settings["SESSION_IDLE_SECONDS"] == 1800
    assert settings["JWT_ACCESS_SECONDS"] == 3600 and settings["JWT_REFRESH_SECONDS"] == 7 * 24 * 3600


def test_production_refuses_debug(production_env):
    production_env.setenv("DEBUG", "true")
    message = refusal()
    assert "DEBUG" in message
    assert "SECRET_KEY" not in message  # only the real problem is named


@pytest.mark.parametrize("secret", [None, DEFAULT_SECRET, "short-secret", "x" * 31])
def test_production_refuses_a_missing_default_or_short_secret_key(production_env, secret):
    if secret is None:
        production_env.delenv("SECRET_KEY")
    else:
        production_env.setenv("SECRET_KEY", secret)
    message = refusal()
    assert "SECRET_KEY" in message
    assert "DATABASE_URL" not in message


def test_a_32_character_secret_is_accepted(production_env):
    production_env.setenv("SECRET_KEY", "s" * 32)
    assert load_config("production")["SECRET_KEY"] == "s" * 32


@pytest.mark.parametrize("missing", ["DATABASE_URL", "REDIS_URL"])
def test_production_requires_database_and_redis(production_env, missing):
    production_env.delenv(missing)
    message = refusal()
    assert f"{missing} is required" in message


@pytest.mark.parametrize(
    "key", ["not-a-fernet-key", "c2hvcnQ=", base64.urlsafe_b64encode(b"k" * 32).decode()[:-2] + "!!"]
)
def test_production_refuses_an_invalid_field_encryption_key(production_env, key):
    production_env.setenv("FIELD_ENCRYPTION_KEY", key)
    message = refusal()
    assert "FIELD_ENCRYPTION_KEY" in message


def test_production_requires_a_field_encryption_key(production_env):
    production_env.delenv("FIELD_ENCRYPTION_KEY")
    assert "FIELD_ENCRYPTION_KEY is required" in refusal()


def test_a_rotation_list_of_valid_keys_is_accepted_but_one_bad_key_is_not(production_env):
    keys = [Fernet.generate_key().decode(), Fernet.generate_key().decode()]
    production_env.setenv("FIELD_ENCRYPTION_KEY", ",".join(keys))
    assert load_config("production")["FIELD_ENCRYPTION_KEY"] == ",".join(keys)
    production_env.setenv("FIELD_ENCRYPTION_KEY", keys[0] + ",bogus")
    assert "FIELD_ENCRYPTION_KEY" in refusal()


def test_every_problem_is_named_at_once(environ):
    environ.setenv("DEBUG", "1")
    environ.setenv("FIELD_ENCRYPTION_KEY", "nope")
    message = refusal()
    assert message.startswith("Refusing to start")
    for problem in ("DEBUG", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "FIELD_ENCRYPTION_KEY"):
        assert problem in message, problem


def test_staging_is_as_strict_as_production(environ):
    message = refusal("staging")
    assert "SECRET_KEY" in message and "DATABASE_URL" in message


def test_app_env_selects_the_environment_and_unknown_is_refused(environ):
    environ.setenv("APP_ENV", "test")
    assert load_config()["APP_ENV"] == "test"
    environ.setenv("APP_ENV", "prod")
    with pytest.raises(ConfigurationError, match="APP_ENV"):
        load_config()


def test_create_app_refuses_an_unsafe_production_configuration(environ):
    from app import create_app

    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        create_app(env_name="production")


# --- embedded default ----------------------------------------------------------------------


def test_embedded_default_without_database_and_redis_urls(environ):
    settings = load_config("development")
    assert settings["EMBEDDED"] is True
    assert settings["DATABASE_URL"] is None and settings["REDIS_URL"] is None
    uri = settings["SQLALCHEMY_DATABASE_URI"]
    assert uri.startswith("sqlite:///")
    assert os.path.join("instance", "kibray.db") in uri
    assert settings["DEBUG"] is True  # development default


def test_embedded_app_uses_the_in_process_redis_stand_in(environ):
    import fakeredis

    from app import create_app

    embedded = create_app(env_name="development")
    assert embedded.config["EMBEDDED"] is True
    assert isinstance(embedded.extensions["kibray_redis"], fakeredis.FakeRedis)
    assert embedded.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")


def test_only_a_database_url_is_not_embedded(environ):
    environ.setenv("DATABASE_URL", "postgres://u:p@h/db")
    assert load_config("development")["EMBEDDED"] is False


# --- URL normalisation -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@host:5432/db", "postgresql+psycopg://u:p@host:5432/db"),
        ("postgresql://u:p@host/db?sslmode=require", "postgresql+psycopg://u:p@host/db?sslmode=require"),
        ("postgresql+psycopg://u@host/db", "postgresql+psycopg://u@host/db"),
        ("sqlite:///tmp/x.db", "sqlite:///tmp/x.db"),
        (None, None),
        ("", ""),
    ],
)
def test_database_url_normalisation(given, expected):
    assert normalise_database_url(given) == expected


def test_platform_postgres_url_is_normalised_in_settings(production_env):
    production_env.setenv("DATABASE_URL", "postgres://kibray:pw@db.internal:5432/kibray")
    settings = load_config("production")
    assert settings["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://kibray:pw@db.internal:5432/kibray"
    assert settings["DATABASE_URL"] == settings["SQLALCHEMY_DATABASE_URI"]


def test_boolean_and_integer_settings_from_the_environment(production_env):
    production_env.setenv("SESSION_COOKIE_SECURE", "false")
    production_env.setenv("SECURE_HSTS_SECONDS", "600")
    production_env.setenv("ALLOWED_HOSTS", "kibray.example, www.kibray.example")
    settings = load_config("production")
    assert settings["SESSION_COOKIE_SECURE"] is False
    assert settings["SECURE_HSTS_SECONDS"] == 600
    assert settings["ALLOWED_HOSTS"] == ["kibray.example", "www.kibray.example"]


def test_overrides_are_validated_too(production_env):
    with pytest.raises(ConfigurationError, match="DEBUG"):
        load_config("production", {"DEBUG": True})


def test_production_refuses_any_host(production_env):
    production_env.setenv("ALLOWED_HOSTS", "*")
    with pytest.raises(ConfigurationError, match="ALLOWED_HOSTS"):
        load_config("production")
    production_env.setenv("ALLOWED_HOSTS", "erp.kibray.example,www.kibray.example")
    assert load_config("production")["ALLOWED_HOSTS"] == ["erp.kibray.example", "www.kibray.example"]


# --- password hashing cost -------------------------------------------------------------


def test_production_hashes_passwords_with_argon2_defaults(production_env):
    import argon2

    settings = load_config("production")
    assert settings["PASSWORD_HASH_TIME_COST"] == argon2.DEFAULT_TIME_COST
    assert settings["PASSWORD_HASH_MEMORY_COST"] == argon2.DEFAULT_MEMORY_COST


@pytest.mark.parametrize(("name", "value"), [("PASSWORD_HASH_TIME_COST", "1"), ("PASSWORD_HASH_MEMORY_COST", "1024")])
@pytest.mark.parametrize("env_name", ["production", "staging"])
def test_production_refuses_a_weaker_password_hash(production_env, name, value, env_name):
    production_env.setenv(name, value)
    message = refusal(env_name)
    assert name in message
    assert "SECRET_KEY" not in message


def test_a_stronger_password_hash_is_accepted_in_production(production_env):
    production_env.setenv("PASSWORD_HASH_TIME_COST", "4")
    production_env.setenv("PASSWORD_HASH_MEMORY_COST", "131072")
    settings = load_config("production")
    assert (settings["PASSWORD_HASH_TIME_COST"], settings["PASSWORD_HASH_MEMORY_COST"]) == (4, 131072)


def test_the_hasher_uses_the_configured_cost_and_verifies_any_cost(app):
    from argon2 import PasswordHasher

    from app.auth.passwords import hash_password, verify_password

    with app.app_context():
        cheap = hash_password("Cheap&Quick1")
        assert cheap.startswith("$argon2id$v=19$m=64,t=1,")  # the test settings
        assert verify_password(cheap, "Cheap&Quick1") and not verify_password(cheap, "Cheap&Quick2")
        # a hash made with the production cost (its parameters travel in the hash) still verifies
        strong = PasswordHasher().hash("Strong&Slow1")
        assert verify_password(strong, "Strong&Slow1") and not verify_password(strong, "wrong")
    app.config["PASSWORD_HASH_TIME_COST"] = 2
    try:
        with app.app_context():
            assert hash_password("x").startswith("$argon2id$v=19$m=64,t=2,")
    finally:
        app.config["PASSWORD_HASH_TIME_COST"] = 1


def test_database_connections_get_the_planners_page_cost_and_the_liveness_check(production_env, monkeypatch):
    settings = load_config("production")
    options = settings["SQLALCHEMY_ENGINE_OPTIONS"]
    assert options["connect_args"] == {"options": "-c random_page_cost=1.1 -c plan_cache_mode=force_generic_plan"}
    assert options["pool_pre_ping"] is False and settings["DB_LIVENESS_CHECK"] == "socket"
    monkeypatch.setenv("DB_RANDOM_PAGE_COST", "server")
    assert load_config("production")["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"] == {
        "options": "-c plan_cache_mode=force_generic_plan"
    }
    monkeypatch.setenv("DB_PLAN_CACHE_MODE", "server")
    assert "connect_args" not in load_config("production")["SQLALCHEMY_ENGINE_OPTIONS"]
    monkeypatch.setenv("DB_PLAN_CACHE_MODE", "auto")
    assert load_config("production")["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"] == {
        "options": "-c plan_cache_mode=auto"
    }
    monkeypatch.delenv("DB_PLAN_CACHE_MODE")
    monkeypatch.setenv("DB_LIVENESS_CHECK", "ping")
    assert load_config("production")["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is True
    for name, bad in (
        ("DB_RANDOM_PAGE_COST", "cheap"),
        ("DB_LIVENESS_CHECK", "sometimes"),
        ("DB_PLAN_CACHE_MODE", "fast"),
    ):
        monkeypatch.setenv(name, bad)
        with pytest.raises(ConfigurationError, match=name):
            load_config("production")
        monkeypatch.delenv(name)
