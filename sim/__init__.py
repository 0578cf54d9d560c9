"""crowdsim: agent-based, discrete-event simulation of policing crowded places."""

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

__version__ = version("crowdsim")

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
]
