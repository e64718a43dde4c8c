"""A typed-name signature (a change order's or an estimate's approval): who signed, and
from where — the request's address (core.net.client_ip, behind the trusted proxies) and
browser, recorded with the decision. Empty outside a request."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Signature:
    name: str = ""
    ip: str = ""
    user_agent: str = ""


def signed(name) -> Signature:
    """The signature `name` typed in the current request."""
    from flask import has_request_context, request

    from app.core.net import client_ip

    if not has_request_context():
        return Signature(str(name or ""))
    return Signature(str(name or ""), client_ip(), request.headers.get("User-Agent", "")[:300])


UNSIGNED = Signature()  # the default of a decision made without a typed name (staff, the API)
