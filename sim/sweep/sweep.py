"""`crowdsim sweep`: run an experiment's design into a resumable store, shard by shard."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sim.batch.executors import choose, run_all
from sim.batch.progress import Progress
from sim.batch.store import ResultStore
from sim.config import to_raw
from sim.files import atomic_write
from sim.folder import LOCK, claim, default_folder
from sim.output import write_table
from sim.sizes import check_total
from sim.sweep.design import Experiment, design, load_experiment, run_visitor_days, shard

MANIFEST = "design.parquet"
EXPERIMENT_COPY = "experiment.json"
RESULTS = "results.parquet"


@dataclass
class SweepStatus:
    """How far an experiment's design is on disk."""

    total: int
    done: int
    ran_now: int
    consolidated: Path | None
    damaged: int = 0
    """Run files that could not be read (run again on resume)."""

    @property
    def missing(self) -> int:
        """Runs of the design not yet on disk."""
        return self.total - self.done


def manifest(experiment: Experiment) -> pd.DataFrame:
    """One row per run of the design, with its key, point, label, policy, seed and factors.

    Each factor is a column `f:<factor>` holding the level (for a composite, its index).
    """
    rows = []
    for spec in design(experiment):
        row = {
            "key": spec.key(),
            "point": spec.point,
            "label": spec.label,
            "policy": spec.policy,
            "replication": spec.replication,
            "seed": spec.seed,
        }
        row.update({f"f:{name}": value for name, value in spec.factors})
        rows.append(row)
    return pd.DataFrame(rows)


def run_sweep(
    experiment: Experiment,
    out: Path,
    *,
    workers: int = 1,
    executor: str | None = None,
    scheduler: str | None = None,
    shard_text: str | None = None,
    batch_size: int = 1,
    progress: bool | None = None,
    force: bool = False,
) -> SweepStatus:
    """Run the runs of this shard that are not on disk yet; consolidate when all are.

    Shards of one experiment may write the folder at the same time (one lock per shard);
    a folder holding another experiment's or another model version's results is refused
    unless `force`.
    """
    out = Path(out)
    specs = design(experiment)
    mine = shard(specs, shard_text)  # a bad --shard fails here, before anything is written
    check_total(len(mine), run_visitor_days(experiment), experiment.source_file, "replications")
    store = ResultStore(out)
    lock = f"{LOCK}.shard-{shard_text.replace('/', '-of-')}" if shard_text else LOCK
    with claim(
        out, command="sweep", settings=to_raw(experiment), force=force, lock_name=lock
    ) as record:
        write_table(manifest(experiment), out / MANIFEST)
        atomic_write(
            out / EXPERIMENT_COPY,
            lambda tmp: tmp.write_text(json.dumps(to_raw(experiment), indent=2)),
        )
        done = store.done()
        todo = [s for s in mine if s.key() not in done]
        record.update(runs=len(specs), shard=shard_text, seed=experiment.seed)
        executor = choose(executor, workers, scheduler)
        with Progress(len(todo), label=f"sweep {experiment.name}", show_bar=progress) as bar:
            for row in run_all(
                todo, executor=executor, workers=workers, batch_size=batch_size, scheduler=scheduler
            ):
                store.save(row)
                bar.update()
        report = status(experiment, out, ran_now=len(todo))
        if report.missing == 0:  # the last shard to finish writes the experiment's table
            report.consolidated = store.consolidate([s.key() for s in specs], RESULTS)
    return report


def run_experiment(
    experiment: Experiment | str | Path,
    out: str | Path | None = None,
    *,
    workers: int = 1,
    executor: str | None = None,
    scheduler: str | None = None,
    shard: str | None = None,
    scale: float | None = None,
    force: bool = False,
    progress: bool | None = None,
) -> pd.DataFrame:
    """Run (or resume) an experiment file's design; the finished runs, one row per run.

    What `crowdsim sweep` does, from Python (`sim.sweep(...)`): results go to `out`
    (default `out/<name>`), and `sim.analyze(out)` summarises them.
    """
    if not isinstance(experiment, Experiment):
        experiment = load_experiment(experiment, scale=scale)
    folder = (
        Path(out) if out is not None else default_folder(experiment.name, experiment.source_file)
    )
    run_sweep(
        experiment,
        folder,
        workers=workers,
        executor=executor,
        scheduler=scheduler,
        shard_text=shard,
        progress=progress,
        force=force,
    )
    keys = [s.key() for s in design(experiment)]
    store = ResultStore(folder)
    done = store.done()
    return store.load([k for k in keys if k in done])


def status(experiment: Experiment, out: Path, ran_now: int = 0) -> SweepStatus:
    """Count the design's runs that are on disk and those still missing."""
    keys = [s.key() for s in design(experiment)]
    store = ResultStore(out)
    done = store.done()
    damaged = {p.stem for p in store.damaged()}
    return SweepStatus(
        len(keys), sum(k in done for k in keys), ran_now, None, sum(k in damaged for k in keys)
    )
