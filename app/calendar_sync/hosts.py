"""CalDAV server URLs are user input the server will call: refuse what would let a user
reach the company's own network through Kibray (SSRF). A URL must be http(s) with a host
name; every address the name resolves to must be public — not private (10/8,
172.16/12, 192.168/16, fc00::/7), loopback, link-local (169.254/16 — cloud metadata —,
fe80::/10), multicast, reserved or unspecified — unless CALDAV_ALLOW_PRIVATE_HOSTS is on
(development and tests: a CalDAV server on this machine). Checked again before each
request a sync makes, redirects included (`check_url` on the redirect's target), since
DNS can change between two calls."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from flask import current_app

from app.core.errors import ValidationError


class RefusedHost(ValidationError):
    """The URL may not be called (its message says why)."""


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


def check_url(url: str, field: str = "server_url", resolve=socket.getaddrinfo) -> str:
    """`url` if Kibray may call it; RefusedHost (a field error on `field`) if not."""
    parts = urlsplit((url or "").strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RefusedHost({field: "Enter the server's full address, starting with https://."})
    if parts.username or parts.password:
        raise RefusedHost({field: "Leave the user name and password out of the address: they have their own fields."})
    if current_app.config.get("CALDAV_ALLOW_PRIVATE_HOSTS"):
        return parts.geturl()
    try:
        found = {info[4][0] for info in resolve(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)}
    except (socket.gaierror, UnicodeError, ValueError):
        raise RefusedHost({field: f"{parts.hostname} could not be found."}) from None
    if not found or not all(_public(address) for address in found):
        raise RefusedHost({field: "That address is on a private network; Kibray may only call public servers."})
    return parts.geturl()
