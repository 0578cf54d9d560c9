"""Verdicts by rules set in advance: pass, fail, or inconclusive, and text that says why.

A fact's measure reports named estimates with 95% intervals and the sample behind them;
`judge` applies the plan's rule. An undefined statistic, an interval that straddles its
threshold (or is wider than the rule allows) and a sample below the plan's minimum are all
"inconclusive": never a pass. A fact whose published source is also the source of a
behavioural parameter is "not independent": the model was given that result, so matching
it is no evidence (the verdict the rule alone would give is said beside it).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from sim.behaviour import OffenderParams, PoliceParams, VictimParams, VisitorParams
from sim.params import iter_params
from sim.validation.plan import Condition, FactSpec

PASS, FAIL, INCONCLUSIVE = "pass", "fail", "inconclusive"
NOT_INDEPENDENT = "not independent"
VERDICTS = (PASS, FAIL, INCONCLUSIVE, NOT_INDEPENDENT)
BEHAVIOURAL = {
    "visitors": VisitorParams,
    "offenders": OffenderParams,
    "victims": VictimParams,
    "police": PoliceParams,
}
NAME = r"[A-Z][A-Za-z'\-]+"
CITATION = re.compile(rf"((?:{NAME} )*{NAME})(?: et al\.?| (?:&|and) {NAME})?,? \(?(\d{{4}})")
"""An author-year citation: 'Koper 1995', 'Sherman & Weisburd 1995', 'Weisburd et al. 2006',
'Kansas City Police Department 1977'."""


def citations(text: str) -> set[tuple[str, str]]:
    """(first author, year) of every author-year citation in `text`."""
    return set(CITATION.findall(text))


def shared_sources(fact: FactSpec) -> list[str]:
    """Behavioural parameters whose source cites a work the fact's source cites."""
    cited = citations(fact.source)
    shared = []
    for section, cls in BEHAVIOURAL.items():
        for name, f, _ in iter_params(cls):
            common = cited & citations(f.metadata.get("source", ""))
            if common:
                works = ", ".join(f"{author} {year}" for author, year in sorted(common))
                shared.append(f"`{section}.{name}` ({works})")
    return shared


@dataclass(frozen=True)
class Estimate:
    """A statistic's value and 95% interval (NaN where undefined)."""

    value: float
    low: float
    high: float

    @property
    def defined(self) -> bool:
        """The value and both bounds are finite numbers."""
        return all(math.isfinite(x) for x in (self.value, self.low, self.high))

    def __str__(self) -> str:
        value, low, high = (x + 0.0 for x in (self.value, self.low, self.high))  # no "-0"
        if not self.defined:
            return f"{value:.3g} [undefined interval]" if math.isfinite(value) else "undefined"
        return f"{value:.3g} [{low:.3g}, {high:.3g}]"


@dataclass
class Measurement:
    """What a fact's runs show: named estimates, the sample behind them, details, a figure."""

    statistics: dict[str, Estimate]
    runs: int
    events: int
    details: list[str] = field(default_factory=list)
    figure: Path | None = None


@dataclass(frozen=True)
class Verdict:
    """The verdict and one sentence per reason, written for that verdict."""

    verdict: str
    reasons: tuple[str, ...]

    @property
    def text(self) -> str:
        """The reasons as one paragraph."""
        return " ".join(self.reasons)


def _condition(cond: Condition, estimate: Estimate | None) -> tuple[str, str]:
    """(verdict, reason) of one condition."""
    name = cond.statistic
    side = "above" if cond.above is not None else "below"
    wanted = f"{side} {cond.threshold:g}"
    if estimate is None or not estimate.defined:
        shown = "not reported" if estimate is None else str(estimate)
        return INCONCLUSIVE, f"`{name}` is {shown}: an undefined statistic decides nothing."
    width = estimate.high - estimate.low
    if cond.max_width is not None and width > cond.max_width:
        return INCONCLUSIVE, (
            f"`{name}` = {estimate}: the interval is {width:.3g} wide, more "
            f"than the {cond.max_width:g} the rule allows."
        )
    above = estimate.low > cond.threshold
    below = estimate.high < cond.threshold
    if (side == "above" and above) or (side == "below" and below):
        return PASS, f"`{name}` = {estimate} lies wholly {wanted}, as the rule requires."
    if (side == "above" and below) or (side == "below" and above):
        opposite = "below" if side == "above" else "above"
        return FAIL, (
            f"`{name}` = {estimate} lies wholly {opposite} {cond.threshold:g}; the "
            f"rule requires it {wanted}."
        )
    return INCONCLUSIVE, (
        f"`{name}` = {estimate} includes {cond.threshold:g}: no difference "
        f"from the threshold found."
    )


def judge(fact: FactSpec, measured: Measurement) -> Verdict:
    """Apply the fact's rule to what was measured; a fact the model was given is not evidence."""
    by_rule = _by_rule(fact, measured)
    shared = shared_sources(fact)
    if not shared:
        return by_rule
    return Verdict(
        NOT_INDEPENDENT,
        (
            f"The fact's source is also the source of {', '.join(shared)}, whose value the "
            "statistic depends on: agreement would be the model repeating its input.",
            f"By the rule alone it would be {by_rule.verdict}:",
            *by_rule.reasons,
        ),
    )


def _by_rule(fact: FactSpec, measured: Measurement) -> Verdict:
    if measured.runs < fact.min_runs:
        return Verdict(
            INCONCLUSIVE,
            (f"Only {measured.runs} runs per arm; the rule needs at least {fact.min_runs}.",),
        )
    if measured.events < fact.min_events:
        return Verdict(
            INCONCLUSIVE,
            (
                f"Only {measured.events} {fact.events} in all; the rule "
                f"needs at least {fact.min_events}.",
            ),
        )
    results = [_condition(c, measured.statistics.get(c.statistic)) for c in fact.rule]
    verdicts = {v for v, _ in results}
    verdict = FAIL if FAIL in verdicts else INCONCLUSIVE if INCONCLUSIVE in verdicts else PASS
    return Verdict(verdict, tuple(reason for _, reason in results))
