"""Estimates (issue 12): painting lines priced from production rates and coverage (whole
cans), prep and other lines, optional items, markup, terms and validity; the PDF, the
emailed review link (a hashed one-use token) and the signed-in client's review page,
the typed-name approval that converts the estimate into a project with its task list,
and /api/estimates/. Rules: services.py; the arithmetic: core/money.py."""

from flask import Blueprint

from app.core.features import Feature, LiveEvent, NavEntry

bp = Blueprint("estimates", __name__)

from app.estimates import models, routes, walk  # noqa: E402,F401
from app.estimates.api import bp as api_bp  # noqa: E402

feature = Feature(
    name="estimates",
    blueprints=(bp,),
    api=(api_bp,),
    nav=(
        NavEntry(
            "estimates",
            "Estimates",
            "estimates.index",
            permission="estimate.view",
            order=24,
            active=("estimates.index", "estimates.detail", "estimates.new", "estimates.edit"),
        ),
    ),
    # the list and an estimate's page refresh on it (kibray:estimates)
    live_events=(LiveEvent("estimate-changed", dom=("kibray:estimates",)),),
    notification_kinds=("estimate_decided",),
    audit_refusals={
        "estimates.create": "write an estimate",
        "estimates.update": "change an estimate",
        "estimates.send": "send an estimate",
        "estimates.approve": "approve an estimate",
        "estimates.decline": "decline an estimate",
        "estimates.delete": "delete an estimate",
        "api.estimates.api_create": "write an estimate",
        "api.estimates.api_put": "change an estimate",
        "api.estimates.api_patch": "change an estimate",
        "api.estimates.api_delete": "delete an estimate",
        "api.estimates.api_send": "send an estimate",
        "api.estimates.api_approve": "approve an estimate",
        "api.estimates.api_decline": "decline an estimate",
    },
    walk=walk.ROUTES,
    walk_skip=(
        # public, the review link's token is the authority (tests/test_estimates.py walks
        # every role and anonymous through them)
        "/estimates/review/<token>",
        "/estimates/review/<token>/totals",
        "/estimates/review/<token>/approve",
        "/estimates/review/<token>/decline",
        "/estimates/review/<token>.pdf",
    ),
)
