"""The scale table of docs/calibration.md, from the `calibration-scale` sweep.

    crowdsim sweep experiments/calibration-scale.toml --workers 2
    python experiments/calibration_scale_table.py    # prints the table, writes scale.csv

For each scale, at default parameters: the mean and run-to-run standard deviation of the
whole-city equivalents (count / scale) of the calibration's counts under the integrated
deployment, and the response-time reduction (on all calls) of the grid deployment against
centralised response (paired by seed). A statistic whose mean does not drift with scale can
be fitted at a reduced scale; its spread says how noisy one particle's value is.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from sim.files import atomic_write

FOLDER = Path(__file__).resolve().parents[1] / "results" / "calibration-scale"
SCALE = "f:scenario.scale"
COUNTS = ("thefts_cleared", "offenders_arrested", "arrests_total", "bus_thefts")


def scale_table(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per scale (see the module docstring)."""
    records = []
    for scale, at_scale in runs.groupby(SCALE):
        integrated = at_scale[at_scale["policy"] == "integrated"]
        record: dict[str, float | int] = {"scale": scale, "runs": len(integrated)}
        for metric in COUNTS:
            whole_city = integrated[metric] / scale
            record[f"{metric} / scale"] = whole_city.mean()
            record[f"sd of {metric} / scale"] = whole_city.std(ddof=1)
        by_seed = at_scale.pivot_table(
            index="replication", columns="policy", values="response_all_mean_min"
        )
        reduction = 1 - by_seed["grid"] / by_seed["centralised-response"]
        record["grid response reduction"] = reduction.mean()
        record["sd of reduction"] = reduction.std(ddof=1)
        records.append(record)
    return pd.DataFrame(records)


def main() -> None:
    """Print the table as markdown and write it beside the sweep's results."""
    results = FOLDER / "results.parquet"
    if not results.exists():
        sys.exit(f"{results} not found: run `crowdsim sweep experiments/calibration-scale.toml`")
    table = scale_table(pd.read_parquet(results))
    atomic_write(FOLDER / "scale.csv", lambda tmp: table.to_csv(tmp, index=False))
    print(table.to_markdown(index=False, floatfmt=".3g"))


if __name__ == "__main__":
    main()
