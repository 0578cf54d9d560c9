"""The `crowdsim` command: parse, call the API, print. Bad input exits 2, internal errors 1."""

from __future__ import annotations

import errno
import json
import math
import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import fields
from functools import wraps
from pathlib import Path
from typing import Any

import click

from sim.batch.executors import EXECUTORS
from sim.config import parse_assignment, read_toml, to_raw
from sim.errors import ConfigError
from sim.folder import DEFAULT_OUT, check_writable
from sim.policing.policy import DEFAULT_COMPARISON, POLICY_DIR, Policy, load_policy, policy_names
from sim.scenarios import SCENARIO_DIR
from sim.validation.plan import DEFAULT_PLAN

POLICY_KEYS = {f.name for f in fields(Policy)} - {"name", "description"}
"""The built-in scenarios (sim.scenario, which imports the city and scipy, is loaded by the
commands that build one, so `crowdsim --help` and `crowdsim list` start fast)."""

EXIT_BAD_INPUT = 2
LOOPBACK = ("127.0.0.1", "localhost", "::1")
EXIT_CANNOT_WRITE = 3
WRITE_ERRORS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EFBIG)
"""The machine refused a write (a full disk, a quota, a read-only or forbidden folder)."""


class OutFolder(click.Path):
    """An --out folder; the empty path is refused (it would write into the current folder)."""

    def __init__(self) -> None:
        super().__init__(file_okay=False, path_type=Path)

    def convert(self, value: Any, param: Any, ctx: Any) -> Any:
        """Refuse '' before click turns it into '.'."""
        if isinstance(value, str) and not value.strip():
            self.fail(
                "an empty path would write into the current folder: name a folder", param, ctx
            )
        return super().convert(value, param, ctx)


OUT_FOLDER = OutFolder()

workers_option = click.option(
    "--workers",
    type=click.IntRange(1),
    default=1,
    show_default=True,
    help="Worker processes (runs in parallel).",
)
executor_option = click.option(
    "--executor",
    type=click.Choice(EXECUTORS),
    default=None,
    help="serial, process (default for >1 worker) or dask.",
)
budget_option = click.option(
    "--budget",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Scale every staffed policy to this many officer-hours per day.",
)
scheduler_option = click.option(
    "--scheduler",
    default=None,
    metavar="ADDRESS",
    help="Join an existing dask cluster, e.g. tcp://host:8786 (implies dask).",
)
force_option = click.option(
    "--force",
    is_flag=True,
    help="Write into an --out folder that holds results of other settings or another model "
    "version, or whose lock is held.",
)
scale_option = click.option(
    "--scale", type=float, default=None, help="Scale visitor and offender numbers (0.1 = a tenth)."
)


def executor_for(executor: str | None, scheduler: str | None) -> str | None:
    """The executor to use: --scheduler implies dask, and contradicts any other choice."""
    if scheduler and executor not in (None, "dask"):
        raise ConfigError("--scheduler", "executor", "--scheduler needs --executor dask")
    return "dask" if scheduler else executor


