"""Google Calendar over CalDAV (issue 11). Google's CalDAV endpoint
(https://apidata.googleusercontent.com/caldav/v2/) takes OAuth 2.0 only — no app
passwords — so connecting needs the company's own Google OAuth client (a "web
application" client in Google Cloud whose redirect URI is PUBLIC_URL +
/account/calendar/google/callback): GOOGLE_CALENDAR_CLIENT_ID and
GOOGLE_CALENDAR_CLIENT_SECRET. Without them the page says so and offers nothing that
would pretend to work.

The flow (authorization code, offline access): `authorize_url` sends the person to
Google with a random `state` kept in their session; the callback exchanges the code for
a refresh token (`exchange`), which is stored as the account's password (encrypted with
the field-encryption key) with the person's Google email as the user name; each sync
turns it into a short-lived access token (`access_token`) sent as a Bearer token. A
refresh token Google no longer honours (revoked, expired) fails the account like a
wrong password does.
"""

from __future__ import annotations

import base64
import json
from urllib.parse import quote, urlencode

import urllib3
from flask import current_app

from app.calendar_sync.caldav_client import AuthFailed, CalDAVError

AUTH_URL = "https://accounts.google.com/o/oauth2/v2/auth"
TOKEN_URL = "https://oauth2.googleapis.com/token"  # noqa: S105 - an endpoint, not a secret
CALDAV_URL = "https://apidata.googleusercontent.com/caldav/v2/"
SCOPES = "https://www.googleapis.com/auth/calendar openid email"
_POOL = urllib3.PoolManager(timeout=urllib3.Timeout(connect=5, read=20), retries=False)


def configured() -> bool:
    config = current_app.config
    return bool(config.get("GOOGLE_CALENDAR_CLIENT_ID") and config.get("GOOGLE_CALENDAR_CLIENT_SECRET"))


def authorize_url(state: str, redirect_uri: str) -> str:
    query = {
        "client_id": current_app.config["GOOGLE_CALENDAR_CLIENT_ID"],
        "redirect_uri": redirect_uri,
        "response_type": "code",
        "scope": SCOPES,
        "access_type": "offline",  # a refresh token, for syncs while the person is away
        "prompt": "consent",  # …given again on a second connection
        "include_granted_scopes": "true",
        "state": state,
    }
    return f"{AUTH_URL}?{urlencode(query)}"


def _token_request(fields: dict) -> dict:
    config = current_app.config
    body = urlencode(
        {
            **fields,
            "client_id": config["GOOGLE_CALENDAR_CLIENT_ID"],
            "client_secret": config["GOOGLE_CALENDAR_CLIENT_SECRET"],
        }
    )
    try:
        answer = _POOL.request(
            "POST", TOKEN_URL, body=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
    except urllib3.exceptions.HTTPError as exc:
        raise CalDAVError(f"Google could not be reached ({exc.__class__.__name__}).") from None
    try:
        data = json.loads(answer.data.decode() or "{}")
    except ValueError:
        data = {}
    if answer.status in (400, 401):
        raise AuthFailed(
            "Google no longer allows Kibray into this calendar (access removed or expired): connect it again.",
            answer.status,
        )
    if answer.status != 200 or not isinstance(data, dict):
        raise CalDAVError(f"Google answered {answer.status} to a token request.", answer.status)
    return data


def _email(id_token: str) -> str:
    """The email in the ID token Google's token endpoint just answered (read, not
    verified: it came straight from Google over TLS — OpenID Connect Core §3.1.3.7)."""
    try:
        payload = id_token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return str(claims["email"])
    except (IndexError, KeyError, ValueError, TypeError):
        raise CalDAVError("Google did not say which account this is.") from None


def exchange(code: str, redirect_uri: str) -> tuple[str, str]:
    """The person's (Google email, refresh token) for an authorization code."""
    data = _token_request({"code": code, "grant_type": "authorization_code", "redirect_uri": redirect_uri})
    refresh = data.get("refresh_token")
    if not refresh:
        raise CalDAVError("Google gave no long-lived access: remove Kibray in your Google account and connect again.")
    return _email(data.get("id_token", "")), refresh


def access_token(refresh_token: str) -> str:
    data = _token_request({"refresh_token": refresh_token, "grant_type": "refresh_token"})
    token = data.get("access_token")
    if not token:
        raise CalDAVError("Google answered no access token.")
    return token


def calendar_url(email: str) -> str:
    """The person's primary calendar's event collection on Google's CalDAV server."""
    return f"{CALDAV_URL}{quote(email, safe='@')}/events/"
