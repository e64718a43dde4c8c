"""What every template may use: `can()`, the navigation and the live event names the
features registered, audit sentences, and how values are written on pages (money, dates
and times in the company's time zone, labels). No rule lives in a template; the words
come from `core.labels`, the formats from here."""

from __future__ import annotations

import json
import logging

from flask import Flask, url_for
from flask_login import current_user
from markupsafe import Markup, escape

from app.core import features, labels, text, timezones
from app.core.money import to_money


def decimal_plain(value) -> str:
    """A quantity or a rate as people write it: 12.5, 100, 8.25 (no trailing zeros, no exponent)."""
    if value is None:
        return ""
    return format(value.normalize(), "f")


def css_string(value) -> Markup:
    """Text inside a CSS string in a <style> (a PDF's running footer): quotes, backslashes,
    control characters and <, >, & written as CSS escapes — never HTML entities, which CSS
    would print as such ("Painting &amp; Staining"), and never a way out of the string or
    the style element."""
    out = []
    for ch in str(value or ""):
        out.append(f"\\{ord(ch):x} " if ch in "\\\"'<>&" or ord(ch) < 32 or ord(ch) == 127 else ch)
    return Markup("".join(out))  # noqa: S704 - every character that could end the string or the style is escaped


def money(value) -> str:
    """$12,345.60 — formatted from the Decimal, never through a float."""
    if value is None:
        return "—"
    return f"${to_money(value):,}"


def role_label(role) -> str:
    """A role (code, or a user) in the words of whoever is looking (see core.labels)."""
    code = getattr(role, "role", role)
    viewer = current_user if current_user and current_user.is_authenticated else None
    return labels.role_label(code, viewer)


def options(items, value: str = "id", label: str = "name") -> list[tuple]:
    """(value, label) pairs for the `select` form macro. `label` is an attribute name or a
    format such as "{name} ({role_label})" filled from each item's attributes."""

    class Attributes(dict):
        def __init__(self, item):
            super().__init__()
            self.item = item

        def __missing__(self, key):
            return getattr(self.item, key)

    pairs = []
    for item in items:
        text = label.format_map(Attributes(item)) if "{" in label else getattr(item, label)
        pairs.append((getattr(item, value), text))
    return pairs


def option_tags(pairs, chosen) -> Markup:
    """The <option>s of the `select` form macro: what its Jinja loop printed, in one
    Python pass (a 500-project filter drawn by the loop cost ~2 ms a page). `chosen`:
    the selected values as strings."""
    chosen = set(chosen)
    html = "".join(
        f'<option value="{escape(value)}"{" selected" if str(value) in chosen else ""}>{escape(label)}</option>'
        for value, label in pairs
    )
    return Markup(html)  # noqa: S704 - every value and label through escape()


def plain_options(values) -> list[tuple]:
    """Values that are their own labels, as (value, label) pairs."""
    return [(value, value) for value in values]


def role_options(codes) -> list[tuple[str, str]]:
    """Role codes as (code, label) pairs for staff-facing pickers (admin pages)."""
    return [(code, labels.STAFF_ROLE_LABELS.get(code, code)) for code in codes]


URL_CACHE_SIZE = 4096


def url_for_cached(endpoint: str, **values) -> str:
    """`url_for` remembering what it built (see remembered_url_for), for Python code
    that builds a page's links (a list's sort links)."""
    from flask import current_app

    return current_app.jinja_env.globals["url_for"](endpoint, **values)


