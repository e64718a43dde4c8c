"""The monthly trend as a server-drawn SVG bar chart (no script, no inline style: the
bars' colours are CSS classes in static/css/reports.css). The geometry is computed here;
templates/reports/_trend_chart.html draws it. The viewBox is narrow (420 units) so that a
phone shows month labels at a readable size; CSS caps its width on a desktop."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

WIDTH, HEIGHT = 420, 220
LEFT, RIGHT, TOP, BOTTOM = 44, 6, 10, 24
SERIES = (("invoiced", "Invoiced"), ("collected", "Collected"), ("costs", "Costs"))


@dataclass(frozen=True)
class Bar:
    series: str
    label: str
    value: Decimal
    x: float
    y: float
    width: float
    height: float
    month: object  # services.Month


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    ticks: list[Tick]
    labels: list[tuple[float, str]]  # (x, month's short name)
    baseline: float
    left: int
    right: int
    empty: bool = False  # nothing in or out in these months


def _nice(top: Decimal) -> Decimal:
    """A round ceiling for the scale (1, 2, 2.5, 5 × a power of ten)."""
    if top <= 0:
        return Decimal(1)
    power = Decimal(10) ** (len(str(int(top))) - 1)
    for step in (1, 2, Decimal("2.5"), 5, 10):
        if top <= power * step:
            return power * step
    return power * 10


def compact(value: Decimal) -> str:
    """$1.2k, $35k, $1.5M — for the axis."""
    value = Decimal(value)
    for size, suffix in ((Decimal(1_000_000), "M"), (Decimal(1000), "k")):
        if abs(value) >= size:
            shown = (value / size).quantize(Decimal("0.1"))
            return f"${shown.normalize():f}{suffix}"
    if value == value.to_integral_value():
        return f"${value.quantize(Decimal(1)):f}"
    return f"${value.normalize():f}"


def trend_chart(months) -> Chart:
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    top = _nice(max((max(m.invoiced, m.collected, m.costs) for m in months), default=Decimal(0)))
    count = max(len(months), 1)
    group = plot_w / count
    bar_w = max(group * 0.8 / len(SERIES), 1.0)
    baseline = TOP + plot_h
    bars = []
    for i, month in enumerate(months):
        for j, (series, label) in enumerate(SERIES):
            value = getattr(month, series)
            height = float(max(value, Decimal(0)) / top) * plot_h
            x = LEFT + i * group + group * 0.1 + j * bar_w
            bars.append(Bar(series, label, value, round(x, 2), round(baseline - height, 2), round(bar_w, 2),
                            round(height, 2), month))  # fmt: skip
    ticks = [Tick(round(baseline - plot_h * k / 2, 2), compact(top * k / 2)) for k in range(3)]
    every = 1 if count <= 12 else 2 if count <= 24 else 3
    labels = [(round(LEFT + i * group + group / 2, 2), m.short) for i, m in enumerate(months) if i % every == 0]
    empty = not any(m.invoiced or m.collected or m.costs for m in months)
    return Chart(WIDTH, HEIGHT, bars, ticks, labels, baseline, LEFT, WIDTH - RIGHT, empty)