def reports_bad_input(command: Callable) -> Callable:
    """Turn a ConfigError into one clear line on stderr and exit code 2 (no traceback)."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            if kwargs.get("out") is not None:
                check_writable(Path(kwargs["out"]))
            return command(*args, **kwargs)
        except ConfigError as exc:
            click.echo(f"crowdsim: error: {blame_option(exc, kwargs)}", err=True)
            sys.exit(EXIT_BAD_INPUT)
        except OSError as exc:
            if exc.errno not in WRITE_ERRORS:
                raise
            where = exc.filename or kwargs.get("out") or "output"
            click.echo(
                f"crowdsim: error: {where}: cannot write: {exc.strerror}; the folder is "
                "incomplete (its manifest.json has no finish time); make room and run the "
                "command again (sweeps, comparisons, calibrations and studies resume)",
                err=True,
            )
            sys.exit(EXIT_CANNOT_WRITE)

    return wrapper


def blame_option(exc: ConfigError, options: dict[str, Any]) -> ConfigError:
    """The error with its source set to the option that gave the bad value, if one did.

    A value given by `--scale`, `--days` or `--set` is checked where it lands, in the
    scenario or policy it overrides; the user typed the option, so the option is named.
    """
    given: dict[str, str] = {}
    for text in options.get("assignments") or ():
        key = text.partition("=")[0].strip()
        given[key.removeprefix("policy.")] = f"--set {text}"
    for name in ("scale", "days"):
        if options.get(name) is not None:
            given[name] = f"--{name} {options[name]}"
    field = re.sub(r"\[(\d+)\]", r".\1", exc.field)
    if field in given:
        return ConfigError(given[field], exc.field, exc.message)
    return exc


@click.group()
@click.version_option(package_name="crowdsim")
@click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors on stderr.")
@click.option("-v", "--verbose", is_flag=True, help="Also debugging lines on stderr.")
def main(quiet: bool, verbose: bool) -> None:
    """Agent-based simulation of policing crowded places."""
    import logging

    import matplotlib

    matplotlib.use("Agg")  # the command line only writes figures; a notebook keeps its backend
    # progress and notes go to the `crowdsim` logger (stderr); results go to stdout
    level = logging.WARNING if quiet else logging.DEBUG if verbose else logging.INFO
    logging.getLogger("crowdsim").setLevel(level)


@main.command()
@click.option("--scenario", required=True, help="Built-in scenario name or path to a .toml file.")
@click.option(
    "--policy",
    default="none",
    show_default=True,
    help="Built-in policy name or path to a .toml file.",
)
@click.option("--seed", type=click.IntRange(0), default=0, show_default=True, help="Run seed.")
@click.option("--days", type=int, default=None, help="Override the scenario's number of days.")
@scale_option
@click.option(
    "--set",
    "assignments",
    multiple=True,
    metavar="KEY.PATH=VALUE",
    help="Override a scenario field (visitors.per_day=20000) or, prefixed with "
    "policy., a policy field (policy.dispatch.delay_min=2).",
)
@budget_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object of run metrics.")
@click.option(
    "--out",
    type=OUT_FOLDER,
    default=None,
    help="Write metrics, tables (parquet) and figures (PNG, SVG) here.",
)
@force_option
@reports_bad_input
def run(
    scenario: str,
    policy: str,
    seed: int,
    days: int | None,
    scale: float | None,
    assignments: tuple[str, ...],
    budget: float | None,
    as_json: bool,
    out: Path | None,
    force: bool,
) -> None:
    """Run one simulation and print its metrics."""
    from sim.api import run as run_model
    from sim.folder import claim
    from sim.output import metrics_text, write_run
    from sim.policing.cost import budget_overrides
    from sim.scenario import load_scenario
    from sim.sizes import check_run, size_overrides
    from sim.viz.figures import run_figures

    scenario_set, policy_set = split_overrides(assignments)
    resolved = load_scenario(scenario, scenario_set | size_overrides(days, scale))
    source = (
        "--set visitors.per_day"
        if "visitors.per_day" in scenario_set
        else "--scale"
        if scale is not None
        else scenario
    )
    check_run(resolved, source, "visitors a day x scale")
    loaded = load_policy(policy, policy_set)
    if budget is not None:  # every staffed unit group scaled alike, as `compare --budget`
        checkpoints = int(resolved.city_model().checkpoint.sum())
        loaded = load_policy(policy, policy_set | budget_overrides(loaded, checkpoints, budget))
    result = run_model(resolved, loaded, seed=seed, policy_source=policy)
    if out is not None:
        settings = {
            "scenario": to_raw(resolved),
            "policy": to_raw(loaded),
            "seed": seed,
            "scenario_source": scenario,
            "policy_source": policy,
            "budget_officer_hours_per_day": budget,
        }
        with claim(out, command="run", settings=settings, force=force):
            write_run(result, out)
            run_figures(result, out, Path(policy).stem, f"{scenario} under {policy}, seed {seed}")
    if as_json:
        click.echo(json.dumps(json_safe(result.metrics)))
        return
    click.echo(f"scenario {scenario}, policy {policy}, seed {seed}")
    click.echo(metrics_text(result.metrics))
    if out is not None:
        click.echo(
            f"wrote {out}/ (metrics.json, places, hourly and incidents parquet, "
            "map and time_series figures)"
        )


@main.command(name="compare")
@click.option("--scenario", required=True, help="Built-in scenario name or path.")
@click.option(
    "--policies",
    default=",".join(DEFAULT_COMPARISON),
    show_default=True,
    help="Comma-separated policy names or paths.",
)
@click.option(
    "--baseline",
    default="none",
    show_default=True,
    help="Policy the others are compared with (paired by seed).",
)
@click.option("--replications", type=click.IntRange(1), default=5, show_default=True)
@workers_option
@scale_option
@click.option("--days", type=int, default=None, help="Override the scenario's days.")
@click.option("--seed", type=click.IntRange(0), default=0, show_default=True, help="Base seed.")
@budget_option
@click.option(
    "--out",
    type=OUT_FOLDER,
    default=None,
    help="Write runs, summary (CSV, markdown) and figures here; resumes if re-run.",
)
@click.option(
    "--posterior",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="A calibration folder: run every policy under parameter sets drawn from its posterior.",
)
@click.option(
    "--draws",
    type=click.IntRange(2),
    default=10,
    show_default=True,
    help="Posterior parameter sets (with --posterior); --replications seeds under each.",
)
@force_option
@reports_bad_input
def compare_policies(
    scenario: str,
    policies: str,
    baseline: str,
    replications: int,
    workers: int,
    scale: float | None,
    days: int | None,
    seed: int,
    budget: float | None,
    out: Path | None,
    posterior: Path | None,
    draws: int,
    force: bool,
) -> None:
    """Run every policy with the same seeds and compare them against a baseline."""
    from sim.sweep.compare import UNADJUSTED, compare

    names = [p.strip() for p in policies.split(",") if p.strip()]
    result = compare(
        scenario,
        names,
        baseline=baseline,
        replications=replications,
        workers=workers,
        seed=seed,
        days=days,
        scale=scale,
        budget=budget,
        out=out,
        posterior=posterior,
        draws=draws,
        force=force,
    )
    under = (
        f" under each of {draws} posterior draws (intervals over draws)"
        if posterior is not None
        else ""
    )
    click.echo(
        f"{scenario}: {len(set(result.rows['label']))} policies x {replications} "
        f"replications{under} (mean [95% interval]; effects paired by seed)"
    )
    click.echo(result.table().to_markdown())
    click.echo(result.verdict)
    click.echo(f"note: {UNADJUSTED}")
    for caution in result.cautions:
        click.echo(f"warning: {caution}")
    if out is not None:
        click.echo(
            f"tables and figures in {out}/ "
            f"({', '.join(p.name for p in result.files if p.suffix != '.svg')})"
        )


@main.command()
@click.argument("experiment_file", type=click.Path(path_type=Path))
@workers_option
@executor_option
@scheduler_option
@click.option(
    "--shard",
    "shard_text",
    default=None,
    metavar="i/N",
    help="Run only the i-th of N deterministic slices (e.g. one SLURM array task).",
)
@click.option(
    "--batch-size",
    type=click.IntRange(1),
    default=1,
    show_default=True,
    help="Runs per task (amortises per-task overhead on clusters).",
)
@click.option("--scale", type=float, default=None, help="Override the experiment's scale.")
@click.option(
    "--out",
    type=OUT_FOLDER,
    default=None,
    help="Results folder (default: out/<experiment name>).",
)
@click.option("--status", "only_status", is_flag=True, help="Only show done / missing runs.")
@force_option
@reports_bad_input
def sweep(
    experiment_file: Path,
    workers: int,
    executor: str | None,
    scheduler: str | None,
    shard_text: str | None,
    batch_size: int,
    scale: float | None,
    out: Path | None,
    only_status: bool,
    force: bool,
) -> None:
    """Run an experiment's design; re-running resumes where it stopped."""
    from sim.folder import default_folder
    from sim.sweep.design import load_experiment
    from sim.sweep.sweep import run_sweep
    from sim.sweep.sweep import status as sweep_status

    experiment = load_experiment(experiment_file, scale=scale)
    folder = out or default_folder(experiment.name, str(experiment_file))
    executor = executor_for(executor, scheduler)
    if only_status:
        report = sweep_status(experiment, folder)
    else:
        report = run_sweep(
            experiment,
            folder,
            workers=workers,
            executor=executor,
            scheduler=scheduler,
            shard_text=shard_text,
            batch_size=batch_size,
            force=force,
        )
    click.echo(
        f"{experiment.name}: {report.done}/{report.total} runs done, "
        f"{report.missing} missing"
        + (
            f" ({report.damaged} of them damaged files, run again on resume)"
            if report.damaged
            else ""
        )
        + (f", {report.ran_now} run now" if report.ran_now else "")
        + f" ({folder})"
    )
    if report.consolidated:
        click.echo(f"all runs done: {report.consolidated}")


