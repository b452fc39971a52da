"""The risk report of a run, and the comparison of several runs.

Both write into a directory the CLI provides: ``report.html`` (self-contained: inline CSS, figures as
base64 PNG data URIs), ``report.md`` (same content, figures linked as ``figures/NAME.png``),
``figures/*.png`` and ``metrics.csv``. Text comes from the Jinja2 templates in ``templates/``; this
module only prepares what they show. Every summary metric is documented in ``METRIC_DOCS``.
"""

from __future__ import annotations

import base64
import csv
import dataclasses
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
import yaml

from usdai_sim.metric_docs import HOLDER_LOSS_KEYS, METRIC_DOCS
from usdai_sim.report import figures
from usdai_sim.risk import loss_splits, loss_waterfall
from usdai_sim.scenario.library import scenario_differences, scenario_sha256
from usdai_sim.scenario.schema import Scenario
from usdai_sim.tidy import flat_numbers, interval_of, lookup
from usdai_sim.version import __version__

if TYPE_CHECKING:
    from usdai_sim.results import Results

NOT_METRICS = ("meta", "intervals", "precision")
"""summary.json sections that are not metrics: run identity, Monte Carlo intervals, the --until-precise record."""
METRIC_KEYS: tuple[str, ...] = tuple(METRIC_DOCS)
"""The top-level summary keys (all but ``meta``), in report order."""

PEG_KEYS = ("usdai_backing_ratio_min",)
PEG_AT = METRIC_KEYS.index(PEG_KEYS[0])
METRIC_GROUPS: dict[str, tuple[str, ...]] = {
    "sUSDai holders: losses (positive = worse)": HOLDER_LOSS_KEYS,
    "sUSDai holders: exchange ratio": METRIC_KEYS[:10],
    "Liquidity: redemptions": METRIC_KEYS[10:15],
    "Loan book": METRIC_KEYS[15:PEG_AT],
    "USDai peg": PEG_KEYS,
    "Holders: who bears the loss, exits and concentration": tuple(
        k for k in METRIC_KEYS[PEG_AT + 1:] if k not in HOLDER_LOSS_KEYS),
}
SUB_DOCS = {
    "prob_wait_over_days": "share of redemption requests (completed or still pending) that waited "
                           "longer than {} days",
    "defaults_by_route": "mean defaults per path by the {} route",
    "redemption_wait_days": "{} wait of any redemption request, completed or still pending at the horizon",
    "loss_by_holder_group_usd": "mean USD loss per path borne by the {} group",
    "first_mover_advantage": "first-mover comparison from the stress start: {}",
}
"""Descriptions of the non-quantile sub-keys of nested metrics ({} is the sub-key)."""
QUANTILE_WORDS = {"mean": "mean over paths", "p01": "1st percentile over paths",
                  "p05": "5th percentile over paths", "p50": "median over paths",
                  "p95": "95th percentile over paths", "p99": "99th percentile over paths"}
RUN_SETTINGS = ("simulation.paths", "simulation.seed")
COMPARISON_HEADLINE = (
    "principal_loss_var_99", "principal_loss_es_99", "tbill_shortfall_es_99", "tbill_shortfall_annualised_es_99",
    "susdai_exchange_ratio_final.p50", "susdai_exchange_ratio_final.p01", "susdai_return_annualised.p50",
    "prob_principal_loss", "susdai_var_99", "susdai_es_99", "susdai_max_drawdown.p99", "default_rate_count",
    "default_rate_principal", "loss_given_default_pooled", "simulated_loss_usd.mean",
    "simulated_loss_usd.p99",
    "redemption_wait_days.p50", "redemption_wait_days.max", "prob_wait_over_days.30",
    "queue_peak_fraction_of_supply.p99", "usdai_backing_ratio_min",
)
QUANTILE_KEYS = ("mean", "p01", "p05", "p50", "p95", "p99")
MIN_TAIL_PATHS = 20
"""Fewer tail paths than this behind a Monte Carlo interval earns a warning in the report."""

Shown = list[dict[str, str]]
"""Figures as the templates use them: name, title, reading, file (relative path) and data_uri."""


# ---------------------------------------------------------------- numbers and units


