"""`crowdsim optimise`: finds a known optimum, never breaks the budget, resumes, refuses bad
spaces (exit 2, nothing written)."""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import made_by_an_older_model

from sim.cli import main
from sim.errors import ConfigError
from sim.optimiser import load_space, optimise
from sim.optimiser.space import usage
from sim.optimiser.study import open_study
from sim.policing.policy import load_policy
from sim.scenario import load_scenario

pytest.importorskip("optuna")

POST = """name = "one-post"
[[deploy]]
unit = "uniformed"
count = 1
officers = 4
where = "places"
places = ["{place}"]
movement = "static"
hours = [0.0, 24.0]
"""


ONE_SIGHT = """name = "one-sight"
description = "one sight draws nearly every visitor; two stations and a hotel are quiet"
[city.generate]
seed = 7
rows = 6
cols = 6
spacing_m = 150.0
n_cells = 2
n_patrol_points = 8
n_checkpoints = 2
n_bus_lines = 0
[city.generate.places]
scenic = 1
station = 2
hotel = 1
police_station = 1
[visitors]
per_day = 3000
[offenders]
per_100k_visitors = 400
"""


@pytest.fixture
def one_sight(write_toml):
    """A town where one place holds nearly all the crowd; its places, busiest first."""
    path = write_toml(ONE_SIGHT, "one-sight.toml")
    city = load_scenario(str(path)).city_model()
    return str(path), [city.node_ids[n] for n in city.crowd_rank]


def space_file(
    write_toml, body: str, policy: str = "fixed-posts", scenario: str = "small-town"
) -> str:
    text = f"""name = "t"
scenario = "{scenario}"
policy = "{policy}"
reference = "{policy}"
search_replications = 3
seed = 5
{body}
[reevaluate]
top = 2
replications = 3
"""
    return str(write_toml(text, "space.toml"))


def test_finds_the_place_that_holds_the_crowd(write_toml, tmp_path, one_sight):
    scenario, (busiest, *quiet) = one_sight
    post = write_toml(POST.format(place=quiet[0]), "post.toml")
    choices = ", ".join(f'"{p}"' for p in [*quiet, busiest])
    body = f'trials = 8\n[params]\n"deploy.0.places.0" = {{ choices = [{choices}] }}\n'
    space = space_file(write_toml, body, policy=str(post), scenario=scenario)
    result = optimise(space, tmp_path / "out")
    assert result.best_overrides == {"deploy.0.places.0": busiest}
    assert (tmp_path / "out" / "best_policy.toml").exists()
    best = load_policy(str(tmp_path / "out" / "best_policy.toml"))  # runnable as written
    assert best.deploy[0].places == (busiest,)


def test_a_returned_policy_never_breaks_the_budget(write_toml, tmp_path):
    space = space_file(
        write_toml,
        """trials = 5
[params]
"deploy.0.count" = { low = 0, high = 40, integer = true }
[budget]
officer_hours_per_day = 300
""",
    )
    result = optimise(space, tmp_path / "out")
    assert (result.trials["officer_hours_per_day"] <= 300).all()
    assert usage(load_space(space), result.best_policy)["officer_hours_per_day"] <= 300
    # Optuna numbers the proposals over the budget too; the candidates run are 1..N
    assert result.trials["candidate"].tolist() == [1, 2, 3, 4, 5]
    assert set(result.reevaluation["candidate"]) <= {1, 2, 3, 4, 5}
    assert "| candidate (trial) |" in (tmp_path / "out" / "summary.md").read_text()


def count_space(write_toml, trials: int) -> str:
    """A space searching only the number of posts."""
    count = '"deploy.0.count" = { low = 1, high = 20, integer = true }'
    return space_file(write_toml, f"trials = {trials}\n[params]\n{count}\n")


def test_a_killed_study_resumes(write_toml, tmp_path):
    space = count_space(write_toml, trials=2)
    out = tmp_path / "out"
    optimise(space, out)
    study = open_study(load_space(space), out)
    study.ask()  # a trial left running, as by a kill
    resumed = optimise(space, out, trials=4)
    assert len(resumed.trials) == 4
    states = pd.Series([t.state.name for t in open_study(load_space(space), out).trials])
    assert "RUNNING" not in set(states)
    assert (states == "FAIL").sum() >= 1


