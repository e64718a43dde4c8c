"""Time clock and timesheets (issue 9): clock in and out against a project (and a task)
from the phone, breaks, an optional location; weekly timesheets approved by the
project's superintendents and PMs, corrections with a reason, the nightly close of
forgotten punches, the payroll CSV and /api/timeclock/. Rules: services.py;
decisions: docs/architecture.md "Time clock"."""

from flask import Blueprint

from app.core.features import Feature, LiveEvent, NavEntry, PeriodicJob

bp = Blueprint("timeclock", __name__)

from app.timeclock import cli, models, routes, walk  # noqa: E402,F401
from app.timeclock.api import bp as api_bp  # noqa: E402

feature = Feature(
    name="timeclock",
    blueprints=(bp,),
    api=(api_bp,),
    nav=(
        NavEntry(
            "timeclock",
            "Time clock",
            "timeclock.index",
            permission="timeclock.punch",
            order=6,
            active=(
                "timeclock.index",
                "timeclock.clock_in",
                "timeclock.clock_out",
                "timeclock.break_start",
                "timeclock.break_end",
            ),
        ),
        NavEntry(
            "timesheets",
            "Timesheets",
            "timeclock.my_timesheet",
            permission="timeclock.punch",
            order=7,
            active=(
                "timeclock.my_timesheet",
                "timeclock.review",
                "timeclock.crew",
                "timeclock.correct",
                "timeclock.correct_save",
                "timeclock.missed",
                "timeclock.missed_save",
                "timeclock.approve",
                "timeclock.approve_all",
                "timeclock.unapprove",
            ),
        ),
    ),
    # The crew board, the review page and the time clock refresh on it (kibray:punches).
    live_events=(LiveEvent("punch-changed", dom=("kibray:punches",)),),
    periodic=(PeriodicJob("close-forgotten-punches", "workers.timeclock.close_forgotten", 3600),),
    notification_kinds=("punch_auto_closed",),
    commands=(cli.timeclock,),
    audit_refusals={
        "timeclock.clock_in": "clock in",
        "timeclock.approve": "approve a timesheet",
        "timeclock.approve_all": "approve timesheets",
        "timeclock.unapprove": "withdraw a timesheet approval",
        "timeclock.correct_save": "correct a punch",
        "timeclock.missed_save": "add a missed punch",
        "timeclock.export_csv": "export approved hours",
        "api.timeclock.api_clock_in": "clock in",
    },
    walk=walk.ROUTES,
    walk_skip=walk.SKIP,
)
