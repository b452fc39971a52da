"""Command line: parse, call the API, print, exit (0 ok, 2 invalid input, 1 failure)."""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from usdai_sim import __version__, cli_studies
from usdai_sim.cli_options import UsageError, add_executor_options, add_set_option, open_executor
from usdai_sim.errors import InvariantError, RunTooLargeError, UsdaiSimError
from usdai_sim.outputs import (
    MANIFEST_FILE,
    check_disk,
    check_target,
    check_writable,
    claim_outputs,
    safe_slug,
    tagged_manifest,
    write_atomically,
)
from usdai_sim.scenario.library import (
    DEFAULT_SCENARIO,
    builtin_names,
    builtin_path,
    load_scenario,
    scenario_sha256,
)
from usdai_sim.scenario.schema import Scenario

EXIT_OK, EXIT_FAILURE, EXIT_INPUT = 0, 1, 2
DEFAULT_MAX_PATHS = 20_000
"""Cap of --until-precise (assumption: about ten minutes of the baseline on two cores)."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="usdai-sim", description="Stress-test GPU-collateralised lending (USD.AI style)."
    )
    parser.add_argument("--version", action="version", version=f"usdai-sim {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run scenarios and write results and a report")
    run.add_argument("scenarios", nargs="+", metavar="SCENARIO", help="YAML file or built-in name")
    run.add_argument("--paths", type=int, help="Monte Carlo paths (overrides the scenario)")
    run.add_argument("--seed", type=int, help="random seed (overrides the scenario)")
    run.add_argument(
        "--out", type=Path, help="results directory (default reports/NAME; with several scenarios OUT/NAME)"
    )
    run.add_argument("--workers", type=int, default=1, help="worker processes (results do not depend on it)")
    run.add_argument("--force", action="store_true", help="replace an existing results directory")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.add_argument("--check-invariants", action="store_true", help="check the ledger identities every step")
    run.add_argument("--no-report", action="store_true", help="write results only")
    add_set_option(run)
    run.add_argument(
        "--until-precise",
        metavar="METRIC:HALFWIDTH",
        help="add paths (common seeds) until the metric's interval half-width is at most HALFWIDTH, "
        "e.g. es99_er_loss:0.002",
    )
    add_executor_options(run)
    run.add_argument(
        "--max-paths", type=int, default=DEFAULT_MAX_PATHS, help="path cap for --until-precise (default %(default)s)"
    )
    validate = sub.add_parser("validate", help="check scenario files")
    validate.add_argument("scenarios", nargs="+", metavar="SCENARIO")
    add_set_option(validate)
    sub.add_parser("list", help="list the built-in scenarios")
    sub.add_parser("schema", help="print the JSON Schema of the scenario format (descriptions, units, sources)")
    report = sub.add_parser("report", help="(re)build the report of a results directory")
    report.add_argument("results", type=Path, metavar="RESULTS_DIR")
    compare = sub.add_parser("compare", help="compare several results directories")
    compare.add_argument("results", nargs="+", type=Path, metavar="RESULTS_DIR")
    compare.add_argument(
        "--out", type=Path, default=Path("reports/compare"), help="where to write the comparison"
    )
    compare.add_argument("--force", action="store_true", help="replace an existing comparison directory")
    app = sub.add_parser("app", help="open the interactive explorer in a browser (needs usdai-sim[app])")
    app.add_argument("scenario", nargs="?", default=DEFAULT_SCENARIO, help="YAML file or built-in name to open")
    app.add_argument("--host", default="127.0.0.1", help="address to serve on (default 127.0.0.1: this machine only)")
    app.add_argument("--port", type=int, default=8765, help="port to serve on (default 8765)")
    app.add_argument("--paths", type=int, default=64, help="Monte Carlo paths per run in the app (default 64)")
    compare.add_argument(
        "--rank-by", default="principal_loss_es_99", metavar="METRIC",
        help="summary metric (dotted key) to rank scenarios by, worst first (default principal_loss_es_99)",
    )
    replay = sub.add_parser("replay-report", help="run the historical replays and write the validation page")
    replay.add_argument("--paths", type=int, help="Monte Carlo paths per replay (default: the page's)")
    replay.add_argument(
        "--out", type=Path, default=Path("reports/validation.md"), help="the page (figures go beside it)"
    )
    replay.add_argument("--quiet", action="store_true", help="no progress lines")
    calibrate = sub.add_parser("calibrate", help="write the calibration page (parameters, sources, public figures)")
    calibrate.add_argument("--paths", type=int, help="baseline Monte Carlo paths (default: the page's)")
    calibrate.add_argument(
        "--out", type=Path, default=Path("reports/calibration.md"), help="the page (figures go beside it)"
    )
    calibrate.add_argument("--quiet", action="store_true", help="no progress lines")
    cli_studies.add_commands(sub)
    return parser


def _out_dir(args: argparse.Namespace, scenario: Scenario, many: bool) -> Path:
    """Where a scenario's results go: the user's --out, or reports/SLUG; the scenario name is never a path."""
    if args.out is None:
        return Path("reports") / safe_slug(scenario.name)
    return args.out / safe_slug(scenario.name) if many else args.out


def write_run(
    directory: Path, results: Any, files: Sequence[str], baseline: Scenario | None, with_report: bool
) -> None:
    """Results, report (timed) and manifest of one run, into ``directory``."""
    from usdai_sim.report.build import write_report

    results.save(directory)
    started = time.perf_counter()
    if with_report:
        write_report(results, directory, baseline, list(files))
    results.timings["report_s"] = time.perf_counter() - started
    (directory / MANIFEST_FILE).write_text(json.dumps(manifest(files, results), indent=2) + "\n")


def manifest(provenance_files: Sequence[str], results: Any) -> dict[str, Any]:
    """The manifest.json of a results directory."""
    from usdai_sim.results import RESULTS_FORMAT

    return tagged_manifest("results", {
        "format": RESULTS_FORMAT,
        **results.meta,
        "scenario_sha256": scenario_sha256(results.scenario),
        "scenario_files": list(provenance_files),
        "scenario_resolved": results.scenario.model_dump(mode="json"),
        "timings": dict(results.timings),
        **({"precision": results.summary["precision"]} if "precision" in results.summary else {}),
    })


def _baseline() -> Scenario | None:
    return load_scenario(DEFAULT_SCENARIO)[0] if builtin_path(DEFAULT_SCENARIO) else None


def _guard_memory(scenario: Scenario, provenance: Any, paths: int | None, workers: int) -> None:
    """Refuse a run too large for this machine before anything starts, pointing at the scenario's paths line."""
    from usdai_sim.engine import check_memory, with_overrides

    try:
        check_memory(with_overrides(scenario, paths), workers, Path(tempfile.gettempdir()))
    except RunTooLargeError as exc:
        file, line = provenance.locate(("simulation", "paths"))
        raise RunTooLargeError(exc.message, file, line, exc.key, exc.got) from None