def metric_doc(key: str) -> tuple[str, str]:
    """(unit, description) of a top-level or dotted metric key (``top.sub``); unknown keys say so."""
    top, _, sub = key.partition(".")
    unit, meaning = METRIC_DOCS.get(top, ("", "(not documented)"))
    if sub in QUANTILE_WORDS:
        return unit, f"{QUANTILE_WORDS[sub]}: {meaning}"
    if sub:
        return unit, SUB_DOCS[top].format(sub) if top in SUB_DOCS else f"{meaning} ({sub})"
    return unit, meaning


def display_unit(unit: str) -> str:
    """The unit as the report shows it (fractions as percentages)."""
    return {"fraction": "%", "annual decimal": "% per year"}.get(unit, unit)


def fmt(value: Any, unit: str) -> str:
    """A metric value for reading, in its display unit; missing and non-finite values read 'n/a'."""
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return "n/a" if value is None else str(value)
    if not math.isfinite(value):
        return "n/a"
    if unit in ("fraction", "annual decimal"):
        return f"{100.0 * value:.2f}%"
    if unit == "USD":
        return fmt_usd(value)
    if unit in ("USDai per sUSDai", "ratio"):
        return f"{value:.4f}"
    if unit in ("days", "count"):
        return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
    return f"{value:.2f}" if unit == "defaults per path" else f"{value:.4g}"


def fmt_usd(value: float) -> str:
    """Dollars with a k/M suffix (negative amounts as −$…)."""
    if value < 0:
        return "−" + fmt_usd(-value)
    if abs(value) >= 1e6:
        return f"${value / 1e6:,.2f}M"
    return f"${value / 1e3:,.1f}k" if abs(value) >= 1e3 else f"${value:,.0f}"


# ---------------------------------------------------------------- key-metrics tables


@dataclass(frozen=True)
class MetricRow:
    """One line of a key-metrics table; numbers are already formatted."""

    key: str
    value: str
    mean: str
    p01: str
    p05: str
    p95: str
    p99: str
    unit: str
    meaning: str
    interval: str = ""


def quantile_row(key: str, stats: dict[str, Any], unit: str, meaning: str) -> MetricRow:
    """A row of a distribution over paths: the median as value, with mean and tails."""
    cell = {q: fmt(stats.get(q), unit) for q in QUANTILE_KEYS}
    return MetricRow(key, cell["p50"], cell["mean"], cell["p01"], cell["p05"], cell["p95"], cell["p99"],
                     display_unit(unit), meaning)


def scalar_row(key: str, value: Any, unit: str, meaning: str) -> MetricRow:
    """A row of a single number."""
    return MetricRow(key, fmt(value, unit), "", "", "", "", "", display_unit(unit), meaning)


def metric_rows(key: str, value: Any) -> list[MetricRow]:
    """Table rows of one summary entry (dicts that are not distributions give one row per sub-key)."""
    unit, meaning = metric_doc(key)
    if not isinstance(value, dict):
        return [scalar_row(key, value, unit, meaning)]
    rows = [quantile_row(key, value, unit, meaning)] if "p50" in value else []
    for sub, item in value.items():
        if sub not in QUANTILE_KEYS or "p50" not in value:
            rows.append(scalar_row(f"{key}.{sub}", item, *metric_doc(f"{key}.{sub}")))
    return rows


def interval_text(summary: dict[str, Any], key: str) -> str:
    """The Monte Carlo interval of a metric (or of its median) as 'low – high (n tail paths)', or ''."""
    interval = interval_of(summary, key) or interval_of(summary, f"{key}.p50")
    if not interval:
        return ""
    unit = metric_doc(key)[0]
    text = f"{fmt(interval.get('low'), unit)} – {fmt(interval.get('high'), unit)}"
    tail = interval.get("tail_paths")
    return text if tail is None else f"{text} ({tail} tail paths)"


def with_intervals(summary: dict[str, Any], rows: list[MetricRow]) -> list[MetricRow]:
    """The rows with their Monte Carlo intervals filled in where the summary has them."""
    return [dataclasses.replace(row, interval=interval_text(summary, row.key)) for row in rows]


