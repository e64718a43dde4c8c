"""The company's details page (admins): the form (problems inline, "changed meanwhile"
on a stale save) and the logo (upload, remove). Thin: parse, call the service, render."""

from __future__ import annotations

from flask import flash, request, url_for
from flask_login import current_user, login_required

from app.company import bp, services
from app.core.errors import ValidationError
from app.core.htmx import redirect_to, render_for
from app.core.permissions import permission_required
from app.core.transaction import attempt
from app.core.uploads import accepts_uploads
from app.core.versioning import StaleObject, meanwhile

FIELDS = (*services.TEXTS, "default_tax_rate")


def _rate_fields() -> tuple[str, ...]:
    from app.estimates.models import PAINTED_SURFACES

    return tuple(services.rate_field(s) for s in PAINTED_SURFACES)


def _shown(settings) -> dict:
    from app.estimates.services import production_rates

    rates = {services.rate_field(s): str(r) for s, r in production_rates(settings).items()}
    estimate = {key: getattr(settings, key) for key in services.ESTIMATE_FIELDS}
    return {key: getattr(settings, key) for key in FIELDS} | estimate | rates | {"version": settings.version or 1}


def _render(data: dict, errors: dict, status: int = 200, changed=None, logo_error: str = ""):
    return render_for(
        {"company-form": "company/_form.html"},
        "company/settings.html",
        status,
        data=data,
        errors=errors,
        meanwhile=changed,
        logo=services.logo_data_url(),
        logo_error=logo_error,
        surfaces=_surfaces(),
    )


def _surfaces() -> list[tuple[str, str, str]]:
    """(form field, surface label, unit) of each painted surface's production rate."""
    from app.estimates.services import SURFACE_UNITS, surface_choices_painted

    return [(services.rate_field(code), label, SURFACE_UNITS[code]) for code, label in surface_choices_painted()]


@bp.get("/admin/company")
@login_required
@permission_required("settings.manage")
def settings():
    return _render(_shown(services.company()), {})


@bp.post("/admin/company")
@login_required
@permission_required("settings.manage")
def save():
    names = (*FIELDS, *services.ESTIMATE_FIELDS, *_rate_fields())
    data = {key: request.form[key] for key in names if key in request.form}
    data |= {key: request.form.get(key, "") for key in FIELDS}
    version = request.form.get("version")
    try:
        with attempt():
            services.update_company(current_user, data, version)
    except StaleObject as exc:
        changed = meanwhile(exc.obj, data, (*FIELDS, *services.ESTIMATE_FIELDS))
        return _render(data | {"version": exc.obj.version}, {}, 409, changed)
    except ValidationError as exc:
        return _render(data | {"version": version}, exc.fields or {"form": exc.message}, 422)
    flash("The company's details are saved.", "success")
    return redirect_to(url_for("company.settings"))


@bp.post("/admin/company/logo")
@login_required
@permission_required("settings.manage")
@accepts_uploads()
def logo():
    if request.form.get("remove"):
        services.remove_logo(current_user)
        flash("The logo is removed.", "success")
        return redirect_to(url_for("company.settings"))
    upload = request.files.get("logo")
    try:
        with attempt():
            services.set_logo(current_user, upload.read() if upload else b"")
    except ValidationError as exc:
        return _render(_shown(services.company()), {}, 422, logo_error=exc.fields.get("logo") or exc.message)
    flash("The new logo is saved: it is printed on invoices and estimates.", "success")
    return redirect_to(url_for("company.settings"))
