"""Exogenous GPU market processes: depreciation, resale-price factors, utilisation and fire-sale impact.

Every function is pure and vectorised: array arguments broadcast against each other with numpy's rules,
and nothing is read from or written to module state. Time is in years unless a name says `_days`;
prices are fractions of a reference price (1.0 = list price new) unless a name says `_usd`.
"""

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
ArrayLike = npt.ArrayLike

LOGIT_CLIP = 1e-9
"""Probabilities are clipped to [LOGIT_CLIP, 1 - LOGIT_CLIP] before taking the logit."""

DEPRECIATION_METHODS: tuple[str, ...] = ("straight_line", "declining_balance", "table")
"""Names accepted by `depreciation_factor`."""


def decay_integral_years(kappa_per_year: ArrayLike, t_years: ArrayLike) -> FloatArray:
    """Integral of exp(-kappa*s) ds for s in [0, t], in years.

    Equation: I(kappa, t) = (1 - exp(-kappa*t)) / kappa, with the limit I -> t as kappa -> 0, computed
    with expm1 so that it is accurate for small kappa*t. Units: kappa in 1/year, t in years, result in
    years. It is the building block of the OU and CIR variances (e.g. Var = sigma^2 * I(2*kappa, t)).
    """
    kappa = np.asarray(kappa_per_year, dtype=float)
    t = np.asarray(t_years, dtype=float)
    x = kappa * t
    safe_kappa = np.where(x == 0.0, 1.0, kappa)
    return np.where(x == 0.0, t, -np.expm1(-x) / safe_kappa)


def ou_step(
    x: ArrayLike,
    mean: ArrayLike,
    kappa_per_year: ArrayLike,
    vol_per_sqrt_year: ArrayLike,
    dt_years: ArrayLike,
    z: ArrayLike,
) -> FloatArray:
    """One exact step of an Ornstein-Uhlenbeck process dX = kappa*(m - X) dt + sigma dW.

    Equation: X' = m + (X - m) e^{-kappa*dt} + sigma * sqrt((1 - e^{-2*kappa*dt}) / (2*kappa)) * z,
    with z ~ N(0, 1); as kappa -> 0 the noise scale tends to sigma*sqrt(dt) (a random walk).
    Units: kappa in 1/year, sigma in units of X per sqrt(year), dt in years; X' has the units of X.
    """
    kappa = np.asarray(kappa_per_year, dtype=float)
    m = np.asarray(mean, dtype=float)
    decay = np.exp(-kappa * np.asarray(dt_years, dtype=float))
    sigma = np.asarray(vol_per_sqrt_year, dtype=float)
    noise_scale = sigma * np.sqrt(decay_integral_years(2.0 * kappa, dt_years))
    return m + (np.asarray(x, dtype=float) - m) * decay + noise_scale * np.asarray(z, dtype=float)


def ou_moments(
    x0: ArrayLike,
    mean: ArrayLike,
    kappa_per_year: ArrayLike,
    vol_per_sqrt_year: ArrayLike,
    t_years: ArrayLike,
) -> tuple[FloatArray, FloatArray]:
    """Conditional (mean, variance) of an OU process after t years, starting from x0.

    Equations: E[X_t] = m + (x0 - m) e^{-kappa*t};  Var[X_t] = sigma^2 (1 - e^{-2*kappa*t}) / (2*kappa)
    (-> sigma^2 t as kappa -> 0). Units: as in `ou_step`; the variance is in units of X squared.
    Scalar inputs give numpy float64 scalars, array inputs broadcast arrays.
    """
    kappa = np.asarray(kappa_per_year, dtype=float)
    m = np.asarray(mean, dtype=float)
    mean_t = m + (np.asarray(x0, dtype=float) - m) * np.exp(-kappa * np.asarray(t_years, dtype=float))
    var_t = np.asarray(vol_per_sqrt_year, dtype=float) ** 2 * decay_integral_years(2.0 * kappa, t_years)
    return mean_t[()], var_t[()]


