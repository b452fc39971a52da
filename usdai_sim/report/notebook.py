"""Rich display of Results in Jupyter: the headline table and a small fan chart of the exchange ratio."""

from __future__ import annotations

import base64
import html

from matplotlib.figure import Figure

from usdai_sim.report import figures
from usdai_sim.report.build import display_unit, fmt, metric_doc
from usdai_sim.results import HTML_VIEW, Results
from usdai_sim.tidy import interval_of, lookup

HTML_METRICS = (
    "susdai_exchange_ratio_final.p50",
    "susdai_exchange_ratio_final.p01",
    "susdai_return_annualised.p50",
    "prob_principal_loss",
    "susdai_var_99",
    "susdai_es_99",
    "default_rate_count",
    "loss_given_default_pooled",
    "redemption_wait_days.max",
)
FAN_SIZE_IN = (5.0, 2.4)


def fan_chart_png(results: Results) -> bytes:
    """A small fan chart of the exchange ratio (shock periods shaded), as PNG bytes."""
    figure = Figure(figsize=FAN_SIZE_IN)
    figures.FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    figures.exchange_ratio_fan(results, ax)
    ax.set_title("sUSDai exchange ratio", fontsize=9)
    ax.tick_params(labelsize=7)
    ax.xaxis.label.set_fontsize(7)
    ax.yaxis.label.set_fontsize(7)
    ax.legend(fontsize=6, loc="best")
    figure.tight_layout()
    return figures.axes_png(ax)


def _row(results: Results, key: str) -> str:
    unit, meaning = metric_doc(key)
    value = fmt(lookup(results.summary, key), unit)
    interval = interval_of(results.summary, key)
    bounds = (f"{fmt(interval.get('low'), unit)} – {fmt(interval.get('high'), unit)}" if interval else "")
    return (f"<tr><td title='{html.escape(meaning, quote=True)}'><code>{html.escape(key)}</code></td>"
            f"<td>{html.escape(value)}</td><td>{html.escape(bounds)}</td>"
            f"<td>{html.escape(display_unit(unit))}</td></tr>")


def results_html(results: Results) -> str:
    """The headline table and the fan chart as one HTML fragment (image inline as a data URI)."""
    png = base64.b64encode(fan_chart_png(results)).decode("ascii")
    rows = "".join(_row(results, key) for key in HTML_METRICS)
    title = html.escape(repr(results))
    return (f"<div><p><b>{title}</b></p><table><tr><th>metric</th><th>value</th><th>MC interval</th>"
            f"<th>unit</th></tr>{rows}</table><img alt='exchange ratio fan chart' "
            f"src='data:image/png;base64,{png}'/></div>")


HTML_VIEW["results"] = results_html
