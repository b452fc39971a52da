"""The colours that mean the same thing in every figure, report and the explorer app."""

EXCHANGE_RATIO_COLOR = "#1f4e79"
"""sUSDai exchange ratio (redemption price, NAV_cons per share) and NAV_cons."""
NAV_OPT_COLOR = "#2ca02c"
"""Deposit price (NAV_opt per share) and NAV_opt."""
NAV_CONS_COLOR = EXCHANGE_RATIO_COLOR
"""NAV_cons is what the exchange ratio is made of, so it shares its colour."""
SHOCK_COLOR = "#d62728"
"""Shock windows and tail markers."""