def metric_groups(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """The key-metrics tables: documented groups in order, then any undocumented keys under 'Other'."""
    titled = [(title, [r for k in keys if k in summary for r in metric_rows(k, summary[k])])
              for title, keys in METRIC_GROUPS.items()]
    extra = [k for k in summary if k not in METRIC_DOCS and k not in NOT_METRICS]
    if extra:
        titled.append(("Other", [r for k in extra for r in metric_rows(k, summary[k])]))
    return [{"title": title, "rows": with_intervals(summary, rows)} for title, rows in titled if rows]


def interval_warnings(summary: dict[str, Any]) -> list[str]:
    """One line per Monte Carlo interval resting on fewer than MIN_TAIL_PATHS tail paths."""
    warnings = []
    for key, interval in sorted((summary.get("intervals") or {}).items()):
        tail = interval.get("tail_paths") if isinstance(interval, dict) else None
        if tail is not None and tail < MIN_TAIL_PATHS:
            warnings.append(f"{key}: fewer than {MIN_TAIL_PATHS} tail paths ({tail}); its interval is not "
                            "reliable, run more paths.")
    return warnings


def headline(summary: dict[str, Any], horizon_days: int) -> list[str]:
    """Plain sentences a committee reads first: holder losses, loan book, liquidity, peg."""
    def f(dotted: str) -> str:
        return fmt(lookup(summary, dotted), metric_doc(dotted)[0])

    holders = (
        f"sUSDai holders: after {horizon_days} days the median exchange ratio is "
        f"{f('susdai_exchange_ratio_final.p50')} ({f('susdai_return_annualised.p50')} a year). "
    )
    if "principal_loss_var_99" in summary:
        holders += (
            f"Principal loss (below the starting value) happens on {f('prob_principal_loss')} of paths; its "
            f"99% VaR is {f('principal_loss_var_99')} and 99% ES {f('principal_loss_es_99')}. Against holding "
            f"T-bills over the same days, holders fall behind on {f('prob_tbill_shortfall')} of paths; the 99% "
            f"ES of that shortfall is {f('tbill_shortfall_es_99')} of value, "
            f"{f('tbill_shortfall_annualised_es_99')} of yield a year. Losses are positive numbers."
        )
    else:
        holders += (f"Holders end below their starting value on {f('prob_principal_loss')} of paths; the 99% VaR "
                    f"of 1 − exchange ratio is {f('susdai_var_99')} (negative numbers are gains).")
    return [
        holders,
        f"Loan book: {f('default_rate_count')} of loans default ({f('default_rate_principal')} of "
        f"principal); pooled loss given default {f('loss_given_default_pooled')}; principal loss per path "
        f"{f('simulated_loss_usd.mean')} on average, {f('simulated_loss_usd.p99')} at the 99th percentile.",
        f"Liquidity: the median redemption waits {f('redemption_wait_days.p50')} days and the longest "
        f"{f('redemption_wait_days.max')} days; {f('prob_wait_over_days.30')} of requests wait more than 30 "
        f"days; on the worst 1% of paths the queue peaks at {f('queue_peak_fraction_of_supply.p99')} of "
        f"sUSDai supply.",
        "USDai peg: the lowest reserves-to-supply ratio on any path and day is "
        f"{f('usdai_backing_ratio_min')}.",
    ]


# ---------------------------------------------------------------- assumptions


def describe_value(value: Any, limit: int | None = 160) -> str:
    """A parameter value as text (lists and mappings as compact JSON, cut at ``limit`` unless None)."""
    if value is None:
        return "(not set)"
    text = json.dumps(value, separators=(", ", ": ")) if isinstance(value, list | dict) else str(value)
    return text if limit is None or len(text) <= limit else text[: limit - 1] + "…"


def describe_shock(shock: Any) -> str:
    """One shock in words: its type and size, then its timing."""
    timing_keys = {"type", "start_day", "duration_days", "shape", "probability", "start_window_days"}
    size = ", ".join(f"{k}={describe_value(v, 60)}" for k, v in shock.model_dump(mode="json").items()
                     if k not in timing_keys and v not in ((), []))
    if shock.duration_days is None:
        timing = f"from day {shock.start_day:g}, permanent"
    else:
        timing = f"from day {shock.start_day:g}, {shock.shape} over {shock.duration_days:g} days"
    if shock.probability < 1.0:
        timing += (f"; on {shock.probability:.0%} of paths, starting within {shock.start_window_days:g} days "
                   "of that day")
    return f"{shock.type} ({size}): {timing}"


def assumptions(scenario: Scenario, baseline: Scenario | None) -> dict[str, Any]:
    """What differs from the baseline: a status sentence, (key, baseline, scenario) rows, run settings."""
    shocks = [describe_shock(s) for s in scenario.shocks]
    if baseline is None:
        return {"status": "No baseline scenario is available to compare with; every parameter is in "
                          "scenario.json.", "rows": [], "settings": [], "shocks": shocks}
    diffs = [(key, describe_value(base), describe_value(ours))
             for key, base, ours in scenario_differences(scenario, baseline)]
    rows = [d for d in diffs if d[0] not in RUN_SETTINGS]
    settings = [d for d in diffs if d[0] in RUN_SETTINGS]
    if rows:
        status = f"{len(rows)} parameter(s) differ from the baseline scenario '{baseline.name}':"
    elif scenario.name == baseline.name:
        status = "This is the baseline scenario: no parameter differs from it."
    else:
        status = f"No model parameter differs from the baseline scenario '{baseline.name}'."
    return {"status": status, "rows": rows, "settings": settings, "shocks": shocks}


# ---------------------------------------------------------------- files


def write_figures(specs: list[figures.FigureSpec], args: tuple[Any, ...], directory: Path) -> Shown:
    """Render each figure once: save ``figures/NAME.png`` and keep a data URI for the HTML."""
    folder = directory / "figures"
    folder.mkdir(parents=True, exist_ok=True)
    shown = []
    for spec in specs:
        png = figures.render_png(spec.draw, *args)
        (folder / f"{spec.name}.png").write_bytes(png)
        shown.append({"name": spec.name, "title": spec.title, "reading": spec.reading,
                      "file": f"figures/{spec.name}.png",
                      "data_uri": "data:image/png;base64," + base64.b64encode(png).decode("ascii")})
    return shown


def write_metrics_csv(path: Path, columns: dict[str, dict[str, Any]]) -> None:
    """``metric,<column>...`` rows of flat metrics (missing values left empty)."""
    keys = list(dict.fromkeys(k for flat in columns.values() for k in flat))
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["metric", *columns])
        for key in keys:
            writer.writerow([key, *("" if flat.get(key) is None else flat[key] for flat in columns.values())])


