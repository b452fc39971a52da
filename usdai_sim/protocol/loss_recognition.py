"""When a defaulted loan's loss reaches the sUSDai exchange ratio: the three policies, written once.

For a loan of principal P that defaults on day t_d and whose collateral is sold on day t_s
(t_s = t_d + ``time_to_sell_days``) for a principal recovery R, the realised loss is L = P − R. Before the
sale the protocol only has an estimate, the expected loss
    EL = (P − (collateral value × forced-sale factor(time to sell) × (1 − fee) + SPV cash + reserve))⁺.
The policies recognise the same L in total (so with depositor behaviour held fixed the total USD loss is
the same); they differ only in *when*, hence in who bears it:

* ``on_sale`` (USD.AI today): the loan is carried at par until t_s; L is recognised at the sale.
* ``on_default`` (Maple-style impairment): EL is written down at t_d; at t_s the difference L − EL is
  trued up (a write-back when the sale beats the estimate).
* ``linear`` (Goldfinch-style): the cumulative write-down on day t is f(t)·X with
      f(t) = clip((t − t_d − grace) / period, 0, 1),
  X = EL before the sale and X = L after it. A sale that comes first does not stop the schedule: the
  unrecognised part L − written stays on the books as a receivable that is written off on the same
  schedule (the sale only changes the amount still to write off). The exchange ratio therefore falls
  gradually, and holders who leave before t_d + grace + period exit above the final value.

Interaction with time-to-sell: with the default 30-day sale and a 45-day grace, ``on_sale`` and
``on_default`` have finished recognising before ``linear`` starts; ``linear`` ends at t_d + grace + period
whatever the time to sell. A sale later than t_d + grace + period makes ``linear`` write EL down fully
before the sale and true up L − EL at the sale, like ``on_default`` but spread out.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np


def expected_loss_usd(
    principal_usd: np.ndarray,
    collateral_usd: np.ndarray,
    sale_factor: float,
    fee_fraction: float,
    spv_cash_usd: np.ndarray,
) -> np.ndarray:
    """EL at default (module docstring): principal less the expected net sale proceeds and the SPV's cash."""
    recovery = collateral_usd * sale_factor * (1.0 - fee_fraction) + spv_cash_usd
    return np.maximum(principal_usd - recovery, 0.0)


def linear_fraction(day: float, default_day: np.ndarray, grace_days: float, writedown_days: float) -> np.ndarray:
    """f(t) = clip((t − t_d − grace) / period, 0, 1): the share of the loss written off by ``day``."""
    with np.errstate(invalid="ignore"):
        elapsed = day - default_day - grace_days
    return np.clip(np.nan_to_num(elapsed / writedown_days, nan=0.0, neginf=0.0), 0.0, 1.0)


@dataclass
class LossSchedule:
    """Per loan (n_paths, n_borrowers): the expected loss fixed at default, and the write-off still running
    after a sale under ``linear`` (realised loss, the part already recognised, the default day)."""

    expected_usd: np.ndarray
    tail_loss_usd: np.ndarray
    tail_written_usd: np.ndarray
    tail_default_day: np.ndarray

    @classmethod
    def new(cls, shape: tuple[int, int]) -> LossSchedule:
        """Nothing defaulted yet."""
        return cls(np.zeros(shape), np.zeros(shape), np.zeros(shape), np.full(shape, np.inf))

    def rows(self, paths: np.ndarray) -> LossSchedule:
        """The schedule on ``paths`` only (a copy)."""
        return LossSchedule(*(getattr(self, f.name)[paths] for f in fields(self)))

    def unrecognised_usd(self) -> np.ndarray:
        """Per path, realised losses of sold loans not yet written off (carried as a receivable in NAV)."""
        return (self.tail_loss_usd - self.tail_written_usd).sum(axis=1)

    def start_tail(
        self, selling: np.ndarray, loss_usd: np.ndarray, written_usd: np.ndarray, default_day: np.ndarray
    ) -> np.ndarray:
        """Move sold loans into the write-off tail; returns the remainder of an older tail on the same slot,
        which must be recognised now (a slot reused before its previous loss was written off)."""
        flushed = np.where(selling, self.tail_loss_usd - self.tail_written_usd, 0.0)
        self.tail_loss_usd = np.where(selling, loss_usd, self.tail_loss_usd)
        self.tail_written_usd = np.where(selling, written_usd, self.tail_written_usd)
        self.tail_default_day = np.where(selling, default_day, self.tail_default_day)
        return flushed

    def advance_tail(self, day: float, grace_days: float, writedown_days: float) -> np.ndarray:
        """Write the tail off to f(day)·L; returns this step's recognised loss per loan (negative = write-back)."""
        f = linear_fraction(day, self.tail_default_day, grace_days, writedown_days)
        live = np.isfinite(self.tail_default_day)
        step = np.where(live, f * self.tail_loss_usd - self.tail_written_usd, 0.0)
        self.tail_written_usd = self.tail_written_usd + step
        done = live & (f >= 1.0)
        for name, fill in (("tail_loss_usd", 0.0), ("tail_written_usd", 0.0), ("tail_default_day", np.inf)):
            setattr(self, name, np.where(done, fill, getattr(self, name)))
        return step
