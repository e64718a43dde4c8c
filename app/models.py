"""Every model, imported in one place, so Alembic's autogenerate (migrations/env.py) and
the audit hooks always see every table — not only those some import happened to load."""

from __future__ import annotations

import importlib
import importlib.util


def import_all_models(feature_names=None) -> None:
    """Import the shared models and each feature's `models` module (when it has one)."""
    from app.features import FEATURES

    importlib.import_module("app.core.audit")  # AuditLog
    importlib.import_module("app.core.numbering")  # DocumentCounter
    for name in feature_names or FEATURES:
        if not isinstance(name, str):
            name = name.__name__
        if importlib.util.find_spec(f"{name}.models") is not None:
            importlib.import_module(f"{name}.models")
