"""`crowdsim regress`: has a code change moved the simulated outcomes?

Tier 1 (exact): replication 0 of every point of a reference experiment; every metric must
equal the stored value. Tier 2 (statistical): every replication; a metric has drifted when
a two-sample Mann-Whitney test rejects at `alpha` AND its mean moved by more than
`threshold` (relative), or when the ranking of policies on the response metric changes.
Seeds are fixed, so both tiers are deterministic: a check never flakes.

The exact tier is made only when the reference was made on a platform that must give the
same digits (`sim.machine.exact_key`: the same numpy, scipy, mesa, simpy and C library; the
CPU's SIMD level does not matter). Otherwise it is skipped, saying why, and the statistical
tier decides alone.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from sim.batch.executors import choose, run_all
from sim.batch.runs import RunSpec, model_version, validate
from sim.batch.work import rows_for
from sim.config import to_raw
from sim.errors import ConfigError
from sim.files import atomic_write
from sim.machine import exact_differences, fingerprint
from sim.metrics import NAMES
from sim.output import load_table, write_table
from sim.sweep.design import Experiment, design, load_experiment

ABS_TOLERANCE = 1e-9


@dataclass
class Drift:
    """What moved, for people: one line per finding."""

    tier1: list[str] = field(default_factory=list)
    tier2: list[str] = field(default_factory=list)
    ranking: list[str] = field(default_factory=list)
    tiers_run: tuple[int, ...] = ()
    skipped: list[str] = field(default_factory=list)  # why a tier was not made
    checked: int = 0  # (policy, metric) pairs the statistical tier tested

    @property
    def drifted(self) -> bool:
        """True if any tier found a change."""
        return bool(self.tier1 or self.tier2 or self.ranking)


def specs_for(
    experiment: Experiment, replications: int | None, extra: dict[str, Any]
) -> list[RunSpec]:
    """The experiment's runs (first `replications` of each point) with `extra` overrides."""
    scenario_extra = tuple(
        (k.removeprefix("scenario."), v) for k, v in extra.items() if not k.startswith("policy.")
    )
    policy_extra = tuple(
        (k.removeprefix("policy."), v) for k, v in extra.items() if k.startswith("policy.")
    )
    keep = replications or experiment.replications
    return [
        replace(
            s, scenario_set=s.scenario_set + scenario_extra, policy_set=s.policy_set + policy_extra
        )
        for s in design(experiment)
        if s.replication < keep
    ]


def prepared(
    experiment_file: Path,
    *,
    seed: int | None = None,
    replications: int | None = None,
    overrides: dict[str, Any] | None = None,
) -> tuple[Experiment, list[RunSpec]]:
    """The experiment (with `seed` if given) and its checked specs, before any run."""
    experiment = load_experiment(experiment_file)
    if seed is not None:
        experiment = replace(experiment, seed=seed)
    overrides = overrides or {}
    for key in overrides:
        if not key.startswith(("scenario.", "policy.")):
            raise ConfigError("--set", key, "a path starts with 'scenario.' or 'policy.'")
    specs = specs_for(experiment, replications, overrides)
    for spec in {s.point: s for s in specs}.values():
        validate(spec)
    return experiment, specs


def check(
    experiment: Experiment,
    specs: list[RunSpec],
    reference_dir: Path,
    *,
    workers: int,
    alpha: float,
    threshold: float,
    tiers: tuple[int, ...],
) -> Drift:
    """Measure the specs against the stored reference (a bad one is refused before any run)."""
    old = load_reference(reference_dir, experiment)
    current = measure(specs, workers)
    return compare(
        old,
        current,
        alpha=alpha,
        threshold=threshold,
        response=experiment.response,
        tiers=tiers,
        platform=reference_platform(reference_dir, experiment),
    )


