"""Progress of a run with ``tqdm.auto``: a widget in Jupyter, a bar on a terminal, nothing otherwise
(a log file or a captured test run gets no bar)."""

from __future__ import annotations

import sys
from typing import Any


class TqdmProgress:
    """A ``progress(done, total)`` callback (path-steps) that drives one tqdm bar; ``close()`` ends it."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.bar: Any = None

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            from tqdm.auto import tqdm

            shown = tqdm.__module__ == "tqdm.notebook" or sys.stderr.isatty()
            self.bar = tqdm(total=total, desc=self.label, unit="path-step", unit_scale=True, leave=True,
                            disable=not shown)
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        """Finish the bar (if it was started)."""
        if self.bar is not None:
            self.bar.close()