def md_cell(value: Any) -> str:
    """Text safe inside a Markdown table cell."""
    return str(value).replace("|", "\\|").replace("\n", " ")


def environment() -> jinja2.Environment:
    """The template environment: HTML autoescaped, Markdown not; undefined names are errors."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("usdai_sim.report", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
    )
    env.filters["md"] = md_cell
    return env


def render_pair(stem: str, context: dict[str, Any], directory: Path) -> None:
    """Write report.html and report.md from the templates ``STEM.html`` and ``STEM.md``."""
    env = environment()
    for suffix in ("html", "md"):
        text = env.get_template(f"{stem}.{suffix}").render(**context)
        (directory / f"report.{suffix}").write_text(text, encoding="utf-8")


def run_metrics(results: Results) -> dict[str, Any]:
    """The flat metrics of a run, without ``meta``."""
    return flat_numbers(results.summary)


# ---------------------------------------------------------------- one run


def header(results: Results) -> dict[str, Any]:
    """Identity of the run: scenario, seed, size, horizon, version (of the run) and scenario hash."""
    scenario, sim = results.scenario, results.scenario.simulation
    return {
        "name": scenario.name, "description": scenario.description.strip(), "seed": sim.seed,
        "paths": sim.paths, "horizon_days": sim.horizon_days, "step_days": sim.step_days,
        "steps": sim.n_steps,
        "start_date": sim.start_date, "borrowers": scenario.borrowers.count,
        "depositors": scenario.depositors.count, "sha256": scenario_sha256(scenario),
        "version": results.summary.get("meta", {}).get("version", __version__), "report_version": __version__,
    }


def timing_text(results: Results) -> str:
    """How long the simulation took; the report's own time is measured around it, so it is in the manifest."""
    sim = results.scenario.simulation
    seconds = results.timings.get("simulate_s")
    took = "was not timed" if seconds is None else f"took {seconds:.1f} s"
    return (f"The simulation {took} ({sim.paths} paths × {sim.n_steps} steps of {sim.step_days} day(s)). "
            "The time taken to build this report is measured around it and recorded in manifest.json "
            "(timings.report_s).")


def waterfall_rows(results: Results) -> list[dict[str, str]]:
    """The loss waterfall as table rows (USD, mean per path)."""
    frame = loss_waterfall(results.ledger)
    return [{"step": row.step, "amount": fmt(row.amount_usd + 0.0, "USD"), "running": fmt(row.running_usd, "USD")}
            for row in frame.itertuples()]


