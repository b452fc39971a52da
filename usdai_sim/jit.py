"""The compiler for the per-loan kernels: numba's ``njit`` with an on-disk cache (``cache=True``).

With ``NUMBA_DISABLE_JIT=1`` in the environment the same functions run as plain Python (the CI's
``make test-nojit`` pass), so coverage and tracebacks see the rule's source. Kernels are serial: the
work blocks are already spread over worker processes, and a serial loop keeps every sum in one order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numba import config, njit

JIT_DISABLED = bool(getattr(config, "DISABLE_JIT", False))
"""True when ``NUMBA_DISABLE_JIT=1``: kernels then run as plain Python (the no-JIT test pass)."""


def kernel(function: Callable[..., Any]) -> Any:
    """Compile ``function`` with numba (``nopython``, cached on disk, no fast-math: IEEE results). The result
    is numba's dispatcher (typed ``Any``: its calls are checked by numba's typing, at compile time)."""
    return njit(cache=True)(function)


def element(function: Callable[..., Any]) -> Any:
    """Compile a per-loan helper that takes arrays and is called from a kernel's loop: inlined into it
    (``inline="always"``). A compiled call passing arrays updates each array's reference count (measured:
    ~110 ns a loan for 14 arrays, 4× the arithmetic); rules called once a loan take and return scalars."""
    return njit(cache=True, inline="always")(function)


def python_rule(compiled: Any) -> Callable[..., Any]:
    """The plain Python function behind a compiled kernel (itself when numba is off), to evaluate a rule
    written in plain arithmetic on numpy arrays with numpy's own maths."""
    return getattr(compiled, "py_func", compiled)  # type: ignore[no-any-return]


@element
def pair_buffer(size: int) -> np.ndarray:
    """Room for up to ``size`` (row, col) index pairs that a kernel's scan keeps (``keep_pair``)."""
    return np.empty((2, size), np.int64)


@element
def keep_pair(buffer: np.ndarray, kept: int, row: int, col: int) -> int:
    """Keep (row, col) as the next pair in ``buffer``, which holds ``kept`` pairs; returns the new count."""
    buffer[0, kept], buffer[1, kept] = row, col
    return kept + 1


@element
def kept_pairs(buffer: np.ndarray, kept: int) -> tuple[np.ndarray, np.ndarray]:
    """(rows, cols) of the ``kept`` pairs, in the order kept (row-major for a row-by-row scan)."""
    return buffer[0, :kept].copy(), buffer[1, :kept].copy()
