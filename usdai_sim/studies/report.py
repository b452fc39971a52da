"""``study.html``: a self-contained page (figures inline) of a study's points, metrics and intervals.

Figures are pure ``(data, ax) -> ax`` functions drawn through ``report.figures.render_png``. Sensitivity,
reverse-stress and recommendation results add their own sections (``Section``).
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from usdai_sim.report.figures import FAN_COLOR, SHOCK_COLOR, render_png
from usdai_sim.studies.targets import Target

STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}"
    "table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}"
    "th{background:#f0f3f7}img{max-width:100%}.note{color:#555;font-size:14px}"
)


LABEL_MARGIN = 0.38
"""Left margin of bar charts labelled with dotted parameter paths (fraction of the figure width)."""


@dataclass
class Section:
    """One part of the page: a heading, a paragraph, optional PNG figures and an optional table."""

    title: str
    text: str = ""
    figures: tuple[bytes, ...] = ()
    table: pd.DataFrame | None = None


def draw_metric_line(table: pd.DataFrame, parameter: str, metric: str, ax: Axes) -> Axes:
    """A metric against one parameter, with its Monte Carlo interval as a band."""
    frame = table.reset_index().sort_values(parameter)
    x = frame[parameter].to_numpy(float)
    ax.plot(x, frame[metric].to_numpy(float), marker="o", color=FAN_COLOR, label=metric)
    if f"{metric}.low" in frame:
        ax.fill_between(x, frame[f"{metric}.low"], frame[f"{metric}.high"], color=FAN_COLOR, alpha=0.2,
                        label="95% Monte Carlo interval")
    ax.set_xlabel(parameter)
    ax.set_ylabel(metric)
    ax.legend(loc="best", fontsize=8)
    ax.grid(alpha=0.3)
    return ax


def draw_metric_map(
    table: pd.DataFrame, parameters: tuple[str, str], metric: str, frontier: Target | None, ax: Axes
) -> Axes:
    """A metric over a 2-D grid as a colour map; the frontier where ``frontier`` starts to hold, drawn black."""
    x_name, y_name = parameters
    cube = table[metric].reset_index().pivot_table(index=y_name, columns=x_name, values=metric)
    x, y = cube.columns.to_numpy(float), cube.index.to_numpy(float)
    mesh = ax.pcolormesh(x, y, cube.to_numpy(float), shading="nearest", cmap="viridis")
    ax.figure.colorbar(mesh, ax=ax, label=metric)
    if frontier is not None and frontier.metric == metric and cube.shape[0] > 1 and cube.shape[1] > 1:
        ax.contour(x, y, cube.to_numpy(float), levels=[frontier.threshold], colors="black", linewidths=2)
        ax.set_title(f"frontier: {frontier.text}", fontsize=10)
    ax.set_xlabel(x_name)
    ax.set_ylabel(y_name)
    return ax


def draw_bars(labels: list[str], values: np.ndarray, errors: np.ndarray | None, xlabel: str, ax: Axes) -> Axes:
    """Horizontal bars (largest on top) with optional ± error bars."""
    order = np.argsort(values)
    ax.barh(np.array(labels)[order], values[order], xerr=None if errors is None else errors[order],
            color=FAN_COLOR, alpha=0.8, capsize=3)
    ax.set_xlabel(xlabel)
    ax.grid(axis="x", alpha=0.3)
    ax.figure.subplots_adjust(left=LABEL_MARGIN)
    return ax


def draw_tornado(labels: list[str], low: np.ndarray, high: np.ndarray, base: float, metric: str, ax: Axes) -> Axes:
    """One-at-a-time sensitivity: the metric with each parameter at its low and high end, around the base."""
    order = np.argsort(np.abs(high - low))
    names = np.array(labels)[order]
    ax.barh(names, low[order] - base, left=base, color=FAN_COLOR, alpha=0.8, label="parameter at low")
    ax.barh(names, high[order] - base, left=base, color=SHOCK_COLOR, alpha=0.6, label="parameter at high")
    ax.axvline(base, color="black", lw=1)
    ax.set_xlabel(metric)
    ax.legend(loc="best", fontsize=8)
    ax.figure.subplots_adjust(left=LABEL_MARGIN)
    return ax


def study_sections(table: pd.DataFrame, metrics: tuple[str, ...], frontier: Target | None) -> list[Section]:
    """Figures of a sweep: metric lines for one parameter, colour maps (with a frontier) for a 2-D grid."""
    parameters = tuple(str(n) for n in table.index.names)
    if table.empty:
        return [Section("No finished points", "Run the study (or --resume it) to fill this page.")]
    pngs: list[bytes] = []
    for metric in metrics:
        if metric not in table or table[metric].isna().all():
            continue
        if len(parameters) == 1:
            pngs.append(render_png(draw_metric_line, table, parameters[0], metric))
        elif len(parameters) == 2 and _is_grid(table):
            pngs.append(render_png(draw_metric_map, table, parameters, metric, frontier))
    text = "Each point ran the same seed streams (common random numbers); bands are 95% Monte Carlo intervals."
    return [Section("Metrics across the study", text, tuple(pngs))]


def _is_grid(table: pd.DataFrame) -> bool:
    levels = [table.index.get_level_values(i).nunique() for i in range(table.index.nlevels)]
    return int(np.prod(levels)) == len(table)


def _img(png: bytes) -> str:
    return f'<p><img src="data:image/png;base64,{base64.b64encode(png).decode("ascii")}"></p>'


def render_html(title: str, description: str, sections: list[Section]) -> str:
    """The page as one HTML string."""
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
             f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>",
             f"<p class='note'>{html.escape(description)}</p>"]
    for section in sections:
        parts.append(f"<h2>{html.escape(section.title)}</h2>")
        if section.text:
            parts.append(f"<p class='note'>{html.escape(section.text)}</p>")
        parts.extend(_img(png) for png in section.figures)
        if section.table is not None:
            parts.append(section.table.to_html(float_format=lambda v: f"{v:.5g}", na_rep="–"))
    parts.append("</body></html>")
    return "\n".join(parts)


def write_page(path: Path, title: str, description: str, sections: list[Section]) -> None:
    """Write the page (a temporary sibling renamed onto ``path``)."""
    staging = path.with_name(f".{path.name}.tmp")
    staging.write_text(render_html(title, description, sections), encoding="utf-8")
    staging.replace(path)


def draw_search(
    rows: list[dict[str, Any]], threshold: float | None, interval: tuple[float, float], target: Target,
    xlabel: str, ax: Axes,
) -> Axes:
    """A searched metric against the searched value: evaluations (red = target broken), the target level and the
    threshold with its interval."""
    ordered = sorted(rows, key=lambda r: r["x"])
    x = [r["x"] for r in ordered]
    ax.plot(x, [r["metric"] for r in ordered], color=FAN_COLOR, lw=1, alpha=0.6)
    colours = [SHOCK_COLOR if r["broken"] else FAN_COLOR for r in ordered]
    ax.scatter(x, [r["metric"] for r in ordered], c=colours, zorder=3, label="evaluations (red: target broken)")
    ax.axhline(target.threshold, color="black", ls="--", lw=1, label=f"target: {target.text}")
    if threshold is not None:
        ax.axvspan(*interval, color=SHOCK_COLOR, alpha=0.15, label="95% Monte Carlo interval")
        ax.axvline(threshold, color=SHOCK_COLOR, lw=1.5, label=f"threshold {threshold:.4g}")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(target.metric)
    ax.legend(loc="best", fontsize=8)
    ax.grid(alpha=0.3)
    return ax


def draw_recommendations(rows: list[dict[str, Any]], budget: str, ax: Axes) -> Axes:
    """Each lever's recommended value with its 95% interval, inside its search range (grey)."""
    for i, row in enumerate(rows):
        low, high = row["range"]
        ax.plot([low, high], [i, i], color="#bbbbbb", lw=6, solid_capstyle="butt")
        if row["recommended"] is not None:
            iv = row["interval"]
            err = [[row["recommended"] - iv["low"]], [iv["high"] - row["recommended"]]]
            ax.errorbar(row["recommended"], i, xerr=err, fmt="o", color=SHOCK_COLOR, capsize=4)
    ax.set_yticks(range(len(rows)), [row["lever"] for row in rows])
    ax.set_xlabel(f"largest value keeping {budget} (95% Monte Carlo interval)")
    ax.grid(axis="x", alpha=0.3)
    ax.figure.subplots_adjust(left=0.2)
    return ax
