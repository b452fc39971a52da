"""Shocks: dated or stochastic events, turned each step into multipliers and shifts per path.

Every shock has an envelope e(t) ∈ [0, 1] (see ``schema.ShockBase``); what e(t) does depends on
its type (multiplicative change of an index, additive T-bill shift, rate multiplier, ...).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from usdai_sim.rng import Streams
from usdai_sim.scenario.schema import (
    FraudShock,
    GpuResaleShock,
    NewGenerationShock,
    RedemptionWaveShock,
    RentalShock,
    Scenario,
    SeriesShock,
    Shock,
    TbillLevelShock,
    TbillPathShock,
    TbillShiftShock,
    UtilisationShock,
)


def envelope(day: float, start_day: np.ndarray, duration_days: float | None, shape: str) -> np.ndarray:
    """e(t) per path: step → 1 on [start, start + duration); ramp → clip((t − start)/duration, 0, 1)."""
    elapsed = day - start_day
    if shape == "ramp":
        assert duration_days is not None
        return np.clip(elapsed / duration_days, 0.0, 1.0)
    on = elapsed >= 0.0
    if duration_days is not None:
        on &= elapsed < duration_days
    return on.astype(float)


@dataclass
class MarketShocks:
    """The combined effect of all shocks at one day, per path (P,) or per path and class (P, C)."""

    resale_multiplier: np.ndarray
    rental_multiplier: np.ndarray
    utilisation_multiplier: np.ndarray
    tbill_shift: np.ndarray
    tbill_override: np.ndarray
    tbill_level: np.ndarray
    tbill_level_weight: np.ndarray
    fraud_multiplier: np.ndarray
    wave_fraction: np.ndarray
    liquidity_multiplier: np.ndarray


class ShockSchedule:
    """Per-path timing of each shock (drawn once) and its evaluation at any day."""

    def __init__(self, scenario: Scenario, streams: Streams) -> None:
        self.shocks: tuple[Shock, ...] = scenario.shocks
        self.class_names = scenario.class_names
        self.n_paths = streams.n_paths
        draws = streams.uniform("shocks", max(1, 2 * len(self.shocks)))
        self.start_day = (
            np.stack(
                [s.start_day + s.start_window_days * draws[:, 2 * i] for i, s in enumerate(self.shocks)],
                axis=0,
            )
            if self.shocks
            else np.zeros((0, self.n_paths))
        )
        self.occurs = (
            np.stack([draws[:, 2 * i + 1] < s.probability for i, s in enumerate(self.shocks)], axis=0)
            if self.shocks
            else np.zeros((0, self.n_paths), bool)
        )

    def _class_mask(self, classes: tuple[str, ...]) -> np.ndarray:
        return np.array([not classes or name in classes for name in self.class_names])

    def _e(self, i: int, day: float) -> np.ndarray:
        shock = self.shocks[i]
        return envelope(day, self.start_day[i], shock.duration_days, shock.shape) * self.occurs[i]

    def at(self, day: float) -> MarketShocks:
        """All shock effects on ``day``; ``wave_fraction`` is the cumulative share of supply the waves have hit."""
        p, c = self.n_paths, len(self.class_names)
        out = MarketShocks(
            resale_multiplier=np.ones((p, c)),
            rental_multiplier=np.ones((p, c)),
            utilisation_multiplier=np.ones(p),
            tbill_shift=np.zeros(p),
            tbill_override=np.full(p, np.nan),
            tbill_level=np.zeros(p),
            tbill_level_weight=np.zeros(p),
            fraud_multiplier=np.ones(p),
            wave_fraction=np.zeros(p),
            liquidity_multiplier=np.ones((p, c)),
        )
        for i, shock in enumerate(self.shocks):
            self._apply(i, shock, day, out)
        return out

    def _apply(self, i: int, shock: Shock, day: float, out: MarketShocks) -> None:
        e = self._e(i, day)
        if isinstance(shock, GpuResaleShock):
            out.resale_multiplier *= 1.0 + shock.change * e[:, None] * self._class_mask(shock.classes)
        elif isinstance(shock, RentalShock):
            out.rental_multiplier *= 1.0 + shock.change * e[:, None] * self._class_mask(shock.classes)
        elif isinstance(shock, UtilisationShock):
            out.utilisation_multiplier *= 1.0 + shock.change * e
        elif isinstance(shock, TbillShiftShock):
            out.tbill_shift += shock.shift * e
        elif isinstance(shock, TbillPathShock):
            self._apply_path(i, shock, day, out)
        elif isinstance(shock, TbillLevelShock):
            out.tbill_level = np.where(e > 0, shock.level, out.tbill_level)
            out.tbill_level_weight = np.where(e > 0, e, out.tbill_level_weight)
        elif isinstance(shock, FraudShock):
            out.fraud_multiplier *= 1.0 + (shock.multiplier - 1.0) * e
        elif isinstance(shock, RedemptionWaveShock):
            out.wave_fraction += shock.fraction_of_supply * e
        elif isinstance(shock, NewGenerationShock):
            self._apply_new_generation(i, shock, day, out)
        elif isinstance(shock, SeriesShock):
            self._apply_series(i, shock, day, out)

    def _apply_path(self, i: int, shock: TbillPathShock, day: float, out: MarketShocks) -> None:
        elapsed = day - self.start_day[i]
        idx = np.searchsorted(np.asarray(shock.days), elapsed, side="right") - 1
        active = (idx >= 0) & (e_on := self._e(i, day) > 0)
        rates = np.asarray(shock.rates)[np.clip(idx, 0, None)]
        out.tbill_override = np.where(active & e_on, rates, out.tbill_override)

    def _apply_new_generation(self, i: int, shock: NewGenerationShock, day: float, out: MarketShocks) -> None:
        mask = self._class_mask(shock.classes)
        launched = ((day - self.start_day[i]) >= 0) & self.occurs[i]
        years_since = np.maximum(day - self.start_day[i], 0.0) / 365.0 * self.occurs[i]
        decay = np.exp(-shock.extra_depreciation_per_year * years_since)
        resale = decay * (1.0 + shock.resale_jump * launched)
        out.resale_multiplier *= np.where(mask, resale[:, None], 1.0)
        out.rental_multiplier *= np.where(mask, (1.0 + shock.rental_jump * launched)[:, None], 1.0)

    def _apply_series(self, i: int, shock: SeriesShock, day: float, out: MarketShocks) -> None:
        value = np.interp(day - self.start_day[i], shock.days, shock.values)
        factor = 1.0 + (value - 1.0) * self._e(i, day)
        if shock.target == "utilisation":
            out.utilisation_multiplier *= factor
            return
        per_class = np.where(self._class_mask(shock.classes), factor[:, None], 1.0)
        target = {"rental": out.rental_multiplier, "resale": out.resale_multiplier}.get(
            shock.target, out.liquidity_multiplier
        )
        target *= per_class
