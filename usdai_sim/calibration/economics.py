"""Operator economics at origination, computed with the model's own rules (``agents/borrowers.py``).

For each initial borrower, under day-0 markets (spot = class anchor, utilisation = its level, contracts
at f × spot) and a loan of min(requested LTV, class max LTV) × its fleet's day-0 value:
    EBITDA margin      = (revenue − opex) / revenue                      (per GPU-hour, USD)
    DSCR               = (revenue − opex) / debt service                  (debt service per GPU-hour)
    break-even rental  = p* = (opex + debt service) / (s + (1 − s)·u): the price per billed GPU-hour (contract
                         and spot alike) at which revenue just covers operating costs and the loan payment.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from usdai_sim.agents.borrowers import HOURS_PER_MONTH, debt_service_coverage, operating_rates
from usdai_sim.market.gpu import expit
from usdai_sim.market.valuation import IncomeValuation
from usdai_sim.params import Params, depreciation_fraction
from usdai_sim.protocol.loans import scheduled_payment


def origination_economics(params: Params) -> pd.DataFrame:
    """One row per initial borrower of ``params.borrowers`` (``compile_params``: path 0's population): cohort,
    class, revenue, opex, debt service ($/GPU-h), margin, DSCR, break-even rental ($/GPU-h)."""
    bp, classes, scenario = params.borrowers, params.classes, params.scenario
    initial = bp.arrival_rate_per_day == 0
    cls = bp.class_index
    spot = classes.rental_anchor_usd_per_gpu_hour[cls]
    u = expit(bp.utilisation_logit)
    share = bp.contracted_share
    revenue, opex = operating_rates(
        bp, share, bp.contract_price_fraction * spot, spot, u, classes.power_kw_per_gpu[cls]
    )
    value = classes.list_price_usd[cls] * _value_fraction(params)
    ltv = np.minimum(bp.requested_ltv, classes.max_ltv[cls])
    interest, principal = scheduled_payment(ltv * value, bp.apr, bp.term_payments, bp.interest_only)
    debt_service = (interest + principal) / HOURS_PER_MONTH
    billable = share + (1.0 - share) * u
    frame = pd.DataFrame(
        {
            "cohort": [scenario.borrowers.cohorts[i].name for i in bp.cohort],
            "gpu_class": [classes.names[c] for c in cls],
            "revenue_usd_per_gpu_hour": revenue,
            "opex_usd_per_gpu_hour": opex,
            "debt_service_usd_per_gpu_hour": debt_service,
            "ebitda_margin": (revenue - opex) / revenue,
            "dscr": debt_service_coverage(revenue, opex, interest + principal),
            "break_even_rental_usd_per_gpu_hour": (opex + debt_service) / billable,
        }
    )
    return frame[initial].reset_index(drop=True)


def _value_fraction(params: Params) -> np.ndarray:
    """Each borrower's fleet value / list price at day 0 (income value or depreciation curve)."""
    scenario, bp = params.scenario, params.borrowers
    gpu = scenario.markets.gpu
    if gpu.valuation.method != "income":
        return depreciation_fraction(scenario, bp, 0.0)
    valuation = IncomeValuation(gpu.valuation, scenario.markets.rental)
    life_left = (gpu.valuation.economic_life_years - bp.age_years)[None, :]
    zeros = np.zeros((1, len(params.classes.names)))
    return valuation.value_fraction(0.0, zeros, bp.class_index, life_left)[0]


def economics_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Median of each figure by cohort and class, plus an 'all' row (medians over every borrower)."""
    figures = [
        "ebitda_margin",
        "dscr",
        "break_even_rental_usd_per_gpu_hour",
        "revenue_usd_per_gpu_hour",
        "opex_usd_per_gpu_hour",
        "debt_service_usd_per_gpu_hour",
    ]
    by = frame.groupby(["cohort", "gpu_class"], sort=False)[figures].median().reset_index()
    everyone = frame[figures].median().to_frame().T.assign(cohort="all", gpu_class="all")
    return pd.concat([by, everyone], ignore_index=True)[["cohort", "gpu_class", *figures]]
