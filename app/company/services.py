"""The company's details: read by invoices and estimates (their PDFs and emails),
changed by admins (settings.manage). Reading never writes: before an admin first saves,
the details are the defaults (an unsaved row)."""

from __future__ import annotations

import base64
from decimal import Decimal

from app.company.models import CompanySettings
from app.core import storage
from app.core.errors import ValidationError
from app.core.money import parse_price, parse_rate
from app.core.permissions import require
from app.core.text import LONG_TEXT, check_lengths, declare_limits
from app.core.transaction import after_commit
from app.core.validators import EMAIL_RE
from app.core.versioning import checks_version, expect_version
from app.extensions import db

LIMITS = declare_limits(
    "company",
    {
        "name": 200,
        "address": 300,
        "city": 120,
        "state": 60,
        "zip": 20,
        "phone": 40,
        "email": 254,
        "website": 200,
        "payment_instructions": LONG_TEXT,
        "estimate_terms": LONG_TEXT,
    },
)
TEXTS = ("name", "address", "city", "state", "zip", "phone", "email", "website", "payment_instructions")
LOGO_LONGEST = 600  # pixels: sharp on a printed page, small in every PDF


def company() -> CompanySettings:
    """The saved details, or the defaults (not added to the session: a read writes nothing)."""
    found = db.session.get(CompanySettings, 1)
    if found is not None:
        return found
    defaults = {
        column.key: column.default.arg
        for column in CompanySettings.__table__.columns
        if column.default is not None and not callable(column.default.arg)
    }
    return CompanySettings(**defaults)


def _row() -> CompanySettings:
    """The row to write, inserted with the defaults on the first save."""
    found = db.session.get(CompanySettings, 1)
    if found is None:
        found = company()
        db.session.add(found)
        db.session.flush()
    return found


def clean(data: dict) -> dict:
    values = {key: str(data.get(key) or "").strip() for key in TEXTS}
    errors: dict[str, str] = {}
    check_lengths(values, LIMITS, errors)
    if not values["name"]:
        errors["name"] = "Enter the company's name."
    if values["email"] and not EMAIL_RE.fullmatch(values["email"]):
        errors["email"] = "Enter an email address such as office@example.com."
    try:
        raw = data.get("default_tax_rate")
        values["default_tax_rate"] = parse_rate(raw if raw not in (None, "") else 0, "tax rate")
    except ValueError as exc:
        errors["default_tax_rate"] = str(exc)
    if errors:
        raise ValidationError(errors)
    return values


@checks_version("settings")
def _save(actor, settings: CompanySettings, values: dict, version) -> CompanySettings:
    expect_version(settings, version)
    for key, value in values.items():
        setattr(settings, key, value)
    db.session.flush()
    return settings


# --- estimate defaults (the company form's "Estimates" section) ----------------------

ESTIMATE_FIELDS = (
    "estimate_labor_rate",
    "estimate_price_per_gallon",
    "estimate_coverage",
    "estimate_markup_pct",
    "estimate_valid_days",
    "estimate_terms",
)
MAX_PRODUCTION_RATE = Decimal("100000")


def rate_field(surface: str) -> str:
    """The form's name of a surface's production rate."""
    return f"rate_{surface}"


def parse_production_rate(value, what: str = "production rate") -> Decimal:
    """Units per hour: more than 0, at most two places, under 100,000."""
    amount = parse_price(value, what)
    if amount <= 0:
        raise ValueError(f"The {what} must be more than zero (units per hour).")
    if amount >= MAX_PRODUCTION_RATE:
        raise ValueError(f"That {what} is too large (under 100,000 per hour).")
    return amount


def parse_coverage(value, what: str = "coverage") -> Decimal:
    """Square feet per gallon: more than 0, at most two places, under 100,000."""
    amount = parse_price(value, what)
    if amount <= 0:
        raise ValueError(f"The {what} must be more than zero (sq ft per gallon).")
    if amount >= MAX_PRODUCTION_RATE:
        raise ValueError(f"That {what} is too large (under 100,000 sq ft per gallon).")
    return amount


