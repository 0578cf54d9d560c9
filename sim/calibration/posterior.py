"""A finished calibration's posterior, read back for policy comparisons under it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.calibration.fit import draw
from sim.errors import ConfigError
from sim.output import read_table
from sim.scenario import Scenario, with_overrides

POSTERIOR_SEED_OFFSET = 9_000_011
"""Draws for a comparison come from seed + this (not the predictive check's draws)."""


@dataclass(frozen=True)
class Posterior:
    """Weighted particles over scenario field paths, and where they came from."""

    folder: Path
    scenario: str
    scale: float
    particles: pd.DataFrame
    names: tuple[str, ...]

    def draws(self, n: int, seed: int) -> pd.DataFrame:
        """`n` parameter sets resampled by weight (seeded)."""
        return draw(self.particles, list(self.names), n, seed + POSTERIOR_SEED_OFFSET)


def load_posterior(folder: str | Path) -> Posterior:
    """Read `posterior.parquet` and `manifest.json` of a calibration folder (exit 2 if unusable)."""
    folder = Path(folder)
    manifest_path, table = folder / "manifest.json", folder / "posterior.parquet"
    for path in (manifest_path, table):
        if not path.is_file():
            raise ConfigError(
                "--posterior", str(path), "not found: give the folder of a finished calibration"
            )
    try:
        manifest = json.loads(manifest_path.read_text())
        targets = manifest["targets"]
        particles = read_table(table)
        names = tuple(targets["params"])
        scale = float(manifest["scale"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError("--posterior", str(folder), f"unreadable calibration: {exc}") from None
    missing = [n for n in (*names, "weight") if n not in particles.columns]
    if missing or particles.empty:
        raise ConfigError(
            "--posterior", str(table), f"not a posterior table (missing {missing or 'particles'})"
        )
    for column in (*names, "weight"):
        values = particles[column]
        if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            raise ConfigError(
                "--posterior", f"{table}: {column}", f"holds {values.dtype} values, not numbers"
            )
        if not np.isfinite(values.to_numpy(dtype=float)).all():
            raise ConfigError(
                "--posterior", f"{table}: {column}", "holds values that are not finite"
            )
    weights = particles["weight"].to_numpy(dtype=float)
    if (weights < 0).any() or weights.sum() <= 0:
        raise ConfigError(
            "--posterior", f"{table}: weight", "weights must be at least 0 and not all 0"
        )
    return Posterior(folder, str(targets["scenario"]), scale, particles, names)


def check_draws(posterior: Posterior, drawn: pd.DataFrame, scenario: Scenario) -> None:
    """Every drawn parameter set must be a valid scenario: a bad value names the posterior."""
    source = str(posterior.folder / "posterior.parquet")
    for i, values in enumerate(drawn.drop_duplicates().to_dict("records")):
        try:
            with_overrides(scenario, values)
        except ConfigError as exc:
            raise ConfigError(
                "--posterior", source, f"draw {i}: {exc.field}: {exc.message}"
            ) from None
