"""Run the plan's facts through the sweep machinery, judge them, and write the report."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sim.config import beside, build
from sim.errors import ConfigError
from sim.files import atomic_write
from sim.sweep.design import Experiment
from sim.sweep.report import load_sweep
from sim.sweep.sweep import run_sweep
from sim.validation.facts import MEASURES
from sim.validation.plan import FactSpec, Plan
from sim.validation.verdict import (
    FAIL,
    INCONCLUSIVE,
    NOT_INDEPENDENT,
    PASS,
    VERDICTS,
    Measurement,
    Verdict,
    judge,
)


@dataclass(frozen=True)
class Settings:
    """Scale, days and seeds per arm of one validation run."""

    scale: float
    days: int
    replications: int

    @classmethod
    def documented(cls, plan: Plan) -> Settings:
        """The settings the plan documents (the only ones the committed report uses)."""
        return cls(plan.scale, plan.days, plan.replications)


@dataclass
class Outcome:
    """One fact: its spec, what was measured and the verdict."""

    fact: FactSpec
    measured: Measurement
    verdict: Verdict


def require_documented(plan: Plan, settings: Settings, only: tuple[str, ...] = ()) -> None:
    """The committed report is made only at the plan's documented settings, for every fact."""
    if settings != Settings.documented(plan) or only:
        raise ConfigError(
            "--update-docs",
            "settings",
            f"the committed report uses the "
            f"plan's documented settings (scale {plan.scale:g}, {plan.days} "
            f"day(s), {plan.replications} replications) and every fact; drop "
            "--scale, --days, --replications and --only",
        )


def check_keys(plan: Plan, only: tuple[str, ...]) -> list[FactSpec]:
    """The facts to run; unknown keys (in the plan or in --only) are bad input."""
    for i, fact in enumerate(plan.fact):
        if fact.key not in MEASURES:
            raise ConfigError(
                plan.source_file,
                f"fact[{i}].key",
                f"{fact.key!r} has no measure; known: {', '.join(MEASURES)}",
            )
    keys = [f.key for f in plan.fact]
    for key in only:
        if key not in keys:
            raise ConfigError("--only", key, f"not a fact of the plan; facts: {', '.join(keys)}")
    return [f for f in plan.fact if not only or f.key in only]


def experiment_for(plan: Plan, fact: FactSpec, settings: Settings) -> Experiment:
    """The sweep that measures `fact` (policy files resolved beside the plan)."""
    here = Path(plan.source_file).parent
    design = dict(fact.design)

    design["policies"] = [beside(here, p) for p in design["policies"]]
    if "baseline" in design:
        design["baseline"] = beside(here, design["baseline"])
    raw = {
        "name": fact.key,
        "scenario": plan.scenario,
        "replications": settings.replications,
        "seed": plan.seed,
        "days": settings.days,
        "scale": settings.scale,
        **design,
    }
    return build(Experiment, raw, file=f"{plan.source_file}: fact {fact.key}")


def run_validation(
    plan: Plan,
    out: Path,
    settings: Settings,
    *,
    workers: int,
    only: tuple[str, ...] = (),
    force: bool = False,
) -> list[Outcome]:
    """Run (or resume) every fact's sweep under `out/runs/`, measure and judge it.

    `force` goes to each fact's sweep folder too: after a model change every one of them
    holds runs of the old model.
    """
    facts = check_keys(plan, only)
    experiments = [experiment_for(plan, f, settings) for f in facts]  # all checked first
    outcomes = []
    for fact, experiment in zip(facts, experiments, strict=True):
        folder = Path(out) / "runs" / fact.key
        run_sweep(experiment, folder, workers=workers, force=force)
        _, rows = load_sweep(folder)
        measured = MEASURES[fact.key](fact, experiment, rows, Path(out) / "figures")
        outcomes.append(Outcome(fact, measured, judge(fact, measured)))
    return outcomes


def tally(outcomes: list[Outcome]) -> dict[str, int]:
    """How many facts pass, fail and are inconclusive."""
    return {v: sum(o.verdict.verdict == v for o in outcomes) for v in VERDICTS}


def _rule_text(fact: FactSpec) -> str:
    parts = []
    for c in fact.rule:
        side = "above" if c.above is not None else "below"
        width = f" (interval at most {c.max_width:g} wide)" if c.max_width is not None else ""
        parts.append(f"`{c.statistic}` wholly {side} {c.threshold:g}{width}")
    return " and ".join(parts) + (
        f"; at least {fact.min_runs} runs per arm and {fact.min_events} {fact.events}"
    )