@main.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--out",
    type=OUT_FOLDER,
    default=None,
    help="Where the tables and figures go (default: FOLDER/analysis/).",
)
@click.option("--force", is_flag=True, help="Replace the analysis of a shipped results/ folder.")
@reports_bad_input
def analyze(folder: Path, out: Path | None, force: bool) -> None:
    """Summarise a sweep folder: CIs, paired effects, factor effects, displacement."""
    from sim.sweep.report import analyze as analyze_sweep

    result = analyze_sweep(folder, out, force=force)
    shown = result.summary[result.summary["metric"] == "theft_rate_per_1000_visitors"]
    click.echo(shown[["label", "mean", "ci_low", "ci_high", "n"]].to_markdown(index=False))
    if not result.displacement.empty:
        click.echo("\ndisplacement (weighted displacement quotient vs baseline):")
        cols = ["policy", "setting", "wdq", "wdq_ci_low", "wdq_ci_high", "reading"]
        click.echo(result.displacement[cols].to_markdown(index=False))
    click.echo(f"\nwrote {len(result.files)} files to {out or folder / 'analysis'}/")


@main.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--outcome",
    required=True,
    help="A contrast of the sweep's experiment ([[contrasts]]), or a metric (with --policy).",
)
@click.option("--policy", default="", help="The policy whose metric is the outcome.")
@click.option("--above", type=float, default=None, help="A case: the outcome above this.")
@click.option("--below", type=float, default=None, help="A case: the outcome below this.")
@click.option(
    "--threshold",
    type=click.FloatRange(0, 1, min_open=True),
    default=0.8,
    show_default=True,
    help="Density (share of cases) the reported box should reach.",
)
@click.option(
    "--out",
    type=OUT_FOLDER,
    default=None,
    help="Where the box, trajectory, figures and summary go (default: FOLDER/discovery/).",
)
@force_option
@reports_bad_input
def discover(
    folder: Path,
    outcome: str,
    policy: str,
    above: float | None,
    below: float | None,
    threshold: float,
    out: Path | None,
    force: bool,
) -> None:
    """Scenario discovery: the inputs under which an outcome holds (PRIM, [discover] extra)."""
    from sim.sweep.discover import discover as run_discovery

    out = out or folder / "discovery"
    result = run_discovery(
        folder,
        outcome,
        out,
        above=above,
        below=below,
        policy=policy,
        threshold=threshold,
        force=force,
    )
    stats = result.trajectory.iloc[result.chosen]
    click.echo(
        f"{result.cases} of {result.points} points are cases; box {result.chosen}: coverage "
        f"{stats['coverage']:.0%}, density {stats['density']:.0%}"
    )
    if not result.limits.empty:
        click.echo(result.limits.to_markdown(index=False, floatfmt=".3g"))
    click.echo(f"wrote {len(result.files)} files to {out}/")


