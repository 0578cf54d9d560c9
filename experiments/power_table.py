"""The power table of docs/usage.md, from the `power` sweep (results/power/).

    crowdsim sweep experiments/power.toml --workers 2
    python experiments/power_table.py            # prints the table, writes power.csv

For each scale: offenders at work, thefts and arrests per one-day run without police, the
standard deviation of the paired difference in theft rate (integrated - none, same seed),
and the replications a comparison needs for a 95% interval of that difference of +-10% and
+-25% of the no-police theft rate.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from sim.files import atomic_write
from sim.sweep.analysis import replications_for

FOLDER = Path(__file__).resolve().parents[1] / "results" / "power"
RATE = "theft_rate_per_1000_visitors"
FACTOR = "f:scenario.scale"


def power_table(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per scale (see the module docstring)."""
    records = []
    for scale, at_scale in runs.groupby(FACTOR):
        none = at_scale[at_scale["policy"] == "none"].set_index("replication")
        treated = at_scale[at_scale["policy"] != "none"].set_index("replication")
        common = none.index.intersection(treated.index)
        diff = treated.loc[common, RATE] - none.loc[common, RATE]
        base = none[RATE].mean()
        records.append(
            {
                "scale": scale,
                "runs per policy": len(common),
                "offenders at work": none["offender_days"].mean(),
                "thefts (none)": none["thefts_occurred"].mean(),
                "thefts (integrated)": treated["thefts_occurred"].mean(),
                "arrests (integrated)": treated["arrests_total"].mean(),
                "theft rate (none)": base,
                "sd of paired difference": diff.std(ddof=1),
                "runs for +-25%": replications_for(diff.std(ddof=1), 0.25 * base),
                "runs for +-10%": replications_for(diff.std(ddof=1), 0.10 * base),
            }
        )
    return pd.DataFrame(records)


def main() -> None:
    """Print the table as markdown and write it beside the sweep's results."""
    results = FOLDER / "results.parquet"
    if not results.exists():
        sys.exit(f"{results} not found: run `crowdsim sweep experiments/power.toml` first")
    table = power_table(pd.read_parquet(results))
    atomic_write(FOLDER / "power.csv", lambda tmp: table.to_csv(tmp, index=False))
    print(table.to_markdown(index=False, floatfmt=".3g"))


if __name__ == "__main__":
    main()
