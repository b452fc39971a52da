"""Calibration and validation pages: the model against observed figures and episodes."""
