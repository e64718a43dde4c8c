"""Budgets and labour cost (issue 13): phase / cost-code budget lines, actuals from
expenses and approved hours × cost rates, alerts at 90 % and 100 %, forecast to
completion. Rules: services.py."""

from app.budgets import models  # noqa: F401
from app.core.features import Feature

feature = Feature(name="budgets")
