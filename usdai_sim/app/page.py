"""The Solara page of the explorer: grouped parameters, run with progress and cancel, results, comparison.

Served by ``usdai-sim app`` (``solara run usdai_sim.app.page`` on 127.0.0.1). The scenario it opens and the
paths per run come from the environment the command sets (USDAI_SIM_APP_SCENARIO, USDAI_SIM_APP_PATHS).
"""

from __future__ import annotations

import html
import os
from typing import Any

import solara
import solara.lab
from matplotlib.figure import Figure

from usdai_sim.app import logic
from usdai_sim.colors import EXCHANGE_RATIO_COLOR, NAV_OPT_COLOR, SHOCK_COLOR
from usdai_sim.results import Results

HEADLINE_METRICS = (
    "susdai_exchange_ratio_final.p50", "principal_loss_var_99", "principal_loss_es_99", "tbill_shortfall_es_99",
    "tbill_shortfall_annualised_es_99", "prob_principal_loss", "default_rate_count", "loss_given_default_pooled",
    "redemption_wait_days.max", "queue_peak_fraction_of_supply.p99",
)
START_REF = os.environ.get("USDAI_SIM_APP_SCENARIO", "baseline")
START_PATHS = int(os.environ.get("USDAI_SIM_APP_PATHS", logic.DEFAULT_APP_PATHS))

scenario_ref = solara.reactive(START_REF)
data = solara.reactive(logic.scenario_data(START_REF))
paths = solara.reactive(START_PATHS)
notice = solara.reactive("")
problem = solara.reactive("")
save_path = solara.reactive(os.path.abspath("scenario_edited.yaml"))
report_dir = solara.reactive(os.path.abspath("reports/app"))
compare_ref = solara.reactive("gpu_resale_crash")


@solara.lab.task
def run_task(scenario_data: dict[str, Any], n_paths: int) -> Results:
    """Run the edited scenario in a thread; the progress bar follows it and Cancel stops it."""
    def on_progress(fraction: float) -> bool:
        run_task.progress = 100.0 * fraction
        return run_task.is_current()

    return logic.run(scenario_data, n_paths, on_progress)


@solara.lab.task
def compare_task(scenario_data: dict[str, Any], other_ref: str, n_paths: int) -> tuple[Results, Results]:
    """Run the edited scenario and another one with the same paths and seed."""
    def on_progress(fraction: float) -> bool:
        compare_task.progress = 100.0 * fraction
        return compare_task.is_current()

    other = logic.scenario_data(other_ref)
    other["simulation"]["seed"] = scenario_data["simulation"]["seed"]
    first = logic.run(scenario_data, n_paths, lambda f: on_progress(f / 2))
    return first, logic.run(other, n_paths, lambda f: on_progress(0.5 + f / 2))


def attempt(action: Any, done: str) -> None:
    """Run a user action: its success goes to the notice line, an error to the problem line."""
    try:
        result = action()
    except (ValueError, OSError) as exc:
        problem.value, notice.value = str(exc), ""
        return
    except Exception as exc:  # noqa: BLE001 - every input error is shown, none crashes the page
        problem.value, notice.value = f"{type(exc).__name__}: {exc}", ""
        return
    problem.value, notice.value = "", done.format(result)


def load() -> None:
    def action() -> str:
        data.value = logic.scenario_data(scenario_ref.value.strip())
        return scenario_ref.value
    attempt(action, "loaded {}")


def save() -> None:
    attempt(lambda: logic.save_yaml(data.value, save_path.value), "saved {}")


def write_report() -> None:
    if not run_task.finished or run_task.value is None:
        problem.value = "run the scenario first"
        return
    attempt(lambda: logic.write_full_report(run_task.value, report_dir.value), "report written to {}")


# ---------------------------------------------------------------- figures


