"""JSON Web Tokens signed with HMAC-SHA256 (RFC 7519 / RFC 7515), the only kind the API
issues and the only kind it accepts — with the standard library alone.

Why not PyJWT at run time: importing it loads its JWKS client (urllib, http.client,
email) and every asymmetric algorithm of `cryptography`, ~5.5 MB of each worker that
verifies a token (docs/performance.md, "Fourth round"), to check one HMAC. The tests
prove both directions against PyJWT (a dev requirement): our tokens decode with it,
and its tokens — valid, expired, forged, `alg: none`, other algorithms — are judged
here exactly as it judges them.

Rules, strictest reading of the RFCs where they leave room:
- the header must be a JSON object whose `alg` is exactly "HS256" (no `none`, no
  algorithm chosen by the token: the key type confusion attacks need that choice);
- the signature is compared in constant time before the payload is parsed;
- `exp`, `iat` and `nbf` must be numbers (not strings, not booleans); a token is
  expired from `exp` on, and refused while `iat` or `nbf` lies in the future (no
  leeway, as PyJWT's default);
- claims named in `require` must be present.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from calendar import timegm
from datetime import datetime

ALGORITHM = "HS256"
_HEADER = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').rstrip(b"=")
_TIME_CLAIMS = ("exp", "iat", "nbf")


class InvalidToken(Exception):
    """The token cannot be trusted (malformed, wrong algorithm or signature, bad claims)."""


class ExpiredToken(InvalidToken):
    """Well formed and correctly signed, but past its `exp`."""


def _b64encode(raw: bytes) -> bytes:
    return base64.urlsafe_b64encode(raw).rstrip(b"=")


def _b64decode(segment: bytes) -> bytes:
    if len(segment) % 4 == 1:
        raise InvalidToken("bad base64 length")
    try:
        return base64.urlsafe_b64decode(segment + b"=" * (-len(segment) % 4))
    except (binascii.Error, ValueError):
        raise InvalidToken("bad base64") from None


def _key(secret: str | bytes) -> bytes:
    return secret.encode() if isinstance(secret, str) else secret


def _signature(signing_input: bytes, secret: str | bytes) -> bytes:
    return hmac.new(_key(secret), signing_input, hashlib.sha256).digest()


def _timestamp(value):
    if isinstance(value, datetime):
        return timegm(value.utctimetuple())
    return value


def encode(claims: dict, secret: str | bytes) -> str:
    """`claims` as a compact HS256 JWT; datetimes in exp/iat/nbf become Unix seconds."""
    payload = {name: _timestamp(value) if name in _TIME_CLAIMS else value for name, value in claims.items()}
    body = _b64encode(json.dumps(payload, separators=(",", ":")).encode())
    signing_input = _HEADER + b"." + body
    return (signing_input + b"." + _b64encode(_signature(signing_input, secret))).decode("ascii")


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def _json(raw: bytes):
    """Strict JSON: NaN and Infinity (which Python's parser accepts) are refused."""
    return json.loads(raw, parse_constant=_refuse_constant)


def _number(claims: dict, name: str) -> float:
    value = claims[name]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidToken(f"{name} must be a number")
    return value


def decode(token: str | bytes, secret: str | bytes, require: tuple[str, ...] = ()) -> dict:
    """The claims of a valid token; InvalidToken (ExpiredToken when only `exp` fails)."""
    try:
        raw = token.encode("ascii") if isinstance(token, str) else bytes(token)
    except (UnicodeEncodeError, TypeError):
        raise InvalidToken("not a compact JWS") from None
    parts = raw.split(b".")
    if len(parts) != 3:
        raise InvalidToken("not a compact JWS")
    header_b64, payload_b64, signature_b64 = parts
    try:
        header = _json(_b64decode(header_b64))
    except ValueError:
        raise InvalidToken("header is not JSON") from None
    if not isinstance(header, dict) or header.get("alg") != ALGORITHM:
        raise InvalidToken("algorithm not allowed")
    if "crit" in header:  # no extension is understood, so none may be critical (RFC 7515 §4.1.11)
        raise InvalidToken("critical header parameters are not supported")
    expected = _signature(header_b64 + b"." + payload_b64, secret)
    if not hmac.compare_digest(expected, _b64decode(signature_b64)):
        raise InvalidToken("signature does not match")
    try:
        claims = _json(_b64decode(payload_b64))
    except ValueError:
        raise InvalidToken("payload is not JSON") from None
    if not isinstance(claims, dict):
        raise InvalidToken("payload is not a JSON object")
    missing = [name for name in require if name not in claims]
    if missing:
        raise InvalidToken(f"missing claim {missing[0]}")
    now = time.time()
    for name in ("iat", "nbf"):
        if name in claims and _number(claims, name) > now:
            raise InvalidToken(f"{name} is in the future")
    if "exp" in claims and _number(claims, "exp") <= now:
        raise ExpiredToken("expired")
    return claims
