"""Per-path series on disk: float32, laid out (records, series, paths), written and read with plain file I/O.

Work blocks write their rows with ``os.pwrite`` (one contiguous run per series and row) and the engine
reads whole records back in chunks, so neither side keeps a growing history in memory, and no memory
map inflates a process's resident memory.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

DTYPE = np.dtype("<f4")
FLOAT32_LIMIT = 1e30
"""Recorded values are clipped to ±this before the cast to float32 (e.g. an APY on a near-empty vault)."""


class SeriesFile:
    """A (records, series, paths) float32 array in a file; a view covers the paths of one work block."""

    def __init__(self, path: str | Path, shape: tuple[int, int, int], first_path: int = 0,
                 n_paths: int | None = None) -> None:
        self.path = str(path)
        self.full_shape = shape
        self.first_path = first_path
        self.n_paths = shape[2] - first_path if n_paths is None else n_paths
        self._fd: int | None = None

    @classmethod
    def create(cls, path: str | Path, shape: tuple[int, int, int]) -> SeriesFile:
        """A zero-filled file of the given shape."""
        with open(path, "wb") as handle:
            handle.truncate(int(np.prod(shape)) * DTYPE.itemsize)
        return cls(path, shape)

    def block(self, first_path: int, n_paths: int) -> SeriesFile:
        """The view of paths [first_path, first_path + n_paths)."""
        return SeriesFile(self.path, self.full_shape, first_path, n_paths)

    @property
    def shape(self) -> tuple[int, int, int]:
        """(records, series, paths of this view)."""
        return self.full_shape[0], self.full_shape[1], self.n_paths

    def __setitem__(self, row: int, values: np.ndarray) -> None:
        """Write record ``row``: ``values`` is (series, paths of this view)."""
        if self._fd is None:
            self._fd = os.open(self.path, os.O_WRONLY)
        data = np.asarray(values, dtype=DTYPE)
        n_series, total = self.full_shape[1], self.full_shape[2]
        for s in range(n_series):
            offset = ((row * n_series + s) * total + self.first_path) * DTYPE.itemsize
            os.pwrite(self._fd, data[s].tobytes(), offset)

    def __getitem__(self, rows: slice) -> np.ndarray:
        """Records ``rows`` (a slice) of every series and path of the whole file."""
        start, stop, _ = rows.indices(self.full_shape[0])
        per_record = self.full_shape[1] * self.full_shape[2]
        with open(self.path, "rb") as handle:
            handle.seek(start * per_record * DTYPE.itemsize)
            flat = np.fromfile(handle, dtype=DTYPE, count=(stop - start) * per_record)
        return flat.reshape(stop - start, self.full_shape[1], self.full_shape[2])

    def close(self) -> None:
        """Release the write handle."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
