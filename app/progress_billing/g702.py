"""The G702/G703 arithmetic, pure (no database): a pay application's continuation sheet
(G703 columns A–I per schedule-of-values line) and its summary (G702 lines 1–9, line 5
split into 5a retainage on completed work and 5b on stored materials).

Per line (C scheduled value, D from previous applications = the work (D + E) certified
before, E this period, F materials presently stored — a stock, not a flow):
    G = D + E + F;  % = G ÷ C;  H = C − G;  I = 5a part + 5b part
Retainage, each part rounded half up once per line (core.money):
    5a (work) = Σ over the line's certified periods and this one of (E × the rate that
                period's work was held at), rounded once — with one rate all along that is
                exactly rate × (D + E);
    5b (stored) = Σ over what is stored of (its amount × the rate it was stored at).
Materials keep the rate they were stored at (a stock held at its own rates): new storage
is held at the rate now; materials leaving storage leave at the average rate held on the
line's stored materials, and the work that installs them (this period's work up to what
left storage) carries that same rate into 5a. Negative work (a correction, with its
reason) takes back the line's work at its average held rate. With one rate all along
every figure is exactly rate × amount. `advance` is the one rule, replayed by
services.history over the certified periods.
The step-down ("10 % until 50 % complete, then 5 %"): once a previous certificate shows
the project at or past the threshold (its line 4 ÷ line 3), *new* work is held at the
stepped rate (never above the line's own rate); retainage already held on earlier work
stays held until it is released (a retainage release invoice), never silently refunded.
G702: 1 = Σ C of the original lines; 2 = Σ C of the lines approved change orders added;
3 = 1 + 2; 4 = Σ G; 5 = 5a + 5b; 6 = 4 − 5; 7 = the previous certificate's line 6 (what
earlier certificates made payable: Σ of their line 8); 8 = 6 − 7; 9 = 3 − 6.
Every figure is a Decimal; nothing here rounds but `round_money`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from app.core.money import HUNDRED, ZERO, round_money

PERCENT_PLACES = Decimal("0.01")


@dataclass(frozen=True)
class Terms:
    """The project's retainage terms: `retainage_pct` on every line without its own rate;
    from `step_down_at_pct` complete on, new work is held at `step_down_pct`."""

    retainage_pct: Decimal = Decimal("10")
    step_down_at_pct: Decimal | None = None
    step_down_pct: Decimal | None = None


@dataclass(frozen=True)
class LineIn:
    """One schedule-of-values line as this application bills it.

    `previous_work` is D; `previous_held_basis` the exact Σ (E × rate) of the line's
    certified periods (the unrounded retainage on the work already certified)."""

    key: object
    item: str
    description: str
    scheduled_value: Decimal
    this_period: Decimal = ZERO
    materials_stored: Decimal = ZERO
    retainage_pct: Decimal | None = None  # the line's own rate; None: the terms'
    is_change_order: bool = False
    previous_work: Decimal = ZERO
    previous_held_basis: Decimal = ZERO
    reason: str = ""
    previous_stored: Decimal = ZERO  # F on the previous certificate
    previous_stored_basis: Decimal = ZERO  # Σ (stored amount × the rate it was stored at)


@dataclass(frozen=True)
class Previous:
    """The latest certified application before this one (None for the first)."""

    contract_sum_to_date: Decimal
    total_completed_and_stored: Decimal
    total_earned_less_retainage: Decimal

    @property
    def percent_complete(self) -> Decimal:
        if self.contract_sum_to_date <= 0:
            return ZERO
        return self.total_completed_and_stored * HUNDRED / self.contract_sum_to_date


@dataclass(frozen=True)
class G703Row:
    key: object
    item: str
    description: str
    scheduled_value: Decimal  # C
    from_previous: Decimal  # D
    this_period: Decimal  # E
    materials_stored: Decimal  # F
    total_completed_and_stored: Decimal  # G
    percent: Decimal | None  # G ÷ C (None when C is 0)
    balance_to_finish: Decimal  # H
    retainage_on_work: Decimal
    retainage_on_stored: Decimal
    rate: Decimal  # the rate new work and new storage are held at this period
    held_basis: Decimal  # the work's exact Σ (amount × rate) including this period
    stored_basis: Decimal = ZERO  # the stored materials' exact Σ (amount × rate stored at)

    @property
    def retainage(self) -> Decimal:  # I
        return self.retainage_on_work + self.retainage_on_stored


@dataclass(frozen=True)
class G702:
    original_contract_sum: Decimal
    net_change_by_change_orders: Decimal
    contract_sum_to_date: Decimal
    total_completed_and_stored: Decimal
    retainage_on_completed: Decimal
    retainage_on_stored: Decimal
    retainage: Decimal
    total_earned_less_retainage: Decimal
    less_previous_certificates: Decimal
    current_payment_due: Decimal
    balance_to_finish_including_retainage: Decimal
    rows: tuple[G703Row, ...] = field(default=())
    stepped_down: bool = False

    @property
    def completed_work(self) -> Decimal:
        """Column D + E in all (the base of 5a)."""
        return sum((r.from_previous + r.this_period for r in self.rows), ZERO)

    @property
    def stored(self) -> Decimal:
        return sum((r.materials_stored for r in self.rows), ZERO)

    @property
    def percent_complete(self) -> Decimal | None:
        if self.contract_sum_to_date == 0:
            return None
        return (self.total_completed_and_stored * HUNDRED / self.contract_sum_to_date).quantize(
            PERCENT_PLACES, rounding=ROUND_HALF_UP
        )


def rate_for(line: LineIn, terms: Terms, stepped_down: bool) -> Decimal:
    own = terms.retainage_pct if line.retainage_pct is None else line.retainage_pct
    if stepped_down and terms.step_down_pct is not None:
        return min(own, terms.step_down_pct)
    return own


def is_stepped_down(terms: Terms, previous: Previous | None) -> bool:
    return (
        terms.step_down_at_pct is not None
        and previous is not None
        and previous.percent_complete >= terms.step_down_at_pct
    )


@dataclass(frozen=True)
class Held:
    """A line's position after a certified period: D, the work's basis, F and its basis."""

    work: Decimal = ZERO
    work_basis: Decimal = ZERO
    stored: Decimal = ZERO
    stored_basis: Decimal = ZERO


def advance(before: Held, this_period: Decimal, stored: Decimal, rate: Decimal) -> Held:
    """The one rule of what retainage a line holds after a period of `this_period` work
    with `stored` materials presently stored, new work and storage held at `rate`:
    materials keep the rate they were stored at, also once installed; a correction
    (negative work) takes back work at the line's average held rate."""
    e, f = Decimal(this_period), Decimal(stored)
    d, f_prev = before.work, before.stored
    if f < f_prev:  # materials left storage: at their average held rate
        leaving = f_prev - f
        leaving_basis = before.stored_basis if f == 0 else before.stored_basis * leaving / f_prev
        stored_basis = before.stored_basis - leaving_basis
    else:
        leaving, leaving_basis = ZERO, ZERO
        stored_basis = before.stored_basis + (f - f_prev) * rate
    if e == 0 or d == 0 or (e > 0) == (d > 0):  # work in the line's own direction
        installed = min(e, leaving) if e > 0 else ZERO
        carried = ZERO if installed == 0 else (leaving_basis if installed == leaving
                                               else leaving_basis * installed / leaving)  # fmt: skip
        work_basis = before.work_basis + carried + (e - installed) * rate
    else:  # a correction takes back work at the line's average held rate
        work_basis = ZERO if d + e == 0 else before.work_basis * (d + e) / d
    return Held(d + e, work_basis, f, stored_basis)


