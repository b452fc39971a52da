"""Study commands of the command line: ``sweep`` (and the study helpers the other study commands share).

Registered by ``cli.py``; helpers from ``cli`` are imported inside functions (``cli`` imports this module).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

STUDIES_DIR = Path("reports") / "studies"


def add_study_options(parser: argparse.ArgumentParser, out_help: str) -> None:
    """Options every study command shares: output, resume, executor, overrides, progress."""
    from usdai_sim.cli import add_executor_options, add_set_option

    parser.add_argument("--out", type=Path, help=out_help)
    parser.add_argument("--resume", action="store_true", help="continue an interrupted study, skipping finished points")
    parser.add_argument("--force", action="store_true", help="replace an existing study directory")
    parser.add_argument("--workers", type=int, default=1, help="worker processes (results do not depend on it)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    add_executor_options(parser)
    add_set_option(parser)


def add_commands(sub: Any) -> None:
    """The ``sweep`` subcommand."""
    sweep = sub.add_parser("sweep", help="run a parameter study (grid, Latin hypercube or Sobol) from a study file")
    sweep.add_argument("study", type=Path, metavar="STUDY.yaml")
    sweep.add_argument("--paths", type=int, help="paths per point (overrides the study file)")
    add_study_options(sweep, "study directory (default reports/studies/NAME)")


def check_common(args: argparse.Namespace) -> None:
    """Flag values every study command checks before it starts."""
    from usdai_sim.cli import UsageError

    if args.workers <= 0:
        raise UsageError(f"--workers: must be at least 1 (got {args.workers})")
    if getattr(args, "paths", None) is not None and args.paths <= 0:
        raise UsageError(f"--paths: must be a positive number of paths (got {args.paths})")


def execute_study(args: argparse.Namespace, spec: Any, provenance: Any, directory: Path) -> Any:
    """Validate every point, run the unfinished ones on the chosen executor, write study.html; the table."""
    from usdai_sim.cli import ProgressBar, open_executor
    from usdai_sim.studies.report import study_sections, write_page
    from usdai_sim.studies.run import build_points, load_study, run_study
    from usdai_sim.studies.targets import parse_target

    frontier = parse_target(spec.frontier, "frontier") if spec.frontier else None
    points = build_points(spec, provenance, args.study, args.overrides)
    executor = open_executor(args)
    try:
        bar = ProgressBar(spec.name, not args.quiet and sys.stderr.isatty())
        run_study(spec, args.study, points, directory, executor, args.resume, args.force, bar)
    finally:
        executor.close()
    table = load_study(directory)
    sections = study_sections(table, spec.metric_keys, frontier)
    write_page(directory / "study.html", f"Study {spec.name}", spec.description, [*sections])
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
