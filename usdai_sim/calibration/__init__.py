"""Calibration and validation: the model's own figures next to public ones (``usdai-sim calibrate``) and the
historical replays against observed outcomes (``usdai-sim replay-report``)."""
