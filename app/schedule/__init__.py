"""The schedule's conflicts across every project (double bookings, capacity, dependencies,
illogical dates, holidays), the company holidays and /api/calendar/conflicts/.

Files: models.py (stored conflicts, holidays), engine.py (keeps the rows and the items'
risk levels in the same flush as any change), conflicts.py (what the rows say to a reader,
for_items, the list), notify.py (one notification per person per change), services.py,
routes.py (the conflicts panel, holidays and capacity), api.py, walk.py."""

from app.core.features import Feature
from app.schedule import cli, engine, models, walk  # noqa: F401 - engine: its flush hooks
from app.schedule.api import bp as api_bp
from app.schedule.routes import bp

feature = Feature(
    name="schedule",
    blueprints=(bp,),
    api=(api_bp,),
    commands=(cli.schedule,),
    notification_kinds=("schedule_conflict",),
    walk=walk.ROUTES,
    audit_refusals={
        "schedule.add_holiday": "add a company holiday",
        "schedule.delete_holiday": "remove a company holiday",
        "schedule.set_capacity": "change a person's daily capacity",
    },
)
