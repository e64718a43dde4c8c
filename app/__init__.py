"""Kibray ERP: the app factory. Extensions are bare in app/extensions.py; each feature
declares what it brings in its package (app/core/features.py) and is listed once in
app/features.py. No work at import."""

from __future__ import annotations

import os

from flask import Flask
from werkzeug.routing import IntegerConverter

from app.config import ROOT, load_config
from app.extensions import cache, csrf, db, login_manager, redis_store

_session_hooks_installed = False


class DatabaseId(IntegerConverter):
    """`<int:…>` in every route: ids beyond PostgreSQL's integer range do not match (404)."""

    def __init__(self, map, *args, **kwargs):  # noqa: A002 - werkzeug's name
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def create_app(overrides: dict | None = None, env_name: str | None = None) -> Flask:
    """The app. `overrides` replaces settings; `FEATURES` among them replaces the list of
    app/features.py (a test adds a feature this way, through the same code path)."""
    settings = load_config(env_name, overrides)
    app = Flask(
        __name__,
        template_folder=os.path.join(ROOT, "templates"),
        static_folder=os.path.join(ROOT, "static"),
        instance_path=os.path.join(ROOT, "instance"),
    )
    app.config.update(settings)
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        # PostgreSQL's start-up options (DB_RANDOM_PAGE_COST) mean nothing to SQLite (an
        # override may point a PostgreSQL configuration at SQLite: the embedded app, tests)
        options = dict(app.config["SQLALCHEMY_ENGINE_OPTIONS"])
        connect_args = {k: v for k, v in options.pop("connect_args", {}).items() if k != "options"}
        if connect_args:
            options["connect_args"] = connect_args
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    from app.core.json import FastJSONProvider

    app.json = FastJSONProvider(app)
    app.url_map.converters["int"] = DatabaseId
    if "*" not in app.config["ALLOWED_HOSTS"]:
        app.config["TRUSTED_HOSTS"] = app.config["ALLOWED_HOSTS"]
    from app.core import logs

    logs.init_app(app)
    os.makedirs(app.instance_path, exist_ok=True)

    from app.core import net

    net.init_app(app)  # forwarded headers only from the configured proxies

    db.init_app(app)
    login_manager.init_app(app)
    csrf.init_app(app)
    redis_store.init_app(app)
    cache.init_app(app, config=_cache_config(app))

    _register_features(app)
    _install_session_hooks()
    from app.cli import register_cli
    from app.core import assets, errors, hooks, templating

    errors.register_error_handlers(app)
    hooks.init_app(app)
    templating.init_app(app)
    assets.init_app(app)  # fingerprinted static URLs, a year-long cache (core/assets.py)
    _template_bytecode_cache(app)
    register_cli(app)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        _sqlite_pragmas(app)
    else:
        from app.core import pool_check
        from app.core.json import read_database_json_with_orjson

        read_database_json_with_orjson()
        with app.app_context():
            pool_check.install(app, db.engine)
    return app


def _register_features(app: Flask) -> None:
    """Every feature of FEATURES: its blueprints, its API blueprints under the one /api
    blueprint, and its own set-up; the rest of its declaration is read where it is used."""
    from app import api
    from app.core.features import load
    from app.features import FEATURES
    from app.models import import_all_models

    names = app.config.get("FEATURES") or FEATURES
    installed = load(names)
    import_all_models(names)
    app.extensions["kibray_features"] = installed
    for feature in installed:
        for blueprint in feature.blueprints:
            app.register_blueprint(blueprint)
    api.init_app(app, [child for feature in installed for child in feature.api])
    for feature in installed:
        if feature.init_app is not None:
            feature.init_app(app)


def _template_bytecode_cache(app: Flask) -> None:
    """Compiled templates kept on disk (instance/template-cache), as Python keeps .pyc
    files: a process's first page loads its templates' code instead of parsing and
    compiling them (~0.1 s for the project list's six templates, on every start and in
    every worker). Each entry carries its template's checksum, so an edited template is
    compiled afresh; a disk that cannot be written only means compiling as before."""
    from jinja2 import FileSystemBytecodeCache

    class BestEffort(FileSystemBytecodeCache):
        def dump_bytecode(self, bucket):
            try:
                super().dump_bytecode(bucket)
            except OSError:
                pass

    directory = os.path.join(app.instance_path, "template-cache")
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError:
        return
    app.jinja_env.bytecode_cache = BestEffort(directory)


def _cache_config(app: Flask) -> dict:
    ttl = app.config["CACHE_TTL"]
    if app.config.get("REDIS_URL"):
        return {
            "CACHE_TYPE": "RedisCache",
            "CACHE_REDIS_URL": app.config["REDIS_URL"],
            "CACHE_DEFAULT_TIMEOUT": ttl,
            "CACHE_KEY_PREFIX": app.config["REDIS_KEY_PREFIX"] + ":cache:",
        }
    return {"CACHE_TYPE": "SimpleCache", "CACHE_DEFAULT_TIMEOUT": ttl}


def _install_session_hooks() -> None:
    global _session_hooks_installed
    if _session_hooks_installed:
        return
    from flask_sqlalchemy.session import Session

    from app.core import audit, cached_reads, permissions, transaction

    audit.install(Session)
    transaction.install(Session)
    permissions.install(Session)
    cached_reads.install()
    _session_hooks_installed = True


def _sqlite_pragmas(app: Flask) -> None:
    from sqlalchemy import event

    with app.app_context():

        @event.listens_for(db.engine, "connect")
        def _fk_on(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()
