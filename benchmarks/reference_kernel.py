"""The reference fused borrower kernel of issue #18: the simplest tight loop of the model's shape.

Not the model (its rules are simplified and its numbers are not calibrated): a yardstick for
``benchmarks/kernel.py``, which compares the engine's borrower phases with it per borrower-path-step.
Per borrower-path and daily step: utilisation as an OU process in logit space and an idiosyncratic GBM
of the resale value, each from one normal; revenue and opex; interest accrual; a payment every 30 days
met from cash then a debt-service reserve (DSRA) refilled from cash; a payment default when both fall
short and a collateral default when value < principal. The normals come in drawn outside, as in the
engine (two per borrower-path-step).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

KAPPA_PER_YEAR = 2.0
VOL_PER_SQRT_YEAR = 0.5
GPU_VOL_PER_SQRT_YEAR = 0.3
APR = 0.12
TERM_PAYMENTS = 36
DT_YEARS = 1.0 / 365.0
PAYMENT_DAYS = 30


@njit(cache=True)
def reference_step(
    day: int, util_logit: np.ndarray, idio_log: np.ndarray, cash: np.ndarray, dsra: np.ndarray,
    principal: np.ndarray, accrued: np.ndarray, alive: np.ndarray, z_util: np.ndarray, z_idio: np.ndarray,
) -> int:
    """One daily step of every borrower-path in place; returns the number of new defaults."""
    n_paths, n_loans = alive.shape
    decay = math.exp(-KAPPA_PER_YEAR * DT_YEARS)
    shock = VOL_PER_SQRT_YEAR * math.sqrt(DT_YEARS)
    gpu_shock = GPU_VOL_PER_SQRT_YEAR * math.sqrt(DT_YEARS)
    defaults = 0
    for p in range(n_paths):
        for b in range(n_loans):
            if not alive[p, b]:
                continue
            util_logit[p, b] = 1.0 + (util_logit[p, b] - 1.0) * decay + shock * z_util[p, b]
            idio_log[p, b] += -0.5 * gpu_shock * gpu_shock + gpu_shock * z_idio[p, b]
            utilisation = 1.0 / (1.0 + math.exp(-util_logit[p, b]))
            revenue = 100.0 * 24.0 * 2.0 * utilisation
            opex = 100.0 * 24.0 * (0.3 + 0.2 * utilisation)
            cash[p, b] = max(cash[p, b] + revenue - opex, 0.0)
            accrued[p, b] += principal[p, b] * APR * DT_YEARS
            if day % PAYMENT_DAYS == 0:
                due = accrued[p, b] + principal[p, b] / TERM_PAYMENTS
                if cash[p, b] + dsra[p, b] < due:
                    alive[p, b] = False
                    defaults += 1
                    continue
                from_cash = min(cash[p, b], due)
                cash[p, b] -= from_cash
                dsra[p, b] -= due - from_cash
                principal[p, b] -= principal[p, b] / TERM_PAYMENTS
                accrued[p, b] = 0.0
                top_up = min(max(2.0 * due - dsra[p, b], 0.0), cash[p, b])
                dsra[p, b] += top_up
                cash[p, b] -= top_up
            if 2.5e6 * math.exp(idio_log[p, b]) < principal[p, b]:
                alive[p, b] = False
                defaults += 1
    return defaults


def run_reference(paths: int, borrowers: int, steps: int, seed: int = 0) -> tuple[float, float, int]:
    """Run the reference kernel; returns (seconds in the kernel, seconds drawing normals, defaults)."""
    import time

    rng = np.random.default_rng(seed)
    shape = (paths, borrowers)
    state = [np.zeros(shape), np.zeros(shape), np.full(shape, 5e4), np.full(shape, 2e5), np.full(shape, 2e6),
             np.zeros(shape), np.ones(shape, bool)]
    reference_step(0, *state, np.zeros(shape), np.zeros(shape))  # compile (or load from the cache)
    state = [np.zeros(shape), np.zeros(shape), np.full(shape, 5e4), np.full(shape, 2e5), np.full(shape, 2e6),
             np.zeros(shape), np.ones(shape, bool)]
    kernel_s = draw_s = 0.0
    defaults = 0
    for day in range(1, steps + 1):
        start = time.perf_counter()
        z_util, z_idio = rng.standard_normal(shape), rng.standard_normal(shape)
        middle = time.perf_counter()
        defaults += reference_step(day, *state, z_util, z_idio)
        kernel_s += time.perf_counter() - middle
        draw_s += middle - start
    return kernel_s, draw_s, defaults
