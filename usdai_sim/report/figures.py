"""Report figures: one pure function per figure, ``(results, ax) -> ax`` (comparisons take a list of runs).

No file I/O here. Figures are drawn on ``matplotlib.figure.Figure`` objects with the Agg canvas, never
through pyplot, so there is no global figure registry to leak into; :func:`render_png` turns a drawing
into PNG bytes and clears its figure. Quantities on the axes are in the units named in their labels;
bands are quantiles across Monte Carlo paths, ledger flows are means per path.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass
from io import BytesIO
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.transforms import blended_transform_factory

from usdai_sim.colors import EXCHANGE_RATIO_COLOR, NAV_OPT_COLOR, SHOCK_COLOR
from usdai_sim.intervals import SEASONING_KEY, seasoning_terms
from usdai_sim.ledger import EVENTS
from usdai_sim.risk import loss_waterfall

if TYPE_CHECKING:
    from usdai_sim.results import Results

FIGSIZE_IN = (8.0, 4.5)
DPI = 110
MARGINS = {"left": 0.09, "right": 0.97, "bottom": 0.12, "top": 0.93}
PNG_COMPRESSION = 1
"""zlib level of the PNGs: level 1 is ~40% faster to write than the default and barely larger."""
FAN_COLOR = EXCHANGE_RATIO_COLOR
PALETTE = ("#1f4e79", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf")
ROUTES = tuple(name.removeprefix("defaults_") for name in EVENTS if name.startswith("defaults_"))
MAX_HIST_BINS = 40

Draw = Callable[..., Axes]


# ---------------------------------------------------------------- canvas


def new_axes() -> Axes:
    """One empty ``FIGSIZE_IN`` axes on its own Agg-backed figure, with fixed margins.

    Fixed margins rather than a layout engine: constrained layout costs a second full draw per save.
    """
    figure = Figure(figsize=FIGSIZE_IN)
    FigureCanvasAgg(figure)
    figure.subplots_adjust(**MARGINS)
    return figure.add_subplot()


def render_png(draw: Draw, *args: Any) -> bytes:
    """PNG bytes of ``draw(*args, ax)`` on a fresh axes at ``DPI``; the figure is cleared afterwards.

    ``draw`` is a figure function: ``(results, ax)`` for one run, ``(runs, labels, ax)`` for a comparison.
    """
    return axes_png(draw(*args, new_axes()))


def axes_png(ax: Axes) -> bytes:
    """PNG bytes of the figure holding ``ax`` at ``DPI``; the figure is then cleared to free its artists."""
    figure = cast(Figure, ax.figure)
    buffer = BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, pil_kwargs={"compress_level": PNG_COMPRESSION})
    figure.clear()
    return buffer.getvalue()


# ---------------------------------------------------------------- helpers


def start_date(results: Results) -> dt.date | None:
    """The calendar date of day 0, or None when the scenario's start date is not an ISO date."""
    try:
        return dt.date.fromisoformat(results.scenario.simulation.start_date)
    except ValueError:
        return None


def day_label(results: Results) -> str:
    """x-axis label of time charts: calendar dates when the scenario has a start date, days otherwise."""
    start = start_date(results)
    return "day of simulation" if start is None else f"date (day 0 = {start.isoformat()})"