@main.command()
@click.option(
    "--experiment",
    "experiment_file",
    type=click.Path(path_type=Path),
    default=Path("experiments/regression.toml"),
    show_default=True,
    help="Reference experiment (yours, for your own regression checks).",
)
@click.option(
    "--reference",
    "reference_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("results/reference"),
    show_default=True,
)
@click.option("--tier", type=click.Choice(["1", "2", "all"]), default="all", show_default=True)
@click.option(
    "--replications",
    type=click.IntRange(2),
    default=None,
    help="Use the first K replications (a reduced Tier 2).",
)
@click.option(
    "--alpha",
    type=click.FloatRange(0, 1, min_open=True),
    default=0.001,
    show_default=True,
    help="Level of the two-sample test.",
)
@click.option(
    "--threshold",
    type=click.FloatRange(0, min_open=True),
    default=0.1,
    show_default=True,
    help="Relative change of a mean that matters.",
)
@click.option(
    "--seed", type=click.IntRange(0), default=None, help="Override the experiment's base seed."
)
@click.option(
    "--set",
    "assignments",
    multiple=True,
    metavar="KEY.PATH=VALUE",
    help="Inject a change (scenario.* or policy.* path) into every run.",
)
@workers_option
@click.option("--update", is_flag=True, help="Regenerate the reference and say what moved.")
@reports_bad_input
def regress(
    experiment_file: Path,
    reference_dir: Path,
    tier: str,
    replications: int | None,
    alpha: float,
    threshold: float,
    seed: int | None,
    assignments: tuple[str, ...],
    workers: int,
    update: bool,
) -> None:
    """Check simulated outcomes against a stored reference (exit 0 same, 1 drifted)."""
    from sim import regress as regression

    experiment, specs = regression.prepared(
        experiment_file,
        seed=seed,
        replications=replications,
        overrides=dict(parse_assignment(a) for a in assignments),
    )
    limits = {"workers": workers, "alpha": alpha, "threshold": threshold}
    if update:
        path, moved, unreadable = regression.update(experiment, specs, reference_dir, **limits)
        if unreadable:
            click.echo(
                f"the old reference was not readable ({unreadable}); wrote a new one", err=True
            )
        if moved is not None:
            click.echo(f"moved since the last reference:\n{regression.report(moved)}")
        click.echo(f"wrote {path}")
        return
    tiers = (1, 2) if tier == "all" else (int(tier),)
    drift = regression.check(experiment, specs, reference_dir, tiers=tiers, **limits)
    click.echo(regression.report(drift))
    if drift.drifted:
        sys.exit(1)