def update(
    experiment: Experiment,
    specs: list[RunSpec],
    reference_dir: Path,
    *,
    workers: int,
    alpha: float,
    threshold: float,
) -> tuple[Path, Drift | None, str]:
    """Measure and store a new reference.

    Returns its path, what moved since the old one (if it could be read), and why the old
    one could not be read ("" if it could, or if there was none).
    """
    old, unreadable = None, ""
    if reference_path(reference_dir, experiment).exists():
        try:
            old = load_reference(reference_dir, experiment)
        except ConfigError as exc:
            unreadable = str(exc)
    current = measure(specs, workers)
    moved = None
    if old is not None:
        moved = compare(
            old, current, alpha=alpha, threshold=threshold, response=experiment.response
        )
    return save_reference(reference_dir, experiment, current), moved, unreadable


def measure(specs: list[RunSpec], workers: int) -> pd.DataFrame:
    """Run the specs; one row each, in design order."""
    executor = choose(None, workers)
    table = rows_for(
        specs, lambda todo: run_all(todo, executor=executor, workers=workers), label="regress"
    )
    return table[
        [
            "label",
            "policy",
            "point",
            "replication",
            "seed",
            *[c for c in table.columns if c in NAMES],
        ]
    ]


def reference_path(folder: Path, experiment: Experiment) -> Path:
    """Where the reference of an experiment is stored."""
    return Path(folder) / f"{experiment.name}.parquet"


def save_reference(folder: Path, experiment: Experiment, table: pd.DataFrame) -> Path:
    """Store the metric table and what produced it."""
    path = reference_path(folder, experiment)
    write_table(table, path)
    meta = {
        "experiment": to_raw(experiment),
        "model_version": model_version(),
        "runs": len(table),
        "platform": fingerprint(),
    }
    atomic_write(
        path.with_suffix(".json"), lambda tmp: tmp.write_text(json.dumps(meta, indent=2) + "\n")
    )
    return path


def load_reference(folder: Path, experiment: Experiment) -> pd.DataFrame:
    """The stored table (ConfigError, exit 2, if there is none)."""
    path = reference_path(folder, experiment)
    if not path.exists():
        raise ConfigError(
            str(path), "", "no reference here; create one with `crowdsim regress --update`"
        )
    table = load_table(path, "make a new reference with `crowdsim regress --update`")
    missing = {"label", "replication", "seed"} - set(table.columns)
    if missing:
        raise ConfigError(
            str(path), "", f"not a reference of this tool: no column {', '.join(sorted(missing))}"
        )
    return table


def reference_platform(folder: Path, experiment: Experiment) -> dict[str, Any]:
    """The platform the reference was made on ({} if its record does not say)."""
    meta = reference_path(folder, experiment).with_suffix(".json")
    try:
        record = json.loads(meta.read_text())
    except (OSError, ValueError):
        return {}
    return (record.get("platform") or {}) if isinstance(record, dict) else {}


def compare(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    *,
    alpha: float,
    threshold: float,
    response: str,
    tiers: tuple[int, ...] = (1, 2),
    platform: dict[str, Any] | None = None,
) -> Drift:
    """Every difference between a stored reference and a new measurement.

    `platform` is the reference's platform record: when it differs from this one in what
    decides the digits, the exact tier is skipped and says why.
    """
    drift = Drift()
    differences = exact_differences(platform) if platform is not None else []
    if 1 in tiers and differences:
        why = "; ".join(differences)
        drift.skipped.append(
            f"Tier 1 (exact) not made: the reference was made on another platform ({why}), "
            "where the same seeds may give other digits; Tier 2 decides"
        )
        tiers = tuple(t for t in tiers if t != 1)
    drift.tiers_run = tiers
    keep = current["replication"].max()
    reference = reference[reference["replication"] <= keep]
    metrics = [
        c
        for c in reference.columns
        if c in current.columns
        and pd.api.types.is_numeric_dtype(reference[c])
        and c not in ("point", "replication", "seed")
    ]
    if 1 in tiers:
        drift.tier1 = _exact(reference, current, metrics)
    if 2 in tiers:
        drift.tier2, drift.checked = _distributions(reference, current, metrics, alpha, threshold)
        drift.ranking = _ranking(reference, current, response, threshold)
    return drift


