"""The critical path method (app/gantt/cpm.py): hand-made graphs, then properties checked
against a brute force over every path of small random graphs (hypothesis)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from app.gantt import cpm


def test_a_chain_is_all_critical():
    s = cpm.compute({"a": 2, "b": 3, "c": 1}, [("a", "b"), ("b", "c")])
    assert (s.es, s.ef) == ({"a": 0, "b": 2, "c": 5}, {"a": 2, "b": 5, "c": 6})
    assert s.finish == 6
    assert s.critical == {"a", "b", "c"}
    assert s.critical_path() == ["a", "b", "c"]


def test_a_diamond_has_float_on_its_short_branch():
    # a → (b: 5 days | c: 2 days) → d
    s = cpm.compute({"a": 1, "b": 5, "c": 2, "d": 1}, [("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")])
    assert s.finish == 7
    assert s.float == {"a": 0, "b": 0, "c": 3, "d": 0}
    assert (s.ls["c"], s.lf["c"]) == (4, 6)
    assert s.critical_path() == ["a", "b", "d"]


def test_parallel_branches_the_longer_one_is_critical():
    s = cpm.compute({"a1": 2, "a2": 2, "b1": 1, "b2": 1}, [("a1", "a2"), ("b1", "b2")])
    assert s.finish == 4
    assert s.critical == {"a1", "a2"}
    assert s.float["b1"] == s.float["b2"] == 2


def test_ties_make_both_branches_critical():
    s = cpm.compute({"a": 1, "b": 3, "c": 3, "d": 1}, [("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")])
    assert s.critical == {"a", "b", "c", "d"}
    assert sum((1, 3, 1)) == s.finish


def test_a_planned_start_is_a_start_no_earlier_than():
    # b is planned on day 5 although a ends on day 2: a has 3 days of float
    s = cpm.compute({"a": 2, "b": 2}, [("a", "b")], earliest={"a": 0, "b": 5})
    assert s.es["b"] == 5 and s.finish == 7
    assert s.float == {"a": 3, "b": 0}
    assert s.critical_path() == ["b"]
    # and a dependency finishing later pushes the planned start
    pushed = cpm.compute({"a": 4, "b": 2}, [("a", "b")], earliest={"a": 0, "b": 1})
    assert pushed.es["b"] == 4 and pushed.finish == 6 and pushed.critical == {"a", "b"}


def test_zero_length_links_carry_the_chain():
    s = cpm.compute({"a": 2, "undated": 0, "c": 1}, [("a", "undated"), ("undated", "c")])
    assert s.es["c"] == 2 and s.finish == 3


def test_empty_and_isolated():
    assert cpm.compute({}, []).finish == 0
    assert cpm.compute({}, []).critical_path() == []
    s = cpm.compute({"x": 3}, [])
    assert s.critical == {"x"} and s.finish == 3


def test_a_cycle_does_not_crash_and_unknown_edges_are_ignored():
    s = cpm.compute({"a": 1, "b": 1}, [("a", "b"), ("b", "a"), ("a", "zz")])
    assert ("a", "zz") in s.ignored
    assert len(s.ignored) == 2  # one edge of the cycle cut
    assert all(v >= 0 for v in s.float.values())


def test_negative_durations_are_refused():
    import pytest

    with pytest.raises(ValueError):
        cpm.compute({"a": -1}, [])


# --- properties -------------------------------------------------------------------------


@st.composite
def graphs(draw):
    n = draw(st.integers(min_value=1, max_value=8))
    durations = {i: draw(st.integers(min_value=0, max_value=6)) for i in range(n)}
    # edges only from lower to higher numbers: a DAG
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    edges = draw(st.lists(st.sampled_from(pairs), unique=True, max_size=len(pairs))) if pairs else []
    constrained = draw(st.booleans())
    earliest = {i: draw(st.integers(min_value=0, max_value=10)) for i in range(n)} if constrained else None
    return durations, edges, earliest


def _paths(durations, edges):
    succ = {i: [] for i in durations}
    for a, b in edges:
        succ[a].append(b)

    def walk(path):
        yield path
        for nxt in succ[path[-1]]:
            yield from walk([*path, nxt])

    for node in durations:
        yield from walk([node])


def _brute(durations, edges, earliest):
    """Every path's length (the first task's earliest start plus the durations): the
    longest is the finish; a task on a longest one is critical."""
    earliest = earliest or {}
    best, critical = 0, set()
    for path in _paths(durations, edges):
        length = earliest.get(path[0], 0) + sum(durations[i] for i in path)
        if length > best:
            best, critical = length, set(path)
        elif length == best:
            critical |= set(path)
    return best, critical


@settings(max_examples=300, deadline=None)
@given(graphs())
def test_float_is_never_negative_and_zero_exactly_on_a_longest_path(graph):
    durations, edges, earliest = graph
    s = cpm.compute(durations, edges, earliest)
    assert all(slack >= 0 for slack in s.float.values())
    finish, critical = _brute(durations, edges, earliest)
    assert s.finish == finish
    assert s.critical == critical
    for node in durations:  # the passes agree with each other
        assert s.ef[node] - s.es[node] == durations[node] == s.lf[node] - s.ls[node]
        assert s.lf[node] <= s.finish


@settings(max_examples=300, deadline=None)
@given(graphs())
def test_the_critical_path_spans_the_project(graph):
    durations, edges, earliest = graph
    s = cpm.compute(durations, edges, earliest)
    path = s.critical_path()
    assert path, "a non-empty schedule has a critical path"
    assert all(s.float[n] == 0 for n in path)
    assert all((a, b) in set(edges) for a, b in zip(path, path[1:], strict=False))
    start = (earliest or {}).get(path[0], 0)
    assert start + sum(durations[n] for n in path) == s.finish
    if earliest is None:  # textbook CPM: the critical path's length is the project's duration
        assert sum(durations[n] for n in path) == s.finish
