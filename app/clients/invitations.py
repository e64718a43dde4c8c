"""Client users by invitation: a client.invite user invites a person by email (optionally
one of the client's contacts); the email carries a link with a random token, of which
only the SHA-256 is stored; the link works for 7 days, once, until revoked or replaced
by a newer invitation of the same email. The public page lets the person choose a
username and password (auth/passwords.py rules) and makes them a client user of that
client. Looking tokens up is throttled per client address like sign-in (auth.throttle)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from app.auth import throttle
from app.auth.models import User
from app.clients.models import INVITATION_DAYS, Client, ClientInvitation
from app.core.errors import ObjectNotFound, ValidationError
from app.core.models import utcnow
from app.core.permissions import require
from app.core.roles import CLIENT
from app.core.text import name_key, normalise
from app.core.timezones import format_datetime
from app.core.validators import is_email
from app.extensions import db

TOKEN_MAX = 100  # a token is 43 characters; anything much longer is not one of ours


class InvitationGone(Exception):
    """The token names no invitation (404) or one that can no longer be used (410)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def email_configured() -> bool:
    return bool(current_app.config.get("EMAIL_HOST"))


def client_users(actor, client_id: int) -> list:
    require(actor, "client.view")
    return db.session.execute(
        select(User.id, User.username, User.full_name, User.email, User.is_active_flag.label("is_active"))
        .where(User.client_id == client_id)
        .order_by(User.username)
    ).all()


def open_invitations(actor, client_id: int) -> list[ClientInvitation]:
    require(actor, "client.view")
    return db.session.scalars(
        select(ClientInvitation)
        .where(
            ClientInvitation.client_id == client_id,
            ClientInvitation.accepted_at.is_(None),
            ClientInvitation.revoked_at.is_(None),
            ClientInvitation.expires_at > utcnow(),
        )
        .options(joinedload(ClientInvitation.invited_by))  # the list names who invited
        .order_by(ClientInvitation.created_at.desc())
    ).all()


def get_invitation(actor, client_id: int, invitation_id: int) -> ClientInvitation:
    require(actor, "client.view")
    invitation = db.session.get(ClientInvitation, invitation_id)
    if invitation is None or invitation.client_id != client_id:
        raise ObjectNotFound("That invitation does not exist.")
    return invitation


def invite(actor, client: Client, data: dict) -> tuple[ClientInvitation, str]:
    """A new invitation and its token (to be sent, never stored). `contact_id` links it to
    one of the client's contacts (whose email is used when none is typed). An older open
    invitation of the same email to this client is revoked."""
    from app.clients.models import ClientContact

    require(actor, "client.invite")
    errors: dict[str, str] = {}
    contact = None
    raw_contact = data.get("contact_id")
    if raw_contact not in (None, ""):
        try:
            contact = db.session.get(ClientContact, int(raw_contact))
        except (TypeError, ValueError, OverflowError):
            contact = None
        if contact is None or contact.client_id != client.id:
            errors["contact_id"] = "Choose one of this client's contacts."
            contact = None
    email = normalise(str(data.get("email") or "")) or (contact.email if contact is not None else "")
    if not is_email(email) or len(email) > 254:
        errors["email"] = "Enter a valid email address."
    elif db.session.scalar(select(User.id).where(User.email_key == name_key(email))):
        errors["email"] = "An account already uses this email address."
    if errors:
        raise ValidationError(errors)
    now = utcnow()
    for older in db.session.scalars(
        select(ClientInvitation).where(
            ClientInvitation.client_id == client.id,
            func.lower(ClientInvitation.email) == email.lower(),
            ClientInvitation.accepted_at.is_(None),
            ClientInvitation.revoked_at.is_(None),
        )
    ):
        older.revoked_at = now
    token = secrets.token_urlsafe(32)
    invitation = ClientInvitation(
        client_id=client.id,
        contact_id=contact.id if contact is not None else None,
        email=email,
        token_hash=token_hash(token),
        invited_by_id=actor.id,
        created_at=now,
        expires_at=now + timedelta(days=INVITATION_DAYS),
    )
    db.session.add(invitation)
    db.session.flush()
    if email_configured():
        from app.core.jobs import enqueue
        from workers.clients import send_invitation

        enqueue(send_invitation, invitation.id, token, queue="notifications")
    return invitation, token


