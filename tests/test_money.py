"""core.money: the one arithmetic of priced documents (SPEC.md §3 "Money") and the parsing
of typed or JSON numbers without floats. Examples first, then properties checked by
hypothesis against an independent computation in exact fractions (not Decimal.quantize)."""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.money import (
    Line,
    Totals,
    line_total,
    parse_price,
    parse_quantity,
    parse_rate,
    retention_problem,
    totals,
)

D = Decimal


# --- an independent rounding: exact fractions, half away from zero, to the cent ------------


def cents(value: Fraction) -> Decimal:
    """`value` rounded half up (away from zero, the accounting rule) to the cent."""
    scaled = abs(value) * 100
    whole = math.floor(scaled + Fraction(1, 2))
    return Decimal(whole if value >= 0 else -whole).scaleb(-2)


def exact(value: Decimal) -> Fraction:
    return Fraction(value)


def two_places(amount: Decimal) -> bool:
    return amount.as_tuple().exponent == -2


# --- line_total ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("quantity", "price", "expected"),
    [
        ("12.5", "120.00", "1500.00"),
        ("0.333", "10.00", "3.33"),  # 3.330
        ("0.5", "0.01", "0.01"),  # 0.005: half up (banker's rounding would give 0.00)
        ("0.5", "0.05", "0.03"),  # 0.025: half up (banker's would give 0.02)
        ("0.001", "4.99", "0.00"),  # 0.00499
        ("1", "-250.00", "-250.00"),  # a credit line
        ("0.5", "-0.01", "-0.01"),  # -0.005: away from zero
        ("999999.999", "9999999999.99", "9999999989990000.00"),  # the largest line: no float, no overflow
    ],
)
def test_line_total_is_quantity_times_price_rounded_half_up(quantity, price, expected):
    result = line_total(D(quantity), D(price))
    assert result == D(expected)
    assert str(result) == expected  # two places, never an exponent
    assert Line(D(quantity), D(price)).total == result


# --- totals --------------------------------------------------------------------------------


def test_totals_of_an_invoice_with_tax():
    lines = [Line(D("1"), D("1000.00"), D("8.25")), Line(D("12.5"), D("120.00"), D("8.25"))]
    figures = totals(lines, retention=D("100.00"), paid=D("500.00"))
    assert (figures.subtotal, figures.tax_amount, figures.total) == (D("2500.00"), D("206.25"), D("2706.25"))
    assert (figures.retention, figures.paid) == (D("100.00"), D("500.00"))
    assert figures.net_payable == D("2106.25")
    assert figures.balance == D("2206.25")


def test_tax_is_on_the_subtotal_not_summed_from_rounded_lines():
    # three lines of 0.10 at 5 %: each line's tax is 0.005 → 0.01, three of them 0.03;
    # the rule is the tax on the subtotal: 5 % of 0.30 = 0.015 → 0.02
    figures = totals([Line(D("1"), D("0.10"), D("5"))] * 3)
    assert figures.subtotal == D("0.30")
    assert figures.tax_amount == D("0.02")
    assert figures.total == D("0.32")


def test_tax_is_per_rate_and_untaxed_lines_carry_none():
    lines = [
        Line(D("1"), D("100.00"), D("8.25")),  # 8.25
        Line(D("1"), D("33.33"), D("10")),  # 3.333 → 3.33
        Line(D("1"), D("50.00"), D("0")),  # no tax
        Line(D("1"), D("-20.00"), D("0")),  # a deposit applied: no tax
    ]
    figures = totals(lines)
    assert figures.subtotal == D("163.33")
    assert figures.tax_amount == D("11.58")
    assert figures.total == D("174.91")


def test_no_lines_make_zero_in_cents():
    figures = totals([])
    assert figures == Totals(D("0.00"), D("0.00"), D("0.00"), D("0.00"), D("0.00"))
    assert str(figures.total) == "0.00"


def test_retention_above_the_total_is_clamped_and_overpaid_owes_nothing():
    figures = totals([Line(D("1"), D("100.00"))], retention=D("250.00"), paid=D("0"))
    assert figures.retention == D("100.00")
    assert figures.net_payable == D("0.00")
    overpaid = totals([Line(D("1"), D("100.00"))], paid=D("150.00"))
    assert overpaid.net_payable == D("0.00") and overpaid.balance == D("0.00")


def test_credits_larger_than_charges_hold_no_retention():
    figures = totals([Line(D("1"), D("100.00")), Line(D("1"), D("-300.00"))], retention=D("10.00"))
    assert figures.total == D("-200.00")
    assert figures.retention == D("0.00")
    assert figures.net_payable == D("0.00")


# --- retention_problem -----------------------------------------------------------------


def test_retention_problem():
    assert retention_problem(D("0"), D("100.00")) is None
    assert retention_problem(D("100.00"), D("100.00")) is None  # all of it may be held
    assert retention_problem(D("-0.01"), D("100.00")) == "Retention cannot be negative."
    assert retention_problem(D("100.01"), D("100.00")) == "Retention cannot be more than the total (100.00)."
    # the total in the message is in cents even when handed more places
    assert retention_problem(D("5"), D("4.005")) == "Retention cannot be more than the total (4.01)."


