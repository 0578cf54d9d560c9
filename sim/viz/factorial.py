"""A two-factor design's effects as a grid: one cell per combination, read with words."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from sim.viz.figures import STYLE, save


def effect_grid(grid: pd.DataFrame, response: str, stem: Path, *, title: str) -> list[Path]:
    """Heat map of the paired effect in each cell, its value and 95% interval written in.

    `grid` has one row per cell: the two factors' values (columns named in `x_factor`,
    `y_factor`), `difference`, `ci_low`, `ci_high`. Cells whose interval spans 0 are hatched:
    no difference found there.
    """
    x_name, y_name = grid["x_factor"].iloc[0], grid["y_factor"].iloc[0]
    xs, ys = sorted(grid[x_name].unique()), sorted(grid[y_name].unique())
    values = np.full((len(ys), len(xs)), np.nan)
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(1.9 * len(xs) + 2.2, 1.1 * len(ys) + 1.4))
        limit = float(np.nanmax(np.abs(grid["difference"]))) or 1.0
        cells = grid.to_dict("records")
        for cell in cells:
            values[ys.index(cell[y_name]), xs.index(cell[x_name])] = cell["difference"]
        image = ax.imshow(values, cmap="RdBu_r", vmin=-limit, vmax=limit, origin="lower")
        for cell in cells:
            i, j = ys.index(cell[y_name]), xs.index(cell[x_name])
            spans = cell["ci_low"] <= 0 <= cell["ci_high"]
            ax.text(
                j,
                i,
                f"{cell['difference']:.2g}\n[{cell['ci_low']:.2g}, {cell['ci_high']:.2g}]",
                ha="center",
                va="center",
                fontsize=8,
                style="italic" if spans else "normal",
                color="white" if abs(cell["difference"]) > 0.6 * limit else "black",
            )
            if spans:
                ax.add_patch(plt.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, hatch="///", lw=0))
        ax.set_xticks(range(len(xs)), [f"{x:,g}" for x in xs])
        ax.set_yticks(range(len(ys)), [f"{y:,g}" for y in ys])
        ax.set_xlabel(x_name)
        ax.set_ylabel(y_name)
        fig.colorbar(
            image,
            ax=ax,
            label=f"difference in {response.replace('_', ' ')}\n(hatched: 95% interval spans 0)",
        )
        ax.set_title(title, fontsize=9)
        return save(fig, stem)