def fan_figure(results: Results, variable: str, title: str, scale: float = 1.0) -> Figure:
    """A fan chart (5–95% and 25–75% of paths, median) of one recorded variable."""
    figure = Figure(figsize=(6.0, 2.8), layout="constrained")
    ax = figure.add_subplot()
    band = results.band(variable)
    ax.fill_between(band.index, band["p05"] * scale, band["p95"] * scale, color=EXCHANGE_RATIO_COLOR, alpha=0.15)
    ax.fill_between(band.index, band["p25"] * scale, band["p75"] * scale, color=EXCHANGE_RATIO_COLOR, alpha=0.35)
    ax.plot(band.index, band["p50"] * scale, color=EXCHANGE_RATIO_COLOR, lw=1.5, label="median")
    if variable == "exchange_ratio":
        deposit = results.band("exchange_ratio_opt")
        ax.plot(deposit.index, deposit["p50"], color=NAV_OPT_COLOR, lw=1.1, ls="--", label="deposit price (NAV_opt)")
    ax.set(title=title, xlabel="day")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    return figure


def waterfall_figure(results: Results) -> Figure:
    """The USD loss waterfall (mean per path) as horizontal bars."""
    steps = results.loss_waterfall()
    figure = Figure(figsize=(6.0, 2.8), layout="constrained")
    ax = figure.add_subplot()
    amounts = steps["amount_usd"].to_numpy() / 1e6
    colors = [SHOCK_COLOR] + [NAV_OPT_COLOR] * (len(amounts) - 2) + [EXCHANGE_RATIO_COLOR]
    ax.barh(range(len(amounts))[::-1], amounts, color=colors)
    ax.set_yticks(range(len(amounts))[::-1], steps["step"].tolist(), fontsize=7)
    ax.set(title="Loss waterfall (USD millions per path)")
    ax.grid(alpha=0.3, axis="x")
    return figure


def html_table(header: list[str], rows: list[list[str]]) -> str:
    """A small HTML table (cells escaped); the app avoids Markdown, whose renderer loads assets from a CDN."""
    head = "".join(f"<th style='text-align:left;padding:2px 8px'>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td style='padding:2px 8px'>{html.escape(c)}</td>" for c in row) + "</tr>"
                   for row in rows)
    return f"<table class='usdai-table'><tr>{head}</tr>{body}</table>"


def headline_html(results: Results) -> str:
    """The run's identity and headline metrics (value and Monte Carlo interval where there is one)."""
    frame = results.summary_frame().set_index("metric")
    sim = results.scenario.simulation
    title = f"{results.scenario.name}: {sim.paths} paths, seed {sim.seed}, {sim.horizon_days} days"
    rows = []
    for key in HEADLINE_METRICS:
        if key in frame.index:
            row = frame.loc[key]
            cells = ["" if row[c] is None else f"{row[c]:.4g}" for c in ("value", "low", "high")]
            rows.append([key, *cells, str(row["unit"])])
    return f"<h3>{html.escape(title)}</h3>" + html_table(["metric", "value", "low", "high", "unit"], rows)


def compare_html(first: Results, second: Results) -> str:
    """Two runs side by side with the difference."""
    a, b = (r.summary_frame().set_index("metric") for r in (first, second))
    rows = []
    for key in HEADLINE_METRICS:
        if key in a.index and key in b.index:
            x, y = a.loc[key, "value"], b.loc[key, "value"]
            rows.append([key, f"{x:.4g}", f"{y:.4g}", f"{y - x:+.4g}"])
    return html_table(["metric", first.scenario.name, second.scenario.name, "difference"], rows)


def overlay_figure(first: Results, second: Results) -> Figure:
    """Median exchange ratio of two runs with their 5–95% bands."""
    figure = Figure(figsize=(6.0, 2.8), layout="constrained")
    ax = figure.add_subplot()
    for results, color in ((first, EXCHANGE_RATIO_COLOR), (second, SHOCK_COLOR)):
        band = results.band("exchange_ratio")
        ax.fill_between(band.index, band["p05"], band["p95"], color=color, alpha=0.15)
        ax.plot(band.index, band["p50"], color=color, lw=1.5, label=results.scenario.name)
    ax.set(title="sUSDai exchange ratio", xlabel="day")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    return figure