def _workers(requested: int) -> int:
    """--workers, capped at the CPUs this process may use (a warning says so)."""
    if requested <= 0:
        raise UsageError(f"--workers: must be at least 1 (got {requested})")
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    if requested > cpus:
        print(f"usdai-sim: --workers {requested} is more than the {cpus} CPUs available; using {cpus}", file=sys.stderr)
    return min(requested, cpus)


def _precheck(args: argparse.Namespace, loaded: list[tuple[Scenario, Any]], targets: list[Path]) -> None:
    """Everything that can be known before simulating: targets, memory, disk for the results."""
    from usdai_sim.engine import with_overrides
    from usdai_sim.results import estimated_size_bytes

    for target, (scenario, provenance) in zip(targets, loaded, strict=True):
        check_target(target, args.force)
        check_writable(target)
        paths = args.max_paths if getattr(args, "until_precise", None) else args.paths
        _guard_memory(scenario, provenance, paths, args.workers)
        check_disk(target, estimated_size_bytes(with_overrides(scenario, paths)))


def cmd_run(args: argparse.Namespace) -> int:
    if args.paths is not None and args.paths <= 0:
        raise UsageError(f"--paths: must be a positive number of paths (got {args.paths})")
    args.workers = _workers(args.workers)
    _check_precision_flags(args)
    loaded = [load_scenario(ref, args.overrides) for ref in args.scenarios]
    targets = [_out_dir(args, sc, len(loaded) > 1) for sc, _ in loaded]
    _precheck(args, loaded, targets)

    baseline = _baseline()
    with claim_outputs(targets, args.force):
        executor = open_executor(args)
        try:
            for (scenario, provenance), target in zip(loaded, targets, strict=True):
                _run_one(args, scenario, provenance, target, baseline, executor)
        finally:
            executor.close()
    return EXIT_OK