def write_outputs(outcomes: list[Outcome], out: Path, plan: Plan, settings: Settings) -> list[Path]:
    """`out/report.md` and `out/verdicts.csv`."""
    out = Path(out)
    report = out / "report.md"
    text = render(outcomes, plan, settings, figure_root=out)
    atomic_write(report, lambda tmp: tmp.write_text(text))
    table = pd.DataFrame(
        [
            {
                "fact": o.fact.key,
                "verdict": o.verdict.verdict,
                "runs_per_arm": o.measured.runs,
                "events": o.measured.events,
                **{f"{k}": str(v) for k, v in o.measured.statistics.items()},
            }
            for o in outcomes
        ]
    )
    verdicts = out / "verdicts.csv"
    atomic_write(verdicts, lambda tmp: table.to_csv(tmp, index=False))
    return [report, verdicts]


def update_docs(outcomes: list[Outcome], docs: Path, plan: Plan, settings: Settings) -> Path:
    """docs/validation.md and its figures (docs/figures/validation/), at documented settings."""
    require_documented(plan, settings)
    figures = docs / "figures" / "validation"
    figures.mkdir(parents=True, exist_ok=True)
    for outcome in outcomes:
        if outcome.measured.figure is not None:
            for suffix in (".png", ".svg"):
                source = outcome.measured.figure.with_suffix(suffix)
                if source.exists():
                    shutil.copyfile(source, figures / source.name)
    path = docs / "validation.md"
    text = render(outcomes, plan, settings, figure_root=figures.parent.parent, figure_dir=figures)
    atomic_write(path, lambda tmp: tmp.write_text(text))
    return path


def render(
    outcomes: list[Outcome],
    plan: Plan,
    settings: Settings,
    *,
    figure_root: Path,
    figure_dir: Path | None = None,
) -> str:
    """The report as markdown; figures are linked relative to `figure_root`."""
    counts = tally(outcomes)
    lines = [
        "# Validation against stylised facts",
        "",
        f"Generated by `crowdsim validate-model` from `experiments/validation.toml`, where "
        "each fact's pass rule is declared in advance (do not edit by hand). Every fact is "
        f"measured on `{plan.scenario}` with the documented default parameters (scale "
        f"{settings.scale:g}, {settings.days} day(s) per run, {settings.replications} seeds per "
        "arm, common random numbers across arms); nothing is tuned to any one fact. Intervals "
        "are 95% bootstrap intervals over seeds unless a fact says otherwise. A fact passes "
        "when every condition of its rule holds on the whole interval, fails when one is "
        "contradicted by the whole interval, and is otherwise inconclusive (an interval that "
        "includes the threshold, an undefined statistic, or too small a sample). A fact whose "
        "source is also the source of a behavioural parameter is not independent, whatever "
        "its rule gives: the model was given that result.",
        "",
        f"**{counts[PASS]} pass, {counts[FAIL]} fail, {counts[INCONCLUSIVE]} inconclusive, "
        f"{counts[NOT_INDEPENDENT]} not independent** (of {len(outcomes)}).",
        "",
        "| fact | published | rule | measured | verdict |",
        "|---|---|---|---|---|",
    ]
    for o in outcomes:
        measured = "; ".join(
            f"`{c.statistic}` {o.measured.statistics.get(c.statistic, '-')}" for c in o.fact.rule
        )
        lines.append(
            f"| {o.fact.title} | {o.fact.published} | {_rule_text(o.fact)} | "
            f"{measured} | **{o.verdict.verdict}** |"
        )
    for o in outcomes:
        lines += [
            "",
            f"## {o.fact.title}",
            "",
            f"- **Published:** {o.fact.published} ({o.fact.source}).",
            f"- **Mechanisms exercised:** {'; '.join(o.fact.mechanisms)}.",
            f"- **Method:** {o.fact.method}.",
            f"- **Rule (set in advance):** {_rule_text(o.fact)}.",
            f"- **Sample:** {o.measured.runs} runs per arm, {o.measured.events} {o.fact.events}.",
            "- **Measured:** " + " ".join(o.measured.details),
            f"- **Verdict: {o.verdict.verdict}.** {o.verdict.text}",
        ]
        figure = o.measured.figure
        if figure is not None:
            shown = (figure_dir / figure.name) if figure_dir is not None else figure
            rel = Path(shown).resolve().relative_to(Path(figure_root).resolve())
            lines += [
                "",
                f"![{o.fact.title}]({rel.as_posix()})",
                "",
                f"*{o.fact.title}: {o.measured.runs} runs per arm, "
                f"{o.measured.events} {o.fact.events}; error bars are 95% intervals.*",
            ]
    lines += [
        "",
        "## What this does not show",
        "",
        "- The case's own outcome counts (2 theft cases solved and 3 suspects arrested "
        "in five days) are compared in `docs/case-study.md`, not here: the number of "
        "active offenders is an assumption, so absolute counts are not a test.",
        "- A pass says the model reproduces the published direction or shape at these "
        "settings, not that the published studies are reproduced in magnitude.",
    ]
    return "\n".join(lines) + "\n"
