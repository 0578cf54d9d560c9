"""Policies as data: presets load and run, validation, budgets, common random numbers."""

from __future__ import annotations

import subprocess
import sys

import pytest

import sim
from sim.errors import ConfigError
from sim.policing.cost import budget_overrides, officer_hours_per_day
from sim.policing.policy import DEFAULT_COMPARISON, load_policy, policy_names
from sim.scenario import load_scenario


@pytest.fixture(scope="module")
def town():
    return load_scenario("small-town")


def test_the_default_comparison_names_existing_presets():
    assert set(DEFAULT_COMPARISON) <= set(policy_names())


@pytest.mark.parametrize("name", policy_names())
def test_preset_runs_and_reports_its_cost(town, name):
    policy = load_policy(name)
    result = sim.run(town, policy, seed=3)
    m = result.metrics
    checkpoints = int(town.city_model().checkpoint.sum())
    assert m["officer_hours"] == pytest.approx(
        officer_hours_per_day(policy, checkpoints) * town.days
    )
    assert m["thefts_attempted"] > 0
    staffed = any(d.unit != "drone" and d.count for d in policy.deploy)
    assert (m["officer_hours"] > 0) == (staffed or policy.checkpoints)
    drones = any(d.unit == "drone" and d.count for d in policy.deploy)
    assert (m["drone_hours"] > 0) == drones


@pytest.mark.parametrize("name", policy_names())
def test_common_random_numbers_under_every_preset(town, name):
    base = sim.run(town, "none", seed=11)
    other = sim.run(town, name, seed=11)
    assert other.metrics["visitors"] == base.metrics["visitors"]
    assert other.metrics["offenders_in_pool"] == base.metrics["offenders_in_pool"]
    would_work = ("offender_days", "offender_days_lost_to_arrest")
    assert sum(other.metrics[k] for k in would_work) == base.metrics["offender_days"]
    assert other.places["visits"].equals(base.places["visits"])


def test_bad_policy_field_names_file_and_field(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('name = "x"\n[[deploy]]\nunit = "uniformed"\nwhere = "moon"\n')
    with pytest.raises(ConfigError) as info:
        load_policy(str(path))
    assert info.value.file == str(path)
    assert info.value.field == "deploy[0].where"
    assert "top_crowded" in info.value.message
    result = subprocess.run(
        [sys.executable, "-m", "sim.cli", "validate", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "deploy[0].where" in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_place_label_is_bad_input(town, tmp_path):
    path = tmp_path / "places.toml"
    path.write_text('[[deploy]]\nunit = "uniformed"\nwhere = "places"\nplaces = ["Atlantis"]\n')
    with pytest.raises(ConfigError, match="'Atlantis' is neither a node id nor a place label"):
        sim.run(town, str(path), seed=1)


def test_budget_scales_every_staffed_policy_to_the_same_hours(town):
    checkpoints = int(town.city_model().checkpoint.sum())
    target = 400.0
    for name in ("fixed-posts", "plainclothes", "grid", "integrated"):
        policy = load_policy(name)
        scaled = load_policy(name, budget_overrides(policy, checkpoints, target))
        hours = officer_hours_per_day(scaled, checkpoints)
        largest_unit = max(d.officers * (d.hours[1] - d.hours[0]) for d in policy.deploy)
        assert abs(hours - target) <= len(policy.deploy) * largest_unit
    assert budget_overrides(load_policy("cctv-drones"), checkpoints, target) == {}
