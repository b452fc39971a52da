"""The explorer end to end: serve it, change a parameter, run, see the table, save the YAML, load it back."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from usdai_sim.scenario.library import load_scenario

pytest.importorskip("solara")
START_TIMEOUT_S = 90
STEP_TIMEOUT_MS = 90_000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def app_url(tmp_path: Path) -> Iterator[str]:
    """``usdai-sim app baseline`` on a free port of 127.0.0.1, stopped (its whole process group) afterwards."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "usdai_sim", "app", "baseline", "--port", str(port), "--paths", "32"],
        cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError("the explorer did not start") from None
                time.sleep(0.5)
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def set_field(page: Any, label: str, text: str) -> None:
    field = page.get_by_label(label, exact=True)
    field.fill(text)
    field.press("Enter")


def test_edit_run_save_and_load_back(app_url: str, chromium_page: Any, tmp_path: Path) -> None:
    page = chromium_page
    page.set_default_timeout(STEP_TIMEOUT_MS)
    page.goto(app_url)
    page.get_by_text("usdai-sim explorer").first.wait_for()
    set_field(page, "horizon_days [days]", "60")
    page.get_by_role("button", name="Run").click()
    page.get_by_role("tab", name="Results").click()
    page.get_by_text("baseline: 32 paths, seed 20261126, 60 days").wait_for()
    assert page.get_by_text("principal_loss_es_99").count() == 1

    saved = tmp_path / "edited.yaml"
    set_field(page, "save as (YAML path)", str(saved))
    page.get_by_role("button", name="Save YAML").click()
    page.get_by_text(f"saved {saved}").wait_for()
    assert load_scenario(saved)[0].simulation.horizon_days == 60

    page.get_by_role("tab", name="Parameters").click()
    set_field(page, "horizon_days [days]", "90")
    set_field(page, "scenario (built-in name or YAML path)", str(saved))
    page.get_by_role("button", name="Load").click()
    page.get_by_text(f"loaded {saved}").wait_for()
    assert page.get_by_label("horizon_days [days]", exact=True).input_value() == "60"
    assert page.console_errors == []


@pytest.mark.parametrize(("args", "needle"), [(["no_such_scenario"], "no_such_scenario"),
                                              (["baseline", "--paths", "0"], "--paths"),
                                              (["baseline", "--port", "70000"], "--port")])
def test_app_refuses_bad_input_with_one_line(args: list[str], needle: str, tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "usdai_sim", "app", *args], cwd=tmp_path, capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 2 and needle in done.stderr and done.stderr.count("\n") == 1