def log_factor_step(
    log_factor: ArrayLike,
    drift_per_year: ArrayLike,
    vol_per_sqrt_year: ArrayLike,
    dt_years: ArrayLike,
    z: ArrayLike,
) -> FloatArray:
    """One exact step of the log of a geometric Brownian motion factor (e.g. a resale-price index).

    Equation: X' = X + (mu - sigma^2/2) dt + sigma sqrt(dt) z, z ~ N(0, 1), so that
    E[exp(X_t)] = exp(X_0 + mu t). Units: mu in 1/year (continuously compounded), sigma in 1/sqrt(year),
    dt in years; X is dimensionless (log of a fraction).
    """
    mu = np.asarray(drift_per_year, dtype=float)
    sigma = np.asarray(vol_per_sqrt_year, dtype=float)
    dt = np.asarray(dt_years, dtype=float)
    return np.asarray(log_factor, dtype=float) + (mu - 0.5 * sigma**2) * dt + sigma * np.sqrt(dt) * z


def correlated_normal(z_reference: ArrayLike, z_own: ArrayLike, correlation: ArrayLike) -> FloatArray:
    """Standard normal correlated with `z_reference` by `correlation`.

    Equation: z = rho * z_ref + sqrt(1 - rho^2) * z_own, for independent standard normals z_ref, z_own
    and rho in [-1, 1]; z is standard normal with Corr(z, z_ref) = rho. Dimensionless.
    """
    rho = np.asarray(correlation, dtype=float)
    if np.any(np.abs(rho) > 1.0):
        raise ValueError(f"correlation must lie in [-1, 1], got {rho}")
    return rho * np.asarray(z_reference, dtype=float) + np.sqrt(1.0 - rho**2) * np.asarray(z_own, dtype=float)


def logit(p: ArrayLike) -> FloatArray:
    """Log-odds log(p / (1 - p)) of a probability/fraction, p clipped to [1e-9, 1 - 1e-9] first.

    The clip bounds the result to about +-20.72. Dimensionless.
    """
    q = np.clip(np.asarray(p, dtype=float), LOGIT_CLIP, 1.0 - LOGIT_CLIP)
    return np.log(q) - np.log1p(-q)


def expit(x: ArrayLike) -> FloatArray:
    """Logistic function 1 / (1 + e^{-x}), the inverse of `logit`. Dimensionless, in (0, 1).

    Evaluated without overflow for any x (e^{-|x|} is used on both branches). In float64 the result
    rounds to exactly 1.0 for x above ~37 and underflows to 0.0 only below ~-745.
    """
    x = np.asarray(x, dtype=float)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0.0, 1.0 / (1.0 + e), e / (1.0 + e))


def utilisation_step(
    logit_u: ArrayLike,
    logit_level: ArrayLike,
    kappa_per_year: ArrayLike,
    vol_per_sqrt_year: ArrayLike,
    dt_years: ArrayLike,
    z_common: ArrayLike,
    z_own: ArrayLike,
    common_weight: ArrayLike,
) -> FloatArray:
    """One step of fleet utilisation, modelled as an OU process in logit space; returns the new logit.

    Equation: L' = ou_step(L, logit_level, kappa, sigma, dt, z) with
    z = w * z_common + sqrt(1 - w^2) * z_own (w = `common_weight`, the correlation with the market-wide
    factor; two classes with weights w1, w2 have shock correlation w1*w2). Utilisation = expit(L'),
    a fraction of billable GPU-hours in (0, 1). Units: kappa 1/year, sigma logit units per sqrt(year),
    dt years.
    """
    z = correlated_normal(z_common, z_own, common_weight)
    return ou_step(logit_u, logit_level, kappa_per_year, vol_per_sqrt_year, dt_years, z)


def price_impact_discount(
    gpus_sold_recent: ArrayLike,
    market_depth_gpus: ArrayLike,
    base_discount: ArrayLike,
    slope: ArrayLike,
    max_discount: ArrayLike,
) -> FloatArray:
    """Fire-sale discount, as a fraction of resale value, when selling into a thin secondary market.

    Equation: discount = clip(base + slope * sold / depth, 0, max_discount), where `sold` is the number
    of GPUs of the class sold recently (e.g. the last 30 days) and `depth` the number that can be sold
    in that window without impact. Sale price = resale value * (1 - discount). Dimensionless.
    """
    ratio = np.asarray(gpus_sold_recent, dtype=float) / np.asarray(market_depth_gpus, dtype=float)
    return np.clip(base_discount + np.asarray(slope, dtype=float) * ratio, 0.0, max_discount)