# --- parsing: what is accepted ------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("12", "12.000"), (" 12.5 ", "12.500"), ("0.001", "0.001"), (3, "3.000"), (D("2.25"), "2.250"),
     ("999999.999", "999999.999")],
)  # fmt: skip
def test_parse_quantity_accepts(raw, expected):
    result = parse_quantity(raw)
    assert isinstance(result, Decimal) and str(result) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("8.25", "8.250"), ("0", "0.000"), ("100", "100.000"), (7, "7.000"), (D("8.125"), "8.125")],
)
def test_parse_rate_accepts(raw, expected):
    result = parse_rate(raw)
    assert isinstance(result, Decimal) and str(result) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1250", "1250.00"), ("1250.5", "1250.50"), ("$1250.00", "1250.00"), ("1,250.00", "1250.00"),
     ("$1,250.00", "1250.00"), ("12,345,678.90", "12345678.90"), (" 1,250 ", "1250.00"), (0, "0.00"),
     (D("19.99"), "19.99"), ("9999999999.99", "9999999999.99")],
)  # fmt: skip
def test_parse_price_accepts(raw, expected):
    result = parse_price(raw)
    assert isinstance(result, Decimal) and str(result) == expected


def test_a_negative_price_only_when_signed():
    assert parse_price("-250.00", signed=True) == D("-250.00")
    assert parse_price("-1,250.00", "unit price", signed=True) == D("-1250.00")
    with pytest.raises(ValueError, match=r"^The unit price cannot be negative\.$"):
        parse_price("-250.00", "unit price")


def test_thousands_separators_are_for_prices_only():
    assert parse_price("1,250.00") == D("1250.00")
    with pytest.raises(ValueError, match=r"^Enter a quantity such as 12 or 12\.5$"):
        parse_quantity("1,250.00")
    with pytest.raises(ValueError, match=r"^Enter the rate as a percentage such as 8\.25$"):
        parse_rate("1,250.00")


# --- parsing: what is refused, and the message that says what to type ----------------------

QUANTITY_TYPE = r"^Enter a quantity such as 12 or 12\.5$"
RATE_TYPE = r"^Enter the tax rate as a percentage such as 8\.25$"
PRICE_TYPE = r"^Enter the unit price such as 1250\.00$"

# "what was typed is not a number as people type one": the same message for each
NOT_A_NUMBER = ["1e9", "NaN", "nan", "Infinity", "-inf", "12,5", "1.2.3", "-", ".", "12 5", "0x10", "١٢",
                "1_000", "$", "", "   ", None, True, False, 1.5, 0.1, float("nan"), [1], {"a": 1}, D("NaN"),
                D("sNaN"), D("Infinity")]  # fmt: skip


@pytest.mark.parametrize("raw", NOT_A_NUMBER, ids=repr)
def test_parse_quantity_refuses_what_is_not_a_number(raw):
    with pytest.raises(ValueError, match=QUANTITY_TYPE):
        parse_quantity(raw)


@pytest.mark.parametrize("raw", NOT_A_NUMBER, ids=repr)
def test_parse_rate_refuses_what_is_not_a_number(raw):
    with pytest.raises(ValueError, match=RATE_TYPE):
        parse_rate(raw, "tax rate")


@pytest.mark.parametrize("raw", NOT_A_NUMBER, ids=repr)
def test_parse_price_refuses_what_is_not_a_number(raw):
    with pytest.raises(ValueError, match=PRICE_TYPE):
        parse_price(raw, "unit price")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("-3", r"^The quantity must be more than zero\.$"),
        ("0", r"^The quantity must be more than zero\.$"),
        (-1, r"^The quantity must be more than zero\.$"),
        ("0.0001", r"^Use at most three decimal places for a quantity\.$"),
        ("12.0005", r"^Use at most three decimal places for a quantity\.$"),
        ("1000000", r"^That quantity is too large \(under 1,000,000\)\.$"),
        (10**40, r"^That quantity is too large \(under 1,000,000\)\.$"),
        ("9" * 40, r"^That quantity is too large \(under 1,000,000\)\.$"),
        (D("1E+40"), r"^That quantity is too large \(under 1,000,000\)\.$"),  # a JSON number 1e40
    ],
)
def test_parse_quantity_says_what_is_wrong(raw, message):
    with pytest.raises(ValueError, match=message):
        parse_quantity(raw)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("-3", r"^The tax rate must be between 0 and 100 %\.$"),
        ("100.001", r"^The tax rate must be between 0 and 100 %\.$"),
        ("9" * 40, r"^The tax rate must be between 0 and 100 %\.$"),
        ("0.0001", r"^Use at most three decimal places for the tax rate\.$"),
        ("8.2501", r"^Use at most three decimal places for the tax rate\.$"),
    ],
)
def test_parse_rate_says_what_is_wrong(raw, message):
    with pytest.raises(ValueError, match=message):
        parse_rate(raw, "tax rate")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("-3", r"^The unit price cannot be negative\.$"),
        ("0.0001", r"^Use at most two decimal places for the unit price\.$"),
        ("19.999", r"^Use at most two decimal places for the unit price\.$"),  # never rounded silently
        ("1,250.001", r"^Use at most two decimal places for the unit price\.$"),
        ("10000000000", r"^That unit price is too large \(under 10 billion\)\.$"),
        ("9" * 40, r"^That unit price is too large \(under 10 billion\)\.$"),
        (10**40, r"^That unit price is too large \(under 10 billion\)\.$"),
        (D("1E+40"), r"^That unit price is too large \(under 10 billion\)\.$"),  # a JSON number 1e40
        ("12,50", PRICE_TYPE),  # a decimal comma is not a thousands separator
        ("1,25,000", PRICE_TYPE),
    ],
)
def test_parse_price_says_what_is_wrong(raw, message):
    with pytest.raises(ValueError, match=message):
        parse_price(raw, "unit price")


