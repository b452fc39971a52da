"""usdai-sim: stress-testing simulator for GPU-collateralised lending protocols.

Public API: ``load_scenario`` (a YAML file or built-in name → Scenario), ``simulate`` (Scenario → Results),
``Results``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from usdai_sim.version import __version__

__all__ = ["Results", "__version__", "load_scenario", "simulate"]

if TYPE_CHECKING:
    from usdai_sim.engine import simulate
    from usdai_sim.results import Results
    from usdai_sim.scenario.library import load_scenario


def __getattr__(name: str) -> Any:
    """Import the API lazily, so ``import usdai_sim`` stays cheap for the command line."""
    if name == "simulate":
        from usdai_sim.engine import simulate

        return simulate
    if name == "Results":
        from usdai_sim.results import Results

        return Results
    if name == "load_scenario":
        from usdai_sim.scenario.library import load_scenario

        return load_scenario
    raise AttributeError(name)
