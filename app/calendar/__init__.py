"""The schedule's calendar: events (meetings, inspections, deliveries, milestones) beside
the dated tasks, in month, week, day and crew views, with /api/calendar/events/."""

from app.core.features import Feature

feature = Feature(name="calendar")
