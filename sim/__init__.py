"""crowdsim: agent-based, discrete-event simulation of policing crowded places.

The public names below load on first use (PEP 562), so `import sim`, `crowdsim --help` and
every worker process start without mesa, scipy or matplotlib until a run needs them.
"""

from __future__ import annotations

import importlib
import sys
import types
from importlib.metadata import version
from typing import TYPE_CHECKING

from sim.lazy import exports

__version__ = version("crowdsim")

_PUBLIC = {
    "run": "sim.api",
    "calibrate": "sim.calibration.fit",
    "ConfigError": "sim.errors",
    "CrowdPolicingModel": "sim.model",
    "optimise": "sim.optimiser.study",
    "Policy": "sim.policing.policy",
    "load_policy": "sim.policing.policy",
    "RunResult": "sim.results",
    "Scenario": "sim.scenario",
    "load_scenario": "sim.scenario",
    "compare": "sim.sweep.compare",
    "analyze": "sim.sweep.report",
}
"""Public name -> the module that defines it."""

if TYPE_CHECKING:
    from sim.api import run
    from sim.calibration.fit import calibrate
    from sim.errors import ConfigError
    from sim.model import CrowdPolicingModel
    from sim.optimiser.study import optimise
    from sim.policing.policy import Policy, load_policy
    from sim.results import RunResult
    from sim.scenario import Scenario, load_scenario
    from sim.sweep.compare import compare
    from sim.sweep.report import analyze


__getattr__, __dir__ = exports(__name__, globals(), _PUBLIC)


class _SweepPackage(types.ModuleType):
    """`sim.sweep` is both the sweep package and, called, `crowdsim sweep` from Python."""

    def __call__(self, *args: object, **kwargs: object) -> object:
        """Run an experiment file's design (sim.sweep.sweep.run_experiment)."""
        from sim.sweep.sweep import run_experiment  # noqa: PLC0415 - on first use

        return run_experiment(*args, **kwargs)


importlib.import_module("sim.sweep")  # a docstring only: cheap
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
