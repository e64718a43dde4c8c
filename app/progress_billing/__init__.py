"""Progress billing (issue 13): the schedule of values, pay applications (G702/G703)
with retainage and its step-down, retainage releases, and
/api/financials/pay-applications/ and /api/financials/schedule-of-values/. Rules:
services.py (applications), schedule.py (the schedule and terms), releases.py; the
arithmetic: g702.py."""

from flask import Blueprint

import app.tasks  # noqa: F401  (SovLine.tasks names Task: mapped before ours, whoever imports us first)
from app.core.features import Feature, LiveEvent

bp = Blueprint("progress_billing", __name__)

from app.progress_billing import models, routes, walk  # noqa: E402,F401
from app.progress_billing.api import bp as api_bp  # noqa: E402

feature = Feature(
    name="progress_billing",
    blueprints=(bp,),
    api=(api_bp,),
    # a project's billing page and an application's page refresh on it (kibray:pay-applications)
    live_events=(LiveEvent("pay-application-changed", dom=("kibray:pay-applications",)),),
    audit_refusals={
        "progress_billing.save_schedule": "change the schedule of values of the project {project}",
        "progress_billing.save_terms": "change the retainage terms of the project {project}",
        "progress_billing.release": "release retainage on the project {project}",
        "progress_billing.create": "start a pay application",
        "progress_billing.update": "change a pay application",
        "progress_billing.certify": "certify a pay application",
        "progress_billing.delete": "delete a pay application",
        "api.progress_billing.api_create": "start a pay application",
        "api.progress_billing.api_put": "change a pay application",
        "api.progress_billing.api_patch": "change a pay application",
        "api.progress_billing.api_delete": "delete a pay application",
        "api.progress_billing.api_certify": "certify a pay application",
        "api.progress_billing.api_put_schedule": "change a schedule of values",
    },
    walk=walk.ROUTES,
)
