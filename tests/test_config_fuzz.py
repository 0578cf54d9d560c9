"""The config loader under random wrong input: a clean ConfigError or a valid config, never
anything else (no TypeError, KeyError or numpy error from deep inside)."""

from __future__ import annotations

import copy
import functools
import math
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.calibration.targets import Targets, load_targets
from sim.config import build
from sim.errors import ConfigError
from sim.optimiser.space import Space, load_space
from sim.params import iter_params
from sim.policing.policy import Policy, load_policy
from sim.scenario import Scenario, load_scenario
from sim.sweep.design import Experiment

tomli_w = pytest.importorskip("tomli_w", reason="the [optimise] extra writes TOML")

SCENARIO_PATHS = [name for name, _, _ in iter_params(Scenario) if not name.startswith("city.")]
POLICY_PATHS = [
    "dispatch.delay_min",
    "cameras.monitoring",
    "deploy.0.count",
    "deploy.0.officers",
    "deploy.0.hours",
    "deploy.0.where",
    "deploy.0.movement",
    "deploy.0.dwell_min",
    "checkpoints",
]


def _outcome(load):
    """What loading gives: the config, or the ConfigError it raised (any other error fails)."""
    try:
        return load()
    except ConfigError as exc:
        return exc


wrong = st.one_of(
    st.sampled_from([math.nan, math.inf, -math.inf, -1, -1e300, 1e300, 0, True, "", "x"]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.text(max_size=5),
    st.lists(st.one_of(st.floats(allow_nan=True), st.integers(), st.text(max_size=3)), max_size=30),
    st.dictionaries(st.text(max_size=5), st.floats(allow_nan=True), max_size=3),
    st.booleans(),
)
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(path=st.sampled_from(SCENARIO_PATHS), value=wrong)
def test_scenario_overrides_give_a_config_error_or_a_config(path, value):
    outcome = _outcome(lambda: load_scenario("small-town", {path: value}))
    assert isinstance(outcome, Scenario | ConfigError)


@FUZZ
@given(path=st.sampled_from(POLICY_PATHS), value=wrong)
def test_policy_overrides_give_a_config_error_or_a_config(path, value):
    outcome = _outcome(lambda: load_policy("integrated", {path: value}))
    assert isinstance(outcome, Policy | ConfigError)


raw_tables = st.recursive(
    wrong,
    lambda children: st.dictionaries(
        st.sampled_from(
            [
                "name",
                "scenario",
                "policies",
                "replications",
                "seed",
                "days",
                "scale",
                "factors",
                "space",
                "params",
                "observed",
                "abc",
                "low",
                "high",
            ]
        ),
        children,
        max_size=5,
    ),
    max_leaves=12,
)


@FUZZ
@given(raw=raw_tables)
def test_experiment_and_targets_files_give_a_config_error_or_a_config(raw):
    for schema in (Experiment, Targets):
        outcome = _outcome(lambda schema=schema: build(schema, raw, file="fuzz.toml"))
        assert isinstance(outcome, schema | ConfigError)
        if isinstance(outcome, ConfigError):
            assert outcome.file == "fuzz.toml"


GOOD_TARGETS = {
    "name": "t",
    "scenario": "small-town",
    "policy": "integrated",
    "scale": 0.2,
    "days": 1,
    "replications": 1,
    "check_draws": 4,
    "params": {
        "offenders.per_100k_visitors": {"distribution": "normal", "mean": 20.0, "sd": 5.0}
        | {"low": 5.0, "high": 40.0}
    },
    "observed": [
        {"name": "thefts", "metric": "thefts_occurred", "value": 5, "scale": 2}
        | {"source": "made up", "statistic": "full_city"},
        {"name": "fewer", "metric": "thefts_occurred", "value": 0.2, "scale": 0.1}
        | {"source": "made up", "statistic": "reduction", "versus": "none", "days": 1},
    ],
    "abc": {"population": 10, "generations": 2, "max_simulations": 100, "min_acceptance": 0.1},
}
GOOD_SPACE = {
    "name": "o",
    "scenario": "small-town",
    "policy": "integrated",
    "reference": "integrated",
    "scale": 0.2,
    "days": 1,
    "trials": 4,
    "search_replications": 2,
    "params": {
        "deploy.0.count": {"low": 0, "high": 4, "integer": True},
        "deploy.0.dwell_min": {"low": 5.0, "high": 30.0},
        "deploy.0.hours.1": {"choices": [18.0, 22.0]},
    },
    "objectives": [{"metric": "theft_rate_per_1000_visitors", "direction": "minimize"}],
    "reevaluate": {"top": 1, "replications": 2},
}
oversized = st.sampled_from([10**6, 10**9, 10**12, 10**18, 1e12, 1e300, -(10**12)])


def _leaves(raw, at=()):
    """Every path to a value of a nested table (list items by index), tables included."""
    found = [at] if at else []
    items = (
        raw.items() if isinstance(raw, dict) else enumerate(raw) if isinstance(raw, list) else ()
    )
    for key, value in items:
        found += _leaves(value, (*at, key))
    return found


def _damaged(good: dict, data) -> dict:
    """`good` with one value replaced by a wrong or oversized one, or removed."""
    raw = copy.deepcopy(good)
    path = data.draw(st.sampled_from(_leaves(good)))
    parent = functools.reduce(lambda node, key: node[key], path[:-1], raw)
    if data.draw(st.booleans(), label="remove") and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = data.draw(st.one_of(wrong, oversized), label="value")
    return raw


def _load_written(raw: dict, load, name: str):
    """Write `raw` as a TOML file and load it: the config, or the ConfigError naming the file."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_text(tomli_w.dumps(raw))
        outcome = _outcome(lambda: load(path))
        if isinstance(outcome, ConfigError):
            assert outcome.file == str(path), outcome
        return outcome


FILE_FUZZ = settings(FUZZ, max_examples=100)


@FILE_FUZZ
@given(data=st.data())
def test_damaged_or_oversized_targets_files_give_a_config_error_or_targets(data):
    outcome = _load_written(_damaged(GOOD_TARGETS, data), load_targets, "t.toml")
    assert isinstance(outcome, Targets | ConfigError)


@FILE_FUZZ
@given(data=st.data())
def test_damaged_or_oversized_space_files_give_a_config_error_or_a_space(data):
    outcome = _load_written(_damaged(GOOD_SPACE, data), load_space, "o.toml")
    assert isinstance(outcome, Space | ConfigError)


def test_the_undamaged_files_load():
    assert isinstance(_load_written(GOOD_TARGETS, load_targets, "t.toml"), Targets)
    assert isinstance(_load_written(GOOD_SPACE, load_space, "o.toml"), Space)
