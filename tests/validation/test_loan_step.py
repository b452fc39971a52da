"""One pass of every loan's rules (``borrowers.step_loans``) gives the numbers of the per-rule functions called
one after another (issue #18: one fused borrower kernel; each rule still written once, as a part of it).

A severely adverse run with maintenance-LTV covenants, and one under the ``collateral_barrier`` rule, are stepped;
at every step the loans' book is copied before the fused pass and the copy is taken through ``operate_with``,
``collateral_usd``, ``accrue``, ``decide_walk``, ``collect``, ``covenant_check`` and ``default_routes`` in turn:
every field of the two books and every output must be equal, bit for bit. The runs are checked to reach payments,
walks, covenant prepayments and breaches, and every default route.
"""

from __future__ import annotations

import copy
from collections import Counter
from dataclasses import fields

import numpy as np
import pytest

from usdai_sim.agents import borrowers as br
from usdai_sim.model import UsdaiModel
from usdai_sim.params import compile_params
from usdai_sim.scenario.library import load_scenario
from usdai_sim.scenario.schema import Scenario

PATHS, DAYS = 12, 400


def covenant_scenario() -> Scenario:
    adverse = load_scenario("severely_adverse")[0]
    cohorts = tuple(c.model_copy(update={"maintenance_ltv": 0.75, "fraud_rate_per_year": 0.05})
                    for c in adverse.borrowers.cohorts)
    return adverse.model_copy(update={"borrowers": adverse.borrowers.model_copy(update={"cohorts": cohorts})})


def thin_scenario() -> Scenario:
    """The rental collapse with thin SPVs (no reserve, no sponsor support, little cash): payments are missed."""
    collapse = load_scenario("rental_collapse")[0]
    cohorts = tuple(c.model_copy(update={"dsra_months": 0.0, "sponsor_support_months": 0.0,
                                         "initial_cash_months": 0.1}) for c in collapse.borrowers.cohorts)
    return collapse.model_copy(update={"borrowers": collapse.borrowers.model_copy(update={"cohorts": cohorts})})


def barrier_scenario() -> Scenario:
    """The covenants under the ``collateral_barrier`` rule: a prepayment lowers the principal the barrier reads."""
    covenants = covenant_scenario()
    return covenants.model_copy(update={"borrowers": covenants.borrowers.model_copy(
        update={"default_rule": "collateral_barrier"})})


def rule_by_rule(book: br.BorrowerBook, bp: object, terms: br.OperatorTerms, market: br.LoanMarket,
                 rules: br.StepRules, boundaries: object, days_on_book: np.ndarray) -> dict[str, np.ndarray]:
    """The per-rule functions in the fused pass's order, on ``book`` (changed in place)."""
    revenue = br.operate_with(book, terms, market.spot_usd_per_gpu_hour, market.utilisation, market.renter_uniform,
                              market.operator_normal, days_on_book)
    collateral = br.collateral_usd(book, market.value_usd_per_gpu)
    accrued = br.accrue(book, bp, rules.grace_premium, rules.dt_days)  # type: ignore[arg-type]
    walked = br.decide_walk(book, bp, rules.day, boundaries)  # type: ignore[arg-type]
    paid, matured = br.collect(book, bp, rules.day, market.tbill, rules.grace_days, collateral)  # type: ignore[arg-type]
    prepaid = br.covenant_check(book, bp, collateral, rules.day)  # type: ignore[arg-type]
    route = br.default_routes(book, bp, collateral, rules.day, market.fraud_probability,  # type: ignore[arg-type]
                              market.fraud_uniform, rules.barrier)
    return {"revenue_usd": revenue, "collateral_usd": collateral, "accrued_usd": accrued, "walked": walked,
            "paid_interest": paid.interest_usd, "paid_principal": paid.principal_usd,
            "paid_late": paid.late_interest_usd, "paying_paths": paid.paths, "matured": matured, "prepaid_usd": prepaid,
            "route": route, "days_on_book": days_on_book}


CASES = {  # name: (scenario, events the run must reach)
    "covenants": (covenant_scenario(), ("payments", "prepayments", "breaches", "covenant", "fraud")),
    "walks": (load_scenario("rental_collapse")[0], ("payments", "walks", "strategic")),
    "misses": (thin_scenario(), ("payments", "payment")),
    "barrier": (barrier_scenario(), ("payments", "prepayments", "covenant")),
}


@pytest.mark.slow  # ~27 s a case with numba off: the numba-off pass skips it
@pytest.mark.parametrize("case", CASES)
def test_one_pass_equals_the_rules_one_after_another(case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    scenario, events = CASES[case]
    model = UsdaiModel(compile_params(scenario), 0, PATHS)
    fused = br.step_loans
    seen: Counter[str] = Counter()

    def compared(book: br.BorrowerBook, bp: object, terms: br.OperatorTerms, market: br.LoanMarket,
                 rules: br.StepRules, boundaries: object, days_on_book: np.ndarray, *rest: object) -> br.LoanStep:
        twin, twin_days = copy.deepcopy(book), days_on_book.copy()
        out = fused(book, bp, terms, market, rules, boundaries, days_on_book, *rest)  # type: ignore[arg-type]
        expected = rule_by_rule(twin, bp, terms, market, rules, boundaries, twin_days)
        got = {"revenue_usd": out.revenue_usd, "collateral_usd": out.collateral_usd, "accrued_usd": out.accrued_usd,
               "walked": out.walked, "paid_interest": out.payments.interest_usd,
               "paid_principal": out.payments.principal_usd, "paid_late": out.payments.late_interest_usd,
               "paying_paths": out.payments.paths, "matured": out.matured, "prepaid_usd": out.prepaid_usd,
               "route": out.route, "days_on_book": days_on_book}
        for name, value in expected.items():
            np.testing.assert_array_equal(got[name], value, err_msg=f"{name} on day {rules.day:g}")
        for f in fields(book):
            np.testing.assert_array_equal(getattr(book, f.name), getattr(twin, f.name),
                                          err_msg=f"book.{f.name} on day {rules.day:g}")
        seen["walks"] += int(out.walked.sum())
        seen["payments"] += int((out.payments.principal_usd > 0).sum())
        seen["prepayments"] += int((out.prepaid_usd > 0).sum())
        seen["breaches"] += int(np.isfinite(book.breach_until_day).sum())
        seen.update(br.ROUTES[code - 1] for code in out.route[out.route > 0])
        return out

    monkeypatch.setattr(br, "step_loans", compared)
    for _ in range(DAYS):
        model.step()
    assert all(seen[event] > 0 for event in events), seen
