"""The config loader under random wrong input: a clean ConfigError or a valid config, never
anything else (no TypeError, KeyError or numpy error from deep inside)."""

from __future__ import annotations

import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.calibration.targets import Targets
from sim.config import build
from sim.errors import ConfigError
from sim.params import iter_params
from sim.policing.policy import Policy, load_policy
from sim.scenario import Scenario, load_scenario
from sim.sweep.design import Experiment

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