def remembered_url_for(app: Flask):
    """`url_for` for templates, remembering what it built: a page asks for the same
    links on every request (style sheets, navigation, the columns' sort links, each row's
    link) and werkzeug builds each in ~12 µs, a tenth of a list page's time. The answer
    depends only on the endpoint, its values and where the app is mounted, so those are
    the key; calls with `_external`, `_anchor`, … or a relative endpoint (".x"), and calls
    outside a request, are built every time. At most URL_CACHE_SIZE entries: when full
    it starts again (a page's links are a few dozen)."""
    from flask import has_request_context, request

    built: dict = {}

    def url_for_(endpoint: str, **values) -> str:
        if endpoint[:1] == "." or not has_request_context():
            return url_for(endpoint, **values)
        try:
            key = (request.script_root, endpoint, *sorted(values.items()))
            found = built.get(key)
        except TypeError:  # an unhashable or unorderable value (a list): build it
            return url_for(endpoint, **values)
        if found is None:
            if any(name[:1] == "_" for name in values):
                return url_for(endpoint, **values)
            found = url_for(endpoint, **values)
            if len(built) >= URL_CACHE_SIZE:
                built.clear()
            built[key] = found
        return found

    return url_for_


def _nav_html(app: Flask):
    """Jinja global `nav_html()`: the main navigation (_nav.html) as HTML, rendered once
    per role, current endpoint and script root and then reused — it depends on nothing
    else (each entry's permission is asked without an object, which only the role
    answers), and rendering it cost ~0.3 ms of every page."""
    rendered: dict[tuple, Markup] = {}

    def nav_html() -> Markup:
        from flask import render_template, request

        from app.core.permissions import signed_in_user

        key = (signed_in_user().role, request.endpoint, request.script_root)
        found = rendered.get(key)
        if found is None:
            if len(rendered) > 1024:
                rendered.clear()
            found = rendered[key] = Markup(render_template("_nav.html"))  # noqa: S704 - rendered, escaped by Jinja
        return found

    return nav_html


def init_app(app: Flask) -> None:
    from app.core.audit_text import describe as audit_lines
    from app.core.permissions import template_can
    from app.core.roles import ROLE_LABELS
    from app.core.views import template_shows

    nav = features.nav_entries(app)
    live_events = json.dumps(features.live_events(app), separators=(",", ":"), sort_keys=True)
    app.jinja_env.globals.update(
        url_for=remembered_url_for(app),
        can=template_can,
        shows=template_shows,
        ROLE_LABELS=ROLE_LABELS,
        app_env=app.config["APP_ENV"],
        nav_entries=lambda: [entry for entry in nav if entry.permission is None or template_can(entry.permission)],
        nav_href=lambda entry: entry.url or url_for(entry.endpoint),
        nav_html=_nav_html(app),
        live_events=live_events,
        audit_lines=audit_lines,  # entries as sentences, names fetched per page
        limits=text.FIELD_LIMITS,  # each model's maximum lengths, for `maxlength`
    )
    problem = timezones.zone_problem(app.config.get("COMPANY_TIMEZONE"))
    if problem:  # staging/production refused to start already; elsewhere, say it and carry on
        logging.getLogger(__name__).warning("%s; showing times in %s", problem, timezones.DEFAULT_TIMEZONE)

    @app.context_processor
    def _signed_in_user():
        """`current_user` in templates: the user object itself, not Flask-Login's proxy
        (registered before this, so this one wins) — each attribute read through the
        proxy costs two context lookups, and the layout reads a dozen."""
        from flask_login import current_user

        return {"current_user": current_user._get_current_object()}

    app.add_template_filter(money, "money")
    app.add_template_filter(css_string, "css_string")
    app.add_template_filter(decimal_plain, "normalize")
    app.add_template_filter(labels.project_status_label, "status_label")
    app.add_template_filter(labels.user_status_label, "user_status_label")
    app.add_template_filter(role_label, "role_label")
    app.add_template_filter(timezones.format_date, "date")
    app.add_template_filter(timezones.input_date, "input_date")
    app.add_template_filter(timezones.format_datetime, "datetime")
    app.jinja_env.globals.update(
        PROJECT_STATUS_FILTERS=labels.PROJECT_STATUS_FILTERS,
        options=options,
        option_tags=option_tags,
        plain_options=plain_options,
        role_options=role_options,
    )