def compute(lines: Sequence[LineIn], terms: Terms, previous: Previous | None = None) -> G702:
    """The G703 rows and the G702 figures of one application."""
    stepped = is_stepped_down(terms, previous)
    rows = []
    for line in lines:
        rate = rate_for(line, terms, stepped)
        c, d, e, f = (Decimal(x) for x in (line.scheduled_value, line.previous_work, line.this_period,
                                            line.materials_stored))  # fmt: skip
        g = d + e + f
        after = advance(Held(d, Decimal(line.previous_held_basis), Decimal(line.previous_stored),
                             Decimal(line.previous_stored_basis)), e, f, rate)  # fmt: skip
        basis = after.work_basis
        percent = None if c == 0 else (g * HUNDRED / c).quantize(PERCENT_PLACES, rounding=ROUND_HALF_UP)
        rows.append(
            G703Row(
                key=line.key,
                item=line.item,
                description=line.description,
                scheduled_value=c,
                from_previous=d,
                this_period=e,
                materials_stored=f,
                total_completed_and_stored=g,
                percent=percent,
                balance_to_finish=c - g,
                retainage_on_work=round_money(basis / HUNDRED),
                retainage_on_stored=round_money(after.stored_basis / HUNDRED),
                rate=rate,
                held_basis=basis,
                stored_basis=after.stored_basis,
            )
        )
    line1 = sum((r.scheduled_value for r, li in zip(rows, lines, strict=True) if not li.is_change_order), ZERO)
    line2 = sum((r.scheduled_value for r, li in zip(rows, lines, strict=True) if li.is_change_order), ZERO)
    line3 = line1 + line2
    line4 = sum((r.total_completed_and_stored for r in rows), ZERO)
    line5a = sum((r.retainage_on_work for r in rows), ZERO)
    line5b = sum((r.retainage_on_stored for r in rows), ZERO)
    line5 = line5a + line5b
    line6 = line4 - line5
    line7 = previous.total_earned_less_retainage if previous is not None else ZERO
    return G702(
        original_contract_sum=line1,
        net_change_by_change_orders=line2,
        contract_sum_to_date=line3,
        total_completed_and_stored=line4,
        retainage_on_completed=line5a,
        retainage_on_stored=line5b,
        retainage=line5,
        total_earned_less_retainage=line6,
        less_previous_certificates=line7,
        current_payment_due=line6 - line7,
        balance_to_finish_including_retainage=line3 - line6,
        rows=tuple(rows),
        stepped_down=stepped,
    )


