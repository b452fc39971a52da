"""Short-term interest rate processes (Vasicek, CIR) and the historical 3-month T-bill path.

All rates are annual decimals (0.05 = 5% a year), time is in years unless a name says `_days`. The
functions are pure and vectorised; the only file read is the packaged FRED TB3MS series
(`usdai_sim/data/tb3ms.csv`), by `load_tbill_history`.
"""

import datetime as dt
from importlib import resources
from typing import Protocol

import numpy as np
import numpy.typing as npt

from usdai_sim.market.gpu import ArrayLike, FloatArray, decay_integral_years, ou_moments, ou_step

TBILL_DAYS = 91
"""Days to maturity of a 3-month Treasury bill, the convention for TB3MS."""


class NoncentralChiSquareSource(Protocol):
    """Anything that draws non-central chi-square variates like `numpy.random.Generator` does."""

    def noncentral_chisquare(self, df: FloatArray, nonc: FloatArray) -> FloatArray: ...


def vasicek_step(
    rate: ArrayLike,
    kappa_per_year: ArrayLike,
    mean_rate: ArrayLike,
    vol_per_sqrt_year: ArrayLike,
    dt_years: ArrayLike,
    z: ArrayLike,
) -> FloatArray:
    """One exact step of the Vasicek short rate dr = kappa (theta - r) dt + sigma dW.

    Equation: r' = theta + (r - theta) e^{-kappa dt} + sigma sqrt((1 - e^{-2 kappa dt}) / (2 kappa)) z,
    z ~ N(0, 1); as kappa -> 0 the noise scale tends to sigma sqrt(dt). Units: rates as annual decimals,
    kappa in 1/year, sigma in (annual decimal) per sqrt(year), dt in years. Rates can go negative.
    """
    return ou_step(rate, mean_rate, kappa_per_year, vol_per_sqrt_year, dt_years, z)


def _cir_mean_step(rate: FloatArray, kappa: FloatArray, theta: FloatArray, dt_years: ArrayLike) -> FloatArray:
    return theta + (rate - theta) * np.exp(-kappa * np.asarray(dt_years, dtype=float))


def cir_step(
    rate: ArrayLike,
    kappa_per_year: ArrayLike,
    mean_rate: ArrayLike,
    vol_per_sqrt_year: ArrayLike,
    dt_years: ArrayLike,
    rng: NoncentralChiSquareSource,
) -> FloatArray:
    """One exact step of the CIR short rate dr = kappa (theta - r) dt + sigma sqrt(r) dW.

    Equation: r' = c * X, X ~ noncentral chi-square(d, lambda), with c = sigma^2 (1 - e^{-kappa dt}) /
    (4 kappa), d = 4 kappa theta / sigma^2, lambda = r e^{-kappa dt} / c. If sigma == 0 the step is the
    deterministic mean path theta + (r - theta) e^{-kappa dt}. Units: rates as annual decimals (>= 0),
    kappa in 1/year, sigma in 1/sqrt(year) (times sqrt of a rate), dt in years (> 0).
    Requires kappa * theta > 0 when sigma > 0 (numpy needs d > 0).
    """
    r = np.asarray(rate, dtype=float)
    kappa = np.asarray(kappa_per_year, dtype=float)
    theta = np.asarray(mean_rate, dtype=float)
    sigma = np.asarray(vol_per_sqrt_year, dtype=float)
    if np.any(r < 0.0):
        raise ValueError("CIR rates must be non-negative")
    if np.all(sigma == 0.0):
        return _cir_mean_step(r, kappa, theta, dt_years)
    if np.any(sigma == 0.0) or np.any(kappa * theta <= 0.0):
        raise ValueError("cir_step needs sigma > 0 everywhere (or 0 everywhere) and kappa * theta > 0")
    c = sigma**2 * decay_integral_years(kappa, dt_years) / 4.0
    df = 4.0 * kappa * theta / sigma**2
    nonc = r * np.exp(-kappa * np.asarray(dt_years, dtype=float)) / c
    return c * np.asarray(rng.noncentral_chisquare(df, nonc), dtype=float)


