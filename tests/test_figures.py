"""Structural checks of the figures: what each axis shows, so a figure cannot silently break.

Each test captures the figure a function would save and reads its axes (labels, limits,
artists), instead of comparing pixels.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.viz import factorial, figures, sensitivity


@pytest.fixture
def captured(monkeypatch):
    """The figures the plotting functions would save, by stem name."""
    saved = {}

    def keep(fig, stem):
        saved[stem.name] = fig
        return [stem.with_suffix(".png")]

    monkeypatch.setattr(figures, "save", keep)
    monkeypatch.setattr(sensitivity, "save", keep)
    monkeypatch.setattr(factorial, "save", keep)
    return saved


def test_posterior_pairs_draw_a_log_uniform_prior_on_a_log_axis(captured, tmp_path):
    pytest.importorskip("pyabc")
    rng = np.random.default_rng(1)
    posterior = pd.DataFrame(
        {
            "offenders.per_100k_visitors": np.exp(rng.normal(np.log(2.5), 0.3, 60)),
            "victims.report_probability": rng.uniform(0.1, 0.5, 60),
            "weight": np.full(60, 1 / 60),
        }
    )
    priors = {
        "offenders.per_100k_visitors": (1.0, 50.0, "loguniform"),
        "victims.report_probability": (0.05, 0.9, "uniform"),
    }
    figures.posterior_pairs(posterior, priors, tmp_path / "pairs", title="t")
    labels = {ax.get_xlabel(): ax.get_xlim() for ax in captured["pairs"].axes if ax.get_xlabel()}
    low, high = labels["log10 per 100k visitors"]
    assert -0.2 < low <= 0.0  # log10 of the prior's 1 to 50, not 1 to 50 on a linear axis
    assert np.log10(50.0) <= high < 2.0
    low, high = labels["report probability"]
    assert low <= 0.05
    assert 0.9 <= high < 1.0


def test_sobol_bars_show_both_indices_per_input_within_0_and_1(captured, tmp_path):
    table = pd.DataFrame(
        {
            "contrast": ["a", "a"],
            "parameter": ["x", "y"],
            "S1": [0.6, -0.02],
            "S1_conf": [0.1, 0.05],
            "ST": [0.7, 0.01],
            "ST_conf": [0.1, 0.02],
        }
    )
    sensitivity.sobol_bars(table, {"x": "input x", "a": "effect a"}, tmp_path / "s", title="t")
    (ax,) = captured["s"].axes
    assert [t.get_text() for t in ax.get_yticklabels()] == ["input x", "y"]
    widths = [p.get_width() for p in ax.patches]
    assert len(widths) == 4  # S1 and ST for each input
    assert min(widths) >= 0  # a negative estimate (noise) is drawn as 0, not below
    assert ax.get_title() == "effect a"


def test_effect_grid_writes_each_cell_and_hatches_the_ones_spanning_0(captured, tmp_path):
    from sim.viz.factorial import effect_grid  # noqa: PLC0415

    grid = pd.DataFrame(
        {
            "offenders per 100k": [10, 10, 40, 40],
            "visitors per day": [75_000, 150_000, 75_000, 150_000],
            "difference": [-0.1, -0.2, -0.4, 0.05],
            "ci_low": [-0.2, -0.3, -0.5, -0.1],
            "ci_high": [0.01, -0.1, -0.3, 0.2],
            "x_factor": "offenders per 100k",
            "y_factor": "visitors per day",
        }
    )
    effect_grid(grid, "theft_rate", tmp_path / "g", title="t")
    ax = captured["g"].axes[0]
    assert ax.get_xlabel() == "offenders per 100k"
    assert [t.get_text() for t in ax.get_yticklabels()] == ["75,000", "150,000"]
    assert len(ax.texts) == 4
    hatched = [p for p in ax.patches if p.get_hatch()]
    assert len(hatched) == 2  # the two cells whose interval spans 0


def test_factor_levels_read_as_words_in_figures():
    from sim.sweep.design import Experiment  # noqa: PLC0415
    from sim.sweep.report import setting_words  # noqa: PLC0415

    experiment = Experiment(
        factors={
            "scenario.offenders.per_100k_visitors": (10.0, 40.0),
            "mix": (
                {"name": "20 posts", "policy.deploy.0.count": 20},
                {"policy.deploy.0.count": 0},
            ),
        }
    )
    row = pd.Series({"f:scenario.offenders.per_100k_visitors": 40.0, "f:mix": 0})
    assert setting_words(experiment, row) == "offenders per 100k visitors 40, 20 posts"
    assert setting_words(experiment, row.replace({0: 1})).endswith("mix 1")


def test_a_map_shows_thefts_per_day_labels_apart_and_no_sea_of_patrol_points(captured, tmp_path):
    import matplotlib as mpl  # noqa: PLC0415

    import sim  # noqa: PLC0415

    result = sim.run("leshan-mayday", "grid", seed=1, days=2, scale=0.05)
    figures.run_figures(result, tmp_path, "grid", "t")
    fig = captured["map"]
    ax, bar = fig.axes
    assert bar.get_ylabel() == "thefts per day"
    dots = ax.collections[1]  # streets, then the places
    assert dots.get_array().max() == result.places["thefts"].max() / 2  # two days
    renderer = fig.canvas.get_renderer()
    names = [t for t in ax.texts if not t.get_text().endswith((" m", " km"))]  # not the bar
    labels = [mpl.text.Text.get_window_extent(t, renderer) for t in names]
    assert len(labels) >= 5
    assert not any(a.overlaps(b) for i, a in enumerate(labels) for b in labels[i + 1 :])
    notes = " ".join(t.get_text() for t in fig.texts)
    assert "patrol-car points not drawn" in notes  # the grid's 342 points
    assert "synthetic street grid" in notes
    assert not any(
        getattr(c, "get_label", lambda: "")() == "patrol car stops" for c in ax.collections
    )


def test_effects_put_every_policy_on_the_axis_with_its_interval_and_the_zero_line(
    captured, tmp_path
):
    paired = pd.DataFrame(
        {
            "label": ["posts", "plainclothes", "integrated"],
            "metric": "theft_rate",
            "difference": [-0.2, -0.05, -0.4],
            "ci_low": [-0.3, -0.1, -0.5],
            "ci_high": [-0.1, 0.01, -0.3],
        }
    )
    figures.effects(paired, "theft_rate", tmp_path / "e", title="t")
    (ax,) = captured["e"].axes
    assert [t.get_text() for t in ax.get_yticklabels()] == ["integrated", "posts", "plainclothes"]
    assert any(line.get_xdata()[0] == 0.0 for line in ax.get_lines())  # no effect, marked
    assert "95% CI" in ax.get_xlabel()


def test_the_predictive_check_marks_held_out_statistics(captured, tmp_path):
    check = pd.DataFrame({"a": np.arange(20.0), "b": np.linspace(0.1, 0.2, 20)})
    figures.predictive_check(
        check, {"a": 3.0, "b": 0.3}, tmp_path / "p", title="t", held_out=("b",)
    )
    fitted, held = captured["p"].axes
    assert fitted.get_xlabel() == "a\n(fitted)"
    assert held.get_xlabel() == "b\n(held out)"
    assert {p.get_facecolor()[:3] for p in held.patches} != {
        p.get_facecolor()[:3] for p in fitted.patches
    }
