"""Command-line pieces shared by ``cli.py`` and ``cli_studies.py``: the usage error and common options.

Kept below both so that neither imports the other's helpers (``cli`` registers the study commands).
"""

from __future__ import annotations

import argparse
from typing import Any

from usdai_sim.errors import UsdaiSimError


class UsageError(UsdaiSimError):
    """A command-line problem that is the user's to fix (exit status 2)."""


def add_set_option(parser: argparse.ArgumentParser) -> None:
    """``--set dotted.path=value`` (repeatable): override one scenario key before validation."""
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help="override a scenario key, e.g. --set protocol.allocation.max_loan_share=0.5 (repeatable)",
    )


def add_executor_options(parser: argparse.ArgumentParser) -> None:
    """``--executor local|dask`` and ``--scheduler local|tcp://HOST:PORT`` (results never depend on them)."""
    parser.add_argument(
        "--executor", choices=("local", "dask"), default="local", help="where work blocks run (default local)"
    )
    parser.add_argument(
        "--scheduler",
        default="local",
        help="with --executor dask: 'local' (a LocalCluster of --workers processes) or tcp://HOST:8786",
    )


def open_executor(args: argparse.Namespace) -> Any:
    """The executor the flags ask for (close it when done)."""
    from usdai_sim.executors import make_executor

    return make_executor(args.executor, args.workers, args.scheduler)
