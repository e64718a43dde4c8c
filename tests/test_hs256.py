"""The API's own HS256 JWT codec (app/auth/hs256.py) judged against PyJWT, the reference
implementation: what one signs the other accepts, and every token PyJWT refuses — expired,
not yet valid, forged, unsigned, another algorithm, malformed — is refused here too."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from app.auth import hs256

KEY = "a-test-secret-key-long-enough-for-every-hmac-algorithm-0123456789"
OTHER = "another-secret-key-that-is-long-enough-1234"


def claims(**extra) -> dict:
    now = int(time.time())
    return {"sub": "7", "typ": "access", "jti": "abc", "iat": now, "exp": now + 3600} | extra


def pyjwt_judges(token: str) -> str:
    try:
        jwt.decode(token, KEY, algorithms=["HS256"], options={"require": ["exp", "iat", "sub", "jti", "typ"]})
    except jwt.ExpiredSignatureError:
        return "expired"
    except jwt.InvalidTokenError:
        return "invalid"
    return "valid"


def ours_judges(token) -> str:
    try:
        hs256.decode(token, KEY, require=("exp", "iat", "sub", "jti", "typ"))
    except hs256.ExpiredToken:
        return "expired"
    except hs256.InvalidToken:
        return "invalid"
    return "valid"


def segment(obj) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


def signed(header: str, payload: str) -> str:
    """A correctly signed token of any header and payload: only their content is at fault."""
    signing_input = f"{header}.{payload}".encode()
    return f"{header}.{payload}." + base64.urlsafe_b64encode(hs256._signature(signing_input, KEY)).rstrip(b"=").decode()


def test_our_tokens_decode_with_pyjwt_and_back():
    now = datetime.now(UTC)
    ours = hs256.encode({"sub": "7", "typ": "access", "jti": "j", "iat": now, "exp": now + timedelta(hours=1)}, KEY)
    decoded = jwt.decode(ours, KEY, algorithms=["HS256"])
    assert decoded["sub"] == "7" and decoded["exp"] - decoded["iat"] == 3600
    assert jwt.get_unverified_header(ours) == {"alg": "HS256", "typ": "JWT"}
    theirs = jwt.encode(claims(ep=3, fam="f"), KEY, algorithm="HS256")
    assert hs256.decode(theirs, KEY) == jwt.decode(theirs, KEY, algorithms=["HS256"])


def test_claims_round_trip_unicode_and_nesting():
    payload = claims(name="Zoë Ñúñez — 塗装", nested={"a": [1, 2.5, None, True]})
    assert hs256.decode(hs256.encode(payload, KEY), KEY) == payload


@pytest.mark.parametrize(
    ("name", "token"),
    [
        ("valid", jwt.encode(claims(), KEY, algorithm="HS256")),
        ("expired", jwt.encode(claims(exp=int(time.time()) - 1), KEY, algorithm="HS256")),
        ("expires now", jwt.encode(claims(exp=int(time.time())), KEY, algorithm="HS256")),
        ("issued in the future", jwt.encode(claims(iat=int(time.time()) + 600), KEY, algorithm="HS256")),
        ("not before the future", jwt.encode(claims(nbf=int(time.time()) + 600), KEY, algorithm="HS256")),
        ("other key", jwt.encode(claims(), OTHER, algorithm="HS256")),
        ("alg none", jwt.encode(claims(), None, algorithm="none")),
        ("HS512", jwt.encode(claims(), KEY, algorithm="HS512")),
        ("HS384", jwt.encode(claims(), KEY, algorithm="HS384")),
        ("missing jti", jwt.encode({k: v for k, v in claims().items() if k != "jti"}, KEY, algorithm="HS256")),
        ("missing exp", jwt.encode({k: v for k, v in claims().items() if k != "exp"}, KEY, algorithm="HS256")),
        ("exp not a number", jwt.encode(claims(exp="soon"), KEY, algorithm="HS256")),
        ("garbage", "garbage"),
        ("three dots", "a.b.c"),
        ("empty", ""),
        ("four parts", jwt.encode(claims(), KEY, algorithm="HS256") + ".x"),
        ("bad base64", "!!!." + jwt.encode(claims(), KEY, algorithm="HS256").split(".", 1)[1]),
        ("header not an object", segment([1]) + ".e30.sig"),
        ("payload not an object", jwt.encode({"x": 1}, KEY, algorithm="HS256").rsplit(".", 2)[0] + ".W10.sig"),
    ],
)
def test_judged_as_pyjwt_judges(name, token):
    assert ours_judges(token) == pyjwt_judges(token), name


def test_signature_is_checked_over_the_exact_bytes():
    token = hs256.encode(claims(), KEY)
    header, payload, signature = token.split(".")
    tampered = segment(claims(sub="1"))
    assert ours_judges(f"{header}.{tampered}.{signature}") == "invalid"
    # a header that names HS256 but differs in bytes has another signature
    other_header = segment({"typ": "JWT", "alg": "HS256"})
    assert ours_judges(f"{other_header}.{payload}.{signature}") == "invalid"
    # a truncated signature (compare_digest on different lengths) is refused
    assert ours_judges(f"{header}.{payload}.{signature[:-4]}") == "invalid"


def test_strict_where_pyjwt_is_lenient():
    """Only numbers are times (PyJWT takes the string "9999999999"), NaN and Infinity are
    not JSON, a critical header we do not understand is refused, non-ASCII is not a token."""
    forever = hs256.encode(claims(exp="9999999999"), KEY)
    assert ours_judges(forever) == "invalid"
    assert ours_judges(hs256.encode(claims(exp=True), KEY)) == "invalid"
    infinite = base64.urlsafe_b64encode(b'{"sub":"7","exp":Infinity}').rstrip(b"=").decode()
    assert ours_judges(signed(segment({"alg": "HS256", "typ": "JWT"}), infinite)) == "invalid"
    assert ours_judges(signed(segment({"alg": "HS256", "crit": ["exp"]}), segment(claims()))) == "invalid"
    assert ours_judges(signed(segment({"alg": "HS256"}), segment(claims()))) == "valid"  # the helper signs right
    assert ours_judges("é.é.é") == "invalid"
    assert ours_judges(None) == "invalid"