# ---------------------------------------------------------------- components


@solara.component
def ParamInput(param: logic.Param) -> None:
    """One key: a text field read as YAML (numbers, choices, true/false, {low: .., high: ..})."""
    value = logic.show_value(logic.get_value(data.value, param.path))

    def on_value(text: str) -> None:
        try:
            data.value = logic.set_value(data.value, param.path, logic.parse_value(text))
        except Exception as exc:  # noqa: BLE001 - a typo must not crash the page
            problem.value = f"{param.dotted}: {exc}"

    solara.InputText(param.label, value=value, on_value=on_value, message=param.description, dense=True)


@solara.component
def Parameters() -> None:
    try:
        logic.validate(data.value)
    except ValueError as exc:
        solara.Error(f"The scenario is not valid: {exc}")
    for title, params in logic.grouped_params(data.value):
        with solara.Details(summary=title, expand=title == "Simulation"), solara.Column(gap="0px"):
            for param in params:
                ParamInput(param)


@solara.component
def ResultsView() -> None:
    if run_task.pending:
        solara.Text(f"running… {run_task.progress or 0:.0f}%")
    if run_task.error:
        cancelled = isinstance(run_task.exception, logic.Cancelled)
        solara.Warning("run cancelled") if cancelled else solara.Error(str(run_task.exception))
    if not run_task.finished or run_task.value is None:
        solara.Info("Press Run to simulate the scenario as edited.")
        return
    results = run_task.value
    solara.HTML(tag="div", unsafe_innerHTML=headline_html(results))
    with solara.Row():
        solara.FigureMatplotlib(fan_figure(results, "exchange_ratio", "sUSDai exchange ratio"), format="png")
        solara.FigureMatplotlib(waterfall_figure(results), format="png")
    with solara.Row():
        solara.FigureMatplotlib(fan_figure(results, "queue_fraction", "Redemption queue (% of supply)", 100.0),
                                format="png")
        solara.FigureMatplotlib(fan_figure(results, "tbill_rate", "T-bill rate (%)", 100.0), format="png")


@solara.component
def CompareView() -> None:
    solara.InputText("compare with (built-in name or YAML path)", value=compare_ref)
    solara.Button("Run both", on_click=lambda: compare_task(data.value, compare_ref.value, paths.value),
                  color="primary")
    solara.ProgressLinear(compare_task.progress if compare_task.pending else False)
    if compare_task.error:
        solara.Error(str(compare_task.exception))
    if compare_task.finished and compare_task.value is not None:
        first, second = compare_task.value
        solara.HTML(tag="div", unsafe_innerHTML=compare_html(first, second))
        solara.FigureMatplotlib(overlay_figure(first, second), format="png")


@solara.component
def Controls() -> None:
    solara.InputText("scenario (built-in name or YAML path)", value=scenario_ref)
    solara.Button("Load", on_click=load)
    solara.InputInt("paths per run", value=paths)
    with solara.Row():
        solara.Button("Run", on_click=lambda: run_task(data.value, paths.value), color="primary",
                      disabled=run_task.pending)
        solara.Button("Cancel", on_click=run_task.cancel, disabled=not run_task.pending)
    solara.ProgressLinear(run_task.progress if run_task.pending else False)
    solara.InputText("save as (YAML path)", value=save_path)
    solara.Button("Save YAML", on_click=save)
    solara.InputText("report directory", value=report_dir)
    solara.Button("Write report", on_click=write_report, disabled=not run_task.finished)
    if notice.value:
        solara.Success(notice.value)
    if problem.value:
        solara.Error(problem.value)


@solara.component
def Page() -> None:
    solara.Title("usdai-sim explorer")
    with solara.Sidebar():
        solara.HTML(tag="h3", unsafe_innerHTML="usdai-sim explorer")
        Controls()
    with solara.lab.Tabs():
        with solara.lab.Tab("Parameters"):
            Parameters()
        with solara.lab.Tab("Results"):
            ResultsView()
        with solara.lab.Tab("Compare"):
            CompareView()
