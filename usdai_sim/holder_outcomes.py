"""Per-path holder outcomes at the horizon: who bore the loss, the first-mover advantage, concentration.

Holder groups of stakers, per path (the first loss day is the first day a net loss was recognised):
* ``left_early`` — first exit (sale or request) before the first loss day;
* ``queued`` — first exit on or after it (through the queue or the secondary market);
* ``stayed`` — never asked to leave;
* ``arbitrageurs`` — the secondary market's buyers (their discount gain counts as a negative loss).
A group's loss is the net recognised loss its members bore while holding (pro rata to shares, held and
pending) plus the secondary-market discount they paid. The unstaked holders redeem 1:1 against full
reserves and bear no loss here; first-loss capital and GPU value insurance are shown beside them.
First-mover advantage: ``depositor_phases`` module docstring.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from usdai_sim.population import concentration

if TYPE_CHECKING:
    from usdai_sim.model import UsdaiModel

GROUPS = ("left_early", "queued", "stayed", "arbitrageurs")


def group_masks(m: UsdaiModel) -> dict[str, np.ndarray]:
    """(n_paths, n_stakers + 1) masks of the holder groups (module docstring)."""
    d = m.depositors
    exited = np.isfinite(d.first_exit_day)
    early = exited & (d.first_exit_day < m.accounts.loss_day[:, None])
    arb = np.zeros(exited.shape, bool)
    arb[:, -1] = True
    return {
        "left_early": early & ~arb,
        "queued": exited & ~early & ~arb,
        "stayed": ~exited & ~arb,
        "arbitrageurs": arb,
    }


def loss_columns(m: UsdaiModel) -> dict[str, np.ndarray]:
    """USD loss per holder group, plus first-loss, insurance and unstaked (zero), per path."""
    d = m.depositors
    borne = d.loss_borne_usd + d.discount_paid_usd
    cols = {f"loss_{g}_usd": np.where(mask, borne, 0.0).sum(axis=1) for g, mask in group_masks(m).items()}
    cols["loss_unstaked_usd"] = np.zeros(m.n_paths)
    cols["loss_first_loss_usd"] = m.scenario.protocol.first_loss_usd - m.vault.first_loss_left_usd
    cols["loss_insurance_usd"] = m.accounts.insurance_usd
    cols["secondary_discount_paid_usd"] = d.discount_paid_usd[:, :-1].sum(axis=1)
    return cols


def first_mover_columns(m: UsdaiModel) -> dict[str, np.ndarray]:
    """Value-weighted return from the stress start of leavers (first N days) and of stayers, per path."""
    d, a = m.depositors, m.accounts
    final = (d.shares + d.pending_shares) * m.price_cons[:, None]
    cash_out = a.cash_out_usd * (1.0 + m.tracker.cum_tbill_now()[:, None]) - a.cash_out_tbill_usd
    gain = cash_out + final - a.cash_in_usd
    window = m.scenario.depositors.first_mover_days
    start = a.stress_day[:, None]
    leaver = (d.first_exit_day >= start) & (d.first_exit_day <= start + window)
    stayer = np.isinf(d.first_exit_day)
    leaver[:, -1] = stayer[:, -1] = False
    out = {}
    for name, mask in (("leavers", leaver), ("stayers", stayer)):
        v0 = np.where(mask, a.value_at_stress_usd, 0.0).sum(axis=1)
        g = np.where(mask, gain, 0.0).sum(axis=1)
        out[f"stress_return_{name}"] = np.where(v0 > 0, g / np.where(v0 > 0, v0, 1.0) - 1.0, np.nan)
    out["stress_day"] = np.where(np.isfinite(a.stress_day), a.stress_day, np.nan)
    return out


def holder_columns(m: UsdaiModel) -> dict[str, np.ndarray]:
    """Every per-path holder outcome (columns of ``paths.parquet``)."""
    stakers = concentration(m.dparams.balance_usd[:, :-1])
    unstaked = concentration(m.holders.initial_usd)
    return {
        **loss_columns(m),
        **first_mover_columns(m),
        **{f"stakers_{k}": v for k, v in stakers.items()},
        **{f"unstaked_{k}": v for k, v in unstaked.items()},
        "secondary_discount_max": m.accounts.discount_max,
        "secondary_sold_usd": m.depositors.sold_usd[:, :-1].sum(axis=1),
        "unstaked_final_usd": m.vault.unstaked_usd,
    }

