"""Home: each role's start page, made of the widgets features declare."""

from flask import Blueprint

from app.core.features import Feature, NavEntry, WalkRoute, Widget
from app.core.roles import EMPLOYEE

bp = Blueprint("home", __name__)

from app.home import routes  # noqa: E402,F401

feature = Feature(
    name="home",
    blueprints=(bp,),
    nav=(NavEntry("home", "Home", "home.index", order=0, active=("home.index",)),),
    # Until tasks, schedule and timesheets arrive, the crew's home says what will be there.
    widgets=(Widget("home/_your_work.html", order=10, roles=(EMPLOYEE,)),),
    walk=(WalkRoute("GET", "/", "200 200 200 200 200 200 200"),),
)
