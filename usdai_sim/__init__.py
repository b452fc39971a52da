"""usdai-sim: stress-testing simulator for GPU-collateralised lending protocols.

Public API: ``load_scenario`` (a YAML file or built-in name → Scenario), ``simulate`` (Scenario → Results),
``Results``, ``write_report`` (Results → report.html and report.md in a directory), ``load_study`` (a study
directory → DataFrame indexed by the parameters).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from usdai_sim.version import __version__

__all__ = ["Results", "__version__", "load_scenario", "load_study", "simulate", "write_report"]

if TYPE_CHECKING:
    from usdai_sim.engine import simulate
    from usdai_sim.results import Results
    from usdai_sim.scenario.library import load_scenario
    from usdai_sim.studies.run import load_study

    def write_report(results: Results, directory: str | os.PathLike[str]) -> None: ...


def __getattr__(name: str) -> Any:
    """Import the API lazily, so ``import usdai_sim`` stays cheap for the command line."""
    if name == "simulate":
        from usdai_sim.engine import simulate

        _register_html_view()
        return simulate
    if name == "Results":
        from usdai_sim.results import Results

        _register_html_view()
        return Results
    if name == "load_scenario":
        from usdai_sim.scenario.library import load_scenario

        return load_scenario
    if name == "write_report":
        return _write_report
    if name == "load_study":
        from usdai_sim.studies.run import load_study

        return load_study
    raise AttributeError(name)


def _register_html_view() -> None:
    """Results shown in Jupyter render as HTML: importing ``report/notebook.py`` registers the view."""
    import usdai_sim.report.notebook  # noqa: F401


def _write_report(results: Results, directory: str | os.PathLike[str]) -> None:
    """Write the full risk report (HTML, Markdown, figures, metrics.csv) of ``results`` into ``directory``."""
    from pathlib import Path

    from usdai_sim.report.build import write_report

    write_report(results, Path(directory), None)
