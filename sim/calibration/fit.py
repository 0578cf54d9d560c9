"""`crowdsim calibrate`: ABC-SMC (pyabc) fitted to observed statistics, resumable.

pyabc keeps every finished generation in its SQLite database (`abc.db`); a killed
calibration resumes at the next generation. The sampler's random state is set from the
base seed and the generation number before each generation, so one worker gives the same
posterior whether or not the calibration was interrupted. With several workers pyabc's
samplers reseed their processes and accept particles in the order they finish: the
posterior is then the same in distribution only (docs/calibration.md).
"""

from __future__ import annotations

import contextlib
import logging
import math
import multiprocessing
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.batch.executors import check_executor, choose, dask_client, mapper
from sim.batch.progress import Progress, log
from sim.calibration.simulate import (
    UNDEFINED_NOTE,
    Simulator,
    UndefinedStatisticError,
    particle_seed,
    simulate,
    undefined_note,
)
from sim.calibration.targets import Prior, Targets, load_targets
from sim.config import to_raw
from sim.errors import ConfigError
from sim.folder import claim
from sim.output import check_database, load_table, write_table

DATABASE = "abc.db"
PREDICTIVE = "predictive.parquet"
DAMAGED_REMEDY = "move {path} aside (it may hold finished generations), then run again"
CHECK_SEED_OFFSET = 7_000_003
"""Posterior predictive runs use seeds spawned from seed + this, never a particle's."""


@dataclass
class Calibration:
    """The fitted posterior, its summary, the predictive check and the files written."""

    targets: Targets
    posterior: pd.DataFrame
    """Particles of the last generation: one column per parameter, `weight`."""
    summary: pd.DataFrame
    """Per parameter: prior bounds, posterior mean, median, 5% and 95% quantiles."""
    generations: pd.DataFrame
    """Per generation: epsilon, particles, simulations, acceptance rate."""
    check: pd.DataFrame
    """Posterior predictive runs: one row per draw, its values and statistics."""
    files: list[Path] = field(default_factory=list)


def _pyabc() -> Any:
    try:
        import pyabc  # noqa: PLC0415 - optional [calibrate] extra
    except ImportError:
        raise ConfigError(
            "calibrate", "extra", "needs the [calibrate] extra: pip install 'crowdsim[calibrate]'"
        ) from None
    logging.getLogger("ABC").setLevel(logging.WARNING)  # our own line per generation instead
    return pyabc


def prior_distribution(targets: Targets) -> Any:
    """The priors as a pyabc Distribution of scipy random variables."""
    pyabc = _pyabc()
    return pyabc.Distribution(**{k: _rv(pyabc, p) for k, p in targets.params.items()})


def _rv(pyabc: Any, p: Prior) -> Any:
    if p.distribution == "uniform":
        return pyabc.RV("uniform", p.low, p.high - p.low)
    if p.distribution == "loguniform":
        return pyabc.RV("loguniform", p.low, p.high)
    a, b = (p.low - p.mean) / p.sd, (p.high - p.mean) / p.sd
    return pyabc.RV("truncnorm", a, b, p.mean, p.sd)


def _generation_seed(seed: int, t: int) -> int:
    return int(np.random.SeedSequence([seed, t]).generate_state(1)[0])


def fit(
    targets: Targets,
    out: Path,
    *,
    workers: int = 1,
    executor: str | None = None,
    scheduler: str | None = None,
    progress: bool | None = None,
) -> Any:
    """Run (or resume) ABC-SMC until a stopping rule holds; return pyabc's History.

    Every generation starts from the database, as a resumed calibration does: an
    uninterrupted run and a killed-and-resumed one take the same path.
    """
    pyabc = _pyabc()
    executor = choose(executor, workers, scheduler)
    check_executor(executor)
    settings = targets.abc
    path = out / DATABASE
    done, simulations = _stored(path)
    with contextlib.ExitStack() as stack:
        dask = stack.enter_context(dask_client(workers, scheduler)) if executor == "dask" else None
        bar = stack.enter_context(
            Progress(
                settings.generations,
                label=f"calibrate {targets.name}",
                unit="generation",
                initial=done,
                show_bar=progress,
            )
        )
        while done < settings.generations:
            remaining = settings.max_simulations - simulations
            if remaining < settings.population:  # not enough left for a generation
                _line(f"{simulations} simulations of at most {settings.max_simulations}; done")
                break
            abc = _open(pyabc, targets, path, executor=executor, workers=workers, dask=dask)
            # pyabc draws from numpy's global generator; seeding it per generation makes one
            # worker's posterior the same whether or not the run was interrupted
            np.random.seed(_generation_seed(targets.seed, done))  # noqa: NPY002
            # pyabc stops a generation after population / rate evaluations: the larger of
            # the minimum acceptance and what the simulations left allow
            rate = max(settings.min_acceptance, settings.population / remaining)
            _run_generation(abc, rate, out / UNDEFINED_NOTE)
            if _stored(path)[0] == done:  # the generation hit its evaluation limit
                _line(
                    f"generation {done}: fewer than {settings.population} particles accepted "
                    f"within {math.floor(settings.population / rate)} simulations "
                    f"(acceptance below {rate:.3g}); stopped"
                )
                break
            done, simulations = _stored(path)
            bar.update(detail=_generation_line(abc.history))
    if not done:
        raise ConfigError(
            targets.source_file, "abc", "no generation was accepted (see min_acceptance)"
        )
    return pyabc.History(f"sqlite:///{path.resolve()}", _id=1)


