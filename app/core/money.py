"""Money is Decimal in Python and Numeric(12, 2) in the database; one rounding rule."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("10000000000")  # Numeric(12, 2) holds up to 9,999,999,999.99


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
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def money_str(value: Decimal | None) -> str | None:
    """The API form: a decimal string with two places."""
    return None if value is None else str(to_money(value))