@main.command()
@click.argument("space_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--out",
    type=OUT_FOLDER,
    default=None,
    help="Study folder (default: out/<space name>); re-running resumes the study.",
)
@click.option(
    "--trials",
    type=click.IntRange(1),
    default=None,
    help="Candidates to simulate in all (default: the space file's).",
)
@workers_option
@executor_option
@scheduler_option
@force_option
@reports_bad_input
def optimise(
    space_file: Path,
    out: Path | None,
    trials: int | None,
    workers: int,
    executor: str | None,
    scheduler: str | None,
    force: bool,
) -> None:
    """Search the deployment space for the best policy within a budget (Optuna)."""
    from sim.folder import default_folder
    from sim.optimiser import load_space
    from sim.optimiser import optimise as run_optimise

    executor = executor_for(executor, scheduler)
    space = load_space(space_file)
    folder = out or default_folder(space.name, str(space_file))
    result = run_optimise(
        space,
        folder,
        trials=trials,
        workers=workers,
        executor=executor,
        scheduler=scheduler,
        force=force,
    )
    first = result.reevaluation[result.reevaluation["metric"] == space.objectives[0].metric]
    click.echo(
        first[
            [
                "candidate",
                "trial",
                "search_mean",
                "fresh_mean",
                "difference_vs_reference",
                "difference_ci_low",
                "difference_ci_high",
                "holds",
            ]
        ].to_markdown(index=False)
    )
    click.echo(
        (
            "the improvement over the reference holds on fresh seeds"
            if result.holds
            else "no difference from the reference found on fresh seeds"
        )
        + f"; best policy: {folder / 'best_policy.toml'}"
    )


