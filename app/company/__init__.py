"""The company's own details (issue 12): the name, address, contact details and logo
printed on invoices and estimates, the payment instructions, the default tax rate.
One row, edited by admins (settings.manage) under /admin/company."""

from flask import Blueprint

from app.core.features import Feature, NavEntry

bp = Blueprint("company", __name__)

from app.company import models, routes, walk  # noqa: E402,F401

feature = Feature(
    name="company",
    blueprints=(bp,),
    nav=(
        NavEntry(
            "company",
            "Company",
            "company.settings",
            permission="settings.manage",
            order=45,
            active=("company.settings",),
        ),  # fmt: skip
    ),
    audit_refusals={"company.save": "change the company's details", "company.logo": "change the company's logo"},
    walk=walk.ROUTES,
)