def test_the_default_names_in_the_messages():
    with pytest.raises(ValueError, match=r"^Enter the price such as 1250\.00$"):
        parse_price("abc")
    with pytest.raises(ValueError, match=r"^Enter the rate as a percentage such as 8\.25$"):
        parse_rate("abc")


# --- properties ------------------------------------------------------------------------------

quantities = st.integers(min_value=1, max_value=999_999_999).map(lambda n: Decimal(n).scaleb(-3))
prices = st.integers(min_value=-999_999_999_999, max_value=999_999_999_999).map(lambda n: Decimal(n).scaleb(-2))
rates = st.integers(min_value=0, max_value=100_000).map(lambda n: Decimal(n).scaleb(-3))
amounts = st.integers(min_value=0, max_value=10**13).map(lambda n: Decimal(n).scaleb(-2))
line_lists = st.lists(st.builds(Line, quantities, prices, rates), max_size=30)


def _one_rate(rate, pairs):
    return [Line(q, p, rate) for q, p in pairs]


@settings(max_examples=200, deadline=None)
@given(line_lists)
def test_subtotal_is_the_sum_of_the_lines_each_rounded_half_up(lines):
    figures = totals(lines)
    expected = sum((cents(exact(line.quantity) * exact(line.unit_price)) for line in lines), Decimal("0.00"))
    assert figures.subtotal == expected
    assert two_places(figures.subtotal)


@settings(max_examples=200, deadline=None)
@given(rates, st.lists(st.tuples(quantities, prices), max_size=30))
def test_with_one_rate_the_tax_is_the_rate_of_the_subtotal_rounded_half_up(rate, pairs):
    figures = totals(_one_rate(rate, pairs))
    assert figures.tax_amount == cents(exact(figures.subtotal) * exact(rate) / 100)
    assert two_places(figures.tax_amount)


@settings(max_examples=200, deadline=None)
@given(line_lists)
def test_with_several_rates_the_tax_is_each_rates_share_rounded(lines):
    bases: dict[Fraction, Fraction] = {}
    for line in lines:
        rate = exact(line.tax_rate)
        bases[rate] = bases.get(rate, Fraction(0)) + exact(cents(exact(line.quantity) * exact(line.unit_price)))
    expected = sum((cents(base * rate / 100) for rate, base in bases.items()), Decimal("0.00"))
    assert totals(lines).tax_amount == expected


@settings(max_examples=200, deadline=None)
@given(line_lists)
def test_total_is_subtotal_plus_tax(lines):
    figures = totals(lines)
    assert figures.total == figures.subtotal + figures.tax_amount
    assert two_places(figures.total)


@settings(max_examples=200, deadline=None)
@given(line_lists, amounts, amounts)
def test_net_payable_is_never_negative_and_retention_is_clamped_to_the_total(lines, retention, paid):
    figures = totals(lines, retention=retention, paid=paid)
    assert figures.retention == min(retention, max(figures.total, Decimal(0)))
    assert 0 <= figures.retention <= max(figures.total, Decimal(0))
    assert figures.net_payable >= 0
    assert figures.net_payable == max(figures.total - figures.retention - paid, Decimal(0))
    assert figures.balance >= figures.net_payable
    if figures.total >= 0 and retention <= figures.total:
        assert retention_problem(retention, figures.total) is None
        assert figures.retention == retention
    elif retention > figures.total:
        assert retention_problem(retention, figures.total) is not None


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=-(10**12) + 1, max_value=10**12 - 1))
def test_any_price_in_cents_parses_back_to_itself_typed_with_or_without_separators(n):
    amount = Decimal(n).scaleb(-2)
    assert parse_price(str(amount), signed=True) == amount
    assert parse_price(f"{amount:,}", signed=True) == amount
    assert parse_price(f"${amount:,}", signed=True) == amount
