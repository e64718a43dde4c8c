"""Operations (issue 14): alerts computed from our own figures, their channels, and the
admins' operations page at /admin/operations.

recording.py counts every request in per-minute Redis buckets and samples each web
process; alerts.py holds the rules (thresholds.py names every limit) and their
once-per-condition state; channels.py tells admins in-app and by email, Slack, and
says SMS is not configured; services.py and routes.py are the page. The evaluator is
the periodic job `operations-alerts` (workers/operations.py) and `flask operations
evaluate`. No table: the state lives in Redis, shared by every instance."""

from flask import Blueprint

from app.core.features import Feature, LiveEvent, NavEntry, PeriodicJob

bp = Blueprint("operations", __name__, url_prefix="/admin/operations")

from app.operations import recording, routes, walk  # noqa: E402,F401
from app.operations.channels import KINDS, LIVE_EVENT  # noqa: E402
from app.operations.cli import operations as operations_cli  # noqa: E402

feature = Feature(
    name="operations",
    blueprints=(bp,),
    nav=(NavEntry("operations", "Operations", "operations.index", permission="settings.manage", order=52),),
    live_events=(LiveEvent(LIVE_EVENT, dom=("kibray:operations",)),),
    periodic=(PeriodicJob("operations-alerts", "workers.operations.evaluate", 60),),
    notification_kinds=tuple(KINDS.values()),
    commands=(operations_cli,),
    audit_refusals={"operations.index": "see the operations page"},
    walk=walk.ROUTES,
    init_app=recording.init_app,
)
