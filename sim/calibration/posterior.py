"""A finished calibration's posterior, read back for policy comparisons under it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sim.calibration.fit import draw
from sim.errors import ConfigError
from sim.output import read_table

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
    if missing or particles.empty or not (particles["weight"] >= 0).all():
        raise ConfigError(
            "--posterior", str(table), f"not a posterior table (missing {missing or 'weights'})"
        )
    return Posterior(folder, str(targets["scenario"]), scale, particles, names)
