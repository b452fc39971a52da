"""Unit tests for usdai_sim.report.figures: every figure draws something and saves a readable, non-blank PNG.

Two small runs (32 paths, 180 days) are shared by the module: the baseline, and the baseline with a GPU
resale shock (so that shock shading and the comparison figures have something to show).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pytest
from matplotlib.axes import Axes

from usdai_sim.engine import simulate
from usdai_sim.report import figures
from usdai_sim.results import Results
from usdai_sim.scenario.library import load_scenario
from usdai_sim.scenario.schema import GpuResaleShock, Scenario

PATHS = 32
HORIZON_DAYS = 180
HELD_CLASSES = ("H100", "H200", "B200", "GB200")
MIN_PIXEL_STD = 0.02
MIN_COLOURS = 16


def short(scenario: Scenario) -> Scenario:
    """The scenario cut to HORIZON_DAYS."""
    sim = scenario.simulation.model_copy(update={"horizon_days": HORIZON_DAYS})
    return scenario.model_copy(update={"simulation": sim})


@pytest.fixture(scope="module")
def baseline() -> Results:
    scenario, _ = load_scenario("baseline")
    return simulate(short(scenario), paths=PATHS)


@pytest.fixture(scope="module")
def shocked() -> Results:
    scenario, _ = load_scenario("baseline")
    shock = GpuResaleShock(type="gpu_resale", change=-0.5, start_day=30, duration_days=90, shape="ramp")
    return simulate(short(scenario).model_copy(update={"name": "gpu_crash", "shocks": (shock,)}), paths=PATHS)


def drew_something(ax: Axes) -> bool:
    """True when the axes holds lines, collections, images or patches."""
    return bool(ax.lines or ax.collections or ax.images or ax.patches)


def assert_png_has_content(png: bytes, path: Path) -> None:
    """The PNG decodes and is not one flat colour."""
    path.write_bytes(png)
    pixels = mpimg.imread(path)
    assert pixels.ndim == 3 and pixels.shape[0] > 100 and pixels.shape[1] > 100
    rgb = pixels[..., :3].reshape(-1, 3)
    assert rgb.std() > MIN_PIXEL_STD
    packed = np.round(rgb * 255).astype(np.int64) @ np.array([65536, 256, 1])
    assert len(np.unique(packed)) > MIN_COLOURS


def test_run_figures_cover_classes_held_by_borrowers(baseline: Results) -> None:
    names = [spec.name for spec in figures.run_figures(baseline)]
    assert figures.held_classes(baseline) == HELD_CLASSES
    for gpu_class in HELD_CLASSES:
        assert f"resale_index_{gpu_class}" in names and f"rental_{gpu_class}" in names
    assert not any(name.endswith(("A100", "RTX_PRO_6000")) for name in names)
    assert len(names) == len(set(names))


def test_every_run_figure_draws_and_saves(shocked: Results, tmp_path: Path) -> None:
    for spec in figures.run_figures(shocked):
        ax = spec.draw(shocked, figures.new_axes())
        assert isinstance(ax, Axes) and drew_something(ax), spec.name
        assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel(), spec.name
        assert_png_has_content(figures.axes_png(ax), tmp_path / f"{spec.name}.png")


def test_every_comparison_figure_draws_and_saves(baseline: Results, shocked: Results, tmp_path: Path) -> None:
    runs, labels = [baseline, shocked], ["baseline", "gpu_crash"]
    for spec in figures.COMPARISON_FIGURES:
        ax = spec.draw(runs, labels, figures.new_axes())
        assert isinstance(ax, Axes) and drew_something(ax), spec.name
        legend = ax.get_legend()
        assert legend is not None and len(legend.get_texts()) >= len(labels), spec.name
        assert_png_has_content(figures.axes_png(ax), tmp_path / f"{spec.name}.png")


def test_render_png_clears_its_figure(baseline: Results) -> None:
    drawn: list[Axes] = []

    def draw(results: Results, ax: Axes) -> Axes:
        drawn.append(figures.exchange_ratio_fan(results, ax))
        return ax

    png = figures.render_png(draw, baseline)
    assert png.startswith(b"\x89PNG")
    assert drawn and not drawn[0].figure.axes


def test_shock_windows(shocked: Results, baseline: Results) -> None:
    assert figures.shock_windows(baseline) == []
    assert figures.shock_windows(shocked) == [(30.0, float(HORIZON_DAYS))]


def test_ltv_shares_are_normalised_per_day(baseline: Results) -> None:
    days, edges, shares = figures.ltv_shares(baseline)
    assert shares.shape == (len(edges) - 1, len(days))
    live = ~np.isnan(shares).all(axis=0)
    assert live.any()
    np.testing.assert_allclose(np.nansum(shares[:, live], axis=0), 100.0)


def test_cumulative_defaults_end_at_ledger_totals(baseline: Results) -> None:
    final = figures.cumulative_defaults(baseline).iloc[-1]
    for route in figures.ROUTES:
        assert final[route] == pytest.approx(baseline.ledger[f"defaults_{route}"].sum())


def test_nav_components_total_is_their_sum(baseline: Results) -> None:
    parts = figures.nav_components_usd(baseline)
    income = parts.drop(columns=["total", "fees"]).sum(axis=1)
    np.testing.assert_allclose(parts["total"], income, rtol=1e-12, atol=1e-6)
    assert (parts["fees"] <= 0).all()
    assert parts["reserve yield net of fee"].iloc[-1] > 0


def test_hist_bins_handle_constant_and_empty_values() -> None:
    assert figures.hist_bins(np.array([2.0, 2.0])).tolist() == [1.5, 2.5]
    assert len(figures.hist_bins(np.array([np.nan]))) == 2
    assert len(figures.hist_bins(np.linspace(0.0, 1.0, 100_000))) <= figures.MAX_HIST_BINS + 1


def test_month_starts_are_calendar_ticks() -> None:
    import datetime as dt

    ticks = figures.month_starts(dt.date(2026, 1, 15), 100)
    assert ticks == [(17.0, "2026-02"), (45.0, "2026-03"), (76.0, "2026-04")]
    assert len(figures.month_starts(dt.date(2026, 1, 1), 3650)) <= 12


def test_time_axis_shows_dates_and_days_without_a_start_date(shocked: Results) -> None:
    ax = figures.exchange_ratio_fan(shocked, figures.new_axes())
    assert ax.get_xlabel() == "date (day 0 = 2026-01-01)"
    assert [t.get_text() for t in ax.get_xticklabels()][:2] == ["2026-01", "2026-02"]
    undated = shocked.scenario.model_copy(update={"simulation": shocked.scenario.simulation.model_copy(
        update={"start_date": "day zero"})})
    plain = Results(undated, shocked.bands, shocked.paths, shocked.ledger, shocked.ltv_hist, shocked.waits)
    assert figures.day_label(plain) == "day of simulation"


def test_shock_windows_are_labelled_with_their_type(shocked: Results) -> None:
    ax = figures.tbill_fan(shocked, figures.new_axes())
    assert any(text.get_text().strip() == "gpu_resale" for text in ax.texts)


def test_wait_survival_hand_computed() -> None:
    import pandas as pd

    waits = pd.DataFrame({"wait_days": [0, 1, 2, 3], "completed": [2, 1, 0, 0], "pending_at_end": [0, 0, 0, 1]})
    run = Results.__new__(Results)
    run.waits = waits
    survival = figures.wait_survival(run)
    assert survival.tolist() == pytest.approx([0.5, 0.25, 0.25, 0.0])


def test_loss_waterfall_chart_draws_every_step(shocked: Results) -> None:
    ax = figures.loss_waterfall_chart(shocked, figures.new_axes())
    labels = {t.get_text() for t in ax.get_yticklabels()}
    assert len(ax.patches) == 7 and {"gross default loss", "loss to sUSDai holders"} <= labels
