"""The validation plan: which facts, at what settings, and each fact's rule, set in advance.

Read from `experiments/validation.toml` through the same schema checks as every other
file, so a bad plan exits 2 naming the field before anything runs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sim.config import build, read_toml
from sim.errors import ConfigError
from sim.params import param

DEFAULT_PLAN = Path(__file__).resolve().parents[2] / "experiments" / "validation.toml"
EVENTS = ("thefts", "arrests")


@dataclass(frozen=True)
class Condition:
    """One condition of a rule: a named statistic's interval against a threshold."""

    statistic: str = param("", doc="name of the statistic the fact's measure reports")
    above: float | None = param(None, doc="passes when the interval lies above this")
    below: float | None = param(None, doc="passes when the interval lies below this")
    max_width: float | None = param(None, low=0, doc="an interval wider than this decides nothing")

    @property
    def threshold(self) -> float:
        """The threshold, whichever side it is on."""
        return self.above if self.above is not None else self.below


@dataclass(frozen=True)
class FactSpec:
    """A stylised fact: what was published, how it is measured here, and its rule."""

    key: str = param("", doc="short name; selects the measure")
    title: str = param("", doc="one-line statement of the fact")
    published: str = param("", doc="the published figure")
    source: str = param("", doc="where it was published")
    mechanisms: tuple[str, ...] = param((), doc="model mechanisms the fact exercises")
    method: str = param("", doc="how it is measured here")
    events: str = param("thefts", choices=EVENTS, doc="what min_events counts")
    min_runs: int = param(10, low=2, doc="fewer runs per arm than this: inconclusive")
    min_events: int = param(0, low=0, doc="fewer events than this: inconclusive")
    design: dict[str, Any] = param(None, doc="the experiment: policies, baseline, factors")
    rule: tuple[Condition, ...] = param((), doc="conditions, all of which must pass")


@dataclass(frozen=True)
class Plan:
    """Settings shared by every fact and the facts themselves."""

    scenario: str = param("leshan-mayday", doc="scenario of every fact")
    scale: float = param(0.25, low=0, high=10, doc="documented scale")
    days: int = param(1, low=1, doc="documented days per run")
    replications: int = param(20, low=2, doc="documented seeds per arm")
    seed: int = param(2026, low=0, doc="base seed")
    fact: tuple[FactSpec, ...] = param((), doc="the facts ([[fact]] tables)")
    source_file: str = field(default="", compare=False, metadata={"internal": True})


def load_plan(path: Path | str = DEFAULT_PLAN) -> Plan:
    """Read and check a validation plan (ConfigError naming file and field if bad)."""
    path = Path(path)
    plan = build(Plan, read_toml(path), file=str(path))
    for i, fact in enumerate(plan.fact):
        where = f"fact[{i}]"
        if not fact.key:
            raise ConfigError(str(path), f"{where}.key", "every fact needs a key")
        if not fact.rule:
            raise ConfigError(str(path), f"{where}.rule", "a fact needs at least one condition")
        if not fact.design or not fact.design.get("policies"):
            raise ConfigError(str(path), f"{where}.design", "needs policies = [...]")
        for j, cond in enumerate(fact.rule):
            if (cond.above is None) == (cond.below is None):
                raise ConfigError(
                    str(path), f"{where}.rule[{j}]", "give exactly one of above or below"
                )
            if not math.isfinite(cond.threshold):
                raise ConfigError(str(path), f"{where}.rule[{j}]", "the threshold must be finite")
    keys = [f.key for f in plan.fact]
    if len(set(keys)) != len(keys):
        raise ConfigError(str(path), "fact", "fact keys must be unique")
    return replace(plan, source_file=str(path))