@main.command()
@click.argument("targets_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--out",
    type=OUT_FOLDER,
    default=None,
    help="Calibration folder (default: out/<targets name>); re-running resumes it.",
)
@click.option(
    "--hold-out",
    "held_out",
    multiple=True,
    metavar="NAME",
    help="Leave this observed statistic out of the fit and predict it instead (repeatable; "
    "replaces the file's held_out list).",
)
@workers_option
@executor_option
@scheduler_option
@force_option
@reports_bad_input
def calibrate(
    targets_file: Path,
    out: Path | None,
    held_out: tuple[str, ...],
    workers: int,
    executor: str | None,
    scheduler: str | None,
    force: bool,
) -> None:
    """Fit uncertain scenario parameters to observed statistics (ABC-SMC with pyabc).

    Held-out statistics (the file's `held_out`, or --hold-out) are not fitted: the posterior
    predictive check predicts them and says whether each observation falls inside.
    """
    from dataclasses import replace

    from sim.calibration import calibrate as run_calibration
    from sim.calibration import load_targets
    from sim.calibration.targets import check_held_out
    from sim.folder import default_folder

    executor = executor_for(executor, scheduler)
    targets = load_targets(targets_file)
    if held_out:
        targets = replace(targets, held_out=held_out)
        check_held_out(targets)
    folder = out or default_folder(targets.name, str(targets_file))
    result = run_calibration(
        targets, folder, workers=workers, executor=executor, scheduler=scheduler, force=force
    )
    from sim.calibration.report import effective_sample_size, predictive_table

    shown = result.summary[["parameter", "mean", "median", "q05", "q95", "ci_share_of_prior"]]
    click.echo(shown.to_markdown(index=False, floatfmt=".3g"))
    for row in predictive_table(result).itertuples(index=False):
        if row.set == "held out":
            click.echo(
                f"held out: {row.statistic}: observed {row.observed:g}, 5-95% of runs "
                f"[{row.q05:.3g}, {row.q95:.3g}]: {row.verdict}"
            )
    click.echo(
        f"{len(result.posterior)} particles (effective sample size "
        f"{effective_sample_size(result.posterior):.0f}) after {len(result.generations)} "
        f"generations; posterior, figures and summary.md in {folder}/"
    )


