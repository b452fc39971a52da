"""Recovery per machine sold: what a defaulted fleet's sale returned for each GPU (or ASIC) it sold.

Per path and GPU class (the columns of ``paths.parquet``): machines sold, the lender's recovery from the
sale of those machines (sale proceeds after fees that paid principal and interest, the reserve excluded)
and the value of the same machines at origination. A machine's origination value is the loan's appraisal
at origination divided by the borrower's initial fleet: exact for a first loan; for a re-loan the fleet has
lost machines to hardware failure (1.5%/yr by default), so that value is slightly low. The summary pools
paths: recovery per machine sold (USD) and recovery / origination value of the machines sold (fraction).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from usdai_sim.agents import borrowers as br
from usdai_sim.params import Params


def machine_columns(book: br.BorrowerBook, sold: np.ndarray, params: Params) -> dict[str, np.ndarray]:
    """Per path, by GPU class: ``gpus_sold_class_<c>``, ``recovery_gpu_class_<c>_usd`` and
    ``origination_value_sold_class_<c>_usd`` (the machines sold, valued at origination)."""
    bp = params.borrowers
    per_machine_usd = book.appraised_usd / np.maximum(bp.gpus, 1e-12)
    cols: dict[str, np.ndarray] = {}
    for c, name in enumerate(params.scenario.class_names):
        mask = sold & (bp.class_index == c)
        cols[f"gpus_sold_class_{name}"] = np.where(mask, book.gpus_sold, 0.0).sum(axis=1)
        cols[f"recovery_gpu_class_{name}_usd"] = np.where(mask, book.recovered_gpu_usd, 0.0).sum(axis=1)
        cols[f"origination_value_sold_class_{name}_usd"] = np.where(
            mask, book.gpus_sold * per_machine_usd, 0.0
        ).sum(axis=1)
    return cols


def _pooled(numerator: pd.Series, denominator: pd.Series) -> float | None:
    total = float(denominator.sum())
    return float(numerator.sum()) / total if total > 0 else None


def machine_recovery_metrics(paths: pd.DataFrame) -> dict[str, Any]:
    """Pooled over paths, by GPU class (None where no machine of the class was sold)."""
    classes = [c.removeprefix("gpus_sold_class_") for c in paths.columns if c.startswith("gpus_sold_class_")]
    return {
        "gpus_sold": {c: float(paths[f"gpus_sold_class_{c}"].mean()) for c in classes},
        "recovery_per_gpu_sold_usd": {
            c: _pooled(paths[f"recovery_gpu_class_{c}_usd"], paths[f"gpus_sold_class_{c}"]) for c in classes
        },
        "recovery_of_origination_value": {
            c: _pooled(paths[f"recovery_gpu_class_{c}_usd"], paths[f"origination_value_sold_class_{c}_usd"])
            for c in classes
        },
    }
