"""The features this app is made of, in registration order. Adding a feature is a new
package under app/ that declares `feature = Feature(...)` (app/core/features.py) and one
line here; see docs/architecture.md, "Adding a feature"."""

FEATURES = (
    "app.home",
    "app.auth",
    "app.users",
    "app.projects",
    "app.tasks",
    "app.project_templates",
    "app.comments",
    "app.clients",
    "app.photos",
    "app.files",
    "app.timeclock",
    "app.daily_logs",
    "app.company",
    "app.invoices",
    "app.change_orders",
    "app.estimates",
    "app.calendar",
    "app.schedule",
    "app.calendar_sync",
    "app.gantt",
    "app.portal",
    "app.notifications",
    "app.live",
    "app.health",
    "app.admin",
    "app.apidocs",
)
