"""What every key of summary.json means and its unit: one table, used by the report, the README and
``Results.summary_frame()``."""

from __future__ import annotations

# fmt: off
METRIC_DOCS: dict[str, tuple[str, str]] = {
    # sUSDai holders
    "susdai_exchange_ratio_final": (
        "USDai per sUSDai", "sUSDai exchange ratio (redemption price, conservative NAV per share) at the "
        "horizon; it starts at 1"),
    "susdai_return_annualised": (
        "annual decimal", "holders' annualised return over the horizon, final exchange ratio^(365/days) − 1"),
    "prob_principal_loss": (
        "fraction", "probability that holders end the horizon below their starting value (final ratio < 1)"),
    "susdai_var_95": (
        "fraction", "95% value at risk of holder loss (1 − final exchange ratio): exceeded on 5% of paths; "
        "negative means even those paths gained"),
    "susdai_var_99": ("fraction", "99% value at risk of holder loss: exceeded on 1% of paths"),
    "susdai_es_95": ("fraction", "95% expected shortfall: average holder loss on the worst 5% of paths"),
    "susdai_es_99": ("fraction", "99% expected shortfall: average holder loss on the worst 1% of paths"),
    "susdai_max_drawdown": (
        "fraction", "per path, the largest fall of the exchange ratio below its running peak"),
    "days_to_first_loss": (
        "days", "per path, the day the exchange ratio first fell below its running peak (paths where it "
        "never fell are left out)"),
    "prob_any_drawdown": (
        "fraction", "probability that the exchange ratio falls below its running peak at least once"),
    # liquidity
    "redemption_wait_days": (
        "days", "days from redemption request to payment over completed requests; max also counts requests "
        "still pending at the horizon, at their age"),
    "prob_wait_over_days": (
        "fraction", "share of redemption requests (completed or still pending) that waited longer than "
        "30 / 60 / 90 days"),
    "redemption_requests_pending_at_end": (
        "count", "redemption requests still unpaid at the horizon, all paths together"),
    "queue_peak_fraction_of_supply": (
        "fraction",
        "per path, the largest pending-redemption queue as a fraction of sUSDai supply "
        "(pending / all shares)"),
    "longest_wait_days": (
        "days", "per path, the longest any redemption request waited (pending ones counted at their age)"),
    # loan book
    "default_rate_count": ("fraction", "loans that defaulted / loans originated, all paths pooled"),
    "default_rate_per_loan_year": (
        "per loan-year", "loans that defaulted / years loans were active (performing), all paths pooled: an "
        "annual default rate, comparable with rating agencies' one-year rates"),
    "default_rate_per_loan_year_by_year_on_book": (
        "per loan-year", "the seasoning curve: defaults of loans in their n-th year on book (payments made // 12, "
        "so year 1 is the first 12 payments) / loan-years performing loans spent in that year, all paths pooled; "
        "the last key also holds every later year"),
    "default_rate_principal": (
        "fraction", "exposure at default / principal originated, all paths pooled"),
    "defaults_by_route": (
        "defaults per path", "mean defaults per path by route: payment (cash, reserve and sponsor support "
        "short after grace), strategic (walked away: below the default boundary), fraud, covenant (maintenance LTV)"),
    "loss_given_default": (
        "fraction", "per path, principal loss / exposure of defaulted loans whose collateral was sold"),
    "recovery_rate": ("fraction", "per path, 1 − loss given default"),
    "loss_given_default_pooled": (
        "fraction", "principal loss / exposure of sold defaulted loans, all paths pooled"),
    "expected_loss_usd": (
        "USD", "expected loss per path implied by the simulated rates: default rate × pooled LGD × mean "
        "principal originated"),
    "simulated_loss_usd": (
        "USD", "per path, principal lost on defaulted loans sold by the horizon, net of springing recourse"),
    "principal_originated_usd": ("USD", "per path, principal lent over the horizon"),
    "unsold_defaulted_usd": (
        "USD", "per path, principal of defaulted loans whose collateral is unsold at the horizon (loss not "
        "yet recognised)"),
    "first_loss_used_usd": ("USD", "per path, first-loss capital used to absorb losses"),
    "loss_given_default_by_route": (
        "fraction", "pooled LGD (loss net of recourse / exposure of sold defaults) by default route"),
    "loss_given_default_by_class": ("fraction", "pooled LGD of sold defaults by GPU class"),
    "loss_share_by_route": (
        "fraction", "each default route's share of all losses on sold defaults (loss net of recourse), all "
        "paths pooled"),
    "loss_given_default_pooled_ex_fraud": (
        "fraction", "pooled LGD of sold defaults other than fraud (the figure equipment-finance LGD data compare "
        "with)"),
    "recovery_split": (
        "fraction", "share of all recoveries from the reserve (DSRA + SPV cash), GPU sale proceeds and "
        "springing recourse"),
    "gpus_sold": ("machines per path", "mean GPUs (machines) sold from defaulted fleets per path, by GPU class"),
    "recovery_per_gpu_sold_usd": (
        "USD per machine", "lender's recovery from GPU sale proceeds (after fees, reserve excluded) / machines "
        "sold, by GPU class, all paths pooled"),
    "recovery_of_origination_value": (
        "fraction", "recovery from GPU sale proceeds / origination value of the machines sold (appraisal at "
        "origination / initial fleet, per machine), by GPU class, all paths pooled"),
    # peg
    "usdai_backing_ratio_min": (
        "ratio", "lowest USDai reserves / USDai supply on any path and day (1 = fully backed)"),
    # who bears the loss
    "loss_by_holder_group_usd": (
        "USD", "mean loss per path borne by each holder group: net recognised loss pro rata to the shares "
        "held when it was recognised, plus secondary-market discounts paid (arbitrageurs' gains negative)"),
    "first_mover_advantage": (
        "annual decimal", "from each path's stress start (first loss or redemption wave) to the horizon: "
        "return of stakers who left within the first N days vs those who stayed (mean over paths)"),
    "secondary_discount_max": (
        "fraction", "per path, the widest sUSDai secondary-market discount to NAV"),
    "secondary_discount_paid_usd": (
        "USD", "per path, discount to NAV paid by stakers who sold in the secondary market"),
    "stakers_top1_share": ("fraction", "per path, the largest staker's share of initial sUSDai supply"),
    "stakers_top10_share": ("fraction", "per path, the ten largest stakers' share of initial sUSDai supply"),
    "stakers_hhi": (
        "fraction", "per path, Herfindahl–Hirschman index of initial sUSDai balances (Σ share²)"),
    "unstaked_top1_share": ("fraction", "per path, the largest unstaked holder's share of unstaked USDai"),
    "prob_queue_over_30pct": (
        "fraction", "probability that pending redemptions exceed 30% of sUSDai supply at some point"),
    # holder losses, positive when worse (usdai_sim/risk.py)
    "principal_loss": (
        "fraction", "principal loss per path, max(0, 1 − final exchange ratio / initial): money lost against "
        "what was put in (0 on paths that gained)"),
    "principal_loss_var_95": ("fraction", "95% VaR of principal loss: exceeded on 5% of paths"),
    "principal_loss_var_99": ("fraction", "99% VaR of principal loss: exceeded on 1% of paths"),
    "principal_loss_es_95": ("fraction", "95% ES of principal loss: mean principal loss on the worst 5% of paths"),
    "principal_loss_es_99": ("fraction", "99% ES of principal loss: mean principal loss on the worst 1% of paths"),
    "tbill_return_annualised": (
        "annual decimal", "per path, the annualised return of holding T-bills over the same days (the alternative)"),
    "tbill_shortfall": (
        "fraction", "shortfall against T-bills per path, max(0, 1 − final exchange ratio / T-bill growth): the "
        "share of value given up by holding sUSDai instead of T-bills over the horizon"),
    "tbill_shortfall_var_95": ("fraction", "95% VaR of the shortfall against T-bills over the horizon"),
    "tbill_shortfall_var_99": ("fraction", "99% VaR of the shortfall against T-bills over the horizon"),
    "tbill_shortfall_es_95": ("fraction", "95% ES of the shortfall against T-bills over the horizon"),
    "tbill_shortfall_es_99": ("fraction", "99% ES of the shortfall against T-bills over the horizon"),
    "tbill_shortfall_annualised": (
        "annual decimal", "yield given up per year against T-bills, max(0, T-bill return − sUSDai return), "
        "both annualised"),
    "tbill_shortfall_annualised_var_95": ("annual decimal", "95% VaR of the yield given up against T-bills"),
    "tbill_shortfall_annualised_var_99": ("annual decimal", "99% VaR of the yield given up against T-bills"),
    "tbill_shortfall_annualised_es_95": ("annual decimal", "95% ES of the yield given up against T-bills"),
    "tbill_shortfall_annualised_es_99": ("annual decimal", "99% ES of the yield given up against T-bills"),
    "prob_tbill_shortfall": (
        "fraction", "probability that holders end behind T-bills held over the same days"),
}
"""summary.json key → (unit, one-line description); the README's metric list is rendered from this."""

HOLDER_LOSS_KEYS: tuple[str, ...] = tuple(
    k for k in METRIC_DOCS if k.startswith(("principal_loss", "tbill_", "prob_tbill"))
)
"""The positive-loss holder measures (principal loss, shortfall against T-bills), shown first in reports."""
# fmt: on
