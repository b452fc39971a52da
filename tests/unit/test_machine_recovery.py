"""Recovery per machine sold (issue #14), by hand, on the two loans of test_recovery_split.

Loan 0, fraud: 500 GPUs appraised at $6,000,000 at origination ($12,000 each); 80% go missing, the 100 left
    are sold and the GPU proceeds recover $585,000 → $5,850 per machine sold, 5,850 / 12,000 = 0.4875.
Loan 1, payment: 50 GPUs appraised at $750,000 ($15,000 each), all 50 sold; GPU proceeds recover $292,500
    (the reserve's $50,000 is not a machine's recovery) → $5,850 per machine, 5,850 / 15,000 = 0.39.
Pooled (one class): 877,500 / 150 = $5,850 per machine; 877,500 / (100 × 12,000 + 50 × 15,000) = 0.45.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.unit.test_recovery_split import LOANS, sell
from usdai_sim.agents import borrowers as br
from usdai_sim.machine_recovery import machine_columns, machine_recovery_metrics
from usdai_sim.model import UsdaiModel


@pytest.fixture
def sold() -> UsdaiModel:
    m = sell({**LOANS, "appraised_usd": [6_000_000.0, 750_000.0]})
    m.params.borrowers.gpus[:] = LOANS["gpus"]  # the fleets at origination
    return m


def test_the_sale_records_the_machines_it_sold(sold: UsdaiModel) -> None:
    np.testing.assert_allclose(sold.book.gpus_sold[0], [100.0, 50.0])


def test_recovery_per_machine_and_fraction_of_origination_value(sold: UsdaiModel) -> None:
    book, name = sold.book, sold.params.scenario.class_names[0]
    columns = machine_columns(book, book.status == br.CLOSED, sold.params)
    assert columns[f"gpus_sold_class_{name}"][0] == pytest.approx(150.0)
    assert columns[f"recovery_gpu_class_{name}_usd"][0] == pytest.approx(877_500.0)
    assert columns[f"origination_value_sold_class_{name}_usd"][0] == pytest.approx(1_950_000.0)
    out = machine_recovery_metrics(pd.DataFrame(columns))
    assert out["recovery_per_gpu_sold_usd"][name] == pytest.approx(5_850.0)
    assert out["recovery_of_origination_value"][name] == pytest.approx(0.45)
    others = [c for c in sold.params.scenario.class_names if c != name]
    assert all(out["recovery_per_gpu_sold_usd"][c] is None for c in others)


def test_unsold_loans_count_no_machines() -> None:
    m = sell(LOANS)
    book = m.book
    book.status[0, 1] = br.DEFAULTED  # as if loan 1 were still awaiting its sale
    name = m.params.scenario.class_names[0]
    columns = machine_columns(book, book.status == br.CLOSED, m.params)
    assert columns[f"gpus_sold_class_{name}"][0] == pytest.approx(100.0)
