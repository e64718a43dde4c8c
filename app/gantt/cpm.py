"""The critical path method (CPM) over a project's tasks: a small, dependency-free
implementation (the graphs are a project's tasks, tens to a few hundred nodes).

Units are whole **calendar days** (the Gantt draws calendar days and a move is by whole
days; working-day calendars and holidays are the schedule's conflict engine's business,
not the chart's). A node is a task with a `duration` (days, >= 0) and an optional
`earliest` start (the day offset of its planned start from the schedule's origin: a
"start no earlier than" constraint; 0 when not given). Edges (before, after) say `after`
cannot start until `before` is finished (finish-to-start, no lag).

- Forward pass: ES(j) = max(earliest(j), EF(i) for each predecessor i); EF = ES + duration
  (EF is exclusive: a task on days 0..2 has ES 0, duration 3, EF 3; its successor may
  start on day 3).
- The project's finish is the largest EF (0 for no tasks).
- Backward pass: LF(i) = min(LS(j) for each successor j), the finish for a task without
  successors; LS = LF - duration.
- Total float = LS - ES, never negative; a task is critical when its float is 0, which
  is exactly when it lies on a longest chain of the graph (a path whose first task's
  earliest start plus its durations equals the finish). With every `earliest` 0 this is
  textbook CPM: the critical path's length is the project's duration.

A cycle (which tasks.services refuses) does not crash a chart: the edges that close it are
ignored (`Schedule.ignored`).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field


@dataclass
class Schedule:
    es: dict[Hashable, int] = field(default_factory=dict)
    ef: dict[Hashable, int] = field(default_factory=dict)
    ls: dict[Hashable, int] = field(default_factory=dict)
    lf: dict[Hashable, int] = field(default_factory=dict)
    float: dict[Hashable, int] = field(default_factory=dict)
    finish: int = 0
    order: list = field(default_factory=list)  # a topological order of the nodes
    successors: dict[Hashable, list] = field(default_factory=dict)
    predecessors: dict[Hashable, list] = field(default_factory=dict)
    ignored: list[tuple] = field(default_factory=list)  # edges dropped (unknown node, cycle)

    @property
    def critical(self) -> set:
        return {node for node, slack in self.float.items() if slack == 0}

    def is_critical(self, node) -> bool:
        return self.float.get(node) == 0

    def critical_path(self) -> list:
        """One critical chain, first task to last: it starts at a critical task driven by
        its own earliest start (no critical predecessor finishing when it starts) and
        follows critical successors that start the day it finishes, to a task finishing
        with the project. Empty for an empty schedule."""
        if not self.order:
            return []
        ends = [n for n in self.order if self.float[n] == 0 and self.ef[n] == self.finish]
        if not ends:
            return []
        # walk backwards from the last finishing critical task along tight predecessors
        node = ends[0]
        chain = [node]
        while True:
            tight = [p for p in self.predecessors.get(node, ()) if self.float[p] == 0 and self.ef[p] == self.es[node]]
            if not tight:
                break
            node = tight[0]
            chain.append(node)
        chain.reverse()
        return chain


def compute(
    durations: Mapping[Hashable, int],
    edges: Iterable[tuple[Hashable, Hashable]],
    earliest: Mapping[Hashable, int] | None = None,
) -> Schedule:
    """The CPM schedule of nodes `durations` {node: days} linked by `edges` (before, after)."""
    earliest = earliest or {}
    for node, days in durations.items():
        if days < 0:
            raise ValueError(f"negative duration for {node!r}")
    schedule = Schedule()
    succ: dict = {node: [] for node in durations}
    pred: dict = {node: [] for node in durations}
    seen = set()
    for before, after in edges:
        if before not in succ or after not in succ or before == after or (before, after) in seen:
            schedule.ignored.append((before, after))
            continue
        seen.add((before, after))
        succ[before].append(after)
        pred[after].append(before)

    # Kahn's topological order; nodes left in a cycle keep only their settled predecessors
    waiting = {node: len(pred[node]) for node in durations}
    ready = [node for node in durations if waiting[node] == 0]
    order: list = []
    while ready:
        node = ready.pop()
        order.append(node)
        for nxt in succ[node]:
            waiting[nxt] -= 1
            if waiting[nxt] == 0:
                ready.append(nxt)
    if len(order) < len(durations):
        placed = set(order)
        stuck = [node for node in durations if node not in placed]
        for node in stuck:  # cut the edges that come from a node not placed before it
            for before in list(pred[node]):
                if before not in placed:
                    pred[node].remove(before)
                    succ[before].remove(node)
                    schedule.ignored.append((before, node))
            order.append(node)
            placed.add(node)

    es, ef = schedule.es, schedule.ef
    for node in order:
        start = max([earliest.get(node, 0), *(ef[p] for p in pred[node])])
        es[node] = start
        ef[node] = start + durations[node]
    finish = max(ef.values(), default=0)
    ls, lf = schedule.ls, schedule.lf
    for node in reversed(order):
        lf[node] = min((ls[s] for s in succ[node]), default=finish)
        ls[node] = lf[node] - durations[node]
    schedule.float = {node: ls[node] - es[node] for node in order}
    schedule.finish = finish
    schedule.order = order
    schedule.successors = succ
    schedule.predecessors = pred
    return schedule
