"""The admin area (/admin): project teams, the audit log, and rq-dashboard (jobs).
User administration is app/users."""

from flask import Blueprint, Flask, abort, request
from flask_login import current_user

from app.core.features import Feature, NavEntry

bp = Blueprint("admin", __name__, url_prefix="/admin")
EMBEDDED_URL = "redis://embedded"
# rq-dashboard 0.9.0 routes that change state yet also answer GET (rq_dashboard/web.py:
# `requeue_all`, /requeue/<queue>); its delete, requeue-one, empty and compact routes are
# POST only and pass the app's CSRF check. Refused on GET so a cross-site link does nothing.
# Any dashboard route that accepts POST is taken as a state change too, so a later
# version's new GET-and-POST route is covered without this list.
RQ_STATE_CHANGING_GET = frozenset({"rq_dashboard.requeue_all"})


def _changes_state(req) -> bool:
    rule = req.url_rule
    return req.endpoint in RQ_STATE_CHANGING_GET or (rule is not None and "POST" in (rule.methods or ()))


from app.admin import routes, walk  # noqa: E402,F401


def register_rq_dashboard(app: Flask) -> None:
    """Mount rq-dashboard at /admin/rq for admins only (anonymous → sign in)."""
    import rq_dashboard
    from rq_dashboard import web as rq_web

    from app.core.permissions import can
    from app.extensions import login_manager

    if app.config.get("REDIS_URL"):
        app.config["RQ_DASHBOARD_REDIS_URL"] = app.config["REDIS_URL"]
        rq_web.setup_rq_connection(app)
    else:
        # Embedded mode: rq-dashboard connects by URL; route our placeholder URL to the
        # in-process stand-in every time it reconnects.
        app.config["RQ_DASHBOARD_REDIS_URL"] = (EMBEDDED_URL,)
        app.redis_conn = app.extensions["kibray_redis"]
        if not getattr(rq_web.from_url, "kibray_embedded", False):
            real_from_url = rq_web.from_url

            def from_url(url, **kwargs):
                if url == EMBEDDED_URL:
                    from flask import current_app

                    return None, current_app.extensions["kibray_redis"]
                return real_from_url(url, **kwargs)

            from_url.kibray_embedded = True
            rq_web.from_url = from_url

    @app.before_request
    def _rq_dashboard_admins_only():
        if request.blueprint != rq_dashboard.blueprint.name:
            return None
        if request.method in ("GET", "HEAD") and _changes_state(request):
            abort(405)  # a state change is a POST (CSRF-checked); a cross-site link does nothing
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if not can(current_user, "settings.manage"):
            abort(403)
        return None

    @app.after_request
    def _rq_dashboard_csrf_cookie(response):
        """rq-dashboard's own JS sends the `_csrf_token` cookie back as X-CSRFToken on its
        POSTs (requeue, delete, empty): hand it our CSRF token, readable by its pages only."""
        if request.blueprint == rq_dashboard.blueprint.name and current_user.is_authenticated:
            from flask_wtf.csrf import generate_csrf

            response.set_cookie(
                "_csrf_token",
                generate_csrf(),
                path="/admin/rq",
                samesite="Strict",
                secure=app.config["SESSION_COOKIE_SECURE"],
                httponly=False,
            )
        return response

    app.register_blueprint(rq_dashboard.blueprint, url_prefix="/admin/rq")


feature = Feature(
    name="admin",
    blueprints=(bp,),
    nav=(
        NavEntry("audit", "Audit log", "admin.audit", permission="audit.view", order=40, active=("admin.audit",)),
        # rq-dashboard is not an htmx page: a plain link, not boosted.
        NavEntry("jobs", "Jobs", permission="settings.manage", order=50, url="/admin/rq/", boost=False),
    ),
    audit_refusals={"admin.team": "change the team of the project {project}"},
    walk=walk.ROUTES,
    walk_skip=("/admin/rq/*",),  # rq-dashboard's own routes, admins only (tests/test_admin.py)
    init_app=register_rq_dashboard,
)
