"""User administration (/admin/users…): accounts, roles, activation, first sign-in,
`flask create-user`. Signing in itself is app/auth."""

from flask import Blueprint

from app.core.features import Feature, NavEntry

bp = Blueprint("users", __name__, url_prefix="/admin")

from app.users import routes, walk  # noqa: E402,F401
from app.users.api import bp as api_bp  # noqa: E402
from app.users.cli import create_user_command  # noqa: E402

feature = Feature(
    name="users",
    blueprints=(bp,),
    api=(api_bp,),
    nav=(
        NavEntry("users", "Users", "users.index", permission="user.manage", order=30, active=("users.", "admin.team")),
    ),
    commands=(create_user_command,),
    audit_refusals={
        "users.new": "create a user account",
        "users.change_role": "change a user's role",
        "users.set_active": "activate or deactivate a user",
        "users.reset_password": "issue a one-time password",
        "users.reset_two_factor": "reset a user's two-factor sign-in",
    },
    walk=walk.ROUTES,
)
