"""Market state per path and its one-step update (T-bill, GPU resale factors, rentals, price impact).

Resale (liquidity) index of class c (multiplies the fundamental value: list price × income or depreciation):
    I_c = exp(X_common + X_c + impact_c) · shock multipliers,  X log factors: OU around 0 at speed
    ``liquidity_kappa_per_year`` (gpu.ou_step), or geometric Brownian motions when it is 0
Rental price of class c ($/GPU-hour):
    R_c = anchor_c · exp(μ_R·t + U_c) · shock multipliers,  U_c an OU deviation whose shocks have
    correlation ρ with the class's total resale shock (σ_g·z_g + σ_c·z_c)/√(σ_g² + σ_c²).
T-bill: the base process (Vasicek, CIR, constant or history) plus shifts, floored at 0, or a path override.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from usdai_sim.market.gpu import correlated_normal, impact_log_step, log_factor_step, ou_step
from usdai_sim.market.rates import cir_step, historical_rate_path, vasicek_step
from usdai_sim.market.shocks import MarketShocks
from usdai_sim.params import DAYS_PER_YEAR, ClassParams
from usdai_sim.rng import Streams
from usdai_sim.scenario.schema import Factor, Markets, PriceImpact, Simulation


@dataclass
class MarketState:
    """Per-path market variables: (P,) or (P, C)."""

    tbill_base: np.ndarray
    tbill: np.ndarray
    common_log: np.ndarray
    class_log: np.ndarray
    rental_dev: np.ndarray
    impact_log: np.ndarray
    recent_sold_gpus: np.ndarray
    resale_index: np.ndarray
    rental_usd_per_gpu_hour: np.ndarray

    @classmethod
    def new(cls, n_paths: int, classes: ClassParams, initial_rate: float) -> MarketState:
        """Day-0 markets: factors at zero, rentals at their anchors."""
        c = len(classes.names)
        zeros = np.zeros((n_paths, c))
        return cls(
            tbill_base=np.full(n_paths, initial_rate),
            tbill=np.full(n_paths, max(initial_rate, 0.0)),
            common_log=np.zeros(n_paths),
            class_log=zeros.copy(),
            rental_dev=zeros.copy(),
            impact_log=zeros.copy(),
            recent_sold_gpus=zeros.copy(),
            resale_index=np.ones((n_paths, c)),
            rental_usd_per_gpu_hour=np.broadcast_to(
                classes.rental_anchor_usd_per_gpu_hour, (n_paths, c)
            ).copy(),
        )


def tbill_history(markets: Markets, sim: Simulation) -> np.ndarray | None:
    """The T-bill path on each step-end day when the model is "historical", else None."""
    if markets.tbill.model != "historical":
        return None
    days = np.arange(sim.n_steps + 1) * sim.step_days
    return historical_rate_path(markets.tbill.history_start_date, days)


def advance_tbill(
    state: MarketState, markets: Markets, streams: Streams, dt_years: float, history_value: float | None
) -> None:
    """Move the base short rate one step with the exact transition of its model."""
    spec = markets.tbill
    if spec.model == "vasicek":
        z = streams.normal("tbill")
        state.tbill_base = vasicek_step(
            state.tbill_base, spec.kappa_per_year, spec.mean_rate, spec.vol_per_sqrt_year, dt_years, z
        )
    elif spec.model == "cir":
        state.tbill_base = cir_step(
            state.tbill_base, spec.kappa_per_year, spec.mean_rate, spec.vol_per_sqrt_year, dt_years, streams
        )
    elif spec.model == "historical":
        assert history_value is not None
        state.tbill_base = np.full_like(state.tbill_base, history_value)


def _liquidity_step(x: np.ndarray, factor: Factor, kappa_per_year: float, dt_years: float, z: np.ndarray) -> np.ndarray:
    """One step of a log liquidity factor: an OU around 0 at speed κ (drift unused), or the GBM log when κ = 0."""
    if kappa_per_year > 0:
        return ou_step(x, 0.0, kappa_per_year, factor.vol_per_sqrt_year, dt_years, z)
    return log_factor_step(x, factor.drift_per_year, factor.vol_per_sqrt_year, dt_years, z)


def advance_gpu(
    state: MarketState, markets: Markets, streams: Streams, n_classes: int, dt_years: float
) -> np.ndarray:
    """Move the common and class resale factors; return the class's normalised resale shock (P, C)."""
    gpu = markets.gpu
    z_common = streams.normal("gpu_common")
    z_class = streams.normal("gpu_class", n_classes)
    state.common_log = _liquidity_step(state.common_log, gpu.common, gpu.liquidity_kappa_per_year, dt_years, z_common)
    state.class_log = _liquidity_step(
        state.class_log, gpu.class_factor, gpu.liquidity_kappa_per_year, dt_years, z_class
    )
    sg, sc = gpu.common.vol_per_sqrt_year, gpu.class_factor.vol_per_sqrt_year
    total = np.hypot(sg, sc)
    return (sg * z_common[:, None] + sc * z_class) / total if total > 0 else np.zeros_like(z_class)


def advance_markets(
    state: MarketState,
    markets: Markets,
    classes: ClassParams,
    streams: Streams,
    shocks: MarketShocks,
    day: float,
    dt_days: float,
    history_value: float | None,
) -> None:
    """One step of every market variable to ``day`` (the step's end), shocks applied on top."""
    dt_years = dt_days / DAYS_PER_YEAR
    advance_tbill(state, markets, streams, dt_years, history_value)
    tbill = np.maximum(state.tbill_base + shocks.tbill_shift, 0.0)
    tbill = tbill + shocks.tbill_level_weight * (shocks.tbill_level - tbill)
    state.tbill = np.where(np.isnan(shocks.tbill_override), tbill, shocks.tbill_override)
    z_resale = advance_gpu(state, markets, streams, len(classes.names), dt_years)
    rental = markets.rental
    z_rental = correlated_normal(
        z_resale, streams.normal("rental", len(classes.names)), rental.correlation_with_resale
    )
    state.rental_dev = ou_step(
        state.rental_dev, 0.0, rental.kappa_per_year, rental.vol_per_sqrt_year, dt_years, z_rental
    )
    trend = rental.drift_per_year * day / DAYS_PER_YEAR
    state.rental_usd_per_gpu_hour = (
        classes.rental_anchor_usd_per_gpu_hour * np.exp(trend + state.rental_dev) * shocks.rental_multiplier
    )
    resale_log = state.common_log[:, None] + state.class_log + state.impact_log
    state.resale_index = np.exp(resale_log) * shocks.resale_multiplier


def record_forced_sales(
    state: MarketState, sold_gpus: np.ndarray, classes: ClassParams, impact: PriceImpact, dt_days: float
) -> np.ndarray:
    """Add this step's forced sales (P, C) to the window volume; depress the index; return the window volume."""
    state.recent_sold_gpus = state.recent_sold_gpus * np.exp(-dt_days / impact.window_days) + sold_gpus
    state.impact_log = impact_log_step(
        state.impact_log,
        sold_gpus,
        classes.depth_gpus_per_30d,
        impact.index_impact_per_depth,
        impact.half_life_days,
        dt_days,
    )
    return state.recent_sold_gpus
