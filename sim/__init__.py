"""crowdsim: agent-based, discrete-event simulation of policing crowded places."""

import sys
import types
from importlib.metadata import version

from sim.api import run
from sim.calibration import calibrate
from sim.errors import ConfigError
from sim.model import CrowdPolicingModel
from sim.optimiser import optimise
from sim.policing.policy import Policy, load_policy
from sim.results import RunResult
from sim.scenario import Scenario, load_scenario
from sim.sweep.compare import compare
from sim.sweep.report import analyze
from sim.sweep.sweep import run_experiment

__version__ = version("crowdsim")


class _SweepPackage(types.ModuleType):
    """`sim.sweep` is both the sweep package and, called, `crowdsim sweep` from Python."""

    def __call__(self, *args: object, **kwargs: object) -> object:
        return run_experiment(*args, **kwargs)

    __call__.__doc__ = run_experiment.__doc__


sys.modules["sim.sweep"].__class__ = _SweepPackage

__all__ = [
    "ConfigError",
    "CrowdPolicingModel",
    "Policy",
    "RunResult",
    "Scenario",
    "__version__",
    "analyze",
    "calibrate",
    "compare",
    "load_policy",
    "load_scenario",
    "optimise",
    "run",
    "sweep",
]
