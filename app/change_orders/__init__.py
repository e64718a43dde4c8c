"""Change orders (issue 12): extra work on a project with cost lines and markups and a
schedule impact, a trainee's approved inside first, the client's typed-name signature in
the portal (or a PM's record of it), the contract value and budget changed on approval,
tasks from its lines, the next invoice's lines, and /api/change-orders/. Rules:
services.py."""

from flask import Blueprint

from app.core.features import Feature, LiveEvent

bp = Blueprint("change_orders", __name__)

from app.change_orders import models, photos, routes, walk  # noqa: E402,F401
from app.change_orders.api import bp as api_bp  # noqa: E402

feature = Feature(
    name="change_orders",
    blueprints=(bp,),
    api=(api_bp,),
    # a project's list and a change order's page refresh on it (kibray:change-orders)
    live_events=(LiveEvent("change-order-changed", dom=("kibray:change-orders",)),),
    notification_kinds=("change_order_approval",),
    audit_refusals={
        "change_orders.create": "write a change order",
        "change_orders.update": "change a change order",
        "change_orders.submit": "submit a change order",
        "change_orders.approve": "approve a change order",
        "change_orders.reject": "reject a change order",
        "change_orders.delete": "delete a change order",
        "api.change_orders.api_create": "write a change order",
        "api.change_orders.api_approve": "approve a change order",
        "api.change_orders.api_reject": "reject a change order",
        "api.change_orders.api_delete": "delete a change order",
    },
    walk=walk.ROUTES,
)
