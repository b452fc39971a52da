"""usdai-sim: stress-testing simulator for GPU-collateralised lending protocols."""
__version__ = "0.1.0"
