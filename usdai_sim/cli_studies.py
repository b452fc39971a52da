"""Study commands of the command line: ``sweep`` (and the study helpers the other study commands share).

Registered by ``cli.py``; the helpers both share live below them in ``cli_options.py``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from usdai_sim.cli_options import UsageError, add_executor_options, add_set_option, open_executor
from usdai_sim.outputs import check_target, write_atomically

STUDIES_DIR = Path("reports") / "studies"


def add_output_options(parser: argparse.ArgumentParser, out_help: str) -> None:
    """Options every study command shares: output directory, replace, workers, quiet, executor, overrides."""

    parser.add_argument("--out", type=Path, help=out_help)
    parser.add_argument("--force", action="store_true", help="replace an existing output directory")
    parser.add_argument("--workers", type=int, default=1, help="worker processes (results do not depend on it)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    add_executor_options(parser)
    add_set_option(parser)


def add_study_options(parser: argparse.ArgumentParser, out_help: str) -> None:
    """Options of the commands that run a study: the shared ones and --resume."""
    add_output_options(parser, out_help)
    parser.add_argument("--resume", action="store_true", help="continue an interrupted study, skipping finished points")


def add_commands(sub: Any) -> None:
    """The ``sweep`` subcommand."""
    sweep = sub.add_parser("sweep", help="run a parameter study (grid, Latin hypercube or Sobol) from a study file")
    sweep.add_argument("study", type=Path, metavar="STUDY.yaml")
    sweep.add_argument("--paths", type=int, help="paths per point (overrides the study file)")
    add_study_options(sweep, "study directory (default reports/studies/NAME)")
    add_reverse_command(sub)
    add_recommend_command(sub)
    sens = sub.add_parser("sensitivity", help="Morris screening or Sobol indices (SALib) and a tornado, from a study")
    sens.add_argument("study", type=Path, metavar="STUDY.yaml")
    sens.add_argument("--method", choices=("morris", "sobol"), help="overrides the study's sensitivity.method")
    sens.add_argument("--samples", type=int, help="Morris trajectories or Sobol base sample (overrides the study)")
    sens.add_argument("--paths", type=int, help="paths per point (overrides the study file)")
    add_study_options(sens, "study directory (default reports/studies/NAME-METHOD)")


def check_common(args: argparse.Namespace) -> None:
    """Flag values every study command checks before it starts."""

    if args.workers <= 0:
        raise UsageError(f"--workers: must be at least 1 (got {args.workers})")
    if getattr(args, "paths", None) is not None and args.paths <= 0:
        raise UsageError(f"--paths: must be a positive number of paths (got {args.paths})")


def execute_study(
    args: argparse.Namespace,
    spec: Any,
    provenance: Any,
    directory: Path,
    parameter_sets: list[dict[str, float]] | None = None,
    more_sections: Any = None,
) -> Any:
    """Validate every point, run the unfinished ones on the chosen executor, write study.html (with
    ``more_sections(table)`` appended); return the results table."""
    from usdai_sim.progress import TqdmProgress
    from usdai_sim.studies.report import study_sections, write_page
    from usdai_sim.studies.run import build_points, load_study, run_study
    from usdai_sim.studies.targets import parse_target

    frontier = parse_target(spec.frontier, "frontier") if spec.frontier else None
    points = build_points(spec, provenance, args.study, args.overrides, parameter_sets)
    executor = open_executor(args)
    try:
        bar = None if args.quiet else TqdmProgress(spec.name)
        run_study(spec, args.study, points, directory, executor, args.resume, args.force, bar)
        if bar is not None:
            bar.close()
    finally:
        executor.close()
    table = load_study(directory)
    sections = study_sections(table, spec.metric_keys, frontier)
    sections += more_sections(table) if more_sections is not None else []
    write_page(directory / "study.html", f"Study {spec.name}", spec.description, sections)
    return table


def cmd_sweep(args: argparse.Namespace) -> int:
    """``usdai-sim sweep STUDY.yaml``."""
    from usdai_sim.studies.spec import load_study_file

    check_common(args)
    spec, provenance = load_study_file(args.study)
    if args.paths is not None:
        spec = spec.model_copy(update={"paths": args.paths})
    directory = args.out or STUDIES_DIR / spec.name
    table = execute_study(args, spec, provenance, directory)
    if not args.quiet:
        print(f"{spec.name}: {len(table)} points x {spec.paths} paths -> {directory} (study.html, results/)")
    return 0


COMMANDS = {"sweep": cmd_sweep}


def add_search_options(parser: argparse.ArgumentParser, kind: str) -> None:
    """Options of the searching commands (reverse-stress, recommend)."""
    parser.add_argument("--tolerance", type=float, default=0.01, help="bisection stops below this bracket width")
    parser.add_argument("--paths", type=int, default=DEFAULT_SEARCH_PATHS, help="paths per scenario and evaluation")
    parser.add_argument("--seed", type=int, help="random seed (the same in every scenario and evaluation)")
    add_output_options(parser, f"output directory (default reports/{kind}/SCENARIO)")


def add_reverse_command(sub: Any) -> None:
    """The ``reverse-stress`` subcommand."""
    rev = sub.add_parser("reverse-stress", help="find the smallest shock that breaks a target (bisection, CRN)")
    rev.add_argument("scenario", metavar="SCENARIO", help="YAML file or built-in name")
    rev.add_argument("--shock", required=True, help="a dotted numeric field, or gpu_resale.depth / rental.depth / "
                     "utilisation.depth (adds a shock of that depth)")
    rev.add_argument("--target", required=True, help='what "broken" means, e.g. "p99_er_loss > 0.05"')
    rev.add_argument("--range", dest="search_range", help="LOW:HIGH of the search (default 0:0.95 for a depth)")
    add_search_options(rev, "reverse")


DEFAULT_SEARCH_PATHS = 200
"""Paths per evaluation of a search (assumption: enough for a first answer; the interval says how good it is)."""


def parse_range(text: str | None, default: tuple[float, float] | None) -> tuple[float, float]:
    """``LOW:HIGH`` → (low, high), low < high, both finite."""

    if text is None:
        if default is None:
            raise UsageError("--range: required for a dotted field (e.g. --range 0.1:0.5)")
        return default
    try:
        low, high = (float(part) for part in text.split(":"))
    except ValueError:
        raise UsageError(f"--range: expected LOW:HIGH (got {text!r})") from None
    if not (np.isfinite(low) and np.isfinite(high) and low < high):
        raise UsageError(f"--range: expected finite LOW < HIGH (got {text!r})")
    return low, high


def check_search_flags(args: argparse.Namespace) -> None:
    """Positive paths and tolerance."""

    check_common(args)
    if not (np.isfinite(args.tolerance) and args.tolerance > 0):
        raise UsageError(f"--tolerance: must be a positive number (got {args.tolerance})")


def cmd_reverse(args: argparse.Namespace) -> int:
    """``usdai-sim reverse-stress SCENARIO --shock FIELD --target "METRIC OP X"``."""
    from usdai_sim.studies.reverse import ShockAxis, reverse_stress, reverse_summary
    from usdai_sim.studies.targets import parse_target

    check_search_flags(args)
    target = parse_target(args.target)
    axis = ShockAxis(args.scenario, tuple(args.overrides), args.shock)
    low, high = parse_range(args.search_range, axis.default_range())
    base = axis.scenario(low)
    out = args.out or Path("reports") / "reverse" / base.name

    check_target(out, args.force)
    executor = open_executor(args)
    try:
        result = reverse_stress(axis, target, low, high, args.tolerance, args.paths, args.seed, executor)
    finally:
        executor.close()
    settings = {"range": [low, high], "tolerance": args.tolerance, "paths": args.paths,
                "seed": base.simulation.seed if args.seed is None else args.seed}
    summary = reverse_summary(axis, target, result, settings)
    write_atomically(out, args.force, lambda d: write_reverse(d, axis, target, result, summary))
    if not args.quiet:
        print(describe_reverse(summary, out))
    return 0


def describe_reverse(summary: dict[str, Any], out: Path) -> str:
    """One line on the outcome."""
    if summary["status"] == "safe_in_range":
        return f"{summary['target']} is not reached for {summary['shock']} in {summary['range']} -> {out}"
    if summary["status"] == "broken_at_low":
        return f"{summary['target']} already holds at {summary['shock']} = {summary['range'][0]} -> {out}"
    iv = summary["interval"]
    return (f"{summary['shock']} threshold {summary['threshold']:.4g} (95% interval {iv['low']:.4g}..{iv['high']:.4g})"
            f" for {summary['target']} -> {out}")


def write_reverse(directory: Path, axis: Any, target: Any, result: Any, summary: dict[str, Any]) -> None:
    """reverse.json, the scenario at the threshold, and reverse.html with the search figure."""
    import json

    from usdai_sim.report.figures import render_png
    from usdai_sim.studies.report import Section, draw_search, write_page
    from usdai_sim.studies.reverse import scenario_yaml

    (directory / "reverse.json").write_text(json.dumps(summary, indent=2) + "\n")
    if result.value is not None:
        scenario = axis.scenario(result.value, summary["paths"], summary["seed"])
        note = [f"scenario at the reverse-stress threshold: {axis.field} = {result.value!r}", f"target: {target.text}"]
        (directory / "threshold_scenario.yaml").write_text(scenario_yaml(scenario, note))
    png = render_png(draw_search, summary["evaluations"], result.value, (result.low, result.high), target, axis.field)
    text = describe_reverse(summary, directory) + ". Bisection on common random numbers; the interval resamples paths."
    write_page(directory / "reverse.html", f"Reverse stress: {axis.reference}", text, [Section("Search", "", (png,))])


COMMANDS["reverse-stress"] = cmd_reverse


def add_recommend_command(sub: Any) -> None:
    """The ``recommend`` subcommand."""
    rec = sub.add_parser("recommend", help="largest LTV per GPU class and loan share that keep a loss budget")
    rec.add_argument("scenario", metavar="SCENARIO", help="the book: a YAML file or built-in name")
    rec.add_argument(
        "--budget", required=True, help='clauses that must all hold, e.g. "es99_er_loss<=0.02, p_loss<=0.01"'
    )
    rec.add_argument("--scenarios", help="comma-separated scenarios the budget must hold under, besides SCENARIO "
                     "(default: every shipped stress scenario)")
    rec.add_argument("--classes", help="comma-separated GPU classes (default: every class the book lends against)")
    rec.add_argument("--no-loan-share", action="store_true", help="skip the loan-share recommendation")
    add_search_options(rec, "recommend")


def _names(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def cmd_recommend(args: argparse.Namespace) -> int:
    """``usdai-sim recommend SCENARIO --budget "..."``."""
    from usdai_sim.scenario.library import load_scenario
    from usdai_sim.studies import recommend as rc
    from usdai_sim.studies.targets import parse_budget

    check_search_flags(args)
    budget = parse_budget(args.budget)
    base, _ = load_scenario(args.scenario, args.overrides)
    cases = [args.scenario, *_names(args.scenarios)] if args.scenarios else rc.default_cases(args.scenario)
    for case in cases:
        load_scenario(case, args.overrides)
    classes = _names(args.classes) or rc.classes_lent_against(base)
    unknown = [c for c in classes if c not in base.markets.gpu.classes]
    if unknown:
        raise UsageError(f"--classes: unknown GPU class {unknown[0]!r}; known: {', '.join(base.markets.gpu.classes)}")
    levers = [rc.ltv_lever(c) for c in classes] + ([] if args.no_loan_share else [rc.SHARE_LEVER])
    seed = base.simulation.seed if args.seed is None else args.seed
    book = rc.Book(tuple(cases), tuple(args.overrides), args.paths, seed)
    out = args.out or Path("reports") / "recommend" / base.name
    check_target(out, args.force)
    executor = open_executor(args)
    try:
        rows = [rc.recommendation(lv, rc.recommend_lever(book, lv, budget, args.tolerance, executor), budget)
                for lv in levers]
    finally:
        executor.close()
    content = {"scenario": args.scenario, "cases": cases, "budget": args.budget, "paths": args.paths, "seed": seed,
               "tolerance": args.tolerance, "overrides": list(args.overrides), "recommendations": rows}
    write_atomically(out, args.force, lambda d: write_recommend(d, content))
    if not args.quiet:
        print(rc.markdown(rows, args.budget, cases), end="")
        print(f"-> {out}")
    return 0


def write_recommend(directory: Path, content: dict[str, Any]) -> None:
    """recommend.json, recommend.md and recommend.png."""
    import json

    from usdai_sim.report.figures import render_png
    from usdai_sim.studies.recommend import markdown
    from usdai_sim.studies.report import draw_recommendations

    rows = content["recommendations"]
    (directory / "recommend.json").write_text(json.dumps(content, indent=2) + "\n")
    (directory / "recommend.md").write_text(markdown(rows, content["budget"], content["cases"]))
    (directory / "recommend.png").write_bytes(render_png(draw_recommendations, rows, content["budget"]))


COMMANDS["recommend"] = cmd_recommend


def cmd_sensitivity(args: argparse.Namespace) -> int:
    """``usdai-sim sensitivity STUDY.yaml``."""
    import json

    from usdai_sim.studies import sensitivity as sa
    from usdai_sim.studies.spec import load_study_file

    check_common(args)
    if args.samples is not None and args.samples <= 0:
        raise UsageError(f"--samples: must be positive (got {args.samples})")
    spec, provenance = load_study_file(args.study)
    update = {k: v for k, v in (("method", args.method), ("samples", args.samples)) if v is not None}
    spec = spec.model_copy(update={"sensitivity": spec.sensitivity.model_copy(update=update),
                                   **({"paths": args.paths} if args.paths else {})})
    try:
        settings, prob = spec.sensitivity, sa.problem(spec)
    except sa.SensitivityError as exc:
        from usdai_sim.errors import ScenarioError

        file, line = provenance.locate(("design", "type"))
        raise ScenarioError(file, line, "design.type", str(exc), spec.design.type) from None
    design = sa.sample(settings.method, prob, settings.samples, settings.seed)
    rows = np.vstack([design, sa.tornado_points(prob)])
    directory = args.out or STUDIES_DIR / f"{spec.name}-{settings.method}"
    found: dict[str, Any] = {}

    def sections(table: Any) -> Any:
        found.update(sensitivity_results(spec, prob, design, table))
        return sensitivity_sections(spec, found)

    whole = [p.integer for p in spec.design.parameters.values()]
    execute_study(args, spec, provenance, directory, sa.parameter_sets(prob, rows, whole), sections)
    (directory / "sensitivity.json").write_text(json.dumps(found, indent=2, default=float) + "\n")
    if not args.quiet:
        print(f"{spec.name}: {settings.method} on {len(rows)} points x {spec.paths} paths -> {directory}")
    return 0


def sensitivity_results(spec: Any, prob: dict[str, Any], design: np.ndarray, table: Any) -> dict[str, Any]:
    """Indices and tornado per metric (metrics with a missing value at some point are listed as skipped)."""
    from usdai_sim.studies import sensitivity as sa

    values = table.reset_index().sort_values("point")
    out: dict[str, Any] = {"method": spec.sensitivity.method, "samples": spec.sensitivity.samples,
                           "parameters": prob["names"], "bounds": prob["bounds"], "metrics": {}, "skipped": []}
    for metric in spec.metric_keys:
        y = values[metric].to_numpy(float) if metric in values else np.array([np.nan])
        if len(y) != len(design) + 2 * prob["num_vars"] + 1 or np.isnan(y).any():
            out["skipped"].append(metric)
            continue
        indices = sa.analyse(spec.sensitivity.method, prob, design, y[: len(design)], spec.sensitivity.seed)
        out["metrics"][metric] = {"indices": indices.to_dict(orient="index"),
                                  "tornado": sa.tornado(prob, y[len(design):]).to_dict(orient="index")}
    return out


def sensitivity_sections(spec: Any, found: dict[str, Any]) -> list[Any]:
    """A tornado and an index bar chart (with intervals) per metric."""
    import pandas as pd

    from usdai_sim.report.figures import render_png
    from usdai_sim.studies.report import Section, draw_bars, draw_tornado

    out = []
    for metric, result in found["metrics"].items():
        ind, tor = pd.DataFrame(result["indices"]).T, pd.DataFrame(result["tornado"]).T
        names = list(ind.index)
        pngs = [render_png(draw_tornado, names, tor["low"].to_numpy(), tor["high"].to_numpy(),
                           float(tor["centre"].iloc[0]), metric)]
        if found["method"] == "sobol":
            for col in ("S1", "ST"):
                pngs.append(render_png(draw_bars, names, ind[col].to_numpy(), ind[f"{col}_conf"].to_numpy(),
                                       f"Sobol {col} of {metric} (95% bootstrap interval)"))
        else:
            pngs.append(render_png(draw_bars, names, ind["mu_star"].to_numpy(), ind["mu_star_conf"].to_numpy(),
                                   f"Morris mu* of {metric} (95% bootstrap interval)"))
        out.append(Section(f"Sensitivity of {metric}", "Tornado: one at a time from the centre of the ranges.",
                           tuple(pngs), ind))
    if found["skipped"]:
        out.append(Section("Not analysed", f"Missing at some points: {', '.join(found['skipped'])}."))
    return out


COMMANDS["sensitivity"] = cmd_sensitivity