def _run_generation(abc: Any, min_acceptance: float, note: Path) -> None:
    """One pyabc generation; a statistic that cannot be computed stops it with exit 2.

    In one process the simulator's UndefinedStatisticError arrives as it is; from worker
    processes only as a failed worker, with the reason in the note the worker left.
    """
    note.unlink(missing_ok=True)
    before = set(multiprocessing.active_children())
    try:
        abc.run(max_nr_populations=1, min_acceptance_rate=min_acceptance)
    except UndefinedStatisticError:
        note.unlink(missing_ok=True)
        raise
    except Exception:
        _stop_new_children(before)
        reason = undefined_note(note)
        if reason is None:
            raise
        raise reason from None


def _stop_new_children(before: set[multiprocessing.process.BaseProcess]) -> None:
    """End the worker processes pyabc started for the generation after one of them failed.

    They are daemon processes of this one: left alone they go on simulating until this
    process exits, and one may leave a note after the reason was read. They are told
    apart as the children started since `before` (a started Process no longer holds its
    target function to compare).
    """
    for process in multiprocessing.active_children():
        if process not in before:
            process.terminate()
            process.join()


def _open(
    pyabc: Any,
    targets: Targets,
    path: Path,
    *,
    executor: str,
    workers: int,
    dask: Any,
) -> Any:
    """An ABCSMC on the database: a new calibration, or the stored one to continue."""
    resuming = _stored(path)[0] > 0
    # pyabc's local samplers stop a generation at its evaluation limit only when asked to
    # (check_max_eval), which makes max_simulations a hard limit; its dask sampler has no
    # such check, so there the limit is applied between generations
    if executor == "serial":
        sampler = pyabc.sampler.SingleCoreSampler(check_max_eval=True)
    elif executor == "process":
        sampler = pyabc.sampler.MulticoreEvalParallelSampler(n_procs=workers, check_max_eval=True)
    else:
        sampler = pyabc.sampler.DaskDistributedSampler(dask_client=dask)
    abc = pyabc.ABCSMC(
        Simulator(targets, path.parent / UNDEFINED_NOTE),
        prior_distribution(targets),
        pyabc.PNormDistance(p=1, fixed_weights={o.name: 1.0 / o.scale for o in targets.fitted}),
        population_size=targets.abc.population,
        sampler=sampler,
        # generation 0 is the prior sample; each later tolerance is the median distance of
        # the generation before, read back from the database
        eps=pyabc.MedianEpsilon(initial_epsilon="from_sample" if resuming else math.inf),
    )
    db = f"sqlite:///{path.resolve()}"
    if resuming:
        abc.load(db, 1)
    else:
        abc.new(db, {o.name: float(o.value) for o in targets.fitted})
    return abc


def _stored(path: Path) -> tuple[int, int]:
    """Generations stored in the database and the simulations they took.

    A kill before the first generation was stored leaves a sound database with nothing to
    resume: it is removed, and the calibration starts afresh. A damaged database is refused,
    naming it, and left as it is: it may hold generations worth keeping.
    """
    if not path.exists():
        return 0, 0
    check_database(path, DAMAGED_REMEDY.format(path=path))
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as con:
            done, simulations = con.execute(
                "select count(*), coalesce(sum(nr_samples), 0) from populations where t >= 0"
            ).fetchone()
    except sqlite3.Error as exc:  # sound, but not a pyabc history
        raise ConfigError(str(path), "", f"not a calibration database ({exc})") from None
    if not done:
        _line(f"{path} holds no finished generation: starting afresh")
        path.unlink()
    return int(done), int(simulations)


def _generation_line(history: Any) -> str:
    """The last generation: its tolerance, acceptance, particles and the simulations so far."""
    last = history.get_all_populations().iloc[-1]
    particles = history.get_nr_particles_per_population().iloc[-1]
    rate = particles / last["samples"] if last["samples"] else math.nan
    return (
        f"epsilon {last['epsilon']:.4g}, acceptance {rate:.3f}, {particles} particles, "
        f"{history.total_nr_simulations} simulations"
    )


def _line(text: str) -> None:
    log.info("calibrate: %s", text)


def posterior_table(history: Any, targets: Targets) -> pd.DataFrame:
    """The last generation's particles with their normalised weights."""
    frame, weights = history.get_distribution(t=history.max_t)
    frame = frame.reset_index(drop=True)[list(targets.params)]
    return frame.assign(weight=np.asarray(weights) / np.sum(weights))


