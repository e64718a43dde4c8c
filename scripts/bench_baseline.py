"""`make bench-check`: compare a bench run with the committed baseline (docs/bench-baseline.json).

What is compared, per target and per scale, each against its own margin (kept in the
file, `margins`): the p50 as a ratio to the floor page measured in the same run
(absolute milliseconds move with the machine's load; the ratio less), the gunicorn
workers' CPU per request as a ratio to the floor's (the steadiest figure on a shared
machine), and the SQL statements per request (exact: any rise fails). A target missing
from the baseline is reported as new, never a failure; one missing from the run is
listed. Pure functions, unit-tested in tests/test_bench_baseline.py.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

# How much each ratio may grow before bench-check fails, from the run-to-run spread
# measured on this 2-core shared machine (docs/performance.md, "bench-check"): the p50
# ratio moved by up to 86 % between runs at load 3-8, the CPU ratio by up to 33 %.
DEFAULT_MARGINS = {"p50_ratio": 1.0, "cpu_ratio": 0.5}
DEFAULT_MARGIN = DEFAULT_MARGINS["p50_ratio"]
LABELS = {
    "p50_ratio": "p50 ratio",
    "best_round_ratio": "quietest-round p50 ratio",
    "cpu_ratio": "worker CPU ratio",
}


@dataclass
class Comparison:
    regressed: list[dict] = field(default_factory=list)  # ratio above baseline × (1 + margin)
    queries_up: list[dict] = field(default_factory=list)  # more SQL statements than the baseline
    queries_across_scales: list[dict] = field(default_factory=list)  # more than at another scale
    new: list[str] = field(default_factory=list)  # in the run, not in the baseline
    missing: list[str] = field(default_factory=list)  # in the baseline, not in the run
    ok: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return bool(self.regressed or self.queries_up or self.queries_across_scales)


def entries(results: list[dict]) -> dict[str, dict]:
    """The baseline's record of a run: {target: {p50_ratio, p95_ratio, queries}}."""
    found = {}
    for r in results:
        if r.get("p50_ratio") is None:
            continue
        found[r["name"]] = {
            "p50_ratio": r["p50_ratio"],
            "p95_ratio": r.get("p95_ratio"),
            "best_round_ratio": r.get("best_round_ratio"),
            "cpu_ratio": r.get("cpu_ratio"),
            "p50_ms": r.get("p50_ms"),
            "worker_cpu_ms": r.get("worker_cpu_ms"),
            "queries": r.get("queries"),
        }
    return found


def compare(
    baseline: dict, scale: int, current: dict[str, dict], margins: dict[str, float] | None = None
) -> Comparison:
    """Compare `current` (entries() of a run at `scale`) with `baseline` (the file's data).

    Fails on a ratio (each metric of `margins`) above the same scale's baseline × (1 +
    its margin), on a query count above the same scale's baseline, and on a query count
    above the one recorded for the same target at another scale (query counts must not
    grow with volume)."""
    margins = margins if margins is not None else margins_of(baseline)
    result = Comparison()
    scales = baseline.get("scales", {})
    base = scales.get(str(scale), {}).get("targets", {})
    for name, now in current.items():
        before = base.get(name)
        if before is None:
            result.new.append(name)
        else:
            bad = False
            for metric, margin in margins.items():
                if not before.get(metric) or not now.get(metric):
                    continue
                limit = before[metric] * (1 + margin)
                if now[metric] > limit:
                    bad = True
                    result.regressed.append(
                        {
                            "name": name,
                            "metric": metric,
                            "margin": margin,
                            "baseline": before[metric],
                            "now": now[metric],
                            "limit": round(limit, 2),
                            "change": round(now[metric] / before[metric] - 1, 3),
                        }
                    )
            if _more(now.get("queries"), before.get("queries")):
                bad = True
                result.queries_up.append({"name": name, "baseline": before["queries"], "now": now["queries"]})
            if not bad:
                result.ok.append(name)
        for other, data in scales.items():
            if other == str(scale):
                continue
            there = data.get("targets", {}).get(name)
            if there and _more(now.get("queries"), there.get("queries")):
                result.queries_across_scales.append(
                    {"name": name, "scale": int(other), "there": there["queries"], "now": now["queries"]}
                )
    result.missing = sorted(set(base) - set(current))
    return result


def margins_of(baseline: dict) -> dict[str, float]:
    """The file's margins, or the defaults."""
    return dict(baseline.get("margins") or DEFAULT_MARGINS)


def _more(now, before) -> bool:
    return now is not None and before is not None and now > before


def load(path: Path) -> dict:
    return json.loads(path.read_text()) if path.exists() else {"scales": {}}


def updated(baseline: dict, scale: int, current: dict[str, dict], meta: dict) -> dict:
    """The baseline with this scale's section replaced by `current` (others kept)."""
    data = {"margins": margins_of(baseline), "scales": dict(baseline.get("scales", {}))}
    data["scales"][str(scale)] = {
        "written": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        **meta,
        "targets": current,
    }
    data["scales"] = dict(sorted(data["scales"].items(), key=lambda kv: int(kv[0])))
    return data


def report(result: Comparison) -> list[str]:
    lines = []
    for r in result.regressed:
        lines.append(
            f"  REGRESSED  {r['name']}: {LABELS.get(r['metric'], r['metric'])} {r['now']:.2f}×"
            f" vs baseline {r['baseline']:.2f}× ({r['change']:+.0%}, limit {r['limit']:.2f}× = +{r['margin']:.0%})"
        )
    for r in result.queries_up:
        lines.append(f"  QUERIES UP {r['name']}: {r['now']} SQL statements vs baseline {r['baseline']}")
    for r in result.queries_across_scales:
        lines.append(
            f"  QUERIES GROW WITH VOLUME {r['name']}: {r['now']} SQL statements vs {r['there']} at scale {r['scale']}"
        )
    for name in result.new:
        lines.append(f"  new        {name} (not in the baseline: not compared)")
    for name in result.missing:
        lines.append(f"  missing    {name} (in the baseline, not measured in this run)")
    return lines