def _run_one(
    args: argparse.Namespace, scenario: Scenario, provenance: Any, target: Path, baseline: Any, executor: Any
) -> None:
    """Simulate one scenario, write its results directory and print its headline."""
    results = _simulate_for_run(args, scenario, executor)
    fill = functools.partial(
        write_run, results=results, files=provenance.files, baseline=baseline, with_report=not args.no_report
    )
    write_atomically(target, args.force, fill)
    if not args.quiet:
        _print_headline(results, target)


def _simulate_for_run(args: argparse.Namespace, scenario: Scenario, executor: Any) -> Any:
    """One scenario's Results: with the asked paths, or as many as ``--until-precise`` needs."""
    from usdai_sim.engine import simulate

    def run(paths: int | None) -> Any:
        return simulate(
            scenario,
            paths=paths,
            seed=args.seed,
            check_invariants=args.check_invariants,
            quiet=args.quiet,
            executor=executor,
        )

    if not args.until_precise:
        return run(args.paths)
    from usdai_sim.studies.precision import until_precise

    start = args.paths or scenario.simulation.paths
    outcome = until_precise(run, lambda r: r.summary["intervals"], args.precision, start, args.max_paths)
    outcome.result.summary["precision"] = outcome.summary()
    return outcome.result


def _check_precision_flags(args: argparse.Namespace) -> None:
    """Parse --until-precise into args.precision; the cap must hold at least one seed block."""
    from usdai_sim.intervals import ALIASES, QUANTILE_COLUMNS, QUANTILES
    from usdai_sim.studies.precision import parse_target

    args.precision = None
    if args.max_paths <= 0:
        raise UsageError(f"--max-paths: must be a positive number of paths (got {args.max_paths})")
    if args.until_precise:
        known = {*ALIASES.values(), *(f"{k}.{q}" for k in (*QUANTILE_COLUMNS, "loss_given_default") for q in QUANTILES)}
        known |= {"susdai_var_95", "susdai_es_95", "prob_any_drawdown", "default_rate_principal"}
        args.precision = parse_target(args.until_precise, known.__contains__)


def _fmt(value: Any, spec: str) -> str:
    return "n/a" if value is None else format(value, spec)


def _interval_note(summary: dict[str, Any], key: str, spec: str) -> str:
    """`` [low..high, N tail paths]`` after a number, warning when it rests on fewer than FEW_TAIL_PATHS paths."""
    from usdai_sim.intervals import FEW_TAIL_PATHS

    entry = summary.get("intervals", {}).get(key)
    if not entry:
        return ""
    few = " - too few for a reliable tail estimate" if entry["tail_paths"] < FEW_TAIL_PATHS else ""
    return f" [95% {_fmt(entry['low'], spec)}..{_fmt(entry['high'], spec)}, {entry['tail_paths']} tail paths{few}]"


