"""Calibration of uncertain inputs to observed statistics (ABC-SMC with pyabc)."""

from sim.calibration.fit import Calibration, calibrate
from sim.calibration.targets import Targets, load_targets

__all__ = ["Calibration", "Targets", "calibrate", "load_targets"]
