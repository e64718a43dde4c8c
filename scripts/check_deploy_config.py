"""Deploy configuration check: Procfile, railway.json and a production config sample."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), os.pardir))
sys.path.insert(0, ROOT)


def main() -> int:
    problems = []
    with open(os.path.join(ROOT, "Procfile")) as handle:
        procfile = handle.read()
    for kind in ("web:", "worker:", "release:"):
        if kind not in procfile:
            problems.append(f"Procfile has no {kind} process")
    if "db upgrade" not in procfile:
        problems.append("Procfile release does not run migrations")
    nixpacks = os.path.join(ROOT, "nixpacks.toml")
    if not os.path.exists(nixpacks) or "compileall" not in Path(nixpacks).read_text():
        problems.append("nixpacks.toml does not compile the app at build time (cold starts would compile it)")
    with open(os.path.join(ROOT, "railway.json")) as handle:
        railway = json.load(handle)["deploy"]
    expected = {
        "healthcheckPath": "/health/",
        "healthcheckTimeout": 100,
        "restartPolicyType": "ON_FAILURE",
        "restartPolicyMaxRetries": 3,
    }
    for key, value in expected.items():
        if railway.get(key) != value:
            problems.append(f"railway.json deploy.{key} should be {value!r}")
    from cryptography.fernet import Fernet

    from app.config import ConfigurationError, load_config

    sample = {
        "APP_ENV": "production",
        "SECRET_KEY": "x" * 48,
        "DATABASE_URL": "postgresql://u@db/kibray",
        "REDIS_URL": "redis://cache:6379/0",
        "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "DEBUG": "false",
        "ALLOWED_HOSTS": "erp.kibray.example",
    }
    saved = {k: os.environ.get(k) for k in sample}
    os.environ.update(sample)
    try:
        load_config("production")
    except ConfigurationError as exc:
        problems.append(f"a complete production configuration is refused: {exc}")
    os.environ["DEBUG"] = "true"
    try:
        load_config("production")
        problems.append("production accepted DEBUG=true")
    except ConfigurationError:
        pass
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    for problem in problems:
        print("  -", problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