def split_rows(results: Results) -> list[dict[str, str]]:
    """Exposure at default and net loss by route, cohort and GPU class (USD, mean per path)."""
    cohorts = [cohort.name for cohort in results.scenario.borrowers.cohorts]
    if "tbill_growth_factor" not in results.paths:
        return []
    frame = loss_splits(results.paths, cohorts)
    return [{"split": row.split, "group": row.group, "ead": fmt(row.exposure_at_default_usd, "USD"),
             "loss": fmt(row.net_loss_usd, "USD")} for row in frame.itertuples()]


def scenario_files(directory: Path, given: list[str] | None) -> list[str]:
    """The scenario files a run read (its ``extends`` chain): as given, else from the manifest, else none."""
    manifest_path = directory / "manifest.json"
    if given is not None or not manifest_path.exists():
        return list(given or [])
    return list(json.loads(manifest_path.read_text()).get("scenario_files", []))


def inputs(results: Results, directory: Path, files: list[str] | None = None) -> dict[str, Any]:
    """What reproduces the run: the resolved scenario as YAML, its hash, the code version, paths, seed, files."""
    files = scenario_files(directory, files)
    sim = results.scenario.simulation
    return {
        "yaml": yaml.safe_dump(results.scenario.model_dump(mode="json"), sort_keys=False, allow_unicode=True),
        "sha256": scenario_sha256(results.scenario), "version": results.summary.get("meta", {}).get(
            "version", __version__), "paths": sim.paths, "seed": sim.seed, "files": files,
        "command": f"usdai-sim run scenario.yaml --paths {sim.paths} --seed {sim.seed}",
    }


def report_context(results: Results, baseline: Scenario | None, shown: Shown, directory: Path,
                   files: list[str] | None = None) -> dict[str, Any]:
    """Everything the report templates show."""
    return {
        "header": header(results),
        "headline": headline(results.summary, results.scenario.simulation.horizon_days),
        "assumptions": assumptions(results.scenario, baseline),
        "groups": metric_groups(results.summary),
        "interval_warnings": interval_warnings(results.summary),
        "waterfall": waterfall_rows(results),
        "splits": split_rows(results),
        "figures": shown,
        "timing": timing_text(results),
        "inputs": inputs(results, directory, files),
    }


def write_inputs_yaml(results: Results, directory: Path) -> None:
    """``scenario.yaml``: the resolved scenario, runnable as it is (``usdai-sim run scenario.yaml``)."""
    text = "# The scenario as run (after extends and overrides); usdai-sim run scenario.yaml reproduces it.\n"
    (directory / "scenario.yaml").write_text(text + inputs(results, directory)["yaml"], encoding="utf-8")


def write_report(results: Results, directory: Path, baseline: Scenario | None,
                 files: list[str] | None = None) -> None:
    """Write report.html, report.md, figures/*.png, metrics.csv and scenario.yaml of one run into ``directory``.

    ``files`` are the scenario files the run read (for the Inputs section); None reads them from the manifest.
    """
    directory.mkdir(parents=True, exist_ok=True)
    shown = write_figures(figures.run_figures(results), (results,), directory)
    write_metrics_csv(directory / "metrics.csv", {"value": run_metrics(results)})
    write_inputs_yaml(results, directory)
    render_pair("report", report_context(results, baseline, shown, directory, files), directory)


# ---------------------------------------------------------------- several runs


def run_identity(results: Results, label: str) -> dict[str, Any]:
    """One line of the comparison's table of runs."""
    return {**header(results), "label": label, "sha12": scenario_sha256(results.scenario)[:12],
            "simulate_s": results.timings.get("simulate_s")}


def comparison_warnings(runs: list[dict[str, Any]]) -> list[str]:
    """Differences in run size or horizon that make the comparison less like-for-like."""
    warnings = []
    for key, what in (("horizon_days", "horizons"), ("paths", "path counts"), ("seed", "seeds")):
        values = {run[key] for run in runs}
        if len(values) > 1:
            listed = ", ".join(f"{run['label']}: {run[key]}" for run in runs)
            warnings.append(f"The runs have different {what} ({listed}).")
    return warnings


def differences_from_first(results: list[Results], labels: list[str]) -> list[dict[str, Any]]:
    """For every run after the first: its parameters that differ from the first run's, and its shocks."""
    first = results[0].scenario
    return [{"label": label, "shocks": [describe_shock(shock) for shock in r.scenario.shocks],
             "rows": [(key, describe_value(theirs, None), describe_value(ours, None))
                      for key, theirs, ours in scenario_differences(r.scenario, first)]}
            for r, label in zip(results[1:], labels[1:], strict=True)]