def generations_table(history: Any) -> pd.DataFrame:
    """Per generation: tolerance, particles, simulations, acceptance rate."""
    pops = history.get_all_populations()
    pops = pops[pops["t"] >= 0].reset_index(drop=True)
    particles = history.get_nr_particles_per_population()
    pops["particles"] = [int(particles.loc[t]) for t in pops["t"]]
    pops["acceptance_rate"] = pops["particles"] / pops["samples"]
    columns = ["t", "epsilon", "particles", "samples", "acceptance_rate", "wall_time"]
    return pops[columns].rename(
        columns={"t": "generation", "samples": "simulations", "wall_time": "wall_s"}
    )


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The q-quantile of a weighted sample (pyabc's definition)."""
    from pyabc.weighted_statistics import weighted_quantile as quantile  # noqa: PLC0415

    return float(quantile(np.asarray(values), np.asarray(weights), alpha=q))


def summary_table(posterior: pd.DataFrame, targets: Targets) -> pd.DataFrame:
    """Per parameter: prior and posterior mean, median and 90% credible interval."""
    w = posterior["weight"].to_numpy()
    records = []
    for name, prior in targets.params.items():
        x = posterior[name].to_numpy()
        records.append(
            {
                "parameter": name,
                "prior": prior.distribution,
                "prior_low": prior.low,
                "prior_high": prior.high,
                "mean": float(np.sum(w * x)),
                "median": weighted_quantile(x, w, 0.5),
                "q05": weighted_quantile(x, w, 0.05),
                "q95": weighted_quantile(x, w, 0.95),
                "ci_share_of_prior": _share(
                    weighted_quantile(x, w, 0.05), weighted_quantile(x, w, 0.95), prior
                ),
            }
        )
    return pd.DataFrame(records)


def _share(low: float, high: float, prior: Prior) -> float:
    """The credible interval's width as a share of the prior's range, on the prior's scale.

    A log-uniform prior's scale is logarithmic: there a tenfold range is one unit.
    """
    if prior.distribution == "loguniform":
        return math.log(high / low) / math.log(prior.high / prior.low)
    return (high - low) / (prior.high - prior.low)


def draw(posterior: pd.DataFrame, names: list[str], n: int, seed: int) -> pd.DataFrame:
    """`n` parameter sets resampled from the weighted posterior (seeded)."""
    rng = np.random.default_rng(seed)
    w = posterior["weight"].to_numpy(dtype=float)
    picks = rng.choice(len(posterior), size=n, replace=True, p=w / w.sum())
    return posterior.iloc[picks][names].reset_index(drop=True)


def predictive_check(
    targets: Targets, posterior: pd.DataFrame, out: Path, map_: Any
) -> pd.DataFrame:
    """Statistics of fresh runs at posterior draws (stored, so a rerun reuses them)."""
    path = out / PREDICTIVE
    names = list(targets.params)
    draws = draw(posterior, names, targets.check_draws, targets.seed + CHECK_SEED_OFFSET)
    if path.exists():
        stored = load_table(
            path, "move it away (or pass --force) and the check is made again from the posterior"
        )
        if len(stored) == len(draws) and np.allclose(stored[names], draws[names]):
            return stored
    jobs = [
        (targets, values, particle_seed(targets.seed + CHECK_SEED_OFFSET + i, values))
        for i, values in enumerate(draws.to_dict("records"))
    ]
    statistics = map_(simulate_job, jobs)
    frame = pd.concat([draws, pd.DataFrame(statistics)], axis=1)
    frame.insert(0, "draw", range(len(frame)))
    write_table(frame, path)
    return frame


def simulate_job(job: tuple[Targets, dict[str, float], int]) -> dict[str, float]:
    """`simulate` on one (targets, values, seed) tuple, for an executor's map."""
    return simulate(*job)


def calibrate(
    targets: Targets | str | Path,
    out: Path,
    *,
    workers: int = 1,
    executor: str | None = None,
    scheduler: str | None = None,
    progress: bool | None = None,
    force: bool = False,
) -> Calibration:
    """Fit (or resume), run the posterior predictive check, and write the outputs to `out`."""
    from sim.calibration.report import write_outputs  # noqa: PLC0415 - figures only here

    if not isinstance(targets, Targets):
        targets = load_targets(targets)
    out = Path(out)
    with claim(out, command="calibrate", settings=to_raw(targets), force=force) as record:
        if record["replaces"]:  # forced over another calibration: start afresh, never mix
            for stale in (DATABASE, PREDICTIVE):
                (out / stale).unlink(missing_ok=True)
        history = fit(
            targets, out, workers=workers, executor=executor, scheduler=scheduler, progress=progress
        )
        posterior = posterior_table(history, targets)
        with mapper(choose(executor, workers, scheduler), workers, scheduler) as map_:
            check = predictive_check(targets, posterior, out, map_)
        result = Calibration(
            targets, posterior, summary_table(posterior, targets), generations_table(history), check
        )
        result.files = write_outputs(result, out, history, record)
    return result
