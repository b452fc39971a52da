"""Reading user input files safely: regular files only, never a FIFO or device, at most MAX_INPUT_BYTES.

The file is checked with ``stat`` before it is opened (a FIFO is never opened, so nothing can hang),
opened non-blocking, checked again on the open descriptor (in case it was swapped meanwhile), and read
with a bounded read.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Final

MAX_INPUT_BYTES: Final = 10 * 2**20
"""Largest scenario or CSV file read (assumption: the biggest shipped input is ~100 kB; 10 MB is generous)."""


class InputFileError(Exception):
    """Why a file cannot be read as input; the caller turns it into a located ScenarioError."""


def _kind(mode: int) -> str:
    """A plain-language name for a non-regular file type."""
    if stat.S_ISDIR(mode):
        return "a directory, not a file"
    if stat.S_ISFIFO(mode):
        return "a named pipe, not a regular file"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device, not a regular file"
    if stat.S_ISSOCK(mode):
        return "a socket, not a regular file"
    return "not a regular file"


def _check(info: os.stat_result) -> None:
    if not stat.S_ISREG(info.st_mode):
        raise InputFileError(_kind(info.st_mode))
    if info.st_size > MAX_INPUT_BYTES:
        raise InputFileError(f"file is larger than {MAX_INPUT_BYTES // 2**20} MB ({info.st_size} bytes)")


def _read_at_most(fd: int, limit: int) -> bytes:
    """Up to ``limit`` bytes from ``fd`` (fewer at end of file)."""
    chunks: list[bytes] = []
    total = 0
    while total < limit:
        data = os.read(fd, limit - total)
        if not data:
            break
        chunks.append(data)
        total += len(data)
    return b"".join(chunks)


def read_input_bytes(path: Path) -> bytes:
    """The bytes of a regular input file of at most MAX_INPUT_BYTES; anything else is an InputFileError."""
    try:
        _check(os.stat(path))
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise InputFileError("no such file") from None
    except OSError as exc:
        raise InputFileError(f"cannot read file: {exc.strerror or exc}") from None
    try:
        _check(os.fstat(fd))
        raw = _read_at_most(fd, MAX_INPUT_BYTES + 1)
    except OSError as exc:
        raise InputFileError(f"cannot read file: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if len(raw) > MAX_INPUT_BYTES:
        raise InputFileError(f"file is larger than {MAX_INPUT_BYTES // 2**20} MB")
    return raw
