"""Why a replay misses: a paragraph per replay and diagnostic runs that switch one mechanism off.

A diagnostic run is the replay with ``--set`` overrides; it is shown beside the replay on the validation
page and never adopted (the replay keeps the calibrated defaults). Each paragraph says what the model gets
wrong and why, from the scenario's sources; the numbers come from the runs.
"""

from __future__ import annotations

from dataclasses import dataclass

DIAGNOSTIC_PATHS = 32
"""Paths per diagnostic run: enough to see which mechanism moves a median, small enough for ``make test``."""


@dataclass(frozen=True)
class Counterfactual:
    """A diagnostic run: a label and the overrides (``path=value``) laid on the replay."""

    label: str
    overrides: tuple[str, ...]


@dataclass(frozen=True)
class Diagnosis:
    """Why a replay disagrees with what happened, and the runs that show it."""

    paragraph: str
    counterfactuals: tuple[Counterfactual, ...]


def _each_cohort(key: str, value: str, cohorts: int) -> tuple[str, ...]:
    return tuple(f"borrowers.cohorts[{i}].{key}={value}" for i in range(cohorts))


_CRYPTO_COHORTS = 2

CRYPTO_2022 = Diagnosis(
    paragraph=(
        "**The model disagrees because its owners do not walk away when the machines are worth less than the "
        "debt.** Under the calibrated default rule (`option`, usdai_sim/agents/default_option.py) an owner "
        "walks only when the fleet's revenue falls below a boundary that it solves on a rental process that "
        "reverts to trend, after paying a friction of 3 months of revenue and giving up the fleet's income "
        "after the loan; that boundary sits near EBITDA / debt service = 0 (calibration page). With power at "
        "$0.03-0.06/kWh an S19-class machine still earned more than its power at the 2022 low of hashprice "
        "($55.94/PH/day x 0.1 PH = $5.6/day against 3.25 kW x 24 h x $0.03-0.06 = $2.3-4.7/day), so the ASIC "
        "owners never cross the boundary, and the collateral's value (ASIC index -84% by Dec 2022) does not "
        "enter the rule. The observed owners walked far earlier: Iris Energy's parent stopped supporting its "
        "SPVs at EBITDA / debt service of about 0.29 ($2M against $7M a month), and Stronghold handed back "
        "its machines from Aug 2022 to extinguish debt worth more than they were. Without a walk-away, a "
        "default waits for a payment failure, which SPV cash, the 3-month debt-service reserve and 3 months "
        "of sponsor support postpone beyond the horizon for most ASIC loans; the defaults that do happen are "
        "mostly the small GPU-farm loans after the Merge. The runs below separate the mechanisms. The "
        "scenario keeps the calibrated reserve and sponsor support: Iris Energy's parent did support its SPVs "
        "until Nov 2022 (release of 2 Nov 2022: no further financial support to SPV 2 and 3 unless a suitable "
        "agreement is reached with the lender), no source on reserves in 2021-22 miner equipment loans was "
        "found, the horizon (31 Jan 2023) is the date the targets are set at, and the miners already sell at "
        "spot (contracted_share 0).\n\n"
        "**The recovery per machine misses for another reason: the model sells in a forced sale, later and "
        "lower.** A defaulted fleet is sold 30 days after default at the forced-sale factor (0.65 of the "
        "index value), less a 10% fee and a fire-sale discount that grows with the machines sold in the "
        "class's 30-day depth (protocol.liquidation); the model's ASIC defaults come late, when the index is "
        "near its Dec 2022 low ($15.71/TH). Stronghold's hand-back was a negotiated transfer in seven tranches "
        "from mid-Aug to end Oct 2022 (CoinDesk, 1 Nov 2022) against debt the lender accepted in full "
        "satisfaction; at this replay's ASIC index for Aug-Oct 2022 (about $20/TH) a 100-TH machine was worth "
        "about $2,000, so the observed $2,696 is an upper bound on the lender's recovery. The last run sells "
        "at the index price (no forced-sale factor, fee or price impact) to show the size of the sale terms."
    ),
    counterfactuals=(
        Counterfactual("the replay as shipped", ()),
        Counterfactual("walk-away on collateral value (Black-Cox rule)",
                       ("borrowers.default_rule=collateral_barrier",)),
        Counterfactual("myopic rule (no value of waiting)", ("borrowers.default_rule=myopic",)),
        Counterfactual("no walk-away friction", _each_cohort("default_friction_months", "0", _CRYPTO_COHORTS)),
        Counterfactual("owners expect a revenue fall to last (no expected reversion)",
                       ("borrowers.expected_reversion_per_year=0",)),
        Counterfactual("no debt-service reserve, no sponsor support",
                       _each_cohort("dsra_months", "0", _CRYPTO_COHORTS)
                       + _each_cohort("sponsor_support_months", "0", _CRYPTO_COHORTS)),
        Counterfactual("sale at the index price", (
            "protocol.liquidation.forced_sale_factors={0: 1.0, 365: 1.0}", "protocol.liquidation.fee_fraction=0",
            "protocol.liquidation.price_impact.discount_slope=0",
            "protocol.liquidation.price_impact.index_impact_per_depth=0",
        )),
    ),
)

DIAGNOSES: dict[str, Diagnosis] = {"replay_2022_crypto_hardware": CRYPTO_2022}
"""Replays with a diagnosis on the page, by name."""