def vasicek_moments(
    r0: ArrayLike, kappa: ArrayLike, theta: ArrayLike, sigma: ArrayLike, t_years: ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """Conditional (mean, variance) of the Vasicek rate t years after starting at r0.

    Equations: E[r_t] = theta + (r0 - theta) e^{-kappa t};
    Var[r_t] = sigma^2 (1 - e^{-2 kappa t}) / (2 kappa)  (-> sigma^2 t as kappa -> 0).
    Units: annual decimal rates; the variance is in (annual decimal)^2.
    """
    return ou_moments(r0, theta, kappa, sigma, t_years)


def cir_moments(
    r0: ArrayLike, kappa: ArrayLike, theta: ArrayLike, sigma: ArrayLike, t_years: ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """Conditional (mean, variance) of the CIR rate t years after starting at r0.

    Equations: E[r_t] = theta + (r0 - theta) e^{-kappa t};
    Var[r_t] = r0 sigma^2 / kappa (e^{-kappa t} - e^{-2 kappa t})
               + theta sigma^2 / (2 kappa) (1 - e^{-kappa t})^2,
    written with I = (1 - e^{-kappa t}) / kappa as r0 sigma^2 e^{-kappa t} I + theta sigma^2 kappa I^2 / 2
    so that kappa -> 0 gives r0 sigma^2 t. Units: annual decimal rates; variance in (annual decimal)^2.
    Scalar inputs give numpy float64 scalars, array inputs broadcast arrays (as in all moment functions).
    """
    r0_, kappa_, theta_, sigma_ = (np.asarray(a, dtype=float) for a in (r0, kappa, theta, sigma))
    decay = np.exp(-kappa_ * np.asarray(t_years, dtype=float))
    integral = decay_integral_years(kappa_, t_years)
    mean_t = theta_ + (r0_ - theta_) * decay
    var_t = sigma_**2 * (r0_ * decay * integral + 0.5 * theta_ * kappa_ * integral**2)
    return mean_t[()], var_t[()]


def _require_positive_kappa(kappa: ArrayLike) -> FloatArray:
    k = np.asarray(kappa, dtype=float)
    if np.any(k <= 0.0):
        raise ValueError(f"a stationary distribution needs kappa > 0, got {k}")
    return k


def vasicek_stationary(kappa: ArrayLike, theta: ArrayLike, sigma: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Stationary (mean, variance) of the Vasicek rate: (theta, sigma^2 / (2 kappa)); needs kappa > 0.

    Units: annual decimal rates; variance in (annual decimal)^2.
    """
    k = _require_positive_kappa(kappa)
    return np.asarray(theta, dtype=float)[()], (np.asarray(sigma, dtype=float) ** 2 / (2.0 * k))[()]


def cir_stationary(kappa: ArrayLike, theta: ArrayLike, sigma: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Stationary (mean, variance) of the CIR rate: (theta, theta sigma^2 / (2 kappa)); needs kappa > 0.

    The stationary law is Gamma(shape 2 kappa theta / sigma^2, scale sigma^2 / (2 kappa)).
    Units: annual decimal rates; variance in (annual decimal)^2.
    """
    k = _require_positive_kappa(kappa)
    th = np.asarray(theta, dtype=float)
    return th[()], (th * np.asarray(sigma, dtype=float) ** 2 / (2.0 * k))[()]


def discount_to_bond_equivalent(discount_pct: ArrayLike, days: int = TBILL_DAYS) -> FloatArray:
    """Bond-equivalent yield (annual decimal) of a T-bill quoted on a bank-discount basis (percent).

    Equation: BEY = 365 d / (360 - d * days), d = discount_pct / 100, valid for bills of up to half a
    year (`days` to maturity; 91 for the 3-month bill). Example: 5.00% discount, 91 days -> 0.051343.
    """
    d = np.asarray(discount_pct, dtype=float) / 100.0
    return 365.0 * d / (360.0 - d * days)


def load_tbill_history() -> tuple[npt.NDArray[np.datetime64], FloatArray]:
    """Monthly 3-month T-bill yields shipped with the package (FRED TB3MS, Federal Reserve H.15).

    Returns (month_start_dates as datetime64[D], bond-equivalent yields as annual decimals), in date
    order. The file's values are monthly averages in percent on a discount basis; lines starting with
    '#' are comments and the first other line is the header `date,tb3ms_pct`.
    """
    text = resources.files("usdai_sim").joinpath("data/tb3ms.csv").read_text(encoding="utf-8")
    rows = [line.split(",") for line in text.splitlines() if line.strip() and not line.startswith("#")]
    header, body = rows[0], rows[1:]
    if [h.strip() for h in header] != ["date", "tb3ms_pct"]:
        raise ValueError(f"tb3ms.csv: unexpected header {header}")
    dates = np.array([row[0].strip() for row in body], dtype="datetime64[D]")
    discount_pct = np.array([float(row[1]) for row in body])
    order = np.argsort(dates, kind="stable")
    return dates[order], discount_to_bond_equivalent(discount_pct[order])


def _parse_date(start_date: str) -> np.datetime64:
    try:
        parsed = dt.datetime.strptime(start_date, "%Y-%m-%d").date()
    except (TypeError, ValueError) as err:
        raise ValueError(f"start_date {start_date!r} is not a valid 'YYYY-MM-DD' date") from err
    return np.datetime64(parsed, "D")


def historical_rate_path(start_date: str, days: npt.ArrayLike) -> FloatArray:
    """3-month T-bill bond-equivalent yield (annual decimal) on each simulation day.

    Day k (counted from `start_date`, 'YYYY-MM-DD'; fractional days are floored) gets the monthly
    average of its calendar month (a step function). Days before the first month use the first value;
    days after the last month hold the last value. Raises ValueError naming `start_date` if invalid.
    """
    start = _parse_date(start_date)
    month_starts, yields = load_tbill_history()
    offsets = np.floor(np.asarray(days, dtype=float)).astype(np.int64)
    dates = start + offsets.astype("timedelta64[D]")
    index = np.searchsorted(month_starts, dates, side="right") - 1
    return yields[np.clip(index, 0, yields.size - 1)]
