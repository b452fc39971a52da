"""The per-agent mesa baseline (benchmarks/per_agent_mesa.py) agrees with the engine, statistically.

Both simulate the same operators (one cohort, no shocks, every loan funded at day 0, depositors inert)
for one year with independent random numbers. Per path we take the share of loans that defaulted and
the principal still outstanding at the horizon; the two means must agree within Z_MAX two-sample
standard errors (z = (mean_a − mean_b) / sqrt(se_a² + se_b²)), a tolerance derived from the samples.

Two cases: the baseline's H100 cohort as shipped (a few strategic and fraud defaults, loans still
amortising at the horizon), and a stressed one (interest-only floating-rate loans whose balloon falls
due on day 330,
so the refinance of the final payment, grace interest, payment defaults, strategic and fraud defaults,
fire sales with price impact all occur within the year).

A third case checks the holder side (the per-agent vault and its stakers): 50 stakers leaving at a base
rate of 1 a year (run proneness 0, no deposits, no secondary market, so neither the signals nor the
vault's price matter), each requesting all its shares; the engine draws these exits by thinning, the
per-agent model with a uniform per staker and day. Per path: the share of the initial sUSDai redeemed
by the horizon (expected about 1 − e^(−1·330/365) ≈ 0.6: requests after day 330 wait for the window at
360 or beyond), the requests still open and the share still pending; again |z| < Z_MAX.
"""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.per_agent_mesa import run_paths
from benchmarks.workloads import baseline, inert_depositors, sized
from usdai_sim.model import UsdaiModel
from usdai_sim.params import compile_params
from usdai_sim.scenario.schema import Scenario, Spread, Valuation

Z_MAX = 4.0
BORROWERS = 20
HORIZON_DAYS = 365
ENGINE_PATHS = 200
STAKERS = 50
ROUTES = {1: "payment", 2: "strategic", 3: "fraud"}
HOLDER_METRICS = ("redeemed_share", "open_requests", "pending_share")
METRICS = (
    "default_rate",
    "principal_outstanding_usd",
    "loss_usd",
    *(f"{r}_default_rate" for r in ROUTES.values()),
)


def calm() -> Scenario:
    """The baseline's first cohort, 20 borrowers, one year; no springing recourse, no new arrivals, and the
    per-agent model's world: depreciation-curve values, GBM liquidity factors, the collateral-barrier rule
    (the per-agent baseline has neither the income valuation nor the default option; issue #18); no
    underwriting floor (the test funds every loan at day 0)."""
    scenario = inert_depositors(sized(baseline(), ENGINE_PATHS, BORROWERS, 10, HORIZON_DAYS))
    liquidation = scenario.protocol.liquidation.model_copy(update={"recourse_recovery_fraction": 0.0})
    gpu = scenario.markets.gpu.model_copy(
        update={"valuation": Valuation(method="depreciation"), "liquidity_kappa_per_year": 0.0}
    )
    cohort = scenario.borrowers.cohorts[0].model_copy(update={"arrivals_per_month": 0.0})
    borrowers = scenario.borrowers.model_copy(
        update={"cohorts": (cohort,), "default_rule": "collateral_barrier", "refinance_at_maturity": False}
    )
    allocation = scenario.protocol.allocation.model_copy(update={"min_dscr": None})
    return scenario.model_copy(
        update={
            "protocol": scenario.protocol.model_copy(update={"liquidation": liquidation, "allocation": allocation}),
            "markets": scenario.markets.model_copy(update={"gpu": gpu}),
            "borrowers": borrowers,
        }
    )


def stressed() -> Scenario:
    """Weaker operators with 11-month interest-only floating-rate loans and more volatile GPU prices."""
    scenario = calm()
    cohort = scenario.borrowers.cohorts[0].model_copy(
        update={
            "utilisation_level": Spread(low=0.55, high=0.85),
            "contracted_share": Spread(low=0.0, high=0.4),
            "amortisation": "interest_only",
            "rate_type": "floating",
            "term_months": 11,
            "fraud_rate_per_year": 0.02,
            "initial_cash_months": Spread(low=0.5, high=1.5),
        }
    )
    gpu = scenario.markets.gpu
    gpu = gpu.model_copy(update={"common": gpu.common.model_copy(update={"vol_per_sqrt_year": 0.4})})
    return scenario.model_copy(
        update={
            "borrowers": scenario.borrowers.model_copy(update={"cohorts": (cohort,)}),
            "markets": scenario.markets.model_copy(update={"gpu": gpu}),
        }
    )


