"""The expenses' rows of the HTTP permission walk (tests/test_permissions_http.py).
Statuses in ROLES order: admin pm trainee designer super employee client.
World (tests/factories.make_walk_expenses): {cexp} a company expense of mine with a PDF
receipt; {subclaim} the employee's submitted claim on mine with a photo receipt;
{okclaim} the superintendent's approved claim; {paidclaim} the employee's paid claim;
{theirexp} a company expense of theirs. The employee works on mine through a task and a
punch, the designer and the superintendent through the team. A client sees no expense
anywhere (403); others' expenses are 404 to those who may see only their own claims."""

from __future__ import annotations

from app.core.features import WalkRoute as R

API = "/api/financials/expenses/"


def _form(world):
    return {"category": "MATERIALS", "amount": "84.20", "expense_date": "2026-03-02", "vendor": "Paint store",
            "description": "Two gallons of primer"}  # fmt: skip


def _claim(world):
    return _form(world) | {"project_id": str(world.mine.id)}


def _api_new(world):
    return {"project_id": world.mine.id, "category": "TOOLS", "amount": "19.99", "expense_date": "2026-03-02"}


ROUTES = (
    R("GET", "/projects/{mine}/expenses", "200 200 200 403 403 404 403"),
    R(
        "GET",
        "/projects/{mine}/expenses?category=MATERIALS&date_from=2026-01-01&date_to=2026-12-31",
        "200 200 200 403 403 404 403",
    ),  # fmt: skip
    R("GET", "/projects/{theirs}/expenses", "200 404 404 404 404 404 403"),
    R("GET", "/projects/{mine}/expenses/new", "200 200 200 403 403 403 403"),
    R("GET", "/projects/{theirs}/expenses/new", "200 404 404 403 403 403 403"),
    R("POST", "/projects/{mine}/expenses/new", "303 303 303 403 403 403 403", _form),
    R("GET", "/expenses/{cexp}", "200 200 200 404 404 404 403"),
    R("GET", "/expenses/{subclaim}", "200 200 200 404 404 200 403"),
    R("GET", "/expenses/{okclaim}", "200 200 200 404 200 404 403"),
    R("GET", "/expenses/{theirexp}", "200 404 404 404 404 404 403"),
    R("GET", "/expenses/{cexp}/receipt", "200 200 200 404 404 404 403"),
    R("GET", "/expenses/{subclaim}/receipt?size=thumb", "200 200 200 404 404 200 403"),
    R("GET", "/expenses/{theirexp}/receipt", "200 404 404 404 404 404 403"),
    R("GET", "/expenses/{cexp}/edit", "200 200 200 404 404 404 403"),
    R("POST", "/expenses/{cexp}/edit", "303 303 303 404 404 404 403", _form),
    R("GET", "/expenses/{subclaim}/edit", "409 409 409 404 404 200 403"),
    R("POST", "/expenses/{subclaim}/edit", "403 403 403 404 404 303 403", _form),
    R("POST", "/expenses/{cexp}/delete", "303 303 303 404 404 404 403"),
    R("POST", "/expenses/{subclaim}/delete", "403 403 403 404 404 303 403"),
    R("POST", "/expenses/{paidclaim}/delete", "409 409 409 404 404 409 403"),
    R("POST", "/expenses/{subclaim}/review", "303 303 403 403 403 403 403"),
    R("POST", "/expenses/{subclaim}/approve", "303 303 403 403 403 403 403"),
    R(
        "POST",
        "/expenses/{subclaim}/reject",
        "303 303 403 403 403 403 403",
        lambda _w: {"rejection_reason": "No receipt"},
    ),
    R("POST", "/expenses/{subclaim}/reject", "422 422 403 403 403 403 403", lambda _w: {"rejection_reason": ""}),
    R("POST", "/expenses/{theirexp}/approve", "409 404 403 403 403 403 403"),
    R("POST", "/expenses/{okclaim}/reimburse", "303 403 403 403 403 403 403", lambda _w: {"method": "direct"}),
    R("POST", "/expenses/{paidclaim}/reimburse", "409 403 403 403 403 403 403", lambda _w: {"method": "direct"}),
    R("GET", "/expenses/mine", "200 200 200 200 200 200 403"),
    R("POST", "/expenses/mine", "303 303 303 303 303 303 403", _claim),
    R("POST", "/expenses/mine", "422 422 422 422 422 422 403", lambda w: _claim(w) | {"expense_date": "2099-01-01"}),
    R("GET", "/expenses/claims", "200 200 403 403 403 403 403"),
    R("GET", "/expenses/claims?status=paid", "200 200 403 403 403 403 403"),
    # the JSON API
    R("GET", API, "200 200 200 200 200 200 403"),
    R("GET", API + "?project_id={mine}&category=MATERIALS", "200 200 200 200 200 200 403"),
    R("POST", API, "201 201 201 201 201 201 403", _api_new),
    R("POST", API, "400 400 400 400 400 400 403", lambda w: _api_new(w) | {"expense_date": "2099-01-01"}),
    R("GET", API + "{cexp}/", "200 200 200 404 404 404 403"),
    R("GET", API + "{subclaim}/", "200 200 200 404 404 200 403"),
    R("GET", API + "{theirexp}/", "200 404 404 404 404 404 403"),
    R("PATCH", API + "{cexp}/", "200 200 200 404 404 404 403", lambda _w: {"vendor": "Hardware store"}),
    R("PUT", API + "{subclaim}/", "403 403 403 404 404 200 403", lambda _w: {"amount": "12.00"}),
    R("DELETE", API + "{cexp}/", "200 200 200 404 404 404 403"),
    R("DELETE", API + "{subclaim}/", "403 403 403 404 404 200 403"),
    R("GET", API + "{subclaim}/receipt/", "200 200 200 404 404 200 403"),
    R("POST", API + "{subclaim}/review/", "200 200 403 404 404 403 403"),
    R("POST", API + "{subclaim}/approve/", "200 200 403 404 404 403 403"),
    R("POST", API + "{subclaim}/reject/", "200 200 403 404 404 403 403", lambda _w: {"reason": "Personal purchase"}),
    R("POST", API + "{okclaim}/reimburse/", "200 403 403 404 403 404 403", lambda _w: {"method": "petty_cash"}),
    R("POST", API + "{paidclaim}/reimburse/", "409 403 403 404 404 403 403", lambda _w: {"method": "direct"}),
)