def month_starts(start: dt.date, horizon_days: int, max_ticks: int = 12) -> list[tuple[float, str]]:
    """(day, "YYYY-MM") of month starts within the horizon, every k-th month so at most ``max_ticks``."""
    ticks, month = [], dt.date(start.year, start.month, 1)
    while (month - start).days <= horizon_days:
        if month >= start:
            ticks.append((float((month - start).days), month.strftime("%Y-%m")))
        month = dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)
    step = max(1, -(-len(ticks) // max_ticks))
    return ticks[::step]


def time_axis(ax: Axes, results: Results) -> None:
    """Label the x axis of a time chart: month starts as calendar dates when the scenario has a start date."""
    start = start_date(results)
    if start is not None:
        ticks = month_starts(start, results.scenario.simulation.horizon_days)
        ax.set_xticks([day for day, _ in ticks], [text for _, text in ticks], fontsize=8)
    ax.set_xlabel(day_label(results))


def held_classes(results: Results) -> tuple[str, ...]:
    """GPU classes held by at least one borrower, in the scenario's class order."""
    held = {c.gpu_class for c in results.scenario.borrowers.cohorts if c.count > 0}
    return tuple(name for name in results.scenario.class_names if name in held)


def shock_windows(results: Results) -> list[tuple[float, float]]:
    """(first day, last day) over which each shock acts; ramps and open-ended shocks last to the horizon."""
    horizon = float(results.scenario.simulation.horizon_days)
    windows = []
    for shock in results.scenario.shocks:
        start = shock.start_day
        if shock.shape == "ramp" or shock.duration_days is None:
            end = horizon
        else:
            end = start + shock.start_window_days + shock.duration_days
        windows.append((min(start, horizon), min(end, horizon)))
    return windows


def shade_shocks(ax: Axes, results: Results) -> None:
    """Shade the days on which shocks act (one legend entry) and label each start with the shock types."""
    windows = shock_windows(results)
    alpha = float(np.clip(0.25 / max(len(windows), 1), 0.03, 0.07))
    for i, (start, end) in enumerate(windows):
        ax.axvspan(start, max(end, start + 1), color=SHOCK_COLOR, alpha=alpha, lw=0,
                   label="shock period" if i == 0 else None)
    starts: dict[float, list[str]] = {}
    for (start, _end), shock in zip(windows, results.scenario.shocks, strict=True):
        starts.setdefault(start, []).append(shock.type)
    place = blended_transform_factory(ax.transData, ax.transAxes)
    for start, types in starts.items():
        ax.text(start, 0.98, " " + "\n ".join(dict.fromkeys(types)), transform=place, fontsize=7,
                color=SHOCK_COLOR, va="top", ha="left", clip_on=True)


def fan(ax: Axes, band: pd.DataFrame, scale: float = 1.0, color: str = FAN_COLOR,
        label: str = "median") -> None:
    """Shade p5–p95 and p25–p75 of a band frame (indexed by day) and draw its median."""
    days = band.index.to_numpy()
    ax.fill_between(days, band["p05"] * scale, band["p95"] * scale, color=color, alpha=0.15, lw=0,
                    label="5–95% of paths")
    ax.fill_between(days, band["p25"] * scale, band["p75"] * scale, color=color, alpha=0.35, lw=0,
                    label="25–75% of paths")
    ax.plot(days, band["p50"] * scale, color=color, lw=1.6, label=label)


def time_fan(results: Results, ax: Axes, variable: str, ylabel: str, title: str, scale: float = 1.0) -> Axes:
    """A fan chart of one recorded variable against day, with shock periods shaded."""
    shade_shocks(ax, results)
    fan(ax, results.band(variable), scale)
    ax.set(ylabel=ylabel, title=title)
    time_axis(ax, results)
    ax.legend(loc="best", fontsize=8)
    ax.grid(alpha=0.3)
    return ax


def holder_loss_pct(results: Results) -> np.ndarray:
    """Holder loss per path over the horizon, 1 − final exchange ratio, in percent (negative = gain)."""
    return 100.0 * (1.0 - results.paths["susdai_exchange_ratio_final"].to_numpy(dtype=float))


def hist_bins(values: np.ndarray) -> np.ndarray:
    """Shared histogram edges for ``values`` (at most MAX_HIST_BINS bins; a lone value gets a unit bin)."""
    finite = values[np.isfinite(values)]
    if finite.size == 0 or np.ptp(finite) == 0:
        centre = float(finite[0]) if finite.size else 0.0
        return np.array([centre - 0.5, centre + 0.5])
    edges = np.histogram_bin_edges(finite, bins="auto")
    if len(edges) > MAX_HIST_BINS + 1:
        edges = np.linspace(finite.min(), finite.max(), MAX_HIST_BINS + 1)
    return edges


def mark_break_even(ax: Axes, loss_pct: np.ndarray) -> None:
    """A grey line at zero loss when it lies near the losses (so a far-away zero does not squash the bars)."""
    finite = loss_pct[np.isfinite(loss_pct)]
    if finite.size == 0:
        return
    low, high = float(finite.min()), float(finite.max())
    margin = 0.25 * max(high - low, 1e-9)
    if low - margin <= 0.0 <= high + margin:
        ax.axvline(0.0, color="grey", lw=0.8, label="break-even")


def cumulative_defaults(results: Results) -> pd.DataFrame:
    """Cumulative defaults per route (mean per path), indexed by day."""
    ledger = results.ledger.set_index("day")
    return ledger[[f"defaults_{route}" for route in ROUTES]].cumsum().rename(columns=lambda c: c[9:])


# ---------------------------------------------------------------- one run: fan charts


def exchange_ratio_fan(results: Results, ax: Axes) -> Axes:
    """sUSDai redemption price (conservative NAV per share, USDai per sUSDai) across paths."""
    shade_shocks(ax, results)
    fan(ax, results.band("exchange_ratio"), color=EXCHANGE_RATIO_COLOR,
        label="exchange ratio, NAV_cons / shares: median")
    deposit = results.band("exchange_ratio_opt")
    ax.plot(deposit.index, deposit["p50"], color=NAV_OPT_COLOR, lw=1.2, ls="--",
            label="deposit price, NAV_opt / shares: median")
    ax.axhline(1.0, color="grey", lw=0.8, ls="--")
    ax.set(ylabel="USDai per sUSDai", title="sUSDai exchange ratio (redemption price) and deposit price")
    time_axis(ax, results)
    ax.legend(loc="best", fontsize=8)
    ax.grid(alpha=0.3)
    return ax


def resale_index_fan(results: Results, ax: Axes, *, gpu_class: str) -> Axes:
    """Resale index of one GPU class (1 = day-0 value of a GPU of the same age profile)."""
    return time_fan(results, ax, f"resale_index_{gpu_class}", "resale index (day 0 = 1)",
                    f"{gpu_class} resale price index")


def rental_fan(results: Results, ax: Axes, *, gpu_class: str) -> Axes:
    """Market rental price of one GPU class in USD per GPU-hour."""
    return time_fan(results, ax, f"rental_{gpu_class}_usd_per_gpu_hour", "rental price (USD per GPU-hour)",
                    f"{gpu_class} rental price")


def utilisation_fan(results: Results, ax: Axes) -> Axes:
    """Mean utilisation of the uncontracted GPUs of borrowers with live loans, in percent."""
    return time_fan(results, ax, "utilisation_mean", "utilisation (%)",
                    "Mean utilisation of borrowers' uncontracted GPUs", scale=100.0)


def tbill_fan(results: Results, ax: Axes) -> Axes:
    """3-month T-bill rate in percent per year."""
    return time_fan(results, ax, "tbill_rate", "T-bill rate (% per year)", "T-bill rate", scale=100.0)


def queue_fan(results: Results, ax: Axes) -> Axes:
    """Pending sUSDai redemption requests as a percentage of sUSDai supply."""
    return time_fan(results, ax, "queue_fraction", "pending redemptions (% of sUSDai supply)",
                    "Redemption queue", scale=100.0)


def discount_fan(results: Results, ax: Axes) -> Axes:
    """sUSDai secondary-market discount to NAV, in percent."""
    return time_fan(results, ax, "secondary_discount", "discount to NAV (%)", "sUSDai secondary-market discount",
                    scale=100.0)


def loss_by_group(results: Results, ax: Axes) -> Axes:
    """Mean USD loss per path by holder group (horizontal bars, USD millions)."""
    groups = results.summary.get("loss_by_holder_group_usd") or {}
    names = list(groups)
    values = [0.0 if groups[n] is None else groups[n] / 1e6 for n in names]
    ax.barh(names, values, color=FAN_COLOR, alpha=0.8)
    ax.axvline(0.0, color="black", lw=0.8)
    ax.set(xlabel="mean loss per path (USD millions; negative = gain)", ylabel="holder group",
           title="Who bears the loss")
    ax.grid(alpha=0.3, axis="x")
    return ax


# ---------------------------------------------------------------- one run: distributions and flows


def holder_loss_hist(results: Results, ax: Axes) -> Axes:
    """Histogram of holder loss over the horizon (% of initial value) with VaR and ES at 95% and 99%."""
    loss = holder_loss_pct(results)
    weights = np.full(loss.shape, 100.0 / max(loss.size, 1))
    ax.hist(loss, bins=hist_bins(loss).tolist(), weights=weights, color=FAN_COLOR, alpha=0.75)
    marks = (("var_95", "VaR 95%", "--"), ("var_99", "VaR 99%", "-"), ("es_95", "ES 95%", ":"),
             ("es_99", "ES 99%", "-."))
    for key, label, style in marks:
        value = results.summary.get(f"susdai_{key}")
        if value is not None:
            ax.axvline(100.0 * value, color=SHOCK_COLOR, ls=style, lw=1.2,
                       label=f"{label}: {100 * value:.2f}%")
    mark_break_even(ax, loss)
    ax.set(xlabel="holder loss over the horizon, 1 − final exchange ratio (%; negative = gain)",
           ylabel="share of paths (%)", title="sUSDai holder loss distribution")
    ax.legend(loc="best", fontsize=8)
    ax.grid(alpha=0.3)
    return ax


def defaults_by_route(results: Results, ax: Axes) -> Axes:
    """Cumulative loan defaults per path (mean over paths) by route, and their total."""
    shade_shocks(ax, results)
    cumulative = cumulative_defaults(results)
    for i, route in enumerate(ROUTES):
        ax.plot(cumulative.index, cumulative[route], color=PALETTE[i + 1], lw=1.4, label=route)
    ax.plot(cumulative.index, cumulative.sum(axis=1), color="black", lw=1.2, ls="--", label="all routes")
    ax.set(ylabel="defaults per path (cumulative mean)", title="Loan defaults over time by route")
    time_axis(ax, results)
    ax.legend(loc="best", fontsize=8)
    ax.grid(alpha=0.3)
    return ax


def seasoning_bars(results: Results, ax: Axes) -> Axes:
    """Defaults per loan-year by year on book (``summary.json``'s seasoning curve), pooled over paths, with the
    95% bootstrap interval of each year and the loan-years per path spent there under its label."""
    summary = results.summary
    curve = summary.get(SEASONING_KEY, {})
    if not curve:
        ax.text(0.5, 0.5, "no loan was performing in this run", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return ax
    years = list(curve)
    rates = np.array([100.0 * curve[y] for y in years])
    bands = [summary.get("intervals", {}).get(f"{SEASONING_KEY}.{y}", {}) for y in years]
    low = np.array([100.0 * b.get("low", np.nan) for b in bands])
    high = np.array([100.0 * b.get("high", np.nan) for b in bands])
    x = np.arange(len(years))
    ax.bar(x, rates, color=PALETTE[0], alpha=0.8, label="defaults per loan-year")
    ax.errorbar(x, rates, yerr=[np.maximum(rates - low, 0.0), np.maximum(high - rates, 0.0)], fmt="none",
                ecolor="black", capsize=4, lw=1.0, label="95% interval (bootstrap over paths)")
    exposure = {y: results.paths[e].mean() for y, _, e in seasoning_terms(results.paths)}
    overall = summary.get("default_rate_per_loan_year")
    if overall is not None and np.isfinite(overall):
        ax.axhline(100.0 * overall, color=SHOCK_COLOR, ls="--", lw=1.0,
                   label=f"all years: {100.0 * overall:.2f}%")
    ax.set_xticks(x, [f"year {y}\n{exposure.get(y, np.nan):.3g} loan-years per path" for y in years], fontsize=8)
    ax.set(xlabel="year on book (12 payments a year)", ylabel="defaults per loan-year (%)",
           title="Defaults by year on book (seasoning)")
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(alpha=0.3, axis="y")
    return ax


def ltv_shares(results: Results) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(days, bin edges, share of live loans in % per bin × day; NaN on days without live loans)."""
    frame = results.ltv_hist.set_index("day")
    counts = frame.to_numpy(dtype=float).T
    totals = counts.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = np.where(totals > 0, 100.0 * counts / totals, np.nan)
    lows = [float(column.split("-")[0]) for column in frame.columns]
    edges = np.array(lows + [float(frame.columns[-1].split("-")[1])])
    return frame.index.to_numpy(), edges, shares


def ltv_heatmap(results: Results, ax: Axes) -> Axes:
    """Distribution of live-loan LTV (principal / collateral value) per day, pooled over paths."""
    days, edges, shares = ltv_shares(results)
    occupied = np.flatnonzero(np.nansum(shares, axis=1) > 0)
    top = edges[occupied[-1] + 1] if occupied.size else edges[-1]
    filled = shares[np.isfinite(shares) & (shares > 0)]
    top_share = float(np.percentile(filled, 99)) if filled.size else 1.0
    image = ax.imshow(np.ma.masked_less_equal(np.nan_to_num(shares), 0.0), aspect="auto", origin="lower",
                      cmap="YlGnBu", vmin=0.0, vmax=top_share, interpolation="nearest",
                      extent=(days[0], days[-1], edges[0], edges[-1]))
    ax.figure.colorbar(image, ax=ax, extend="max", label="share of live loans that day (%)")
    ax.axhline(1.0, color=SHOCK_COLOR, lw=0.9, ls="--", label="LTV 1: debt = collateral value")
    ax.set_ylim(edges[0], min(edges[-1], top + 0.05))
    ax.set(ylabel="loan-to-value (fraction)", title="Loan-to-value of live loans")
    time_axis(ax, results)
    ax.legend(loc="upper right", fontsize=8)
    return ax


def wait_distribution(results: Results, ax: Axes) -> Axes:
    """Redemption requests by days waited: completed, and still pending at the horizon (% of all)."""
    waits = results.waits
    counts = waits["completed"].to_numpy(dtype=float), waits["pending_at_end"].to_numpy(dtype=float)
    total = max(float(counts[0].sum() + counts[1].sum()), 1.0)
    seen = np.flatnonzero(counts[0] + counts[1] > 0)
    last = (int(seen[-1]) + 2) if seen.size else 2
    done, pending = (100.0 * c[:last] / total for c in counts)
    edges = np.append(waits["wait_days"].to_numpy(dtype=float)[:last], last) - 0.5
    ax.stairs(done, edges, fill=True, color=FAN_COLOR, alpha=0.8, label="completed after this wait")
    ax.stairs(done + pending, edges, baseline=done, fill=True, color=SHOCK_COLOR, alpha=0.8,
              label="still pending at the horizon (age)")
    ax.axvline(results.scenario.protocol.queue.window_days, color="grey", ls="--", lw=0.9,
               label="one redemption window")
    ax.set_ylim(0.0, 1.1 * max(float((done + pending).max()), 1e-9))
    ax.set(xlabel="days between request and payment (days)", ylabel="share of all requests (%)",
           title="How long redemptions wait")
    ax.legend(loc="upper right", fontsize=8)
    ax.grid(alpha=0.3)
    return ax


def wait_survival(results: Results) -> pd.Series:
    """P(wait > t) over all redemption requests, indexed by t in days; pending ones count at their age."""
    waits = results.waits
    counts = (waits["completed"] + waits["pending_at_end"]).to_numpy(dtype=float)
    total = max(float(counts.sum()), 1.0)
    beyond = (counts.sum() - np.cumsum(counts)) / total
    return pd.Series(beyond, index=waits["wait_days"].to_numpy(), name="P(wait > t)")


def wait_survival_curve(results: Results, ax: Axes) -> Axes:
    """Survival curve of redemption waits, P(wait > t), on a log axis, with the redemption window marked."""
    survival = wait_survival(results)
    positive = survival[survival > 0]
    last = int(positive.index[-1]) + 1 if len(positive) else 1
    shown = survival.loc[: max(last, results.scenario.protocol.queue.window_days + 1)]
    shown = shown[shown > 0]
    ax.step(shown.index, shown, where="post", color=EXCHANGE_RATIO_COLOR, lw=1.6,
            label="P(wait > t), all requests")
    ax.set_yscale("log")
    window = results.scenario.protocol.queue.window_days
    ax.axvline(window, color="grey", ls="--", lw=0.9, label=f"{window}-day redemption window")
    ax.set(xlabel="wait t (days)", ylabel="share of requests waiting longer than t (log)",
           title="Redemption waits: survival curve")
    ax.legend(loc="best", fontsize=8)
    ax.grid(alpha=0.3, which="both")
    return ax


def loss_waterfall_chart(results: Results, ax: Axes) -> Axes:
    """USD loss waterfall (mean per path): gross default loss, each recovery and buffer, loss to holders."""
    steps = loss_waterfall(results.ledger)
    amounts = steps["amount_usd"].to_numpy() / 1e6
    running = steps["running_usd"].to_numpy() / 1e6
    bottoms = np.where(amounts < 0, running, running - amounts)
    bottoms[-1] = 0.0
    colors = [SHOCK_COLOR] + [NAV_OPT_COLOR] * (len(amounts) - 2) + [EXCHANGE_RATIO_COLOR]
    y = np.arange(len(amounts))[::-1]
    ax.barh(y, np.abs(amounts), left=bottoms, color=colors, alpha=0.85)
    for yi, value, left in zip(y, amounts, bottoms, strict=True):
        ax.text(left + abs(value), yi, f" {value + 0.0:,.2f}M", va="center", fontsize=8)
    ax.set_yticks(y, steps["step"].tolist(), fontsize=8)
    ax.figure.subplots_adjust(left=0.24)
    ax.set(xlabel="USD millions (mean per path, whole horizon)", ylabel="waterfall step",
           title="Loss waterfall: from defaults to holders")
    ax.set_xlim(0.0, 1.25 * max(float(np.abs(amounts).max()), 1e-9))
    ax.grid(alpha=0.3, axis="x")
    return ax


def nav_components_usd(results: Results) -> pd.DataFrame:
    """Cumulative NAV contributions (USD, mean per path) by source, indexed by day; ``fees`` is a memo."""
    ledger = results.ledger.set_index("day")
    g = ledger.__getitem__
    parts = pd.DataFrame({
        "reserve yield net of fee": g("reserve_yield_usd") - g("reserve_fee_usd"),
        "loan interest net of fee": g("interest_paid_usd") + g("late_interest_usd")
        + g("recovery_interest_usd") - g("interest_fee_usd"),
        "principal losses": -g("principal_loss_usd"),
        "other (surplus, recourse, first loss, insurance)": g("surplus_usd") + g("recourse_usd")
        + g("first_loss_usd") + g("insurance_usd") - g("insurance_premium_usd"),
    })
    parts["total"] = parts.sum(axis=1)
    parts["fees"] = -(g("reserve_fee_usd") + g("interest_fee_usd"))
    return parts.cumsum()


def nav_attribution(results: Results, ax: Axes) -> Axes:
    """Where the sUSDai NAV came from: cumulative income and losses in USD millions (mean per path)."""
    shade_shocks(ax, results)
    parts = nav_components_usd(results) / 1e6
    styles = {"total": ("black", "-", 1.8), "fees": ("grey", ":", 1.2)}
    for i, column in enumerate(parts.columns):
        color, style, width = styles.get(column, (PALETTE[i], "-", 1.4))
        label = "admin fees paid (memo, already netted above)" if column == "fees" else column
        ax.plot(parts.index, parts[column], color=color, ls=style, lw=width, label=label)
    ax.axhline(0.0, color="grey", lw=0.8)
    ax.set(ylabel="cumulative USD millions (mean per path)",
           title="NAV attribution: income and losses of the sUSDai vault")
    time_axis(ax, results)
    ax.legend(loc="best", fontsize=8)
    ax.grid(alpha=0.3)
    return ax


# ---------------------------------------------------------------- several runs


def compare_exchange_ratio(runs: list[Results], labels: list[str], ax: Axes) -> Axes:
    """Median sUSDai exchange ratio and its p5–p95 band for each run, on one axis."""
    for i, (results, label) in enumerate(zip(runs, labels, strict=True)):
        band = results.band("exchange_ratio")
        color = PALETTE[i % len(PALETTE)]
        ax.fill_between(band.index, band["p05"], band["p95"], color=color, alpha=0.15, lw=0)
        ax.plot(band.index, band["p50"], color=color, lw=1.6, label=f"{label}: median (band: 5–95%)")
    ax.axhline(1.0, color="grey", lw=0.8, ls="--")
    ax.set(xlabel="day of simulation", ylabel="exchange ratio (USDai per sUSDai)",
           title="sUSDai exchange ratio by scenario")
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(alpha=0.3)
    return ax


def compare_defaults(runs: list[Results], labels: list[str], ax: Axes) -> Axes:
    """Cumulative defaults per path (mean, all routes) for each run."""
    for i, (results, label) in enumerate(zip(runs, labels, strict=True)):
        total = cumulative_defaults(results).sum(axis=1)
        ax.plot(total.index, total, color=PALETTE[i % len(PALETTE)], lw=1.6, label=label)
    ax.set(xlabel="day of simulation", ylabel="defaults per path (cumulative mean)",
           title="Loan defaults by scenario (all routes)")
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(alpha=0.3)
    return ax


def compare_queue(runs: list[Results], labels: list[str], ax: Axes) -> Axes:
    """Median redemption queue (% of sUSDai supply) and its p5–p95 band for each run."""
    for i, (results, label) in enumerate(zip(runs, labels, strict=True)):
        band = results.band("queue_fraction")[["p05", "p50", "p95"]] * 100.0
        color = PALETTE[i % len(PALETTE)]
        ax.fill_between(band.index, band["p05"], band["p95"], color=color, alpha=0.15, lw=0)
        ax.plot(band.index, band["p50"], color=color, lw=1.4, label=f"{label}: median (band: 5–95%)")
    ax.set(xlabel="day of simulation", ylabel="pending redemptions (% of sUSDai supply)",
           title="Redemption queue by scenario")
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(alpha=0.3)
    return ax


def compare_losses(runs: list[Results], labels: list[str], ax: Axes) -> Axes:
    """Holder loss distributions (1 − final exchange ratio, %) of each run on shared bins."""
    losses = [holder_loss_pct(results) for results in runs]
    bins = hist_bins(np.concatenate(losses)).tolist()
    for i, (loss, label) in enumerate(zip(losses, labels, strict=True)):
        weights = np.full(loss.shape, 100.0 / max(loss.size, 1))
        ax.hist(loss, bins=bins, weights=weights, histtype="step", lw=1.6, color=PALETTE[i % len(PALETTE)],
                label=label)
    mark_break_even(ax, np.concatenate(losses))
    ax.set(xlabel="holder loss over the horizon, 1 − final exchange ratio (%; negative = gain)",
           ylabel="share of paths (%)", title="sUSDai holder loss distribution by scenario")
    ax.legend(loc="best", fontsize=8)
    ax.grid(alpha=0.3)
    return ax


# ---------------------------------------------------------------- what the reports show


@dataclass(frozen=True)
class FigureSpec:
    """A figure of a report: file stem, heading, drawing function and how to read it."""

    name: str
    title: str
    draw: Draw
    reading: str


FAN_NOTE = ("On each day the dark band holds the middle half of the simulated paths, the light band 90% of "
            "them, and the line is the median across paths (not one path). Red shading marks days on which "
            "a scenario shock acts.")


def class_figures(gpu_class: str) -> list[FigureSpec]:
    """The resale-index and rental-price fans of one GPU class."""
    return [
        FigureSpec(f"resale_index_{gpu_class}", f"{gpu_class} resale price index",
                   functools.partial(resale_index_fan, gpu_class=gpu_class),
                   f"What one {gpu_class} GPU would fetch relative to day 0 (before fire-sale discounts and "
                   "depreciation by age). Collateral values, LTVs and recoveries move with it. " + FAN_NOTE),
        FigureSpec(f"rental_{gpu_class}", f"{gpu_class} rental price",
                   functools.partial(rental_fan, gpu_class=gpu_class),
                   f"Market price of renting one {gpu_class} GPU, in USD per GPU-hour. It drives borrowers' "
                   "uncontracted revenue and hence payment defaults. " + FAN_NOTE),
    ]


OUTCOME_FIGURES = (
    FigureSpec("exchange_ratio", "sUSDai exchange ratio", exchange_ratio_fan,
               "USDai paid per sUSDai on redemption (conservative NAV per share, accrued interest "
               "excluded). It starts at 1; a path below the dashed line has lost holders money. "
               + FAN_NOTE),
    FigureSpec("holder_loss", "Holder loss distribution", holder_loss_hist,
               "Each bar is the share of paths whose holders lost that much over the whole horizon "
               "(negative = gain). Red lines: value at risk (the loss exceeded on only 5% / 1% of paths) "
               "and expected shortfall (the average loss on those worst 5% / 1%)."),
    FigureSpec("nav_attribution", "NAV attribution", nav_attribution,
               "Cumulative sources of the vault's income, in USD millions per path (mean over paths): "
               "reserve yield and loan interest after the admin fee, minus principal losses. The black "
               "line is their sum; deposits and redemptions are excluded. Fees are shown as a memo."),
    FigureSpec("loss_waterfall", "Loss waterfall", loss_waterfall_chart,
               "How gross default losses (principal of defaulted loans sold, and write-downs of unsold ones) "
               "shrink to the loss sUSDai holders bear: recoveries from the SPV's cash and debt-service "
               "reserve, GPU sales net of fees, springing recourse, first-loss capital and GPU value "
               "insurance, in USD millions per path (mean over paths) over the whole horizon."),
    FigureSpec("defaults", "Defaults by route", defaults_by_route,
               "Average number of loans per path that have defaulted so far, by cause: payment (grace "
               "expired with cash, reserve and sponsor support short), strategic (the operator walked away: "
               "under the default rule `option`, its revenue fell below its default boundary, so keeping "
               "the business was worth less than handing the GPUs back), fraud and covenant (maintenance "
               "LTV breached)."),
    FigureSpec("seasoning", "Defaults by year on book", seasoning_bars,
               "The seasoning curve: defaults of loans in their first, second, … year on book (12 payments a "
               "year) divided by the years loans spent performing there, pooled over paths, with a 95% "
               "interval from resampling paths. The dashed line is the rate over all years. A curve that "
               "rises with age means a calm study's default rate depends on its horizon."),
    FigureSpec("ltv", "Loan-to-value distribution", ltv_heatmap,
               "Each column is one day: the colour shows how the live loans (pooled over all paths) are "
               "spread across LTV, the loan principal divided by the current collateral value. Mass "
               "drifting above the dashed line at 1 means loans larger than the value of their collateral."),
    FigureSpec("queue", "Redemption queue", queue_fan,
               "sUSDai redemption requests waiting to be paid, as a percentage of sUSDai supply. Requests "
               "are paid at the end of each redemption window from idle USDai only. " + FAN_NOTE),
    FigureSpec("loss_split", "Who bears the loss", loss_by_group,
               "Mean USD loss per path by holder group: stakers who left before the first loss, who left "
               "after it (queued or sold), who stayed; arbitrageurs who bought at a discount (a gain shows "
               "as negative); unstaked USDai holders (redeemed 1:1, no loss); first-loss capital and GPU "
               "value insurance. Sellers' losses include the discount they paid."),
    FigureSpec("secondary_discount", "sUSDai secondary-market discount", discount_fan,
               "The discount to NAV at which a staker can sell sUSDai now instead of queueing; it widens "
               "with the queue, the expected wait and recent losses, up to a cap. " + FAN_NOTE),
    FigureSpec("waits", "Redemption waits", wait_distribution,
               "How long redemption requests waited between request and payment, as a share of all "
               "requests; red marks requests still unpaid at the horizon, placed at their age then. "
               "Mass beyond the dashed line means requests rolled over into a later window."),
    FigureSpec("wait_survival", "Redemption waits: survival curve", wait_survival_curve,
               "The share of redemption requests that waited longer than t days (log scale; requests still "
               "pending at the horizon count at their age, so the tail is a lower bound). A curve that "
               "stays high past the dashed window mark means requests roll over into later windows."),
)
MARKET_FIGURES = (
    FigureSpec("utilisation", "Borrower utilisation", utilisation_fan,
               "Average share of hours that borrowers' uncontracted GPUs are rented out. " + FAN_NOTE),
    FigureSpec("tbill", "T-bill rate", tbill_fan,
               "The 3-month T-bill rate earned on USDai reserves, in % per year. " + FAN_NOTE),
)


def run_figures(results: Results) -> list[FigureSpec]:
    """Every figure of a one-run report in reading order: outcomes, markets, each class borrowers hold."""
    per_class = [spec for name in held_classes(results) for spec in class_figures(name)]
    return [*OUTCOME_FIGURES, *MARKET_FIGURES, *per_class]


COMPARISON_FIGURES = (
    FigureSpec("exchange_ratio", "sUSDai exchange ratio", compare_exchange_ratio,
               "Median exchange ratio per scenario with its 5–95% band of paths. A scenario whose band dips "
               "below 1 loses holders money on a material share of paths."),
    FigureSpec("holder_loss", "Holder loss distributions", compare_losses,
               "Share of paths by holder loss over the horizon (negative = gain). Tails further right are "
               "worse for sUSDai holders."),
    FigureSpec("defaults", "Cumulative defaults", compare_defaults,
               "Average number of defaulted loans per path over time, all routes together."),
    FigureSpec("queue", "Redemption queue", compare_queue,
               "Pending redemptions as a percentage of sUSDai supply: median and 5–95% band per scenario."),
)
