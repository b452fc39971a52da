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

from usdai_sim import __version__
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


class UsageError(UsdaiSimError):
    """A command-line problem that is the user's to fix (exit status 2)."""


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
    validate = sub.add_parser("validate", help="check scenario files")
    validate.add_argument("scenarios", nargs="+", metavar="SCENARIO")
    sub.add_parser("list", help="list the built-in scenarios")
    sub.add_parser("schema", help="print the JSON Schema of the scenario format")
    report = sub.add_parser("report", help="(re)build the report of a results directory")
    report.add_argument("results", type=Path, metavar="RESULTS_DIR")
    compare = sub.add_parser("compare", help="compare several results directories")
    compare.add_argument("results", nargs="+", type=Path, metavar="RESULTS_DIR")
    compare.add_argument(
        "--out", type=Path, default=Path("reports/compare"), help="where to write the comparison"
    )
    compare.add_argument("--force", action="store_true", help="replace an existing comparison directory")
    replay = sub.add_parser("replay-report", help="run the historical replays and write the validation page")
    replay.add_argument("--paths", type=int, help="Monte Carlo paths per replay (default: the page's)")
    replay.add_argument(
        "--out", type=Path, default=Path("reports/validation.md"), help="the page (figures go beside it)"
    )
    replay.add_argument("--quiet", action="store_true", help="no progress lines")
    return parser


class ProgressBar:
    """A one-line progress bar with ETA on stderr."""

    def __init__(self, label: str, enabled: bool) -> None:
        self.label, self.enabled, self.started, self.last = label, enabled, time.perf_counter(), 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.perf_counter()
        if not self.enabled or (now - self.last < 0.25 and done < total):
            return
        self.last = now
        frac = done / max(total, 1)
        eta = (now - self.started) * (1 - frac) / frac if frac > 0 else float("nan")
        bar = "#" * int(30 * frac)
        sys.stderr.write(f"\r{self.label} [{bar:<30}] {100 * frac:5.1f}%  ETA {eta:6.1f}s")
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()


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
        write_report(results, directory, baseline)
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
        _guard_memory(scenario, provenance, args.paths, args.workers)
        check_disk(target, estimated_size_bytes(with_overrides(scenario, args.paths)))


def cmd_run(args: argparse.Namespace) -> int:
    if args.paths is not None and args.paths <= 0:
        raise UsageError(f"--paths: must be a positive number of paths (got {args.paths})")
    args.workers = _workers(args.workers)
    loaded = [load_scenario(ref) for ref in args.scenarios]
    targets = [_out_dir(args, sc, len(loaded) > 1) for sc, _ in loaded]
    _precheck(args, loaded, targets)
    from usdai_sim.engine import simulate

    baseline = _baseline()
    with claim_outputs(targets, args.force):
        for (scenario, provenance), target in zip(loaded, targets, strict=True):
            bar = ProgressBar(scenario.name, not args.quiet and sys.stderr.isatty())
            results = simulate(
                scenario,
                paths=args.paths,
                seed=args.seed,
                workers=args.workers,
                check_invariants=args.check_invariants,
                progress=bar,
            )
            fill = functools.partial(
                write_run, results=results, files=provenance.files, baseline=baseline, with_report=not args.no_report
            )
            write_atomically(target, args.force, fill)
            if not args.quiet:
                _print_headline(results, target)
    return EXIT_OK


def _fmt(value: Any, spec: str) -> str:
    return "n/a" if value is None else format(value, spec)


def _print_headline(results: Any, target: Path) -> None:
    s = results.summary
    ratio = s["susdai_exchange_ratio_final"]
    print(f"{results.scenario.name}: {results.meta['paths']} paths -> {target}")
    print(
        f"  sUSDai exchange ratio at horizon: median {_fmt(ratio['p50'], '.4f')}, p01 {_fmt(ratio['p01'], '.4f')};"
        f" P(loss) {_fmt(s['prob_principal_loss'], '.3f')}; 99% VaR of holder loss {_fmt(s['susdai_var_99'], '.2%')}"
    )
    print(
        f"  defaults: {_fmt(s['default_rate_count'], '.2%')} of loans; pooled LGD"
        f" {_fmt(s['loss_given_default_pooled'], '.1%')}; longest redemption wait"
        f" {_fmt(s['redemption_wait_days']['max'], '.0f')} days"
    )


def cmd_validate(args: argparse.Namespace) -> int:
    for ref in args.scenarios:
        scenario, provenance = load_scenario(ref)
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
    print(json.dumps(Scenario.model_json_schema(), indent=2))
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


def _write_comparison(loaded: list[Any], labels: list[str], directory: Path) -> None:
    from usdai_sim.report.build import write_comparison

    write_comparison(loaded, labels, directory)
    fields = {"version": __version__, "compared": labels}
    (directory / MANIFEST_FILE).write_text(json.dumps(tagged_manifest("comparison", fields), indent=2) + "\n")


def cmd_compare(args: argparse.Namespace) -> int:
    loaded = [_load_results(d) for d in args.results]
    labels = [d.name for d in args.results]
    with claim_outputs([args.out], args.force):
        write_atomically(args.out, args.force, functools.partial(_write_comparison, loaded, labels))
    print(f"comparison written to {args.out / 'report.html'}")
    return EXIT_OK


def cmd_replay_report(args: argparse.Namespace) -> int:
    from usdai_sim.calibration import replays, validation_page

    paths = replays.PAGE_PATHS if args.paths is None else args.paths
    if paths <= 0:
        raise UsageError(f"--paths: must be a positive number of paths (got {paths})")
    if args.out.suffix != ".md":
        raise UsageError(f"--out: the page must be a .md file (got {args.out})")
    check_writable(args.out)
    progress = None if args.quiet else (lambda name: print(f"running {name}", file=sys.stderr))
    runs = replays.run_all(paths, progress)
    validation_page.write_page(runs, paths, args.out)
    checks = [c for run in runs for c in run.checks]
    print(f"validation page written to {args.out}: {sum(c.passed for c in checks)} of {len(checks)} targets pass")
    return EXIT_OK


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "run": cmd_run,
    "validate": cmd_validate,
    "list": cmd_list,
    "schema": cmd_schema,
    "report": cmd_report,
    "compare": cmd_compare,
    "replay-report": cmd_replay_report,
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
