"""What a feature brings, declared once in its package (`app/<feature>/__init__.py`).

The factory loops over the `FEATURES` tuple of `app/features.py`; everything central —
navigation, the live stream's event list, CLI, periodic jobs, notification kinds, key
rotation, home-page widgets, the audit log's refusal phrases, the permission walk —
reads these declarations, so adding a feature is one package plus one line there.
(indico registers each module's menus, permissions and tasks from the module's own
package the same way.)
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from flask import Blueprint, Flask, current_app


@dataclass(frozen=True)
class NavEntry:
    """A link in the main navigation. `active` lists the endpoints (exact, or a prefix
    ending with ".") that mark it as the current page; by default the blueprint of
    `endpoint`. `url` replaces `endpoint` for pages outside Flask's routing."""

    key: str  # data-nav="…", stable for tests and CSS
    label: str
    endpoint: str | None = None
    permission: str | None = None
    order: int = 100
    active: tuple[str, ...] = ()
    url: str | None = None
    boost: bool = True

    def is_active(self, endpoint: str | None) -> bool:
        endpoint = endpoint or ""
        patterns = self.active or ((self.endpoint.rsplit(".", 1)[0] + ".",) if self.endpoint else ())
        return any(endpoint.startswith(p) if p.endswith(".") else endpoint == p for p in patterns)


@dataclass(frozen=True)
class LiveEvent:
    """A live event the feature publishes. The browser turns every event into
    `kibray:<name>`, `kibray:<kind>-<id>` and `kibray:project-<project_id>` DOM events
    (see static/js/app.js); `dom` adds extra names fragments already listen for."""

    name: str
    dom: tuple[str, ...] = ()


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    func: str  # dotted path of a job function (workers/…)
    every: int  # seconds


@dataclass(frozen=True)
class Widget:
    """A card on the home page: shown to `roles` (all when empty) holding `permission`;
    `context(user)` returns the template's variables."""

    template: str
    order: int = 100
    permission: str | None = None
    roles: tuple[str, ...] = ()
    context: Callable[[object], dict] | None = None


@dataclass(frozen=True)
class WalkRoute:
    """One row of the HTTP permission walk (tests/test_permissions_http.py): the status
    each role gets, in ROLES order. `{mine}`, `{theirs}`, `{target}` and `{company}` in
    the path, and `body` (a dict or a function of the walk's world), are filled in there."""

    method: str
    path: str
    statuses: str
    body: object = None
    queues_only: bool = False  # an allowed request queues a job (Redis) and writes no row


@dataclass(frozen=True)
class Feature:
    name: str
    blueprints: tuple[Blueprint, ...] = ()
    api: tuple[Blueprint, ...] = ()  # child blueprints of the one /api blueprint
    nav: tuple[NavEntry, ...] = ()
    commands: tuple = ()  # click commands or groups, added to `flask …`
    periodic: tuple[PeriodicJob, ...] = ()
    live_events: tuple[LiveEvent, ...] = ()
    # called with every live event published (name, users, roles), in the transaction
    # that made the change: e.g. calendar sync queues the calendars it touches
    live_listeners: tuple[Callable[[dict], None], ...] = ()
    notification_kinds: tuple[str, ...] = ()
    encrypted_columns: tuple[tuple[str, str], ...] = ()  # (table, column) for key rotation
    widgets: tuple[Widget, ...] = ()
    walk: tuple[WalkRoute, ...] = ()
    walk_skip: tuple[str, ...] = ()  # URL rules tested elsewhere, each named where
    # What a refused request to one of its endpoints tried to do, by FULL endpoint, read by
    # the audit log after "tried to": {"projects.create": "create a project",
    # "projects.update": "edit the project {project}"} ({project}: the entry's project).
    audit_refusals: Mapping[str, str] = field(default_factory=dict, hash=False)
    init_app: Callable[[Flask], None] | None = None  # anything else (e.g. rq-dashboard)


def load(names) -> tuple[Feature, ...]:
    """The `feature` declaration of each package (or module) named in `names`."""
    features = []
    for name in names:
        module = importlib.import_module(name) if isinstance(name, str) else name
        declaration = getattr(module, "feature", None)
        if not isinstance(declaration, Feature):
            raise TypeError(f"{module.__name__} declares no `feature = Feature(...)`")
        features.append(declaration)
    names = [f.name for f in features]
    if len(names) != len(set(names)):
        raise ValueError(f"two features share a name: {sorted(names)}")
    refused = [endpoint for f in features for endpoint in f.audit_refusals]
    if len(refused) != len(set(refused)):
        raise ValueError(f"two features phrase the same refused endpoint: {sorted(refused)}")
    return tuple(features)


def installed(app: Flask | None = None) -> tuple[Feature, ...]:
    """The features of `app` (default: the current app)."""
    return (app or current_app).extensions["kibray_features"]


def nav_entries(app: Flask | None = None) -> list[NavEntry]:
    return sorted((e for f in installed(app) for e in f.nav), key=lambda e: (e.order, e.label))


def live_events(app: Flask | None = None) -> dict[str, list[str]]:
    """Event name → extra DOM event names, for the browser (data-live-events)."""
    return {e.name: list(e.dom) for f in installed(app) for e in f.live_events}


def notification_kinds(app: Flask | None = None) -> tuple[str, ...]:
    return tuple(kind for f in installed(app) for kind in f.notification_kinds)


def encrypted_columns(app: Flask | None = None) -> list[tuple[str, str]]:
    return [column for f in installed(app) for column in f.encrypted_columns]


def live_listeners(app: Flask | None = None) -> list[Callable[[dict], None]]:
    return [listener for f in installed(app) for listener in f.live_listeners]


def periodic_jobs(app: Flask | None = None) -> dict[str, PeriodicJob]:
    return {job.name: job for f in installed(app) for job in f.periodic}


def widgets(app: Flask | None = None) -> list[Widget]:
    return sorted((w for f in installed(app) for w in f.widgets), key=lambda w: w.order)


def widgets_for(user) -> list[tuple[Widget, dict]]:
    """The home-page widgets `user` gets, each with its template context."""
    from app.core.permissions import can

    return [
        (widget, widget.context(user) if widget.context else {})
        for widget in widgets()
        if (not widget.roles or user.role in widget.roles)
        and (widget.permission is None or can(user, widget.permission))
    ]


def audit_refusals(app: Flask | None = None) -> dict[str, str]:
    """Endpoint → what a refused request to it tried to do (core/audit_text.py)."""
    return {endpoint: phrase for f in installed(app) for endpoint, phrase in f.audit_refusals.items()}


def walk(app: Flask | None = None) -> list[WalkRoute]:
    return [route for f in installed(app) for route in f.walk]


def walk_skip(app: Flask | None = None) -> set[str]:
    return {rule for f in installed(app) for rule in f.walk_skip}