def revoke(actor, invitation: ClientInvitation) -> None:
    require(actor, "client.invite")
    if invitation.state() != "open":
        raise ValidationError({"invitation": "This invitation is no longer open."})
    invitation.revoked_at = utcnow()
    db.session.flush()


def link(token: str) -> str:
    return current_app.config["PUBLIC_URL"].rstrip("/") + f"/invitations/{token}"


def send_email(invitation_id: int, token: str) -> str:
    """Email the link (a job): only while the invitation is open and the token is its own."""
    from app.notifications.channels import smtp_send

    invitation = db.session.get(ClientInvitation, invitation_id)
    if invitation is None or invitation.state() != "open" or invitation.token_hash != token_hash(token):
        return "skipped"
    inviter = invitation.invited_by.name if invitation.invited_by is not None else "Kibray"
    body = (
        f"Hello,\n\n{inviter} invited you to follow {invitation.client.name}'s projects on Kibray ERP.\n\n"
        f"Choose your username and password here:\n{link(token)}\n\n"
        f"The link works once, until {format_datetime(invitation.expires_at)}. "
        "If you did not expect this invitation, ignore this email.\n\n— Kibray ERP"
    )
    smtp_send(invitation.email, f"Your invitation to {invitation.client.name} on Kibray ERP", body)
    return "sent"


# --- the public page -------------------------------------------------------------------

GONE = {
    "accepted": "This invitation has already been used. Sign in with the username and password you chose.",
    "revoked": "This invitation was withdrawn. Ask the person who invited you for a new one.",
    "expired": "This invitation has expired. Ask the person who invited you for a new one.",
}
NOT_FOUND = "This invitation link is not valid. Check that you copied the whole link."


def from_token(token: str, *, lock: bool = False) -> ClientInvitation:
    """The open invitation of `token`. Every lookup is counted per client address
    (auth.throttle, like sign-in); an unknown or unusable token counts as a failure, so
    guessing is locked out (LockedOut, 429). Unknown: 404; used, withdrawn, expired: 410."""
    from app.auth.services import LockedOut

    ip = throttle.client_ip()
    found: dict = {}

    def check() -> bool:
        if not token or len(token) > TOKEN_MAX:
            return False
        stmt = select(ClientInvitation).where(ClientInvitation.token_hash == token_hash(token))
        found["invitation"] = db.session.scalar(stmt.with_for_update() if lock else stmt)
        return found["invitation"] is not None and found["invitation"].state() == "open"

    try:
        throttle.guarded(f"token:client-invitation:{ip}", ip, check)
    except throttle.TooManyAttempts as exc:
        raise LockedOut("token", exc) from None
    invitation = found.get("invitation")
    if invitation is None:
        raise InvitationGone(404, NOT_FOUND)
    state = invitation.state()
    if state != "open":
        raise InvitationGone(410, GONE[state])
    return invitation


def accept(token: str, data: dict) -> User:
    """Make the invited person a client user of the invitation's client (username and
    password of their choosing, every problem at once), and close the invitation."""
    from app.auth.passwords import policy_problem
    from app.users.services import _full_name_problem, create_user, validate_user_fields

    invitation = from_token(token, lock=True)  # two accepts at once: the second waits, then finds it used
    username = normalise(str(data.get("username") or ""))
    password = str(data.get("password") or "")
    full_name = str(data.get("full_name") or "").strip()
    if not full_name and invitation.contact is not None:
        full_name = invitation.contact.name
    errors = validate_user_fields(username, invitation.email, CLIENT)
    if problem := _full_name_problem(full_name):
        errors["full_name"] = problem
    if problem := policy_problem(password):
        errors["password"] = problem
    elif password != str(data.get("confirm_password") or ""):
        errors["confirm_password"] = "The two passwords do not match."  # noqa: S105 - a message
    if errors:
        raise ValidationError(errors)
    user = create_user(
        None,  # the invitation is the authority (checked above)
        username=username,
        email=invitation.email,
        role=CLIENT,
        password=password,
        full_name=full_name,
        client_id=invitation.client_id,
    )
    db.session.flush()
    invitation.accepted_at = utcnow()
    invitation.user_id = user.id
    db.session.flush()
    return user