def impact_log_step(
    impact_log: ArrayLike,
    gpus_sold_step: ArrayLike,
    market_depth_gpus: ArrayLike,
    impact_per_depth: ArrayLike,
    half_life_days: ArrayLike,
    dt_days: ArrayLike,
) -> FloatArray:
    """Log of the multiplicative depression of a class's resale index caused by forced sales.

    Equation: J' = J * 2^{-dt / half_life} - impact_per_depth * sold / depth. J <= 0 is a log factor
    (resale index multiplied by e^{J}); it recovers towards 0 with the given half-life, and selling
    one market depth of GPUs in a step lowers it by `impact_per_depth`. Units: dt and half-life in days,
    sold and depth in GPUs, J and impact_per_depth dimensionless (log points).
    """
    recovery = np.exp2(-np.asarray(dt_days, dtype=float) / np.asarray(half_life_days, dtype=float))
    shock = (
        np.asarray(impact_per_depth, dtype=float)
        * np.asarray(gpus_sold_step, dtype=float)
        / np.asarray(market_depth_gpus, dtype=float)
    )
    return np.asarray(impact_log, dtype=float) * recovery - shock


def _straight_line(age: FloatArray, life_years: float, salvage_fraction: float) -> FloatArray:
    if life_years <= 0.0:
        raise ValueError(f"life_years must be positive, got {life_years}")
    return np.maximum(salvage_fraction, 1.0 - (1.0 - salvage_fraction) * age / life_years)


def _declining_balance(age: FloatArray, annual_rate: float, salvage_fraction: float) -> FloatArray:
    if not 0.0 <= annual_rate <= 1.0:
        raise ValueError(f"annual_rate must lie in [0, 1], got {annual_rate}")
    return np.maximum(salvage_fraction, (1.0 - annual_rate) ** age)


def _vintage_table(age: FloatArray, factors: tuple[float, ...], salvage_fraction: float) -> FloatArray:
    table = np.asarray(factors, dtype=float)
    if table.ndim != 1 or table.size == 0 or np.any(table <= 0.0):
        raise ValueError(f"vintage_factors must be a non-empty sequence of positive numbers, got {factors}")
    last_age = table.size - 1
    ratio = table[-1] / table[-2] if table.size > 1 else 1.0
    inside = np.interp(age, np.arange(table.size), table)
    beyond = table[-1] * ratio ** (age - last_age)
    return np.maximum(salvage_fraction, np.where(age > last_age, beyond, inside))


def depreciation_factor(
    age_years: ArrayLike,
    method: str,
    *,
    annual_rate: float = 0.0,
    life_years: float = 6.0,
    salvage_fraction: float = 0.0,
    vintage_factors: tuple[float, ...] = (1.0,),
) -> FloatArray:
    """Value of a GPU of a given age as a fraction of its list price new (1.0 at age 0).

    Methods (age a in years; ages below 0 count as 0; s = salvage_fraction):
    - "straight_line":     max(s, 1 - (1 - s) * a / life_years)
    - "declining_balance": max(s, (1 - annual_rate)^a)
    - "table":             vintage_factors[k] is the factor at age k years, linearly interpolated between
      integer ages; beyond the last entry it is extrapolated geometrically with the last year-over-year
      ratio factors[-1] / factors[-2] (flat if there is a single entry); the curve is floored at s, as
      with the other methods (so a salvage above a table entry overrides it, keeping the curve monotone).
    """
    age = np.maximum(np.asarray(age_years, dtype=float), 0.0)
    rules: dict[str, Callable[[], FloatArray]] = {
        "straight_line": lambda: _straight_line(age, life_years, salvage_fraction),
        "declining_balance": lambda: _declining_balance(age, annual_rate, salvage_fraction),
        "table": lambda: _vintage_table(age, tuple(vintage_factors), salvage_fraction),
    }
    if method not in rules:
        raise ValueError(f"unknown depreciation method {method!r}; expected one of {DEPRECIATION_METHODS}")
    return rules[method]()
