"""Default parameters of the GPU classes a scenario can hold as collateral.

Figures come from the calibration table of DOMAIN.md ("Calibration points"); each entry's `source` names
where every number comes from, and says "assumption" where a number is this module's judgement rather
than a published figure. Keys of each entry:

- `list_price_usd`: price of one GPU new, USD (for rack-scale systems: rack price / GPUs per rack).
- `rental_usd_per_gpu_hour`: market rental rate, USD per GPU-hour.
- `power_kw_per_gpu`: all-in electrical draw per GPU in kW: the GPU board plus its share of the host
  server (CPUs, memory, NICs, fans) at full load, excluding data-centre cooling overhead (PUE). Classes sold
  in 8-GPU systems take the vendor's maximum system input / 8 (NVIDIA DGX user guides: H100 and H200
  10.2 kW, B200 14.3 kW, A100 6.5 kW); the rack-scale GB200 and the RTX Pro 6000 are assumptions.
- `market_depth_gpus_per_30d`: GPUs of the class one can sell on the secondary market within 30 days
  without moving the price. No public figure exists: every value is a judgement (assumption).
- `max_ltv`: maximum loan-to-value at origination, fraction.
- `vintage_factors`: resale value as a fraction of list price at ages 0, 1, 2, ... years
  (for `depreciation_factor(..., method="table")`).

Rental rates of classes without a published figure are set by yield parity with the H100 (same rental
per dollar of list price: 2.95 / 30,000 per GPU-hour per USD), marked "assumption".
The catalog is read-only: a mapping proxy of mapping proxies.
"""

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

CatalogEntry = Mapping[str, Any]
"""One class's defaults: floats, a `vintage_factors` tuple and a `source` string (keys in the module doc)."""

VINTAGE_FACTORS_DOMAIN: tuple[float, ...] = (1.0, 0.78, 0.60, 0.46, 0.35)
"""Resale fraction at ages 0-4 years: DOMAIN.md 'residual value' row (price trackers)."""

_VINTAGE_SOURCE = "vintage factors 1/0.78/0.60/0.46/0.35 yrs 0-4 (DOMAIN.md residual value, price trackers)"


def _freeze(entries: dict[str, dict[str, Any]]) -> Mapping[str, CatalogEntry]:
    return MappingProxyType({name: MappingProxyType(dict(entry)) for name, entry in entries.items()})


GPU_CATALOG: Mapping[str, CatalogEntry] = _freeze(
    {
        "H100": {
            "list_price_usd": 30_000.0,
            "rental_usd_per_gpu_hour": 2.95,
            "power_kw_per_gpu": 10.2 / 8,
            "market_depth_gpus_per_30d": 3_000.0,
            "max_ltv": 0.70,
            "vintage_factors": VINTAGE_FACTORS_DOMAIN,
            "source": (
                "list 30000: mid-2026 street price (Silicon Data, price trackers); rental 2.95: median "
                "May 2026 (GPU price index, 37 providers); power 1.275 kW: DGX H100 10.2 kW max / 8 GPUs "
                "(NVIDIA DGX H100/H200 user guide; DOMAIN.md power per GPU); depth: assumption; "
                "max_ltv 0.70: assumption (H100 case by case; "
                "earlier docs 70-75%); " + _VINTAGE_SOURCE
            ),
        },
        "H200": {
            "list_price_usd": 35_000.0,
            "rental_usd_per_gpu_hour": 3.44,
            "power_kw_per_gpu": 10.2 / 8,
            "market_depth_gpus_per_30d": 1_500.0,
            "max_ltv": 0.70,
            "vintage_factors": VINTAGE_FACTORS_DOMAIN,
            "source": (
                "list 35000: mid-2026 street price (Silicon Data, price trackers); rental 3.44: assumption "
                "(H100 yield parity, inside the May 2026 range 2.50-7.00, GPU price index); power 1.275 kW: "
                "DGX H200 10.2 kW max / 8 GPUs (NVIDIA DGX H100/H200 user guide); depth: assumption; "
                "max_ltv 0.70: assumption "
                "(H200 case by case); " + _VINTAGE_SOURCE
            ),
        },
        "B200": {
            "list_price_usd": 55_000.0,
            "rental_usd_per_gpu_hour": 5.41,
            "power_kw_per_gpu": 14.3 / 8,
            "market_depth_gpus_per_30d": 1_000.0,
            "max_ltv": 0.80,
            "vintage_factors": VINTAGE_FACTORS_DOMAIN,
            "source": (
                "list 55000: assumption, midpoint of mid-2026 B200 40-70k (Silicon Data, price trackers); "
                "rental 5.41: assumption (H100 yield parity), inside the March 2026 on-demand range 4.50-6.00 "
                "(Lyceum Technologies); power 1.79 kW: DGX B200 14.3 kW max / 8 GPUs (NVIDIA DGX B200 user "
                "guide; ~1.0 kW board); "
                "depth: assumption; max_ltv 0.80: USD.AI docs (eligible class); "
                + _VINTAGE_SOURCE
            ),
        },
        "GB200": {
            "list_price_usd": 3_100_000.0 / 72.0,
            "rental_usd_per_gpu_hour": 4.23,
            "power_kw_per_gpu": 1.8,
            "market_depth_gpus_per_30d": 288.0,
            "max_ltv": 0.80,
            "vintage_factors": VINTAGE_FACTORS_DOMAIN,
            "source": (
                "list 43056: GB200 NVL72 rack ~3.1M / 72 GPUs, all-in incl. Grace CPUs and NVLink switches "
                "(Silicon Data, price trackers); rental 4.23: assumption (H100 yield parity); power 1.8 kW: "
                "assumption (~120-130 kW rack / 72); depth 288 (4 racks): assumption, sold as whole racks; "
                "max_ltv 0.80: USD.AI docs (eligible class); " + _VINTAGE_SOURCE
            ),
        },
        "RTX_PRO_6000": {
            "list_price_usd": 9_000.0,
            "rental_usd_per_gpu_hour": 0.89,
            "power_kw_per_gpu": 0.85,
            "market_depth_gpus_per_30d": 2_000.0,
            "max_ltv": 0.80,
            "vintage_factors": VINTAGE_FACTORS_DOMAIN,
            "source": (
                "list 9000: assumption (not in DOMAIN.md; workstation/server card street price ~8.5-10k); "
                "rental 0.89: assumption (H100 yield parity); power 0.85 kW: assumption (0.6 kW board + "
                "server share); depth: assumption; max_ltv 0.80: USD.AI docs (eligible class); "
                + _VINTAGE_SOURCE
            ),
        },
        "A100": {
            "list_price_usd": 15_000.0,
            "rental_usd_per_gpu_hour": 1.48,
            "power_kw_per_gpu": 6.5 / 8,
            "market_depth_gpus_per_30d": 3_000.0,
            "max_ltv": 0.50,
            "vintage_factors": VINTAGE_FACTORS_DOMAIN,
            "source": (
                "list 15000: assumption (no longer sold new; with the vintage table a 5-year-old A100 is "
                "~4k, the low end of used A100 4-18k, Silicon Data 2026); rental 1.48: assumption "
                "(H100 yield parity, inside the May 2026 range 0.80-3.00, GPU price index); power 0.81 kW: "
                "DGX A100 6.5 kW max / 8 GPUs (NVIDIA DGX A100 user guide; 0.4 kW board); depth: assumption; "
                "max_ltv 0.50: assumption (A100 not on the eligible list); " + _VINTAGE_SOURCE
            ),
        },
    }
)
"""Read-only defaults per GPU class (see the module docstring for keys and units)."""
