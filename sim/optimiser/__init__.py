"""`crowdsim optimise`: the best deployment for a budget, with the winner's curse guarded.

`space` reads and checks the search space, `study` runs the Optuna study and the
fresh-seed re-evaluation, `report` writes the outputs.
"""

from sim.optimiser.space import Space, load_space
from sim.optimiser.study import Optimisation, optimise

__all__ = ["Optimisation", "Space", "load_space", "optimise"]