def test_a_forced_study_over_another_model_starts_afresh(write_toml, tmp_path):
    """Trials scored by another model version (or other settings) are never reused."""
    space = count_space(write_toml, trials=3)
    out = tmp_path / "out"
    optimise(space, out)
    made_by_an_older_model(out)
    with pytest.raises(ConfigError, match="another model version"):
        optimise(space, out)
    again = optimise(space, out, trials=2, force=True)
    assert len(again.trials) == 2  # not the 3 old trials plus new ones
    assert len(open_study(load_space(space), out).trials) == 2


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ('[params]\n"deploy.0.colour" = { low = 1, high = 2 }\n', "params.deploy.0.colour"),
        ('[params]\n"deploy.0.count" = { low = 5, high = 5 }\n', "params.deploy.0.count"),
        ('[params]\n"deploy.0.count" = { low = 0, high = inf }\n', "params.deploy.0.count.high"),
        (
            '[params]\n"deploy.0.count" = { low = -3, high = 5, integer = true }\n',
            "params.deploy.0.count",
        ),
        (
            '[params]\n"deploy.0.count" = { low = 10, high = 20, integer = true }\n'
            "[budget]\nofficer_hours_per_day = 10\n",
            "budget",
        ),
        (
            '[[objectives]]\nmetric = "happiness"\n'
            '[params]\n"deploy.0.count" = { low = 1, high = 2 }\n',
            "objectives[0].metric",
        ),
    ],
)
def test_bad_spaces_exit_2_naming_file_and_field(write_toml, tmp_path, body, field):
    space = space_file(write_toml, body)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["optimise", space, "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert field in result.output
    assert "space.toml" in result.output
    assert not out.exists()


def test_an_uninterrupted_study_is_reproducible(write_toml, tmp_path):
    space = space_file(
        write_toml,
        'trials = 3\n[params]\n"deploy.0.count" = { low = 1, high = 20, integer = true }\n',
    )
    first = optimise(space, tmp_path / "a").trials
    second = optimise(space, tmp_path / "b").trials
    pd.testing.assert_frame_equal(first, second)


def test_several_objectives_give_a_pareto_front(write_toml, tmp_path):
    space = space_file(
        write_toml,
        'trials = 4\n[[objectives]]\nmetric = "theft_rate_per_1000_visitors"\n'
        '[[objectives]]\nmetric = "arrests_total"\ndirection = "maximize"\n'
        '[params]\n"deploy.0.count" = { low = 1, high = 20, integer = true }\n',
        policy="plainclothes",
    )
    result = optimise(space, tmp_path / "out")
    assert {"theft_rate_per_1000_visitors", "arrests_total"} <= set(result.trials.columns)
    assert (tmp_path / "out" / "pareto.png").exists()
    assert set(result.reevaluation["metric"]) == {"theft_rate_per_1000_visitors", "arrests_total"}


def test_an_objective_that_is_never_defined_stops_with_a_clear_error(write_toml, tmp_path):
    space = space_file(  # fixed posts staff no checkpoint: no checks per arrest, ever
        write_toml,
        'trials = 3\n[[objectives]]\nmetric = "checks_per_arrest"\n'
        '[params]\n"deploy.0.count" = { low = 1, high = 20, integer = true }\n',
    )
    result = CliRunner().invoke(main, ["optimise", space, "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "objectives" in result.output
    assert "undefined" in result.output


def test_the_package_says_its_version_and_offers_optimise():
    import sim  # noqa: PLC0415

    assert sim.__version__
    assert sim.optimise is optimise


def test_a_damaged_study_database_is_refused_and_kept(write_toml, tmp_path):
    space = count_space(write_toml, trials=2)
    out = tmp_path / "out"
    optimise(space, out)
    db = out / "study.db"
    db.write_bytes(db.read_bytes()[:2048])  # truncated, as by a full disk
    before = db.read_bytes()
    outcome = CliRunner().invoke(main, ["optimise", str(space), "--out", str(out)])
    assert outcome.exit_code == 2, outcome.output
    assert "damaged database" in outcome.output
    assert str(db) in outcome.output
    assert db.read_bytes() == before


def test_candidates_that_combine_into_an_invalid_policy_are_pruned_with_the_reason(
    write_toml, tmp_path
):
    """Each value is valid alone; a shift from 14 h to 14 h is not: skipped, never exit 2."""
    space = space_file(
        write_toml,
        "trials = 4\n[params]\n"
        '"deploy.0.hours.0" = { choices = [8.0, 14.0] }\n'
        '"deploy.0.hours.1" = { choices = [14.0, 22.0] }\n',
    )
    out = tmp_path / "out"
    result = optimise(space, out)
    assert len(result.trials) == 4
    trials = open_study(load_space(space), out).trials
    pruned = [t for t in trials if t.state.name == "PRUNED"]
    assert pruned, "the sampler never proposed [14, 14] in this seed: choose another"
    for trial in pruned:
        assert trial.params["deploy.0.hours.0"] == trial.params["deploy.0.hours.1"] == 14.0
        assert "hours" in trial.user_attrs["invalid"]
    assert not any(
        t.params["deploy.0.hours.0"] == t.params["deploy.0.hours.1"]
        for t in trials
        if t.state.name == "COMPLETE"
    )


def fake_posterior(folder, values: list[float]) -> str:
    """A calibration folder of small-town whose particles differ in the offender rate."""
    import json  # noqa: PLC0415

    from sim.output import write_table  # noqa: PLC0415

    folder.mkdir()
    name = "offenders.per_100k_visitors"
    targets = {"scenario": "small-town", "params": {name: {}}}
    (folder / "manifest.json").write_text(json.dumps({"targets": targets, "scale": 1.0}))
    weights = [1.0 / len(values)] * len(values)
    write_table(pd.DataFrame({name: values, "weight": weights}), folder / "posterior.parquet")
    return str(folder)


def test_candidates_are_scored_across_posterior_draws_and_fresh_runs_use_fresh_draws(
    write_toml, tmp_path
):
    import json  # noqa: PLC0415

    import sim  # noqa: PLC0415
    from sim.batch.runs import replication_seeds  # noqa: PLC0415
    from sim.config import to_raw  # noqa: PLC0415
    from sim.optimiser.space import policy_with  # noqa: PLC0415

    posterior = fake_posterior(tmp_path / "calibration", [150.0, 900.0, 2400.0])
    body = f"""trials = 2
posterior = "{posterior}"
draws = 3
[params]
"deploy.0.count" = {{ low = 1, high = 20, integer = true }}
"""
    result = optimise(space_file(write_toml, body), tmp_path / "out")
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    drawn = manifest["search_draws"]
    assert len(drawn) == 3
    assert len(manifest["fresh_draws"]) == 3  # a fresh draw for each fresh seed
    assert manifest["fresh_draws"] != drawn
    first = result.trials.iloc[0]
    overrides = {"deploy.0.count": int(first["param:deploy.0.count"])}
    policy = policy_with(to_raw(load_policy("fixed-posts")), overrides, "test")
    scored = [
        sim.run("small-town", policy, seed=seed, days=1, overrides=values).metrics[
            "theft_rate_per_1000_visitors"
        ]
        for values in drawn
        for seed in replication_seeds(5, 3)
    ]
    assert first["theft_rate_per_1000_visitors"] == pytest.approx(sum(scored) / len(scored))
    # the best is picked among the re-evaluated: its interval is Bonferroni-adjusted
    assert result.reevaluation["difference_ci_level"].iloc[0] == pytest.approx(1 - 0.05 / 2)


def test_draws_without_a_posterior_are_refused(write_toml):
    count = '"deploy.0.count" = { low = 1, high = 5, integer = true }'
    body = f"trials = 2\ndraws = 3\n[params]\n{count}\n"
    with pytest.raises(ConfigError, match="draws need a posterior"):
        load_space(space_file(write_toml, body))