def leaving() -> Scenario:
    """The calm case with 50 stakers who leave at a base rate of 1 a year and do nothing else."""
    scenario = calm()
    spec = scenario.depositors
    update = {"count": STAKERS, "redeem_base_rate_per_year": 1.0, "run_proneness": 0.0, "deposit_rate_per_year": 0.0,
              "request_fraction": 1.0, "secondary": spec.secondary.model_copy(update={"enabled": False})}
    return scenario.model_copy(update={"depositors": spec.model_copy(update=update)})


def engine_holder_outcomes(scenario: Scenario, paths: int) -> dict[str, np.ndarray]:
    """Per path at the horizon, from the engine's staker book (the arbitrageurs' column left out)."""
    model = UsdaiModel(compile_params(scenario), 0, paths)
    for _ in range(scenario.simulation.n_steps):
        model.step()
    d = model.depositors
    initial = model.dparams.balance_usd[:, :-1].sum(axis=1)
    pending = d.pending_shares[:, :-1]
    return {
        "redeemed_share": 1.0 - (d.shares[:, :-1] + pending).sum(axis=1) / initial,
        "open_requests": (pending > 0).sum(axis=1).astype(float),
        "pending_share": pending.sum(axis=1) / initial,
    }


@pytest.mark.slow
def test_per_agent_vault_agrees_with_engine_on_redemptions() -> None:
    """Redeemed share, open requests, pending share: |z| < Z_MAX; the redeemed share is near 1 − e^(−330/365)."""
    scenario = leaving()
    engine = engine_holder_outcomes(scenario, ENGINE_PATHS)
    agents = run_paths(scenario, 60, seed=scenario.simulation.seed + 1)
    assert 0.5 < engine["redeemed_share"].mean() < 0.75 and 0.5 < agents["redeemed_share"].mean() < 0.75
    for metric in HOLDER_METRICS:
        z = z_statistic(engine[metric], agents[metric])
        assert abs(z) < Z_MAX, (
            f"{metric}: engine {engine[metric].mean():.6g}, per-agent {agents[metric].mean():.6g}, z={z:.2f}"
        )


def engine_outcomes(scenario: Scenario, paths: int) -> dict[str, np.ndarray]:
    """Per-path outcomes of the engine's model (its borrower book read at the horizon)."""
    model = UsdaiModel(compile_params(scenario), 0, paths)
    for _ in range(scenario.simulation.n_steps):
        model.step()
    book = model.book
    originated = (book.originated_usd > 0).sum(axis=1)
    routes = {
        f"{name}_default_rate": (book.default_route == code).sum(axis=1) / originated
        for code, name in ROUTES.items()
    }
    return {
        "default_rate": (book.default_route > 0).sum(axis=1) / originated,
        **routes,
        "principal_outstanding_usd": book.principal_usd.sum(axis=1),
        "loss_usd": book.loss_usd.sum(axis=1),
        "originated": originated,
    }


def per_agent_outcomes(scenario: Scenario, paths: int) -> dict[str, np.ndarray]:
    """Per-path outcomes of the per-agent baseline."""
    out = run_paths(scenario, paths, seed=scenario.simulation.seed + 1)
    originated = out["loans_originated"]
    routes = {f"{name}_default_rate": out[f"defaults_{name}"] / originated for name in ROUTES.values()}
    return {
        "default_rate": out["loans_defaulted"] / originated,
        **routes,
        "principal_outstanding_usd": out["principal_outstanding_usd"],
        "loss_usd": out["loss_usd"],
        "originated": originated,
    }


def z_statistic(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sample z of the difference of means (0 when both samples are constant and equal)."""
    se = np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
    diff = float(a.mean() - b.mean())
    return 0.0 if se == 0 and diff == 0 else diff / se


@pytest.mark.slow
@pytest.mark.parametrize(
    ("build", "per_agent_paths"), [(calm, 80), (stressed, 120)], ids=["calm", "stressed"]
)
def test_per_agent_baseline_agrees_with_engine(build, per_agent_paths: int) -> None:
    """Default rate and final outstanding principal: |z| < Z_MAX; both fund every loan; defaults occur."""
    scenario = build()
    engine = engine_outcomes(scenario, ENGINE_PATHS)
    agents = per_agent_outcomes(scenario, per_agent_paths)
    assert np.all(engine["originated"] == BORROWERS) and np.all(agents["originated"] == BORROWERS)
    assert engine["default_rate"].mean() > 0 and agents["default_rate"].mean() > 0
    for metric in METRICS:
        z = z_statistic(engine[metric], agents[metric])
        assert abs(z) < Z_MAX, (
            f"{metric}: engine {engine[metric].mean():.6g}, per-agent {agents[metric].mean():.6g}, z={z:.2f}"
        )