def estimate_values(data: dict, current: CompanySettings, errors: dict) -> dict:
    """The estimate defaults sent (a field not sent keeps its value), validated."""
    from app.estimates.models import PAINTED_SURFACES
    from app.estimates.services import production_rates

    values: dict = {}
    parsers = {
        "estimate_labor_rate": lambda v: parse_price(v, "labour rate"),
        "estimate_price_per_gallon": lambda v: parse_price(v, "price per gallon"),
        "estimate_coverage": parse_coverage,
        "estimate_markup_pct": lambda v: parse_rate(v, "markup"),
    }
    for key, parse in parsers.items():
        if key not in data:
            continue
        try:
            values[key] = parse(str(data.get(key) or "").strip() or "0")
        except ValueError as exc:
            errors[key] = str(exc)
    if "estimate_valid_days" in data:
        raw = str(data.get("estimate_valid_days") or "").strip()
        if not raw.isdigit() or not 1 <= int(raw) <= 365:
            errors["estimate_valid_days"] = "Enter whole days from 1 to 365."
        else:
            values["estimate_valid_days"] = int(raw)
    if "estimate_terms" in data:
        values["estimate_terms"] = str(data.get("estimate_terms") or "").strip()
    rates = {surface: str(rate) for surface, rate in production_rates(current).items()}
    touched = False
    for surface in PAINTED_SURFACES:
        key = rate_field(surface)
        if key not in data:
            continue
        touched = True
        try:
            rates[surface] = str(parse_production_rate(str(data.get(key) or "").strip(), "production rate"))
        except ValueError as exc:
            errors[key] = str(exc)
    if touched:
        values["production_rates"] = rates
    return values


def update_company(actor, data: dict, version=None) -> CompanySettings:
    require(actor, "settings.manage")
    errors: dict[str, str] = {}
    try:
        values = clean(data)
    except ValidationError as exc:
        values, errors = {}, dict(exc.fields)
    values |= estimate_values(data, company(), errors)
    if "estimate_terms" in values:
        check_lengths({"estimate_terms": values["estimate_terms"]}, LIMITS, errors)
    if errors:
        raise ValidationError(errors)
    return _save(actor, _row(), values, version)


def set_logo(actor, data: bytes) -> CompanySettings:
    """A new logo: a photo judged by its content (core.uploads), kept as a PNG copy at
    most LOGO_LONGEST pixels wide or high; the old one is deleted after the commit."""
    from app.core.uploads import inspect

    require(actor, "settings.manage")
    upload = inspect(data, "logo", accept=("photo",))
    png = _png(upload.data)
    settings = _row()
    old = settings.logo_key
    settings.logo_key = storage.save(storage.new_key("company", "png"), png, "image/png")
    settings.logo_content_type = "image/png"
    db.session.flush()
    if old:
        after_commit(lambda: storage.delete(old))
    return settings


def remove_logo(actor) -> CompanySettings:
    require(actor, "settings.manage")
    settings = _row()
    old = settings.logo_key
    settings.logo_key = settings.logo_content_type = None
    db.session.flush()
    if old:
        after_commit(lambda: storage.delete(old))
    return settings


def _png(data: bytes) -> bytes:
    import io

    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        image.thumbnail((LOGO_LONGEST, LOGO_LONGEST))
        copy = image.convert("RGBA") if image.mode not in ("RGB", "RGBA", "L", "LA") else image
        out = io.BytesIO()
        copy.save(out, "PNG", optimize=True)
    return out.getvalue()


def logo_data_url() -> str | None:
    """The logo inline (data: URL) for PDFs and the settings page, or None."""
    settings = company()
    if not settings.logo_key:
        return None
    try:
        data = storage.read(settings.logo_key)
    except (OSError, KeyError, ValueError):
        return None
    except Exception:  # noqa: BLE001 - a missing S3 object must not stop an invoice from printing
        return None
    return f"data:{settings.logo_content_type or 'image/png'};base64," + base64.b64encode(data).decode("ascii")
