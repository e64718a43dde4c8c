"""Who is on the other end of the connection. Forwarded headers (`X-Forwarded-For`,
`-Proto`, `-Host`, `-Port`, `-Prefix`) are believed only when the direct peer is one of
the configured proxies (`FORWARDED_ALLOW_IPS`) and only for `PROXY_HOPS` hops; otherwise
they are dropped before Flask sees them, so a client cannot choose its own address.

Every answer also says how long the app took to start it: `Server-Timing: app;dur=<ms>`
(the standard header browsers' developer tools and `make bench` read), measured from
the moment the WSGI server hands the request over to the moment the app starts the
response — so a figure without the network, the HTTP client or the server's own queue."""

from __future__ import annotations

import ipaddress
from time import perf_counter

from flask import request
from werkzeug.middleware.proxy_fix import ProxyFix

FORWARDED = (
    "HTTP_X_FORWARDED_FOR",
    "HTTP_X_FORWARDED_PROTO",
    "HTTP_X_FORWARDED_HOST",
    "HTTP_X_FORWARDED_PORT",
    "HTTP_X_FORWARDED_PREFIX",
)


def parse_networks(value: str | list | tuple | None) -> tuple[str, ...] | tuple:
    """`FORWARDED_ALLOW_IPS` as networks: comma-separated addresses or CIDRs, `*` for any
    peer (only behind a platform whose edge is the only way in). Empty: no proxy."""
    items = value.split(",") if isinstance(value, str) else list(value or ())
    found = []
    for item in (i.strip() for i in items):
        if not item:
            continue
        found.append("*" if item == "*" else ipaddress.ip_network(item, strict=False))
    return tuple(found)


def peer_is_trusted(peer: str | None, networks) -> bool:
    if not networks or not peer:
        return False
    if "*" in networks:
        return True
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return False
    return any(address in net for net in networks)


class TrustedProxies:
    """WSGI middleware: ProxyFix for a trusted peer, forwarded headers removed otherwise.
    Reads FORWARDED_ALLOW_IPS and PROXY_HOPS from the app's settings (parsed once per value)."""

    def __init__(self, wsgi_app, config):
        self.wsgi_app = wsgi_app
        self.config = config
        self._parsed: tuple = (None, None, None)

    def _setting(self):
        raw, hops = self.config.get("FORWARDED_ALLOW_IPS"), int(self.config.get("PROXY_HOPS") or 0)
        if self._parsed[0] != (raw, hops):
            fixed = ProxyFix(self.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops, x_prefix=hops)
            self._parsed = ((raw, hops), parse_networks(raw), fixed)
        return hops, self._parsed[1], self._parsed[2]

    def __call__(self, environ, start_response):
        hops, networks, fixed = self._setting()
        if hops > 0 and peer_is_trusted(environ.get("REMOTE_ADDR"), networks):
            return fixed(environ, start_response)
        for name in FORWARDED:
            environ.pop(name, None)
        return self.wsgi_app(environ, start_response)


class ServerTiming:
    """WSGI middleware, the outermost: `Server-Timing: app;dur=<ms>` on every answer, the
    time from entering the app to starting the response (headers; a stream's later body
    is not counted). Two clock reads and one header per request."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        began = perf_counter()

        def timed_start_response(status, headers, exc_info=None):
            headers.append(("Server-Timing", f"app;dur={(perf_counter() - began) * 1000:.2f}"))
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, timed_start_response)


def init_app(app) -> None:
    parse_networks(app.config.get("FORWARDED_ALLOW_IPS"))  # a typo fails at start-up, not per request
    app.wsgi_app = TrustedProxies(app.wsgi_app, app.config)
    if app.config.get("SERVER_TIMING", True):
        app.wsgi_app = ServerTiming(app.wsgi_app)


def client_ip() -> str:
    """The real client address: the peer, or what a trusted proxy said it saw. Throttles,
    rate limits and the audit log key on this, never on a header."""
    return request.remote_addr or ""
