"""The observed drivers of replay_2022_crypto_hardware: derived rows reproduce from their inputs, the derived
hashprice agrees with the Hashrate Index figures it replaced, and the page counts observed and interpolated rows.

Hashprice rows are derived from Coin Metrics daily network data listed in each row's source:
    hashprice [USD/PH/day] = (IssTotNtv + FeeTotNtv) [BTC/day] x PriceUSD / (HashRate [TH/s] / 1000)
"""

from __future__ import annotations

import re
import statistics
from pathlib import Path

import pytest

from usdai_sim.calibration import validation_page
from usdai_sim.scenario.series_csv import SeriesRow, packaged_dir, read_rows

HASHPRICE_CSV = packaged_dir() / "crypto_2022_hashprice.csv"
HASHPRICE_BASE_USD_PER_PH_DAY = 246.86
"""The index base: Hashrate Index 2022 high (2022 Bitcoin Mining Year in Review, 11 Jan 2023)."""
INPUTS = re.compile(
    r"PriceUSD (?P<price>[\d.]+); IssTotNtv (?P<issued>[\d.]+) BTC; FeeTotNtv (?P<fees>[\d.]+) BTC; "
    r"HashRate (?P<hashrate>\d+) TH/s; BlkCnt (?P<blocks>\d+) -> hashprice \$(?P<stated>[\d.]+)/PH/day"
)


def inputs(row: SeriesRow) -> re.Match[str]:
    match = INPUTS.search(row.source)
    assert match, f"{row.date}: source does not list the derivation inputs"
    return match


def hashprice_usd_per_ph_day(row: SeriesRow) -> float:
    """Revenue of one PH/s for the row's day: (subsidy + fees) x price / network hash rate in PH/s."""
    match = inputs(row)
    btc_per_day = float(match["issued"]) + float(match["fees"])
    return btc_per_day * float(match["price"]) / (float(match["hashrate"]) / 1000.0)


def difficulty(row: SeriesRow) -> float:
    """Network difficulty implied by Coin Metrics' hash rate: HashRate x 1e12 x 86400 / (blocks x 2^32)."""
    match = inputs(row)
    return float(match["hashrate"]) * 1e12 * 86400.0 / (int(match["blocks"]) * 2**32)


@pytest.fixture(scope="module")
def hashprice_rows() -> dict[str, SeriesRow]:
    return {str(r.date): r for r in read_rows(HASHPRICE_CSV)}


def test_every_hashprice_row_reproduces_from_its_inputs(hashprice_rows: dict[str, SeriesRow]) -> None:
    for row in hashprice_rows.values():
        usd = hashprice_usd_per_ph_day(row)
        stated = float(inputs(row)["stated"])
        assert usd == pytest.approx(stated, abs=0.006), row.date
        assert row.value == pytest.approx(usd / HASHPRICE_BASE_USD_PER_PH_DAY, abs=6e-5), row.date


def test_one_hand_computed_hashprice_row(hashprice_rows: dict[str, SeriesRow]) -> None:
    """21 Nov 2022: (806.25 + 25.24633127) BTC x $15,778.02 / 236,949.653 PH/s = $55.37 per PH/day."""
    assert hashprice_usd_per_ph_day(hashprice_rows["2022-11-21"]) == pytest.approx(55.37, abs=0.01)


def test_no_hashprice_or_used_gpu_row_is_interpolated(hashprice_rows: dict[str, SeriesRow]) -> None:
    gpu_rows = read_rows(packaged_dir() / "crypto_2022_gpu_used_price.csv")
    assert len(hashprice_rows) >= 13 and len(gpu_rows) >= 13  # monthly over the 13 months replayed
    assert not any(r.interpolated for r in [*hashprice_rows.values(), *gpu_rows])


# Hashrate Index figures the derived rows replaced (Q3 2022 report, Oct 2022; Year in Review, 11 Jan 2023).
ANCHOR_TOLERANCE = 0.10