@main.command(name="validate-model")
@click.option(
    "--plan",
    "plan_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_PLAN,
    show_default="experiments/validation.toml",
    help="The facts and their pass rules.",
)
@click.option(
    "--out",
    type=OUT_FOLDER,
    default=DEFAULT_OUT / "validation",
    show_default=True,
    help="Runs, figures, report.md and verdicts.csv (resumable).",
)
@click.option(
    "--workers",
    type=click.IntRange(1),
    default=2,
    show_default=True,
    help="Worker processes (runs in parallel).",
)
@click.option(
    "--replications",
    type=click.IntRange(2),
    default=None,
    help="Seeds per arm (default: the plan's).",
)
@click.option(
    "--scale",
    type=click.FloatRange(0, 10, min_open=True),
    default=None,
    help="Scale (default: the plan's).",
)
@click.option(
    "--days", type=click.IntRange(1), default=None, help="Days per run (default: the plan's)."
)
@click.option("--only", multiple=True, help="Run only these facts (keys).")
@click.option(
    "--update-docs",
    is_flag=True,
    help="Also rewrite docs/validation.md and its figures (documented settings only).",
)
@force_option
@reports_bad_input
def validate_model(
    plan_file: Path,
    out: Path,
    workers: int,
    replications: int | None,
    scale: float | None,
    days: int | None,
    only: tuple[str, ...],
    update_docs: bool,
    force: bool,
) -> None:
    """Measure the stylised facts and judge each by its rule (results/validation/)."""
    from sim.folder import claim
    from sim.validation import (
        Settings,
        check_keys,
        load_plan,
        require_documented,
        run_validation,
        tally,
        write_outputs,
    )
    from sim.validation import update_docs as validation_docs

    plan = load_plan(plan_file)
    documented = Settings.documented(plan)
    settings = Settings(
        documented.scale if scale is None else scale,
        documented.days if days is None else days,
        documented.replications if replications is None else replications,
    )
    check_keys(plan, only)
    if update_docs:
        require_documented(plan, settings, only)
    with claim(
        out,
        command="validate-model",
        settings={"plan": to_raw(plan), "settings": vars(settings)},
        force=force,
    ):
        outcomes = run_validation(plan, out, settings, workers=workers, only=only, force=force)
        files = write_outputs(outcomes, out, plan, settings)
    for outcome in outcomes:
        click.echo(f"{outcome.verdict.verdict:>13}  {outcome.fact.title}")
    counts = tally(outcomes)
    click.echo(
        f"{counts['pass']} pass, {counts['fail']} fail, {counts['inconclusive']} "
        f"inconclusive; wrote {', '.join(str(f) for f in files)}"
    )
    if update_docs:
        click.echo(f"wrote {validation_docs(outcomes, Path('docs'), plan, settings)}")


@main.command()
@click.option("--scenario", default="small-town", show_default=True)
@click.option("--policy", default="integrated", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=8765, show_default=True)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to serve on; one other than this machine's own needs --public.",
)
@click.option(
    "--public",
    is_flag=True,
    help="Allow a --host that other machines can reach (the app has no login: anyone who "
    "reaches it can run simulations on this machine).",
)
@reports_bad_input
def viz(scenario: str, policy: str, port: int, host: str, public: bool) -> None:
    """Start the interactive app (needs the [viz] extra); Ctrl-C stops it."""
    from sim.scenario import load_scenario

    load_scenario(scenario)  # bad input fails here, with exit code 2
    load_policy(policy)
    if host not in LOOPBACK:
        if not public:
            raise ConfigError(
                "--host",
                host,
                "serves the app beyond this machine, and the app has no login: pass --public "
                "to do so on purpose, or leave --host at 127.0.0.1",
            )
        click.echo(
            f"warning: serving on {host}:{port} with --public: anyone who can reach this "
            "address can use the app and run simulations on this machine",
            err=True,
        )
    try:
        import solara  # noqa: F401 - optional extra
    except ImportError:
        raise ConfigError("viz", "extra", "the app needs: pip install 'crowdsim[viz]'") from None
    app = Path(__file__).parent / "viz" / "app.py"
    env = {
        **os.environ,
        "CROWDSIM_SCENARIO": scenario,
        "CROWDSIM_POLICY": policy,
        # Solara sends usage data to a third party and looks up the server's public IP
        # unless told not to: the app makes no outside connection, whatever the environment
        "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",
    }
    cmd = [
        sys.executable,
        "-m",
        "sim.viz.serve",  # `solara run`, junk websocket frames dropped
        "run",
        str(app),
        "--host",
        host,
        "--port",
        str(port),
        "--production",
        "--no-open",
        "--no-check-version",  # else it asks PyPI for Solara's latest version
    ]
    sys.exit(subprocess.call(cmd, env=env))


