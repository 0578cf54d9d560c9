"""`crowdsim validate-model`: stylised facts measured on outcomes, with rules set in advance.

`plan` reads the facts and their pass rules (`experiments/validation.toml`), `facts`
measures each on its sweep's runs, `verdict` applies the rules, `report` runs the sweeps
and writes the report. The names below load with their module on first use.
"""

from sim.lazy import exports

_PUBLIC = {
    **dict.fromkeys(("DEFAULT_PLAN", "Condition", "FactSpec", "Plan", "load_plan"), "plan"),
    **dict.fromkeys(
        (
            "Outcome",
            "Settings",
            "check_keys",
            "require_documented",
            "run_validation",
            "tally",
            "update_docs",
            "write_outputs",
        ),
        "report",
    ),
    **dict.fromkeys(
        (
            *("FAIL", "INCONCLUSIVE", "NOT_INDEPENDENT", "PASS"),
            *("Estimate", "Measurement", "Verdict", "judge"),
        ),
        "verdict",
    ),
}
__getattr__, __dir__ = exports(
    __name__, globals(), {name: f"{__name__}.{module}" for name, module in _PUBLIC.items()}
)
__all__ = sorted(_PUBLIC)  # noqa: PLE0605 - a list built from the table above
