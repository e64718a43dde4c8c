"""The schedule's conflicts across every project (double bookings, capacity, dependencies,
illogical dates, holidays), the company holidays and /api/calendar/conflicts/."""

from app.core.features import Feature

feature = Feature(name="schedule")
