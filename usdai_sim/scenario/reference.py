"""The scenario-format reference (README, "Scenario keys"), generated from the schema so it cannot drift."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

from usdai_sim.scenario import schema
from usdai_sim.scenario.field_docs import field_doc

SECTIONS: tuple[tuple[str, type[BaseModel]], ...] = (
    ("simulation", schema.Simulation),
    ("markets.tbill", schema.TBill),
    ("markets.gpu", schema.Gpu),
    ("markets.gpu.common / class_factor / idiosyncratic", schema.Factor),
    ("markets.gpu.classes.NAME", schema.GpuClass),
    ("markets.gpu.classes.NAME.depreciation", schema.Depreciation),
    ("markets.rental", schema.Rental),
    ("markets.utilisation", schema.Utilisation),
    ("borrowers", schema.Borrowers),
    ("borrowers.cohorts[i]", schema.Cohort),
    ("depositors", schema.Depositors),
    ("depositors.unstaked", schema.UnstakedHolders),
    ("depositors.secondary", schema.SecondaryMarket),
    ("protocol", schema.Protocol),
    ("protocol.liquidation", schema.Liquidation),
    ("protocol.liquidation.price_impact", schema.PriceImpact),
    ("protocol.loss_recognition", schema.LossRecognition),
    ("protocol.insurance", schema.Insurance),
    ("protocol.queue", schema.Queue),
    ("protocol.queue.qev", schema.Qev),
    ("protocol.allocation", schema.Allocation),
    ("shocks[i] (all types)", schema.ShockBase),
    ("validation[i]", schema.ValidationTarget),
)
SHOCKS: tuple[type[BaseModel], ...] = (
    schema.GpuResaleShock,
    schema.RentalShock,
    schema.UtilisationShock,
    schema.TbillShiftShock,
    schema.TbillPathShock,
    schema.TbillLevelShock,
    schema.FraudShock,
    schema.RedemptionWaveShock,
    schema.NewGenerationShock,
    schema.SeriesShock,
)


def _default(model: type[BaseModel], name: str) -> str:
    info = model.model_fields[name]
    if info.is_required():
        return "required"
    value = info.get_default(call_default_factory=True)
    if isinstance(value, BaseModel):
        return "(section)" if name != "cohorts" else "one default cohort"
    if isinstance(value, dict) and value and isinstance(next(iter(value.values())), BaseModel):
        return "the shipped catalog"
    if isinstance(value, tuple) and value and isinstance(value[0], BaseModel):
        return "one default cohort"
    dumped: Any = value.model_dump() if isinstance(value, BaseModel) else value
    text = json.dumps(dumped, default=lambda o: o.model_dump() if isinstance(o, BaseModel) else str(o))
    return f"`{text}`"


def _doc(model: type[BaseModel]) -> str:
    return " ".join((model.__doc__ or "").split())


def _row(model: type[BaseModel], name: str) -> str:
    text, unit, _source = field_doc(model, name) or ("(not documented)", "", None)
    return f"| `{name}` | {_default(model, name)} | {unit} | {text} |"


def section_table(title: str, model: type[BaseModel], skip: tuple[str, ...] = ()) -> str:
    """One Markdown table: key, default, unit and meaning, headed by the section's docstring."""
    rows = [f"**`{title}`** — {_doc(model)}", "", "| key | default | unit | meaning |", "|---|---|---|---|"]
    rows += [_row(model, name) for name in model.model_fields if name not in skip]
    return "\n".join(rows) + "\n"


def markdown() -> str:
    """The whole reference: every section, then every shock type's own keys."""
    parts = [section_table(title, model) for title, model in SECTIONS]
    common = set(schema.ShockBase.model_fields)
    for shock in SHOCKS:
        tag = shock.model_fields["type"].annotation.__args__[0]  # type: ignore[union-attr]
        parts.append(section_table(f"shocks[i] type: {tag}", shock, skip=tuple(common | {"type"})))
    return "\n".join(parts)
