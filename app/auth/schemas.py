"""The sign-in API's input and output (core/schemas.py)."""

from __future__ import annotations

from pydantic import Field

from app.core.schemas import Input, Output, Text


class LoginInput(Input):
    username: Text(254) | None = None
    password: Text(1024) | None = None
    otp_code: Text(16) | None = Field(None, description="The 6-digit code, for accounts with two-factor sign-in.")

    __required__ = ("username", "password")


class RefreshInput(Input):
    refresh_token: Text(4096) | None = None

    __required__ = ("refresh_token",)


class LogoutInput(Input):
    refresh_token: Text(4096) | None = Field(None, description="Also end this refresh token's chain.")


class UserRef(Output):
    id: int
    username: str
    role: str


class TokenPair(Output):
    access_token: str
    refresh_token: str
    expires_in: int = Field(description="Seconds the access token lives (3600).")
    user: UserRef


class LoggedOut(Output):
    logged_out: bool


class ClientRef(Output):
    id: int
    name: str


class Me(Output):
    id: int
    username: str
    role: str
    email: str
    full_name: str
    is_active: bool
    client: ClientRef | None
