"""The compiled borrower kernels reproduce the numpy rules they replaced, bit for bit.

Three shipped scenarios (12 paths, full horizon) are run in a child process whose numpy uses glibc's
transcendental functions (``kernel_golden.LIBM_ONLY``), as the kernels do; every per-path outcome, the
cumulative ledger and the per-path series every 30 days must equal the fingerprint recorded on the numpy
implementation before the change (``data/kernel_golden.npz``). A change of the model's rules re-records it,
after checking that the new code with the new mechanism switched off reproduces the old fingerprint (the
operators' own revenue factor, issue #12: at σ_o = 0 every array equal, bar the new ``loan_years``
column). With numpy's AVX-512 functions on, runs differ from it by ulps, which is what
``NUMBA_DISABLE_JIT`` and the numpy paths may also show.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.validation.kernel_golden import LIBM_ONLY, SCENARIOS

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).parent / "data" / "kernel_golden.npz"


@pytest.fixture(scope="module")
def fingerprint(tmp_path_factory: pytest.TempPathFactory) -> np.lib.npyio.NpzFile:
    out = tmp_path_factory.mktemp("golden") / "now.npz"
    env = {**os.environ, **LIBM_ONLY}
    subprocess.run([sys.executable, "-m", "tests.validation.kernel_golden", str(out)], cwd=ROOT, env=env, check=True)
    return np.load(out)


@pytest.mark.slow
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_kernels_reproduce_the_numpy_rules_bit_for_bit(fingerprint: np.lib.npyio.NpzFile, scenario: str) -> None:
    golden = np.load(GOLDEN)
    assert golden[f"{scenario}__paths"][:, 1:].any()  # not a vacuous comparison of empty runs
    for part in ("paths", "ledger", "series"):
        key = f"{scenario}__{part}"
        np.testing.assert_array_equal(fingerprint[key], golden[key], err_msg=key)