@pytest.mark.parametrize(("dates", "anchor_usd"), [
    (("2022-04-15", "2022-05-15", "2022-06-15"), 141.20),  # Q2 2022 average
    (("2022-07-15", "2022-08-15", "2022-09-15"), 92.70),  # Q3 2022 average
    (("2022-11-21",), 55.94),  # 2022 low, after the FTX collapse
    (("2022-01-01",), 246.86),  # 2022 high, start of the year
    (("2023-01-15",), 78.0),  # 3-month high (Hashrate Index via Wu Blockchain, 15 Jan 2023)
])
def test_derived_hashprice_agrees_with_hashrate_index(
    hashprice_rows: dict[str, SeriesRow], dates: tuple[str, ...], anchor_usd: float
) -> None:
    derived = statistics.mean(hashprice_usd_per_ph_day(hashprice_rows[d]) for d in dates)
    assert derived == pytest.approx(anchor_usd, rel=ANCHOR_TOLERANCE)


def test_derived_extremes_are_the_years_extremes(hashprice_rows: dict[str, SeriesRow]) -> None:
    in_2022 = {d: hashprice_usd_per_ph_day(r) for d, r in hashprice_rows.items() if d.startswith("2022")}
    assert max(in_2022, key=in_2022.__getitem__) == "2022-01-01"
    assert min(in_2022, key=in_2022.__getitem__) == "2022-11-21"


def test_hash_rate_inputs_match_the_published_difficulty(hashprice_rows: dict[str, SeriesRow]) -> None:
    """Hashrate Index Roundup (31 Oct 2022): difficulty 36.84 T after a +3.4% adjustment on 24 Oct, so
    36.84 / 1.034 = 35.63 T in force on 15 Oct; Coin Metrics' hash rate on 15 Oct implies 35.61 T."""
    assert difficulty(hashprice_rows["2022-10-15"]) == pytest.approx(36.84e12 / 1.034, rel=0.005)


# ---------------------------------------------------------------- the page's row counts


def _count_by_text(csv_path: Path) -> tuple[int, int]:
    """(observed, interpolated) data rows counted on the raw text: a row is interpolated when it ends ',yes'."""
    lines = [ln for ln in csv_path.read_text(encoding="utf-8").splitlines() if ln and not ln.startswith("#")]
    data = lines[1:]
    interpolated = sum(ln.rstrip().endswith(",yes") for ln in data)
    return len(data) - interpolated, interpolated


def test_crypto_replay_lists_its_four_drivers() -> None:
    assert validation_page.driver_csvs("replay_2022_crypto_hardware") == [
        ("crypto_2022_hashprice.csv", "rental of ASIC"),
        ("crypto_2022_asic_price.csv", "resale of ASIC"),
        ("crypto_2022_gpu_mining_income.csv", "rental of MINING_GPU"),
        ("crypto_2022_gpu_used_price.csv", "resale of MINING_GPU"),
    ]
    assert validation_page.driver_csvs("replay_maple_orthogonal_2022") == []


@pytest.mark.parametrize("name", ["replay_2022_crypto_hardware", "replay_usde_oct_2025"])
def test_page_counts_observed_and_interpolated_rows(name: str) -> None:
    section = validation_page.driver_rows_table(name)
    for csv_name, role in validation_page.driver_csvs(name):
        observed, interpolated = _count_by_text(packaged_dir() / csv_name)
        assert f"| `{csv_name}` | {role} | {observed} | {interpolated} |" in section


def test_asic_index_still_has_interpolated_rows_and_the_page_says_so() -> None:
    """7 observed and 7 interpolated rows today (Jan-Mar, May, Aug-Oct 2022 have no dated index figure)."""
    assert _count_by_text(packaged_dir() / "crypto_2022_asic_price.csv") == (7, 7)
    assert "| `crypto_2022_asic_price.csv` | resale of ASIC | 7 | 7 |" in (
        validation_page.driver_rows_table("replay_2022_crypto_hardware"))
