"""Fundamental GPU value by the income approach: what the GPU can still earn, discounted.

For a GPU of class c with ℓ years of economic life left, at time t (years), per GPU-hour of anchor rental:
    PV(t, ℓ) = ∫₀^ℓ e^{−rτ} · max(0, b · E[R_c(t+τ)]/A_c − o) dτ
    E[R_c(t+τ)]/A_c = exp(μ(t+τ) + U_c(t)·e^{−κτ} + ½·σ²(1 − e^{−2κτ})/(2κ))
where R_c is the class's rental ($/GPU-hour), A_c its day-0 anchor, U_c = log(R_c/(A_c·e^{μt})) its current
deviation from trend (rental shocks included: the market expects them to fade at the OU speed κ), b the
billable fraction, o = (opex share of day-0 revenue) × b the operating cost as a fraction of the anchor (a
generic operator's, fixed in USD: it does not fall with rentals), r the valuation
discount rate (per year). The integral is a midpoint sum over months (units: years × fraction of anchor).
Value fraction of list price = PV(t, ℓ)/PV(0, L) with L the economic life: a new GPU on trend at day 0 is
worth its list price, and everything after that moves with the rental market and the GPU's age.
Limits: σ = 0, μ = 0, o = 0 → value ∝ (1 − e^{−rℓ}) (an annuity); a rental collapse of factor q scales
the revenue term by q^{e^{−κτ}}; PV is non-decreasing in U and in ℓ.
"""

from __future__ import annotations

import math

import numpy as np

from usdai_sim.jit import kernel
from usdai_sim.params import DAYS_PER_YEAR
from usdai_sim.scenario.schema import Rental, Valuation

MONTHS_PER_YEAR = 12