def _print_headline(results: Any, target: Path) -> None:
    s = results.summary
    ratio = s["susdai_exchange_ratio_final"]
    precision = s.get("precision")
    print(f"{results.scenario.name}: {results.meta['paths']} paths -> {target}")
    if precision:
        state = "reached" if precision["converged"] else "NOT reached (path cap)"
        print(
            f"  precision {precision['metric']} half-width {_fmt(precision['halfwidth'], '.4g')} "
            f"(target {precision['target_halfwidth']:g}) {state} with {precision['paths']} paths"
        )
    print(
        f"  sUSDai exchange ratio at horizon: median {_fmt(ratio['p50'], '.4f')}, p01 {_fmt(ratio['p01'], '.4f')};"
        f" P(loss) {_fmt(s['prob_principal_loss'], '.3f')}; 99% VaR of holder loss {_fmt(s['susdai_var_99'], '.2%')}"
        f"{_interval_note(s, 'susdai_var_99', '.2%')}"
    )
    print(
        f"  defaults: {_fmt(s['default_rate_count'], '.2%')} of loans; pooled LGD"
        f" {_fmt(s['loss_given_default_pooled'], '.1%')}; longest redemption wait"
        f" {_fmt(s['redemption_wait_days']['max'], '.0f')} days"
    )


def cmd_validate(args: argparse.Namespace) -> int:
    for ref in args.scenarios:
        scenario, provenance = load_scenario(ref, args.overrides)
        sim = scenario.simulation
        print(
            f"{provenance.files[0]}: ok ({scenario.name}: {scenario.borrowers.count} borrowers, "
            f"{scenario.depositors.count} depositors, {sim.horizon_days} days, {len(scenario.shocks)} shocks)"
        )
    return EXIT_OK


def cmd_list(_: argparse.Namespace) -> int:
    for name in builtin_names():
        scenario, _prov = load_scenario(name)
        first = (scenario.description.strip().splitlines() or [""])[0]
        print(f"{name:22s} {first}")
    return EXIT_OK


def cmd_schema(_: argparse.Namespace) -> int:
    from usdai_sim.scenario.field_docs import documented_json_schema

    print(json.dumps(documented_json_schema(), indent=2, ensure_ascii=False))
    return EXIT_OK


def _load_results(directory: Path) -> Any:
    from usdai_sim.results import Results

    return Results.load(directory)


def cmd_report(args: argparse.Namespace) -> int:
    from usdai_sim.report.build import write_report

    results = _load_results(args.results)
    write_report(results, args.results, _baseline())
    print(f"report written to {args.results / 'report.html'}")
    return EXIT_OK


def _write_comparison(loaded: list[Any], labels: list[str], rank_by: str, directory: Path) -> None:
    from usdai_sim.report.build import write_comparison

    write_comparison(loaded, labels, directory, rank_by)
    fields = {"version": __version__, "compared": labels}
    (directory / MANIFEST_FILE).write_text(json.dumps(tagged_manifest("comparison", fields), indent=2) + "\n")


def cmd_compare(args: argparse.Namespace) -> int:
    loaded = [_load_results(d) for d in args.results]
    labels = [d.name for d in args.results]
    from usdai_sim.tidy import flat_numbers

    known = flat_numbers(loaded[0].summary)
    if args.rank_by not in known:
        raise UsageError(f"--rank-by: no metric {args.rank_by!r} in {args.results[0]}/summary.json "
                         f"(e.g. principal_loss_es_99, tbill_shortfall_es_99, susdai_max_drawdown.p99)")
    with claim_outputs([args.out], args.force):
        write_atomically(args.out, args.force, functools.partial(_write_comparison, loaded, labels, args.rank_by))
    print(f"comparison written to {args.out / 'report.html'}")
    return EXIT_OK


def _page_paths(args: argparse.Namespace, default_paths: int) -> int:
    """Check a page command's --paths and --out (a writable .md file); the number of paths to run."""
    paths = default_paths if args.paths is None else args.paths
    if paths <= 0:
        raise UsageError(f"--paths: must be a positive number of paths (got {paths})")
    if args.out.suffix != ".md":
        raise UsageError(f"--out: the page must be a .md file (got {args.out})")
    check_writable(args.out)
    return paths


