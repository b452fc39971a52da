"""Runs survive signals and each other: real subprocesses, real signals, real worker processes.

* SIGINT / SIGTERM during a 2-worker run: exit 130 / 143, no descendant process alive 5 s later, no
  results, staging, lock or scratch directory left.
* Two runs into one --out at once: exactly one succeeds, the other exits 2 without waiting for it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from cli_support import error_line
from hostile_support import CLI, TINY

REAP_S = 5.0
"""Every descendant must be gone this long after the main process exits (the issue's bound)."""
START_TIMEOUT_S = 120.0


def children(pid: int) -> set[int]:
    """Pids whose parent is ``pid`` (read from /proc)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    """True if ``pid`` exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def start(sandbox: Path, *args: str) -> subprocess.Popen[str]:
    tmp = sandbox / "tmp"
    tmp.mkdir(exist_ok=True)
    env = {**os.environ, "TMPDIR": str(tmp)}
    return subprocess.Popen(
        [*CLI, *args], cwd=sandbox, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def wait_for_workers(proc: subprocess.Popen[str], count: int) -> set[int]:
    """Block until ``proc`` has ``count`` child processes; return them."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        kids = children(proc.pid)
        if len(kids) >= count:
            return kids
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.1)
    raise AssertionError("workers never started")


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
@pytest.mark.parametrize(("signum", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_stops_workers_and_leaves_nothing(tmp_path: Path, signum: int, status: int) -> None:
    (tmp_path / "s.yaml").write_text("extends: baseline\nsimulation: {horizon_days: 720}\n", encoding="utf-8")
    proc = start(tmp_path, "run", "s.yaml", "--paths", "2000", "--workers", "2", "--out", "out", "--quiet")
    workers = wait_for_workers(proc, 2)
    time.sleep(1.0)
    proc.send_signal(signum)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == status, stderr
    assert "Traceback" not in stderr, stderr
    deadline = time.monotonic() + REAP_S
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in workers if alive(pid)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.yaml", "tmp"]
    assert list((tmp_path / "tmp").iterdir()) == []


def test_two_runs_into_one_out(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text(TINY.replace("paths: 32", "paths: 320"), encoding="utf-8")
    args = ("run", "s.yaml", "--out", "out", "--quiet", "--no-report")
    first, second = start(tmp_path, *args), start(tmp_path, *args)
    started = time.monotonic()
    outcomes = {}
    while len(outcomes) < 2:
        for proc in (first, second):
            if proc.pid not in outcomes and proc.poll() is not None:
                outcomes[proc.pid] = (proc, time.monotonic() - started)
        time.sleep(0.05)
    (winner, _), (loser, loser_s) = sorted(outcomes.values(), key=lambda o: o[0].returncode)
    assert winner.returncode == 0, winner.communicate()
    line = error_line(subprocess.CompletedProcess(loser.args, loser.returncode, *loser.communicate()))
    assert "another usdai-sim run is writing it" in line or "already exists" in line, line
    assert loser_s < 30.0
    assert (tmp_path / "out" / "manifest.json").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "s.yaml", "tmp"]
