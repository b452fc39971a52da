"""Holder risk as a committee reads it: losses as positive numbers, two measures, and the USD loss waterfall.

Two measures of the sUSDai holder outcome over the horizon (exchange ratio ER starts at 1):
* **principal loss** L = max(0, 1 − ER_end / ER_start): money lost against what was put in;
* **shortfall against T-bills** S = max(0, 1 − ER_end / G), G the growth of one dollar held in T-bills over
  the same days: what a holder gave up by holding sUSDai instead of T-bills. Its annualised form is the
  yield given up, max(0, T-bill return − sUSDai return), both annualised (per year).
VaR_q is the loss exceeded on a share 1 − q of paths, ES_q the mean loss on those paths; all positive.

The waterfall follows the mean per path of the ledger, in USD: gross default loss (principal of sold
defaulted loans and write-downs of unsold ones) → recovered from the SPV's cash and debt-service reserve
→ from GPU sales net of fees → springing recourse → first-loss capital → GPU value insurance → the loss
borne by sUSDai holders. Recoveries are attributed to principal in the order reserve, sale, insurance.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from usdai_sim.metrics import expected_shortfall, quantile_summary, value_at_risk

LEVELS = (0.95, 0.99)
WATERFALL_STEPS = (
    "gross default loss",
    "DSRA and SPV cash",
    "GPU sales net of fees",
    "springing recourse",
    "first-loss capital",
    "GPU value insurance",
    "loss to sUSDai holders",
)
SPLIT_KINDS = ("route", "cohort", "class")


def tail_measures(name: str, loss: np.ndarray) -> dict[str, float]:
    """``{name}_var_95, _var_99, _es_95, _es_99`` of a positive loss sample."""
    out = {}
    for level in LEVELS:
        pct = round(100 * level)
        out[f"{name}_var_{pct}"] = value_at_risk(loss, level)
        out[f"{name}_es_{pct}"] = expected_shortfall(loss, level)
    return out


def holder_measures(paths: pd.DataFrame, horizon_days: int) -> dict[str, np.ndarray]:
    """Per path: principal loss, shortfall against T-bills (fraction of value) and its annualised form."""
    ratio = paths["susdai_exchange_ratio_final"].to_numpy(dtype=float)
    growth = paths["tbill_growth_factor"].to_numpy(dtype=float)
    years = horizon_days / 365.0
    return {
        "principal_loss": np.maximum(0.0, 1.0 - ratio),
        "tbill_shortfall": np.maximum(0.0, 1.0 - ratio / growth),
        "tbill_shortfall_annualised": np.maximum(0.0, growth ** (1.0 / years) - ratio ** (1.0 / years)),
    }


def holder_risk(paths: pd.DataFrame, horizon_days: int) -> dict[str, Any]:
    """The summary keys of both holder measures (positive losses), with tail counts and probabilities."""
    if "tbill_growth_factor" not in paths:
        return {}
    measures = holder_measures(paths, horizon_days)
    out: dict[str, Any] = {"tbill_return_annualised": quantile_summary(
        paths["tbill_growth_factor"].to_numpy(dtype=float) ** (365.0 / horizon_days) - 1.0)}
    for name, loss in measures.items():
        out[name] = quantile_summary(loss)
        out.update(tail_measures(name, loss))
    out["prob_tbill_shortfall"] = float(np.mean(measures["tbill_shortfall"] > 0.0))
    return out


def recovery_parts(ledger: pd.DataFrame) -> dict[str, float]:
    """Principal recovered (USD, mean per path, whole horizon) attributed to reserve, sale and insurance."""
    totals = ledger.sum(numeric_only=True)
    recovered = float(totals["recovery_principal_usd"])
    available = recovered + float(totals["recovery_interest_usd"] + totals["surplus_usd"]
                                  + totals["borrower_surplus_usd"])
    sale_net = float(totals["sale_gross_usd"] - totals["liquidation_fee_usd"])
    insurance = float(totals["insurance_usd"])
    reserve = max(0.0, available - sale_net - insurance)
    from_reserve = min(reserve, recovered)
    from_sale = min(sale_net, recovered - from_reserve)
    return {"reserve": from_reserve, "sale": from_sale, "insurance": recovered - from_reserve - from_sale}


def loss_waterfall(ledger: pd.DataFrame) -> pd.DataFrame:
    """The USD loss waterfall (mean per path, whole horizon): step, amount (deductions negative), running total."""
    totals = ledger.sum(numeric_only=True)
    parts = recovery_parts(ledger)
    gross = float(totals["recovery_principal_usd"] + totals["principal_loss_usd"])
    amounts = [
        gross,
        -parts["reserve"],
        -parts["sale"],
        -float(totals["recourse_usd"]),
        -float(totals["first_loss_usd"]),
        -parts["insurance"],
    ]
    running = np.cumsum(amounts)
    frame = pd.DataFrame({"step": WATERFALL_STEPS[:-1], "amount_usd": amounts, "running_usd": running})
    final = pd.DataFrame({"step": [WATERFALL_STEPS[-1]], "amount_usd": [running[-1]], "running_usd": [running[-1]]})
    return pd.concat([frame, final], ignore_index=True)


def group_label(kind: str, key: str, cohort_names: list[str]) -> str:
    """A split column's group as readers know it (cohorts by name)."""
    return cohort_names[int(key)] if kind == "cohort" else key


SPLIT_COLUMN = re.compile(r"^loss_(route|cohort|class)_(.+)_usd$")


def loss_splits(paths: pd.DataFrame, cohort_names: list[str]) -> pd.DataFrame:
    """Sold exposure at default and net principal loss (USD, mean per path) by route, cohort and GPU class."""
    rows = []
    for column in paths.columns:
        found = SPLIT_COLUMN.match(column)
        if found is None:
            continue
        kind, key = found.groups()
        rows.append({"split": kind, "group": group_label(kind, key, cohort_names),
                     "exposure_at_default_usd": float(paths[f"sold_exposure_{kind}_{key}_usd"].mean()),
                     "net_loss_usd": float(paths[column].mean())})
    frame = pd.DataFrame(rows, columns=["split", "group", "exposure_at_default_usd", "net_loss_usd"])
    return frame[(frame["exposure_at_default_usd"] > 0) | (frame["split"] == "route")]
