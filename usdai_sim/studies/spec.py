"""The study file: a base scenario, the parameters to vary and how, paths and seed per point, metrics to keep.

```yaml
name: ltv_h100
base: baseline                     # built-in name or a path relative to this file
set: {simulation.horizon_days: 365}   # overrides at every point (as --set)
paths: 1000                        # per point; every point uses the same seed streams
design:
  type: grid                       # grid | lhs | sobol
  parameters:
    markets.gpu.classes.H100.max_ltv: {values: [0.5, 0.6, 0.7]}    # grid: values
    # lhs / sobol: {low: 0.5, high: 0.8}, and design.samples
metrics: [es99_er_loss, p_loss]    # summary keys or short names (usdai_sim.intervals.ALIASES)
```
Bad input is one ScenarioError at the study file's line (the scenario loader's machinery).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from usdai_sim.errors import ScenarioError
from usdai_sim.intervals import metric_key
from usdai_sim.scenario.load import Provenance, load_model

DEFAULT_METRICS = (
    "susdai_var_99",
    "susdai_es_99",
    "prob_principal_loss",
    "default_rate_count",
    "loss_given_default_pooled",
    "susdai_exchange_ratio_final.p01",
    "longest_wait_days.p99",
    "queue_peak_fraction_of_supply.p99",
)


class Strict(BaseModel):
    """Unknown keys rejected, no NaN or infinity, immutable."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class Parameter(Strict):
    """Grid values, or a range [low, high] for sampled designs."""

    values: tuple[float, ...] = ()
    low: float | None = None
    high: float | None = None
    integer: bool = False
    """Round sampled values to whole numbers (for integer fields such as ``*_days``)."""

    @model_validator(mode="after")
    def _one_form(self) -> Parameter:
        if self.values and (self.low is not None or self.high is not None):
            raise ValueError("give either values or low/high, not both")
        if not self.values and (self.low is None or self.high is None):
            raise ValueError("give values (grid) or both low and high (lhs, sobol)")
        if self.low is not None and self.high is not None and not self.low < self.high:
            raise ValueError(f"low must be below high (got low={self.low}, high={self.high})")
        return self


class Design(Strict):
    """How points are chosen: a full grid of values, or ``samples`` Latin-hypercube / scrambled Sobol points."""

    type: Literal["grid", "lhs", "sobol"] = "grid"
    parameters: dict[str, Parameter] = Field(min_length=1)
    samples: Annotated[int, Field(gt=0, le=100_000)] = 16
    sample_seed: Annotated[int, Field(ge=0)] = 0

    @model_validator(mode="after")
    def _forms_match_type(self) -> Design:
        for name, param in self.parameters.items():
            if (self.type == "grid") != bool(param.values):
                want = "values" if self.type == "grid" else "low and high"
                raise ValueError(f"parameter {name}: a {self.type} design needs {want}")
        return self


class SensitivitySettings(Strict):
    """``usdai-sim sensitivity``: SALib method, sample size (Morris trajectories or Sobol base sample), seed."""

    method: Literal["morris", "sobol"] = "morris"
    samples: Annotated[int, Field(gt=0, le=10_000)] = 10
    seed: Annotated[int, Field(ge=0)] = 0


class StudySpec(Strict):
    """One study file."""

    name: str = "study"
    description: str = ""
    base: str = "baseline"
    set: dict[str, Any] = Field(default_factory=dict)
    paths: Annotated[int, Field(gt=0, le=1_000_000)] = 1000
    seed: Annotated[int, Field(ge=0)] | None = None
    block_paths: Annotated[int, Field(gt=0, le=100_000)] = 256
    design: Design
    metrics: tuple[str, ...] = DEFAULT_METRICS
    per_path: bool = False
    frontier: str | None = None
    """Optional target such as ``"p99_er_loss > 0.05"``: a 2-D grid study draws where it starts to hold."""
    sensitivity: SensitivitySettings = SensitivitySettings()

    @property
    def metric_keys(self) -> tuple[str, ...]:
        """The metrics as summary keys."""
        return tuple(metric_key(m) for m in self.metrics)


def override_text(path: str, value: Any) -> str:
    """``path=value`` with the value as one line of YAML (JSON is YAML)."""
    return f"{path}={json.dumps(value)}"


def load_study_file(path: str | os.PathLike[str]) -> tuple[StudySpec, Provenance]:
    """Read and validate a study file; bad input is one ScenarioError at its line."""
    return load_model(path, StudySpec)


def base_reference(spec: StudySpec, study_file: Path) -> str:
    """The base scenario: a path relative to the study file when it has a suffix or separator, else a name."""
    if "/" in spec.base or Path(spec.base).suffix:
        return str(study_file.parent / spec.base)
    return spec.base


def study_sha256(spec: StudySpec) -> str:
    """Hash of the validated study (what it computes), to refuse resuming a changed study."""
    canonical = json.dumps(spec.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def at_parameter(provenance: Provenance, name: str, error: ScenarioError) -> ScenarioError:
    """A scenario error caused by a design parameter, moved to that parameter's line in the study file."""
    file, line = provenance.locate(("design", "parameters", name))
    return ScenarioError(file, line, f"design.parameters.{name}", error.message, error.got)
