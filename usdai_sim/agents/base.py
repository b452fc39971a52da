"""The base of usdai-sim's mesa agents: a view of one column of the model's arrays.

mesa 3.3 numbers agents through a class-level dict of per-model counters keyed by the model itself
(mesa issue #3179, fixed in mesa 3.4 by PR #3180), which keeps every model — and all its arrays — alive
for the life of the process. Our agents carry their own counters keyed *weakly* by the model, so a
finished work block is freed; on mesa ≥ 3.4 the attribute is simply unused.
"""

from __future__ import annotations

import itertools
import weakref
from collections.abc import Iterator

import mesa


class _WeakIdCounters(weakref.WeakKeyDictionary):  # type: ignore[type-arg]
    """Per-model agent-id counters that do not keep the model alive."""

    def __getitem__(self, model: mesa.Model) -> Iterator[int]:
        counter = self.get(model)
        if counter is None:
            counter = itertools.count(1)
            self[model] = counter
        return counter


class ColumnAgent(mesa.Agent):
    """An agent whose state is column ``col`` of its model's (paths, agents) arrays."""

    _ids = _WeakIdCounters()

    def __init__(self, model: mesa.Model, col: int) -> None:
        super().__init__(model)
        self.col = col
