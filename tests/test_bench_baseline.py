"""`make bench-check`'s comparison with the committed baseline (scripts/bench_baseline.py):
pure logic on made-up figures — nothing here is timed."""

from scripts.bench_baseline import DEFAULT_MARGINS, compare, entries, margins_of, report, updated

P50 = {"p50_ratio": 0.35}


def _baseline(**scales):
    return {
        "margins": {"p50_ratio": 0.35, "cpu_ratio": 0.3},
        "scales": {str(k): {"targets": v} for k, v in scales.items()},
    }


def _target(ratio, queries, cpu=None):
    return {"p50_ratio": ratio, "queries": queries, "cpu_ratio": cpu}


def test_within_margin_passes_and_names_nothing():
    baseline = _baseline(**{"100": {"list": _target(3.0, 5), "health": _target(1.0, 2)}})
    result = compare(baseline, 100, {"list": _target(4.0, 5), "health": _target(0.8, 2)}, P50)
    assert not result.failed
    assert result.ok == ["list", "health"]
    assert report(result) == []


def test_ratio_above_the_margin_fails_and_names_the_target():
    baseline = _baseline(**{"100": {"list": _target(3.0, 5), "health": _target(1.0, 2)}})
    result = compare(baseline, 100, {"list": _target(4.1, 5), "health": _target(1.0, 2)}, P50)
    assert result.failed
    assert [r["name"] for r in result.regressed] == ["list"]
    assert result.regressed[0]["limit"] == 4.05
    assert "REGRESSED  list: p50 ratio 4.10×" in report(result)[0]


def test_each_metric_has_its_own_margin_from_the_file():
    baseline = _baseline(**{"100": {"list": _target(3.0, 5, cpu=10.0)}})
    steady_cpu = compare(baseline, 100, {"list": _target(3.9, 5, cpu=12.9)})  # +30 %, +29 %
    assert not steady_cpu.failed
    more_cpu = compare(baseline, 100, {"list": _target(3.0, 5, cpu=13.5)})  # +35 % CPU: over its 30 %
    assert more_cpu.failed and [(r["name"], r["metric"]) for r in more_cpu.regressed] == [("list", "cpu_ratio")]
    assert "worker CPU ratio 13.50×" in report(more_cpu)[0]


def test_any_rise_in_queries_fails_even_when_faster():
    baseline = _baseline(**{"100": {"list": _target(3.0, 5)}})
    result = compare(baseline, 100, {"list": _target(2.0, 6)}, P50)
    assert result.failed and result.queries_up == [{"name": "list", "baseline": 5, "now": 6}]
    assert not compare(baseline, 100, {"list": _target(2.0, 4)}, P50).failed  # fewer is fine


def test_new_targets_are_reported_not_failed_and_missing_ones_listed():
    baseline = _baseline(**{"100": {"list": _target(3.0, 5), "gone": _target(1.0, 1)}})
    result = compare(baseline, 100, {"list": _target(3.0, 5), "invoices": _target(9.0, 20)}, P50)
    assert not result.failed
    assert result.new == ["invoices"] and result.missing == ["gone"]
    assert any("new        invoices" in line for line in report(result))


def test_other_scale_ratios_are_not_compared_but_query_counts_are():
    baseline = _baseline(**{"100": {"list": _target(2.0, 5)}})
    slow_but_same = compare(baseline, 500, {"list": _target(5.0, 5)}, P50)
    assert not slow_but_same.failed and slow_but_same.new == ["list"]
    grows = compare(baseline, 500, {"list": _target(2.0, 6)}, P50)
    assert grows.failed and grows.queries_across_scales == [{"name": "list", "scale": 100, "there": 5, "now": 6}]


def test_entries_and_updated_keep_other_scales_and_the_margins():
    run = [
        {"name": "list", "p50_ratio": 3.1, "p95_ratio": 3.3, "p50_ms": 12.0, "queries": 5, "cpu_ratio": 9.0},
        {"name": "/health/ during a burst", "p50_ms": 8.0},  # no ratio: not a baseline target
    ]
    current = entries(run)
    assert list(current) == ["list"]
    data = updated(_baseline(**{"500": {"list": _target(4.0, 5)}}), 100, current, {"requests": 200})
    assert list(data["scales"]) == ["100", "500"]
    assert data["scales"]["100"]["targets"]["list"]["p50_ratio"] == 3.1
    assert data["scales"]["500"]["targets"]["list"]["p50_ratio"] == 4.0
    assert data["margins"] == {"p50_ratio": 0.35, "cpu_ratio": 0.3}
    assert margins_of({}) == DEFAULT_MARGINS