@main.command(name="list")
def list_builtins() -> None:
    """List the built-in scenarios and policies."""
    click.echo("scenarios:")
    for path in sorted(SCENARIO_DIR.glob("*.toml")):
        click.echo(f"  {path.stem:<22} {read_toml(path).get('description', '')}")
    click.echo("policies:")
    for name in policy_names():
        click.echo(f"  {name:<22} {read_toml(POLICY_DIR / f'{name}.toml').get('description', '')}")


@main.command()
@click.argument("file", type=click.Path(path_type=Path))
@reports_bad_input
def validate(file: Path) -> None:
    """Check a scenario, policy, experiment, space or calibration targets file (exit 2 if bad)."""
    from sim.calibration import load_targets
    from sim.optimiser import load_space
    from sim.sweep.design import design, load_experiment

    raw = read_toml(file)
    if "params" in raw and "observed" not in raw:  # a search space (targets have observed)
        space = load_space(file)
        click.echo(
            f"{file}: valid optimisation space {space.name!r}: {len(space.params)} fields "
            f"searched over {space.trials} trials"
        )
        return
    if "observed" in raw:
        targets = load_targets(file)
        click.echo(
            f"{file}: valid calibration targets {targets.name!r}: {len(targets.params)} "
            f"parameters, {len(targets.fitted)} fitted and {len(targets.held_out)} held-out "
            f"statistics, {len(targets.runs(targets.fitted))} runs per particle"
        )
        return
    if "policies" in raw or "factors" in raw:
        experiment = load_experiment(file)
        runs = len(design(experiment))
        click.echo(
            f"{file}: valid experiment {experiment.name!r}: {runs} runs "
            f"({runs // experiment.replications} points x {experiment.replications} "
            "replications)"
        )
        return
    from sim.scenario import Scenario, load_scenario

    scenario_keys = {f.name for f in fields(Scenario)} - {"name", "description"}
    if POLICY_KEYS & set(raw) and not scenario_keys & set(raw):
        policy = load_policy(str(file))
        units = sum(d.count for d in policy.deploy)
        click.echo(
            f"{file}: valid policy {policy.name!r}: {len(policy.deploy)} deployments, {units} units"
        )
        return
    scenario: Scenario = load_scenario(str(file))
    city = scenario.city_model()
    click.echo(
        f"{file}: valid scenario {scenario.name!r}: {city.n_nodes} nodes, "
        f"{len(city.attractions)} attractions, {len(city.entries)} entries, "
        f"{len(city.bus_lines)} bus lines, {scenario.days} days"
    )


@main.command()
@click.option(
    "--fields",
    "all_fields",
    is_flag=True,
    help="Print the reference of every scenario and policy field (docs/usage.md).",
)
def params(all_fields: bool) -> None:
    """Print the parameter table (markdown) that docs/model.md embeds."""
    from sim.paramdoc import config_reference, parameter_table

    click.echo(config_reference() if all_fields else parameter_table())


def split_overrides(assignments: tuple[str, ...]) -> tuple[dict[str, Any], dict[str, Any]]:
    """`--set` values for the scenario, and those prefixed `policy.` for the policy."""
    scenario_set: dict[str, Any] = {}
    policy_set: dict[str, Any] = {}
    for text in assignments:
        key, value = parse_assignment(text)
        if key.startswith("policy."):
            policy_set[key.removeprefix("policy.")] = value
        else:
            scenario_set[key] = value
    return scenario_set, policy_set


def json_safe(metrics: dict[str, float]) -> dict[str, float | None]:
    """NaN (a metric with nothing to measure) becomes null: JSON has no NaN."""
    return {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in metrics.items()}


if __name__ == "__main__":
    main()
