"""`crowdsim validate-model`: stylised facts measured on outcomes, with rules set in advance.

`plan` reads the facts and their pass rules (`experiments/validation.toml`), `facts`
measures each on its sweep's runs, `verdict` applies the rules, `report` runs the sweeps
and writes the report.
"""

from sim.validation.plan import DEFAULT_PLAN, Condition, FactSpec, Plan, load_plan
from sim.validation.report import (
    Outcome,
    Settings,
    check_keys,
    require_documented,
    run_validation,
    tally,
    update_docs,
    write_outputs,
)
from sim.validation.verdict import (
    FAIL,
    INCONCLUSIVE,
    PASS,
    Estimate,
    Measurement,
    Verdict,
    judge,
)

__all__ = [
    "DEFAULT_PLAN",
    "FAIL",
    "INCONCLUSIVE",
    "PASS",
    "Condition",
    "Estimate",
    "FactSpec",
    "Measurement",
    "Outcome",
    "Plan",
    "Settings",
    "Verdict",
    "check_keys",
    "judge",
    "load_plan",
    "require_documented",
    "run_validation",
    "tally",
    "update_docs",
    "write_outputs",
]
