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


PRIORS = {
    "offenders.per_100k_visitors": (1.0, 50.0, "loguniform"),
    "victims.report_probability": (0.05, 0.9, "uniform"),
}
"""A log-uniform and a uniform prior, as a calibration's targets file gives them."""


def posterior_sample(n: int, seed: int) -> pd.DataFrame:
    """Equally weighted particles: offenders around 2.5 per 100k, reporting 0.1-0.5."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "offenders.per_100k_visitors": np.exp(rng.normal(np.log(2.5), 0.3, n)),
            "victims.report_probability": rng.uniform(0.1, 0.5, n),
            "weight": np.full(n, 1 / n),
        }
    )


def test_posterior_pairs_draw_a_log_uniform_prior_on_a_log_axis(captured, tmp_path):
    pytest.importorskip("pyabc")
    figures.posterior_pairs(posterior_sample(60, 1), PRIORS, tmp_path / "pairs", title="t")
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


def test_dose_response_draws_a_line_and_band_per_policy_on_the_factor_in_words(captured, tmp_path):
    main = pd.DataFrame(
        {
            "policy": ["a"] * 3 + ["b"] * 3,
            "level": [5, 10, 15] * 2,
            "mean": [1.0, 0.8, 0.7, 1.2, 1.1, 1.0],
            "ci_low": [0.9, 0.7, 0.6, 1.1, 1.0, 0.9],
            "ci_high": [1.1, 0.9, 0.8, 1.3, 1.2, 1.1],
        }
    )
    figures.dose_response(main, "theft_rate", tmp_path / "dose", "stop length (min)")
    (ax,) = captured["dose"].axes
    assert ax.get_xlabel() == "stop length (min)"
    assert [line.get_label() for line in ax.get_lines()] == ["a", "b"]
    assert len(ax.collections) == 2  # one interval band per policy
    assert list(ax.get_lines()[0].get_xdata()) == [5, 10, 15]


def test_estimates_put_categories_on_the_axis_with_their_intervals_and_reference(
    captured, tmp_path
):
    table = pd.DataFrame(
        {"x": ["posts", "cars"], "value": [0.2, -0.1], "low": [0.1, -0.3], "high": [0.3, 0.1]}
    )
    figures.estimates(
        table, tmp_path / "est", xlabel="arm", ylabel="effect", title="t", reference=0.0
    )
    (ax,) = captured["est"].axes
    assert [t.get_text() for t in ax.get_xticklabels()] == ["posts", "cars"]
    assert any(list(line.get_ydata()) == [0.0, 0.0] for line in ax.get_lines())  # reference
    bars = ax.containers[0]  # the error bars span each interval
    segments = bars.lines[2][0].get_segments()
    assert [tuple(np.round(s[:, 1], 6)) for s in segments] == [(0.1, 0.3), (-0.3, 0.1)]


def test_lorenz_curves_start_at_0_end_at_100_and_skip_an_empty_null(captured, tmp_path):
    figures.lorenz(
        np.array([5.0, 3.0, 1.0, 1.0]), np.zeros(4), tmp_path / "lz", unit="places", title="t"
    )
    (ax,) = captured["lz"].axes
    curves = [line for line in ax.get_lines() if len(line.get_xdata()) > 2]
    assert len(curves) == 1  # no thefts under the null: nothing drawn for it
    y = curves[0].get_ydata()
    assert y[0] == 0.0
    assert y[-1] == pytest.approx(100.0)
    assert y[1] == pytest.approx(50.0)  # the top place holds half the thefts


def test_hourly_profile_has_thefts_visitors_and_risk_by_hour(captured, tmp_path):
    hourly = pd.DataFrame(
        {"hour": range(24), "thefts": range(24), "visitors": range(24), "risk": np.ones(24)}
    )
    figures.hourly_profile(hourly, tmp_path / "hp", title="t")
    labels = {ax.get_ylabel() for ax in captured["hp"].axes}
    assert {"thefts per hour (all runs)", "thefts per 1,000 visitor-hours"} <= labels
    assert len(captured["hp"].axes[0].patches) == 24  # a bar per hour


def test_optimisation_history_numbers_candidates_from_1_and_steps_down_to_the_best(
    captured, tmp_path
):
    trials = pd.DataFrame({"candidate": [1, 2, 3, 4], "rate": [0.5, 0.7, 0.3, 0.4]})
    figures.optimisation_history(
        trials, "rate", tmp_path / "hist", minimise=True, reference=0.6, title="t"
    )
    (ax,) = captured["hist"].axes
    best = next(line for line in ax.get_lines() if line.get_label() == "best so far")
    assert list(best.get_ydata()) == [0.5, 0.5, 0.3, 0.3]
    assert list(best.get_xdata()) == [1, 2, 3, 4]


def test_pareto_front_joins_only_the_non_dominated_candidates(captured, tmp_path):
    trials = pd.DataFrame({"thefts": [1.0, 2.0, 3.0, 2.5], "hours": [3.0, 2.0, 1.0, 2.5]})
    figures.pareto_front(
        trials,
        "thefts",
        "hours",
        tmp_path / "pf",
        directions=("minimize", "minimize"),
        reference=(2.0, 2.0),
        title="t",
    )
    (ax,) = captured["pf"].axes
    front = next(line for line in ax.get_lines() if line.get_label() == "Pareto front")
    assert list(front.get_xdata()) == [1.0, 2.0, 3.0]  # (2.5, 2.5) is dominated


@pytest.mark.parametrize("policies", [2, 6])
def test_time_series_reads_hours_of_the_day_with_one_line_or_panel_per_policy(
    captured, tmp_path, policies
):
    minutes = np.arange(0, 2 * 1440 + 1, 60.0)
    frame = pd.DataFrame(
        {
            "minute": minutes,
            "visitors_present": np.ones(len(minutes)),
            "thefts": np.ones(len(minutes)),
            "arrests": np.zeros(len(minutes)),
        }
    )
    series = {f"p{i}": frame for i in range(policies)}
    figures.time_series(series, tmp_path / "ts", title="t")
    fig = captured["ts"]
    if policies <= figures.SMALL_MULTIPLES_ABOVE:
        top, bottom = fig.axes
        assert [line.get_label() for line in top.get_lines()] == list(series)
        ticks = [t.get_text() for t in bottom.get_xticklabels()]
        assert ticks[:2] == ["day 1\n00:00", "06:00"]
    else:
        assert len(fig.axes) == policies + 1  # the crowd above, a panel per policy
        assert {ax.get_title() for ax in fig.axes[1:]} == set(series)


def test_the_apps_map_has_the_heat_layer_and_a_legend_entry_per_kind_of_unit():
    app = pytest.importorskip("sim.viz.app")
    session = app.Session(app.Controls.of_policy("small-town", "fixed-posts", scale=1.0))
    session.advance(20 * 60.0)
    assert session.model.crime.thefts_at_node.sum() > 0
    fig = app.city_map(session.model)
    ax = fig.axes[0]
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    for kind in app.KINDS:
        assert any(label.startswith(kind.replace("_", " ")) for label in labels), kind
    assert len(ax.images) == 1  # the heat layer
    assert ax.get_xlabel().startswith("synthetic street layout")  # small-town has no CRS
    session.release()


def test_the_apps_map_keeps_a_real_citys_projected_coordinates():
    app = pytest.importorskip("sim.viz.app")
    session = app.Session(app.Controls.of_policy("milan-duomo", "none", scale=0.05))
    ax = app.city_map(session.model).axes[0]
    assert ax.get_xlabel() == "easting (m, EPSG:32632)"
    low, high = ax.get_xlim()
    assert 500_000 < low < high < 530_000  # UTM zone 32 eastings around the cathedral
    session.release()


def test_posterior_marginals_show_each_prior_range_and_its_flat_density(captured, tmp_path):
    pytest.importorskip("pyabc")
    figures.posterior_marginals(posterior_sample(80, 2), PRIORS, tmp_path / "marg", title="t")
    first, second = captured["marg"].axes
    assert first.get_xlabel() == "log10 per 100k visitors"
    assert first.get_xlim() == pytest.approx((0.0, np.log10(50.0)), abs=0.05)
    flat = [line for line in second.get_lines() if len(set(line.get_ydata())) == 1]
    assert flat[0].get_ydata()[0] == pytest.approx(1 / 0.85)  # the uniform prior's density
