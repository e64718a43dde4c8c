"""Home: each role's start page, made of the widgets features declare."""

from flask import Blueprint

from app.core.features import Feature, NavEntry, WalkRoute

bp = Blueprint("home", __name__)

from app.home import routes  # noqa: E402,F401

feature = Feature(
    name="home",
    blueprints=(bp,),
    nav=(NavEntry("home", "Home", "home.index", order=0, active=("home.index",)),),
    walk=(WalkRoute("GET", "/", "200 200 200 200 200 200 200"),),
)
