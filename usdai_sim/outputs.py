"""Output directories belong to the user: safe names, replace only our own, one writer at a time, atomic.

* A scenario name becomes a directory name only through ``safe_slug`` (letters, digits, ``-``, ``_``;
  no separators, no ``..``, at most ``SLUG_MAX_CHARS``), so a scenario cannot choose where files go.
* ``--force`` replaces only a directory holding a usdai-sim ``manifest.json`` (results, comparison or
  study); anything else is refused and nothing is deleted. A symbolic link as the target is refused.
* ``claim_output`` holds an advisory ``fcntl.flock`` on ``.NAME.lock`` beside the target for the whole
  run, so a second run into the same target fails at once.
* ``write_atomically`` fills a temporary sibling and renames it onto the target at the end.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from usdai_sim.errors import UsdaiSimError

SLUG_MAX_CHARS = 64
"""Longest default directory name derived from a scenario name (assumption: readable, far below NAME_MAX)."""
MANIFEST_FILE = "manifest.json"
TOOL = "usdai-sim"
MANIFEST_KINDS = ("results", "comparison", "study")
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


class OutputError(UsdaiSimError):
    """An output location the user has to fix (exit status 2); the message names the path or the flag."""


def safe_slug(name: str) -> str:
    """A directory name from a scenario name: runs of other characters become ``-``, ends trimmed, bounded."""
    slug = _UNSAFE.sub("-", name).strip("-_")[:SLUG_MAX_CHARS].strip("-_")
    if not slug:
        raise OutputError(f"scenario name {name!r} gives no safe directory name; use --out DIR")
    return slug


def is_usdai_manifest(path: Path) -> bool:
    """True if ``path`` is a JSON manifest written by usdai-sim (tagged, or an untagged results manifest)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(data, dict):
        return False
    if data.get("tool") == TOOL:
        return data.get("kind") in MANIFEST_KINDS
    return "scenario_sha256" in data and "version" in data  # results written before manifests were tagged


def check_target(target: Path, force: bool) -> None:
    """Refuse a target that is a link, a file, or an existing directory we may not replace."""
    if target.is_symlink():
        raise OutputError(f"{target}: is a symbolic link; give the real directory")
    if not target.exists():
        return
    if not target.is_dir():
        raise OutputError(f"{target}: exists and is not a directory")
    if not force:
        raise OutputError(f"{target}: already exists; use --force to replace it")
    if not is_usdai_manifest(target / MANIFEST_FILE):
        raise OutputError(f"{target}: not a usdai-sim output directory (no {MANIFEST_FILE}); --force will not touch it")


def nearest_existing(path: Path) -> Path:
    """``path`` or its nearest ancestor that exists (the directory a new output would be created in)."""
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path(".")


def check_writable(target: Path) -> None:
    """The target's nearest existing ancestor must be a directory we can write into."""
    ancestor = nearest_existing(target.parent)
    if not ancestor.is_dir():
        raise OutputError(f"{target}: cannot create it, {ancestor} is not a directory")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise OutputError(f"{target}: cannot create it, {ancestor} is not writable")


def check_disk(target: Path, need_bytes: float) -> None:
    """Refuse when the file system that will hold ``target`` has less free space than ``need_bytes``."""
    free = shutil.disk_usage(nearest_existing(target.parent)).free
    if need_bytes > free:
        raise OutputError(
            f"{target}: results need about {need_bytes / 2**20:.0f} MiB, only {free / 2**20:.0f} MiB free there"
        )


def lock_path(target: Path) -> Path:
    """The advisory lock file of an output directory (a hidden sibling)."""
    return target.with_name(f".{target.name}.lock")


@dataclass
class Claim:
    """A locked output target; ``created`` lists parent directories made for it (removed again if left empty)."""

    target: Path
    force: bool
    created: list[Path] = field(default_factory=list)
    fd: int = -1


def _make_parents(target: Path) -> list[Path]:
    """Create the target's missing parents; return those created, outermost first."""
    missing = [p for p in reversed(target.parents) if not p.exists()]
    for directory in missing:
        directory.mkdir()
    return missing


def _lock(target: Path) -> int:
    """Open and exclusively lock the target's lock file without waiting; OutputError if another process holds it."""
    path = lock_path(target)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        if os.fstat(fd).st_ino != os.stat(path, follow_symlinks=False).st_ino:
            raise BlockingIOError  # the holder removed the file after we opened it: it was busy
    except (BlockingIOError, FileNotFoundError):
        os.close(fd)
        raise OutputError(f"{target}: another usdai-sim run is writing it (lock {path})") from None
    return fd


def _release(claim: Claim) -> None:
    """Remove the lock file, unlock, and remove parent directories made for the claim if still empty."""
    if claim.fd >= 0:
        lock_path(claim.target).unlink(missing_ok=True)
        os.close(claim.fd)
        claim.fd = -1
    for directory in reversed(claim.created):
        try:
            directory.rmdir()
        except OSError:
            break


@contextmanager
def claim_outputs(targets: list[Path], force: bool) -> Iterator[list[Claim]]:
    """Check and lock every target (creating parents) for the duration of the block."""
    seen: set[Path] = set()
    for target in targets:
        if target.absolute() in seen:
            raise OutputError(f"{target}: two scenarios would write here; give them different names")
        seen.add(target.absolute())
    for target in targets:
        check_target(target, force)
        check_writable(target)
    claims: list[Claim] = []
    try:
        for target in targets:
            claim = Claim(target, force)
            claims.append(claim)
            claim.created = _make_parents(target)
            claim.fd = _lock(target)
            check_target(target, force)  # another run may have finished into it meanwhile
        yield claims
    finally:
        for claim in reversed(claims):
            _release(claim)


def write_atomically(target: Path, force: bool, fill: Callable[[Path], None]) -> None:
    """Fill a temporary sibling directory, then rename it onto ``target`` (replacing it only with force)."""
    check_target(target, force)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        fill(staging)
        if target.exists():
            old = target.with_name(f".{target.name}.old.{os.getpid()}")
            target.rename(old)
            staging.rename(target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def tagged_manifest(kind: str, fields: dict[str, Any]) -> dict[str, Any]:
    """A manifest that ``is_usdai_manifest`` recognises: tool and kind first, then ``fields``."""
    return {"tool": TOOL, "kind": kind, **fields}
