"""Money is Decimal in Python and Numeric(12, 2) in the database; one rounding rule.

The arithmetic of every priced document (estimates, change orders, invoices) lives here,
rounded half up to the cent at one defined point each (SPEC.md §3 "Money"):

- line total = quantity × unit price, rounded;
- subtotal = Σ rounded line totals;
- tax = Σ over the tax rates of (rate × the subtotal of the lines at that rate), each
  rounded — with one rate for the document, that is the tax on the subtotal, rounded;
- total = subtotal + tax;
- retention ≤ total; net payable = total − retention − paid (never below zero).

Floats never reach this module's answers: `to_money` reads a float through its repr,
and parsing of requests keeps numbers as Decimal (core.schemas, core.api.request_json).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
HUNDRED = Decimal(100)
MAX_AMOUNT = Decimal("10000000000")  # Numeric(12, 2) holds up to 9,999,999,999.99
# Quantities are Numeric(12, 3): a thousandth of a unit, up to a million units a line
QUANTITY_PLACES = Decimal("0.001")
MAX_QUANTITY = Decimal("1000000")
# Rates (tax, markup, retention) are percentages Numeric(6, 3): 0 to 100, three places
RATE_PLACES = Decimal("0.001")
_THOUSANDS = re.compile(r"-?\d{1,3}(,\d{3})+(\.\d+)?")


def round_money(amount: Decimal) -> Decimal:
    """The one rounding rule: half up to the cent."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def to_money(value) -> Decimal:
    """Round to cents, half up (the accounting rule). Raises ValueError on bad input."""
    if isinstance(value, Decimal):
        amount = value  # what the database gives: no need to go through text
    else:
        if isinstance(value, float):
            value = repr(value)
        try:
            amount = Decimal(str(value).strip().replace(",", "").replace("$", ""))
        except (InvalidOperation, AttributeError) as exc:
            raise ValueError("Enter an amount such as 1250.00") from exc
    if not amount.is_finite() or abs(amount) >= MAX_AMOUNT:
        raise ValueError("Enter an amount such as 1250.00 (under 10 billion)")
    return round_money(amount)


def money_str(value: Decimal | None) -> str | None:
    """The API form: a decimal string with two places."""
    return None if value is None else str(to_money(value))


def line_total(quantity: Decimal, unit_price: Decimal) -> Decimal:
    """quantity × unit price, rounded to the cent (the only rounding of a line)."""
    return round_money(Decimal(quantity) * Decimal(unit_price))


def percent_of(amount: Decimal, rate: Decimal) -> Decimal:
    """`rate` per cent of `amount`, rounded to the cent (tax, markup, retention)."""
    return round_money(Decimal(amount) * Decimal(rate) / HUNDRED)


@dataclass(frozen=True)
class Line:
    """What the arithmetic needs of a line: quantity, unit price and its tax rate (%)."""

    quantity: Decimal
    unit_price: Decimal
    tax_rate: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        return line_total(self.quantity, self.unit_price)


@dataclass(frozen=True)
class Totals:
    subtotal: Decimal
    tax_amount: Decimal
    total: Decimal
    retention: Decimal
    paid: Decimal

    @property
    def net_payable(self) -> Decimal:
        """What is still owed now: total − retention − paid, never below zero."""
        return max(self.total - self.retention - self.paid, ZERO)

    @property
    def balance(self) -> Decimal:
        """What is still owed in all, retention included (released by the final invoice)."""
        return max(self.total - self.paid, ZERO)


def totals(lines: Iterable[Line], retention: Decimal = ZERO, paid: Decimal = ZERO) -> Totals:
    """The document's figures from its lines. Retention above the total is the caller's
    validation error (`retention_problem`); here it is clamped so figures stay sane."""
    subtotal = ZERO
    by_rate: dict[Decimal, Decimal] = {}
    for line in lines:
        amount = line.total
        subtotal += amount
        rate = Decimal(line.tax_rate or 0)
        by_rate[rate] = by_rate.get(rate, ZERO) + amount
    tax = sum((percent_of(base, rate) for rate, base in by_rate.items() if rate), ZERO)
    total = subtotal + tax
    return Totals(subtotal, tax, total, min(Decimal(retention), max(total, ZERO)), Decimal(paid))


def retention_problem(retention: Decimal, total: Decimal) -> str | None:
    """Why a retention cannot be held on a document of `total`, or None."""
    if retention < 0:
        return "Retention cannot be negative."
    if retention > total:
        return f"Retention cannot be more than the total ({round_money(total)})."
    return None


def parse_quantity(value) -> Decimal:
    """A line's quantity from a form or JSON (never through a float): more than zero,
    at most three decimal places, under a million. ValueError says what to type."""
    amount = _decimal(value, "Enter a quantity such as 12 or 12.5")
    if amount <= 0:
        raise ValueError("The quantity must be more than zero.")
    if amount >= MAX_QUANTITY:  # before quantize: 28+ digits would raise InvalidOperation
        raise ValueError("That quantity is too large (under 1,000,000).")
    if amount != amount.quantize(QUANTITY_PLACES, rounding=ROUND_HALF_UP):
        raise ValueError("Use at most three decimal places for a quantity.")
    return amount.quantize(QUANTITY_PLACES)


def parse_rate(value, what: str = "rate") -> Decimal:
    """A percentage from 0 to 100 with at most three places (tax, markup, retention)."""
    amount = _decimal(value, f"Enter the {what} as a percentage such as 8.25")
    if amount < 0 or amount > HUNDRED:
        raise ValueError(f"The {what} must be between 0 and 100 %.")
    if amount != amount.quantize(RATE_PLACES, rounding=ROUND_HALF_UP):
        raise ValueError(f"Use at most three decimal places for the {what}.")
    return amount.quantize(RATE_PLACES)


def parse_price(value, what: str = "price", signed: bool = False) -> Decimal:
    """An amount typed by a person or sent as JSON: at most two places (no rounding of
    what was typed), under 10 billion; negative only when `signed` (a credit line)."""
    if isinstance(value, str) and _THOUSANDS.fullmatch(value.strip().lstrip("$")):
        value = value.replace(",", "")  # "1,250.00" as typed in the US; "12,5" stays refused
    amount = _decimal(value, f"Enter the {what} such as 1250.00")
    if abs(amount) >= MAX_AMOUNT:  # before quantize: 28+ digits would raise InvalidOperation
        raise ValueError(f"That {what} is too large (under 10 billion).")
    if amount != round_money(amount):
        raise ValueError(f"Use at most two decimal places for the {what}.")
    if amount < 0 and not signed:
        raise ValueError(f"The {what} cannot be negative.")
    return round_money(amount)


def _decimal(value, message: str) -> Decimal:
    """A finite Decimal from text, an int or a Decimal — "12,5", "1e9", NaN, floats,
    booleans and anything else are refused with `message`."""
    if isinstance(value, bool) or value is None:
        raise ValueError(message)
    if isinstance(value, int | Decimal):
        amount = Decimal(value)
    elif isinstance(value, str):
        text = value.strip().replace("$", "")
        if not text or any(c not in "0123456789.-" for c in text):
            raise ValueError(message)
        try:
            amount = Decimal(text)
        except InvalidOperation as exc:
            raise ValueError(message) from exc
    else:
        raise ValueError(message)
    if not amount.is_finite():
        raise ValueError(message)
    return amount
