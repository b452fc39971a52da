"""Golden fingerprint of three shipped scenarios, for the borrower-kernel regression test.

``python -m tests.validation.kernel_golden OUT.npz`` records it (run with ``NPY_DISABLE_CPU_FEATURES`` set as
in ``LIBM_ONLY`` so numpy's transcendental functions are glibc's, like the compiled kernels'). The file in
``data/`` was recorded on the numpy implementation of the borrower rules, before the kernels replaced it
(re-recorded on commit ed0a7c8: main with depositor thinning, just before the kernels were merged; the merged
kernels reproduce it bit for bit; re-recorded on ec70483, where the reserve yield is earned on the non-negative
supply: the ed0a7c8 file still matched the code before that commit bit for bit, and the new one differs from it
in 6 outcome and 6 series cells of rental_collapse, by at most 7.5e-9 USD; re-recorded after 5e91d3a, when
power per GPU took the vendors' system ratings and the seasoning columns were added: with the old power
figures that code still matched the previous file bit for bit, bar the new columns; and once more when the days
at risk by year on book moved into the operate kernel: only those columns changed); regenerate it only when the
model's rules or default parameters change on purpose.
"""

from __future__ import annotations

import sys

import numpy as np

SCENARIOS = ("baseline", "rental_collapse", "fraud_wave")
PATHS = 12
EVERY_DAYS = 30
LIBM_ONLY = {"NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR"}
"""numpy's AVX-512 (SVML) exp/log/expm1/log1p/pow differ from glibc's by ulps; with these off numpy uses glibc."""


def fingerprint() -> dict[str, np.ndarray]:
    """Per-path outcomes, cumulative ledger and per-path series every ``EVERY_DAYS`` days of each scenario."""
    from usdai_sim.engine import simulate
    from usdai_sim.scenario.library import load_scenario

    arrays = {}
    for name in SCENARIOS:
        run = simulate(load_scenario(name)[0], paths=PATHS, workers=1, quiet=True, keep_series=True)
        ledger = run.ledger.select_dtypes("number").to_numpy(float)
        arrays[f"{name}__paths"] = run.paths.select_dtypes("number").to_numpy(float)
        arrays[f"{name}__ledger"] = np.cumsum(ledger, axis=0)[::EVERY_DAYS]
        arrays[f"{name}__series"] = np.asarray(run.series, float)[::EVERY_DAYS]
    return arrays


if __name__ == "__main__":
    np.savez_compressed(sys.argv[1], **fingerprint())