def _exact(reference: pd.DataFrame, current: pd.DataFrame, metrics: list[str]) -> list[str]:
    ref = reference[reference["replication"] == 0].set_index("label")
    new = current[current["replication"] == 0].set_index("label")
    lines = []
    for label in ref.index:
        if label not in new.index:
            lines.append(f"{label}: missing from the new runs")
            continue
        for metric in metrics:
            old, now = ref.at[label, metric], new.at[label, metric]
            if _same(old, now):
                continue
            change = now - old
            rel = f", {change / old:+.1%}" if old else ""
            lines.append(
                f"{label} (seed {ref.at[label, 'seed']}): {metric} {old:.6g} -> "
                f"{now:.6g} ({change:+.6g}{rel})"
            )
    return lines


def _same(old: float, new: float) -> bool:
    if isinstance(old, float) and math.isnan(old):
        return isinstance(new, float) and math.isnan(new)
    return bool(np.isclose(old, new, rtol=ABS_TOLERANCE, atol=ABS_TOLERANCE))


def _distributions(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    metrics: list[str],
    alpha: float,
    threshold: float,
) -> tuple[list[str], int]:
    lines, checked = [], 0
    for label, ref in reference.groupby("label", sort=False):
        new = current[current["label"] == label]
        for metric in metrics:
            a = ref[metric].dropna().to_numpy(dtype=float)
            b = new[metric].dropna().to_numpy(dtype=float)
            if len(a) < 2 or len(b) < 2 or (np.ptp(np.concatenate([a, b])) == 0):
                continue
            checked += 1
            p = stats.mannwhitneyu(a, b).pvalue
            scale = max(abs(a.mean()), 1e-12)
            rel = (b.mean() - a.mean()) / scale
            if p < alpha and abs(rel) > threshold:
                lines.append(
                    f"{label}: {metric} mean {a.mean():.4g} -> {b.mean():.4g} "
                    f"({rel:+.1%}, Mann-Whitney p = {p:.2g})"
                )
    return lines, checked


def _ranking(
    reference: pd.DataFrame, current: pd.DataFrame, response: str, threshold: float
) -> list[str]:
    """Pairs of policies whose order on the response flipped (clear gaps only)."""
    old = reference.groupby("label", sort=False)[response].mean()
    new = current.groupby("label", sort=False)[response].mean()
    lines = []
    labels = list(old.index)
    for i, a in enumerate(labels):
        for b in labels[i + 1 :]:
            gap = old[a] - old[b]
            if abs(gap) <= threshold * max(abs(old[a]), abs(old[b]), 1e-12):
                continue  # too close to call: not a ranking
            if a in new and b in new and np.sign(new[a] - new[b]) == -np.sign(gap):
                lines.append(
                    f"ranking on {response}: {a} vs {b} reversed "
                    f"({old[a]:.4g} vs {old[b]:.4g} -> {new[a]:.4g} vs {new[b]:.4g})"
                )
    return lines


def report(drift: Drift) -> str:
    """The human-readable verdict: what was checked, what moved."""
    parts = list(drift.skipped)
    for title, lines in (
        ("Tier 1 (exact, replication 0)", drift.tier1),
        ("Tier 2 (distributions)", drift.tier2),
        ("Tier 2 (ranking of policies)", drift.ranking),
    ):
        if lines:
            parts.append(f"{title}: {len(lines)} change(s)")
            parts += [f"  {line}" for line in lines[:50]]
            if len(lines) > 50:
                parts.append(f"  ... and {len(lines) - 50} more")
    ran = []
    if 1 in drift.tiers_run and not drift.tier1:
        ran.append("Tier 1 (exact, replication 0): every metric equal")
    if 2 in drift.tiers_run and not (drift.tier2 or drift.ranking):
        ran.append(
            f"Tier 2 (statistical): ran on {drift.checked} policy-metric pairs and passed "
            "(no shift in distribution, no ranking reversed)"
        )
    parts += ran
    if not drift.drifted:
        parts.append("no drift: the outcomes match the reference")
    return "\n".join(parts)
