"""Calibration: the model's own figures next to public ones (``usdai-sim calibrate``)."""