class IncomeValuation:
    """Evaluates PV(t, ℓ) on a monthly τ grid for every path and class, then reads it per borrower."""

    def __init__(self, spec: Valuation, rental: Rental) -> None:
        self.spec, self.rental = spec, rental
        months = int(np.ceil(spec.economic_life_years * MONTHS_PER_YEAR))
        self.tau = (np.arange(months) + 0.5) / MONTHS_PER_YEAR
        kappa, sigma = rental.kappa_per_year, rental.vol_per_sqrt_year
        self.decay = np.exp(-kappa * self.tau)
        half_var = 0.5 * sigma**2 * (self.tau if kappa == 0 else -np.expm1(-2 * kappa * self.tau) / (2 * kappa))
        self.log_base = rental.drift_per_year * self.tau + half_var
        self.weight = np.exp(-spec.discount_rate * self.tau) / MONTHS_PER_YEAR
        self.new_gpu_pv = float(self.cumulative(0.0, np.zeros((1, 1)))[0, 0, -1])

    def cumulative(self, t_years: float, deviation: np.ndarray) -> np.ndarray:
        """PV up to each month of life, (P, C, months + 1), starting with 0 (deviation U is (P, C))."""
        spec = self.spec
        log_r = self.rental.drift_per_year * t_years + self.log_base + deviation[..., None] * self.decay
        b = spec.billable_fraction
        net = np.maximum(b * np.exp(log_r) - spec.opex_fraction_of_revenue * b, 0.0)
        out = np.zeros((*deviation.shape, self.tau.size + 1))
        np.cumsum(net * self.weight, axis=-1, out=out[..., 1:])
        return out

    def value_fraction(
        self, t_years: float, deviation: np.ndarray, class_index: np.ndarray, life_left_years: np.ndarray
    ) -> np.ndarray:
        """Value / list price of each borrower's GPUs, (P, B): PV(t, ℓ) / PV(0, L) read at ℓ (P, B) per borrower."""
        cum = self.cumulative(t_years, deviation)
        n_nodes = cum.shape[-1]
        months = np.clip(life_left_years * MONTHS_PER_YEAR, 0.0, n_nodes - 1.0)
        low = np.minimum(months.astype(np.int64), n_nodes - 2)
        frac = months - low
        flat = cum.reshape(cum.shape[0], -1)
        base = class_index * n_nodes + low
        v0 = np.take_along_axis(flat, base, axis=1)
        v1 = np.take_along_axis(flat, base + 1, axis=1)
        return (v0 + (v1 - v0) * frac) / self.new_gpu_pv


    def value_per_gpu(
        self, t_years: float, deviation: np.ndarray, day_end: float, fleet: FleetView
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(fundamental value, resale value, collateral) of every loan's fleet, (P, B) USD per GPU, USD per GPU
        and USD, in one compiled pass (``income_value_kernel``): the same numbers as ``value_fraction`` ×
        list price, × the class's liquidity index × e^{idiosyncratic}, × GPUs, bit for bit."""
        shape = fleet.idio_log.shape
        fundamental, value, collateral = np.empty(shape), np.empty(shape), np.empty(shape)
        spec = self.spec
        b = spec.billable_fraction
        income_value_kernel(
            self.log_base, self.decay, self.weight, self.rental.drift_per_year * t_years, deviation, b,
            spec.opex_fraction_of_revenue * b, self.new_gpu_pv, fleet.classes_used, fleet.class_index,
            fleet.list_price_usd, fleet.resale_index, fleet.idio_log, spec.economic_life_years, day_end,
            fleet.built_day, fleet.gpus, fundamental, value, collateral,
        )
        return fundamental, value, collateral


class FleetView:
    """What ``IncomeValuation.value_per_gpu`` reads of the loans: class per borrower (B,), the classes in use,
    list price per borrower (B,), liquidity index (P, C), idiosyncratic log factor, build day and GPUs (P, B)."""

    def __init__(
        self, class_index: np.ndarray, list_price_usd: np.ndarray, resale_index: np.ndarray, idio_log: np.ndarray,
        built_day: np.ndarray, gpus: np.ndarray,
    ) -> None:
        self.class_index = np.ascontiguousarray(class_index, dtype=np.int64)
        self.classes_used = np.unique(self.class_index)
        self.list_price_usd = np.ascontiguousarray(list_price_usd, dtype=np.float64)
        self.resale_index, self.idio_log = resale_index, idio_log
        self.built_day = np.ascontiguousarray(np.broadcast_to(built_day, idio_log.shape), dtype=np.float64)
        self.gpus = gpus


@kernel
def income_value_kernel(
    log_base: np.ndarray, decay: np.ndarray, weight: np.ndarray, drift_t: float, deviation: np.ndarray,
    billable: float, opex: float, new_gpu_pv: float, classes_used: np.ndarray, class_index: np.ndarray,
    list_price_usd: np.ndarray, resale_index: np.ndarray, idio_log: np.ndarray, life_years: float,
    day_end: float, built_day: np.ndarray, gpus: np.ndarray, fundamental_out: np.ndarray, value_out: np.ndarray,
    collateral_out: np.ndarray,
) -> None:
    """Per path: PV(t, ·) of each class in use on the monthly grid (``IncomeValuation.cumulative``, the same
    sums in the same order), then per loan with ℓ = life − (day − built)/365 years left: the fraction
    PV(t, ℓ)/PV(0, L) read linearly between months (``value_fraction``); fundamental = list × fraction;
    value = fundamental × liquidity index × e^{idiosyncratic}; collateral = GPUs × value."""
    n_paths, n_loans = idio_log.shape
    months = log_base.size
    cum = np.zeros((resale_index.shape[1], months + 1))
    for p in range(n_paths):
        for c in classes_used:
            total = 0.0
            for k in range(months):
                log_r = drift_t + log_base[k] + deviation[p, c] * decay[k]
                total += max(billable * math.exp(log_r) - opex, 0.0) * weight[k]
                cum[c, k + 1] = total
        for b in range(n_loans):
            c = class_index[b]
            left = min(max((life_years - (day_end - built_day[p, b]) / DAYS_PER_YEAR) * MONTHS_PER_YEAR, 0.0),
                       months * 1.0)
            low = min(int(left), months - 1)
            v0 = cum[c, low]
            fraction = (v0 + (cum[c, low + 1] - v0) * (left - low)) / new_gpu_pv
            fundamental_out[p, b] = list_price_usd[b] * fraction
            value_out[p, b] = fundamental_out[p, b] * resale_index[p, c] * math.exp(idio_log[p, b])
            collateral_out[p, b] = gpus[p, b] * value_out[p, b]


def trend_deviation(
    rental_usd_per_gpu_hour: np.ndarray, anchor_usd_per_gpu_hour: np.ndarray, drift_per_year: float, t_years: float
) -> np.ndarray:
    """U = log(R / (A·e^{μt})): the rental's deviation from its trend, shocks included, (P, C)."""
    return np.log(rental_usd_per_gpu_hour / anchor_usd_per_gpu_hour) - drift_per_year * t_years


def median_log_change(
    deviation: np.ndarray, drift_per_year: float, kappa_per_year: float, tau_years: np.ndarray
) -> np.ndarray:
    """ĝ(τ) = μτ + U·(e^{−κτ} − 1): the median change of log rental over the next τ years (trend drift μ, today's
    deviation U from trend fading at the OU speed κ, no noise), broadcast over ``deviation`` and ``tau_years``.
    Limits: U = 0 → the trend μτ; κ = 0 → μτ (a deviation lasts); κ → ∞ → μτ − U (back on trend at once)."""
    return drift_per_year * tau_years + deviation * np.expm1(-kappa_per_year * tau_years)
