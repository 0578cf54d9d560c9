"""Which uncertain inputs decide a policy effect: contrasts per point and their Sobol indices.

A sweep with a Saltelli design (`space.method = "saltelli"`) and `[[contrasts]]` runs every
policy at every point with the same seeds, so a contrast (a policy effect, or which of two
policies does more) is a paired difference at each point. Its variance over the design is
split by SALib into first-order indices (the share one input explains alone) and total
indices (alone and in interactions), each with a bootstrap interval.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.errors import ConfigError
from sim.sweep.design import SAMPLE_KEY, Contrast, Experiment, sensitivity_problem

SAMPLE = f"f:{SAMPLE_KEY}"


def input_names(experiment: Experiment) -> list[str]:
    """The varied inputs (dotted paths), in the design's order."""
    return list(experiment.space.ranges or {}) if experiment.space else []


def point_inputs(experiment: Experiment, points: pd.DataFrame) -> pd.DataFrame:
    """Each sampled point's inputs (columns: the dotted paths), indexed by sample."""
    names = input_names(experiment)
    inputs = points.groupby(SAMPLE)[[f"f:{n}" for n in names]].first()
    return inputs.rename(columns=lambda c: c.removeprefix("f:"))


def check_complete(experiment: Experiment, points: int, what: str) -> None:
    """Sobol indices need every point of the Saltelli design (`what` names the outcome)."""
    space = experiment.space
    expected = space.samples * (len(input_names(experiment)) + 2)
    if space.method != "saltelli" or points != expected:
        raise ConfigError(
            experiment.source_file,
            "space",
            f"{what}: Sobol indices need the complete Saltelli design: {points} of "
            f"{expected} points are done (run the sweep again to finish it)",
        )


def sobol_analysis(
    experiment: Experiment, y: np.ndarray, what: str, resamples: int = 100
) -> dict[str, np.ndarray]:
    """SALib's first-order and total indices of `y`, with bootstrap intervals.

    `y` has one value per point of the complete Saltelli design, in the sampler's order.
    """
    from SALib.analyze import sobol  # noqa: PLC0415 - optional [sa] extra

    check_complete(experiment, len(y), what)
    names = input_names(experiment)
    bounds = np.array([experiment.space.ranges[n] for n in names], dtype=float)
    problem = sensitivity_problem(names, bounds[:, 0], bounds[:, 1])
    # SALib seeds its bootstrap only for a truthy seed: 0 would leave the intervals unseeded
    seed = experiment.space.seed + 1
    return sobol.analyze(problem, y, calc_second_order=False, num_resamples=resamples, seed=seed)


def contrast_values(experiment: Experiment, rows: pd.DataFrame) -> pd.DataFrame:
    """One row per point of the space: its inputs and each contrast (mean over seeds)."""
    points = rows[rows[SAMPLE].notna()]
    frame = point_inputs(experiment, points)
    for contrast in experiment.contrasts:
        frame[contrast.name] = _contrast(points, contrast).groupby(level=0).mean()
    frame.index = frame.index.astype(int)
    return frame.sort_index().rename_axis("sample").reset_index()


def _contrast(points: pd.DataFrame, c: Contrast) -> pd.Series:
    """The contrast at each (sample, replication), paired by seed."""
    effect = _effect(points, c.policy, c)
    if c.minus:
        effect = effect - _effect(points, c.minus, c)
    return effect


def _effect(points: pd.DataFrame, policy: str, c: Contrast) -> pd.Series:
    def arm(name: str, column: str) -> pd.Series:
        runs = points[points["policy"] == name]
        return runs.set_index([SAMPLE, "replication"])[column].astype(float)

    treated, versus = arm(policy, c.metric), arm(c.versus, c.metric)
    if c.kind == "difference":
        return treated - versus
    hours = arm(policy, "officer_hours")
    return 100.0 * (versus - treated) / hours.where(hours > 0)


def sobol_of_contrasts(experiment: Experiment, values: pd.DataFrame) -> pd.DataFrame:
    """First-order and total indices (95% bootstrap intervals) of each contrast (SALib)."""
    check_complete(experiment, len(values), "contrasts")
    names = input_names(experiment)
    records = []
    for contrast in experiment.contrasts:
        y = values[contrast.name].to_numpy(dtype=float)
        finite = bool(np.isfinite(y).all()) and bool(np.std(y) > 0)  # no variance: no shares
        result = sobol_analysis(experiment, y, contrast.name, resamples=1000) if finite else None
        for i, name in enumerate(names):
            records.append(
                {
                    "contrast": contrast.name,
                    "parameter": name,
                    "S1": result["S1"][i] if finite else np.nan,
                    "S1_conf": result["S1_conf"][i] if finite else np.nan,
                    "ST": result["ST"][i] if finite else np.nan,
                    "ST_conf": result["ST_conf"][i] if finite else np.nan,
                    "contrast_mean": float(np.mean(y)),
                    "contrast_sd": float(np.std(y, ddof=1)),
                    "share_below_0": float(np.mean(y < 0)),
                    "points": int(np.isfinite(y).sum()),
                }
            )
    return pd.DataFrame(records)
