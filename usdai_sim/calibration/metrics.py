"""Replay metrics: one number per Monte Carlo path, compared with an observed outcome.

Each metric reads a run's per-path table (``Results.paths``) or its per-path series (``Results.series``,
kept for replays) and returns an array of shape (paths,). Windowed metrics read the target's ``from_day``
and ``to_day`` (default: the whole horizon). A metric also says which mechanism drives it, with the run's
own numbers, for the paragraph that explains a miss.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from usdai_sim.recorder import series_names
from usdai_sim.scenario.schema import dist_bounds

if TYPE_CHECKING:
    from usdai_sim.results import Results
    from usdai_sim.scenario.schema import ValidationTarget

PerPath = Callable[["Results", "ValidationTarget"], np.ndarray]
Explain = Callable[["Results"], str]


@dataclass(frozen=True)
class ReplayMetric:
    """A replay metric: what it is (with its unit), how to compute it per path, what drives it."""

    description: str
    per_path: PerPath
    mechanism: Explain


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, numerator / np.where(denominator > 0, denominator, 1.0), np.nan)


def _column(results: Results, name: str) -> np.ndarray:
    return results.paths[name].to_numpy(dtype=float)


def window(results: Results, target: ValidationTarget) -> tuple[int, int]:
    """Record indices of the target's ``from_day`` and ``to_day`` (nearest record at or before each)."""
    sim = results.scenario.simulation
    days_per_record = sim.step_days * sim.record_every_steps
    first = int((target.from_day or 0.0) // days_per_record)
    last = int((sim.horizon_days if target.to_day is None else target.to_day) // days_per_record)
    return first, last


def series(results: Results, variable: str) -> np.ndarray:
    """One per-path series of a run as float64, shape (records, paths)."""
    if results.series is None:
        raise ValueError("replay metrics need the per-path series: simulate(..., keep_series=True)")
    index = series_names(results.scenario.class_names).index(variable)
    return np.asarray(results.series[:, index, :], dtype=np.float64)


def default_rate_principal(results: Results, _: ValidationTarget) -> np.ndarray:
    """Exposure at default / principal lent, per path."""
    return _ratio(_column(results, "exposure_at_default_usd"), _column(results, "principal_originated_usd"))


def loss_given_default(results: Results, _: ValidationTarget) -> np.ndarray:
    """Loss / exposure of defaulted loans whose collateral was sold, per path (NaN when none was sold)."""
    return _ratio(_column(results, "loss_usd"), _column(results, "sold_exposure_usd"))


def loss_fraction_of_principal(results: Results, _: ValidationTarget) -> np.ndarray:
    """Principal loss / principal lent, per path."""
    return _ratio(_column(results, "loss_usd"), _column(results, "principal_originated_usd"))


def days_to_first_loss(results: Results, _: ValidationTarget) -> np.ndarray:
    """Day of the first fall of the exchange ratio, per path; infinity on paths with none."""
    days = _column(results, "days_to_first_loss")
    return np.where(np.isnan(days), np.inf, days)


def nav_drawdown(results: Results, target: ValidationTarget) -> np.ndarray:
    """Lowest exchange ratio within the window / its level at the window's start − 1, per path (≤ 0)."""
    first, last = window(results, target)
    ratio = series(results, "exchange_ratio")
    return ratio[first : last + 1].min(axis=0) / ratio[first] - 1.0


def outflow_fraction(results: Results, target: ValidationTarget) -> np.ndarray:
    """(USDai supply at start − at end + growth of the sUSDai queue) / supply at start of the window."""
    first, last = window(results, target)
    supply, queue = series(results, "supply_usd"), series(results, "queue_usd")
    return (supply[first] - supply[last] + queue[last] - queue[first]) / supply[first]


def excess_return_over_tbill(results: Results, target: ValidationTarget) -> np.ndarray:
    """Annualised growth of the exchange ratio over the window minus the window's mean T-bill rate."""
    first, last = window(results, target)
    sim = results.scenario.simulation
    years = (last - first) * sim.step_days * sim.record_every_steps / 365.0
    ratio, tbill = series(results, "exchange_ratio"), series(results, "tbill_rate")
    growth = (ratio[last] / ratio[first]) ** (1.0 / years) - 1.0
    return growth - tbill[first:last].mean(axis=0)


def _class_column(results: Results, target: ValidationTarget, template: str) -> np.ndarray:
    return _column(results, template.format(target.gpu_class))


def recovery_per_gpu_sold_usd(results: Results, target: ValidationTarget) -> np.ndarray:
    """Recovery from GPU sale proceeds / machines sold of the target's class, per path (NaN when none sold)."""
    return _ratio(_class_column(results, target, "recovery_gpu_class_{}_usd"),
                  _class_column(results, target, "gpus_sold_class_{}"))


def recovery_of_origination_value(results: Results, target: ValidationTarget) -> np.ndarray:
    """Recovery from GPU sale proceeds / origination value of the machines sold of the target's class, per path."""
    return _ratio(_class_column(results, target, "recovery_gpu_class_{}_usd"),
                  _class_column(results, target, "origination_value_sold_class_{}_usd"))


def _routes(results: Results) -> str:
    mean = results.paths[[f"defaults_{r}" for r in ("payment", "strategic", "fraud", "covenant")]].mean()
    parts = ", ".join(f"{name.removeprefix('defaults_')} {value:.1f}" for name, value in mean.items())
    loans = results.paths["loans_originated"].mean()
    return f"Defaults per path by route: {parts} (of {loans:.1f} loans written)."


def _pooled_lgd(results: Results) -> str:
    lgd = results.summary.get("loss_given_default_pooled")
    return "n/a" if lgd is None else f"{lgd:.1%}"


def default_mechanism(results: Results) -> str:
    """What drives defaults: the borrower default rule, with this run's defaults by route."""
    return (
        "Defaults come from the borrower rules in usdai_sim/agents/borrowers.py: a payment default when cash, "
        "the debt-service reserve and the sponsor's support (3 + 3 months of debt service by default) run out; "
        "a strategic walk-away when the owner's revenue falls below its default boundary "
        "(usdai_sim/agents/default_option.py), which expects rentals to revert to trend and so lets owners hold "
        f"on through a collapse they cannot see is permanent; fraud by hazard; a covenant breach. {_routes(results)}"
    )


def recovery_mechanism(results: Results) -> str:
    """What drives the loss on a default: sale factors, fraud's missing collateral, recourse."""
    spec = results.scenario.protocol.liquidation
    low, high = dist_bounds(spec.fraud_missing_fraction)
    return (
        "The loss on a default is set by the liquidation route (protocol.liquidation): the forced-sale factor "
        "for the time to sell, the fire-sale discount and the fee; for fraud, a share of the collateral is "
        f"missing ({low:.0%}-{high:.0%}) and {spec.recourse_recovery_fraction:.0%} of the shortfall comes back "
        f"through recourse after {spec.recourse_delay_days} days. Pooled LGD in this run: {_pooled_lgd(results)}. "
        f"{_routes(results)}"
    )


def holder_mechanism(results: Results) -> str:
    """What carries a loan loss to sUSDai holders: first-loss capital, recognition on sale."""
    used = results.paths["first_loss_used_usd"].mean()
    protocol = results.scenario.protocol
    return (
        f"A loss reaches the exchange ratio when it is recognised ({protocol.loss_recognition.policy}) and "
        f"only after first-loss capital is used up (${protocol.first_loss_usd:,.0f} at the start; mean used "
        f"per path ${used:,.0f}). Pooled LGD in this run: {_pooled_lgd(results)}. {_routes(results)}"
    )


def run_mechanism(results: Results) -> str:
    """What drives a run: the depositors' exit hazards and the queue."""
    peak = float(np.median(results.paths["queue_peak_fraction"]))
    return (
        "Exits after the trigger come from the depositor model (usdai_sim/agents/depositors.py): base, "
        "spread, loss and herd hazards of sUSDai holders; unstaked USDai only joins scheduled waves. "
        f"Median peak of the queue: {peak:.1%} of sUSDai shares."
    )


def yield_mechanism(results: Results) -> str:
    """What sets the yield of an empty book: reserve yield on all USDai, paid to sUSDai, less fees."""
    protocol = results.scenario.protocol
    staked, unstaked = protocol.initial_susdai_nav_usd, protocol.unstaked_usdai_usd
    return (
        "With no loans the exchange ratio grows with the reserve yield (T-bill plus incentive) less the admin "
        "fee on base yield (protocol.admin_fee_base_yield_bps). The reserve yield of all USDai, unstaked "
        "included, belongs to sUSDai (DOMAIN.md), so at the start sUSDai earns it on "
        f"${staked + unstaked:,.0f} of reserves for ${staked:,.0f} of shares, "
        f"{(staked + unstaked) / staked:.2f} times the T-bill rate before fees and flows."
    )


METRICS: dict[str, ReplayMetric] = {
    "default_rate_principal": ReplayMetric(
        "share of principal lent that defaulted (fraction)", default_rate_principal, default_mechanism
    ),
    "loss_given_default": ReplayMetric(
        "loss / exposure of defaulted loans whose collateral was sold (fraction)", loss_given_default,
        recovery_mechanism,
    ),
    "recovery_per_gpu_sold_usd": ReplayMetric(
        "recovery from the sale of defaulted machines of one GPU class / machines sold (USD per machine)",
        recovery_per_gpu_sold_usd, recovery_mechanism,
    ),
    "recovery_of_origination_value": ReplayMetric(
        "recovery from the sale of defaulted machines of one GPU class / their value at origination (fraction)",
        recovery_of_origination_value, recovery_mechanism,
    ),
    "loss_fraction_of_principal": ReplayMetric(
        "principal loss / principal lent (fraction)", loss_fraction_of_principal, recovery_mechanism
    ),
    "days_to_first_loss": ReplayMetric(
        "day of the first fall of the sUSDai exchange ratio (days; inf = none)", days_to_first_loss,
        default_mechanism,
    ),
    "nav_drawdown": ReplayMetric(
        "largest fall of the exchange ratio within the window, from its level at the window's start (fraction)",
        nav_drawdown, holder_mechanism,
    ),
    "outflow_fraction": ReplayMetric(
        "USDai redeemed plus sUSDai queued within the window / USDai supply at its start (fraction)",
        outflow_fraction, run_mechanism,
    ),
    "excess_return_over_tbill": ReplayMetric(
        "annualised sUSDai return minus the mean T-bill rate over the window (annual decimal)",
        excess_return_over_tbill, yield_mechanism,
    ),
}