def problems(lines: Sequence[LineIn]) -> dict[int, str]:
    """What is wrong with each line as billed (index → message), before anything is
    written: more than 100 % of a line claimed, the work to date below zero, negative
    work this period without a reason, negative materials."""
    found: dict[int, str] = {}
    for index, line in enumerate(lines):
        c = Decimal(line.scheduled_value)
        e, f = Decimal(line.this_period), Decimal(line.materials_stored)
        g = Decimal(line.previous_work) + e + f
        label = f"Line {line.item or index + 1}"
        if f < 0:
            found[index] = f"{label}: materials presently stored cannot be negative."
        elif e < 0 and not line.reason.strip():
            found[index] = (
                f"{label}: work this period is negative — give the reason (a correction of an earlier claim)."
            )
        elif (c >= 0 and g > c) or (c < 0 and g < c):
            found[index] = (
                f"{label}: {g:,.2f} completed and stored would be more than 100 % of its scheduled value ({c:,.2f})."
            )
        elif (c >= 0 and (g < 0 or line.previous_work + e < 0)) or (c < 0 and (g > 0 or line.previous_work + e > 0)):
            found[index] = f"{label}: the work to date cannot go below zero."
    return found


def certify_problem(result: G702, released: Decimal) -> str | None:
    """Why an application with these figures cannot be certified (pure: the property test
    drives it), or None: a certificate never takes money back (line 8 below zero) and
    never holds less retainage than has been released already (line 5 below released)."""
    if result.current_payment_due < 0:
        return (
            f"The current payment due (line 8) would be {result.current_payment_due:,.2f}: a certificate cannot "
            "take money back. Lower the correction (the negative work) so that this period's work covers it, "
            "and carry the rest of it to the next application."
        )
    if result.retainage < released:
        return (
            f"Retainage held (line 5) would be {result.retainage:,.2f}, below the {released:,.2f} already "
            "released: lower the correction (the negative work or the materials taken out of storage), or "
            "cancel a retainage release that has not been paid."
        )
    return None
