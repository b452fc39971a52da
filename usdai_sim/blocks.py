"""What one Monte Carlo work block hands back to be merged; shared by the engine (producer) and results."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class BlockOutput:
    """What one work block hands back: per-path terminal columns, per-seed-block ledger sums, histograms."""

    first_path: int
    paths: dict[str, np.ndarray]
    ledger_sums: np.ndarray
    ltv_hist: np.ndarray
    wait_hist: np.ndarray
    censored_wait_hist: np.ndarray
    series: np.ndarray | None = None
    """The block's per-path series (records, series, paths), only when it could not write them to disk."""