def cmd_replay_report(args: argparse.Namespace) -> int:
    from usdai_sim.calibration import replays, validation_page

    paths = _page_paths(args, replays.PAGE_PATHS)
    progress = None if args.quiet else (lambda name: print(f"running {name}", file=sys.stderr))
    runs = replays.run_all(paths, progress)
    validation_page.write_page(runs, paths, args.out)
    checks = [c for run in runs for c in run.checks]
    print(f"validation page written to {args.out}: {sum(c.passed for c in checks)} of {len(checks)} targets pass")
    return EXIT_OK


def cmd_calibrate(args: argparse.Namespace) -> int:
    from usdai_sim.calibration import page

    paths = _page_paths(args, page.PAGE_PATHS)
    progress = None if args.quiet else (lambda line: print(line, file=sys.stderr))
    page.write_page(args.out, paths, progress)
    print(f"calibration page written to {args.out}")
    return EXIT_OK


def app_command(args: argparse.Namespace) -> list[str]:
    """The command that serves the explorer (Solara, without telemetry or auto-opening a browser)."""
    return [sys.executable, "-m", "solara", "run", "usdai_sim.app.page", "--host", args.host,
            "--port", str(args.port), "--no-open", "--production"]


def cmd_app(args: argparse.Namespace) -> int:
    """Check the inputs, then become the Solara server (exec), so Ctrl-C and signals reach it directly."""
    import importlib.util

    if args.paths <= 0:
        raise UsageError(f"--paths: must be a positive number of paths (got {args.paths})")
    if not 0 < args.port < 65536:
        raise UsageError(f"--port: must be between 1 and 65535 (got {args.port})")
    load_scenario(args.scenario)
    if importlib.util.find_spec("solara") is None:
        raise UsageError("usdai-sim app: the explorer needs the app extra: pip install 'usdai-sim[app]'")
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"usdai-sim app: serving on {args.host}: anyone who can reach it can run simulations", file=sys.stderr)
    env = {**os.environ, "USDAI_SIM_APP_SCENARIO": str(args.scenario), "USDAI_SIM_APP_PATHS": str(args.paths),
           "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False", "SOLARA_ASSETS_FONTAWESOME_ENABLED": "False"}
    print(f"usdai-sim explorer on http://{args.host}:{args.port} (Ctrl-C to stop)", file=sys.stderr)
    sys.stderr.flush()
    command = app_command(args)
    os.execve(command[0], command, env)


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "run": cmd_run,
    "validate": cmd_validate,
    "list": cmd_list,
    "schema": cmd_schema,
    "report": cmd_report,
    "compare": cmd_compare,
    "replay-report": cmd_replay_report,
    "calibrate": cmd_calibrate,
    "app": cmd_app,
    **cli_studies.COMMANDS,
}


class Interrupted(BaseException):
    """SIGINT or SIGTERM arrived: unwind (cleanups run), then exit 128 + signal number."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _on_signal(signum: int, _frame: object) -> None:
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)  # a second signal must not interrupt the cleanup
    raise Interrupted(signum)


@contextlib.contextmanager
def _signals_unwind() -> Iterator[None]:
    """SIGINT and SIGTERM raise Interrupted while the block runs (main thread only); handlers restored after."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``usdai-sim`` and ``python -m usdai_sim``."""
    args = _parser().parse_args(argv)
    try:
        with _signals_unwind():
            return COMMANDS[args.command](args)
    except InvariantError as exc:
        print(f"usdai-sim: invariant broken: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except UsdaiSimError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_INPUT
    except OSError as exc:
        print(f"usdai-sim: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except (Interrupted, KeyboardInterrupt) as exc:
        signum = exc.signum if isinstance(exc, Interrupted) else signal.SIGINT
        print(f"usdai-sim: interrupted by {signal.Signals(signum).name}; unfinished results removed", file=sys.stderr)
        return 128 + signum
