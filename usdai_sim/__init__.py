"""usdai-sim: stress-testing simulator for GPU-collateralised lending protocols.

Public API: ``load_scenario`` (a YAML file or built-in name → Scenario), ``simulate`` (Scenario → Results),
``Results``, ``load_study`` (a study directory → DataFrame indexed by the parameters).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Results", "__version__", "load_scenario", "load_study", "simulate"]

if TYPE_CHECKING:
    from usdai_sim.engine import simulate
    from usdai_sim.results import Results
    from usdai_sim.scenario.library import load_scenario
    from usdai_sim.studies.run import load_study


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
    if name == "load_study":
        from usdai_sim.studies.run import load_study

        return load_study
    raise AttributeError(name)
