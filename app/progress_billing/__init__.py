"""Progress billing (issue 13): the schedule of values, pay applications (G702/G703)
with retainage and its step-down, retainage releases, and
/api/financials/pay-applications/ and /api/financials/schedule-of-values/. Rules:
services.py."""

from app.core.features import Feature
from app.progress_billing import models  # noqa: F401

feature = Feature(name="progress_billing")