def comparison_rows(flats: list[dict[str, Any]], keys: list[str]) -> list[dict[str, Any]]:
    """Side-by-side rows: key, display unit, meaning and one formatted value per run."""
    rows = []
    for key in keys:
        unit, meaning = metric_doc(key)
        rows.append({"key": key, "unit": display_unit(unit), "meaning": meaning,
                     "values": [fmt(flat.get(key), unit) for flat in flats]})
    return rows


def fmt_delta(delta: Any, unit: str) -> str:
    """A difference against the first run, signed, in the metric's display unit (fractions in points)."""
    if not isinstance(delta, int | float) or not math.isfinite(delta):
        return "n/a"
    if unit in ("fraction", "annual decimal"):
        return f"{100.0 * delta:+.2f} pp"
    text = fmt(abs(delta), unit)
    return ("+" if delta >= 0 else "−") + text


def delta_rows(summaries: list[dict[str, Any]], flats: list[dict[str, Any]], keys: list[str]) -> list[dict]:
    """Per headline metric: the first run's value, then each other run's delta against it, with intervals."""
    rows = []
    for key in keys:
        unit, meaning = metric_doc(key)
        first = flats[0].get(key)
        cells = []
        for summary, flat in zip(summaries[1:], flats[1:], strict=True):
            value = flat.get(key)
            delta = value - first if isinstance(value, int | float) and isinstance(first, int | float) else None
            cells.append({"delta": fmt_delta(delta, unit), "interval": interval_text(summary, key)})
        rows.append({"key": key, "unit": display_unit(unit), "meaning": meaning, "first": fmt(first, unit),
                     "first_interval": interval_text(summaries[0], key), "cells": cells})
    return rows


def ranking(summaries: list[dict[str, Any]], labels: list[str], rank_by: str) -> list[dict[str, Any]]:
    """Scenarios from worst to best by one tail metric (higher is worse for losses), with intervals."""
    unit = metric_doc(rank_by)[0]
    values = [lookup(summary, rank_by) for summary in summaries]
    order = sorted(range(len(labels)), key=lambda i: -float(values[i]) if isinstance(values[i], int | float)
                   else math.inf)
    return [{"rank": place, "label": labels[i], "value": fmt(values[i], unit),
             "interval": interval_text(summaries[i], rank_by)} for place, i in enumerate(order, 1)]


DEFAULT_RANK_BY = "principal_loss_es_99"
"""The tail metric scenarios are ranked by unless the user names another."""


def comparison_context(results: list[Results], labels: list[str], shown: Shown,
                       rank_by: str = DEFAULT_RANK_BY) -> dict[str, Any]:
    """Everything the comparison templates show."""
    runs = [run_identity(r, label) for r, label in zip(results, labels, strict=True)]
    flats = [run_metrics(r) for r in results]
    summaries = [r.summary for r in results]
    every = list(dict.fromkeys(k for flat in flats for k in flat))
    headline_keys = [k for k in COMPARISON_HEADLINE if k in every]
    return {
        "runs": runs, "labels": labels, "warnings": comparison_warnings(runs),
        "differences": differences_from_first(results, labels), "figures": shown,
        "headline_rows": comparison_rows(flats, headline_keys),
        "delta_rows": delta_rows(summaries, flats, headline_keys),
        "rank_by": rank_by, "rank_meaning": metric_doc(rank_by)[1],
        "ranking": ranking(summaries, labels, rank_by),
        "all_rows": comparison_rows(flats, every), "report_version": __version__,
    }


def write_comparison(results: list[Results], labels: list[str], directory: Path,
                     rank_by: str = DEFAULT_RANK_BY) -> None:
    """Write report.html, report.md, figures/*.png and metrics.csv (a column per label) into ``directory``."""
    if len(results) != len(labels) or not results:
        raise ValueError(f"need one label per run (got {len(results)} runs and {len(labels)} labels)")
    directory.mkdir(parents=True, exist_ok=True)
    shown = write_figures(list(figures.COMPARISON_FIGURES), (results, labels), directory)
    columns = {label: run_metrics(r) for r, label in zip(results, labels, strict=True)}
    write_metrics_csv(directory / "metrics.csv", columns)
    render_pair("comparison", comparison_context(results, labels, shown, rank_by), directory)
