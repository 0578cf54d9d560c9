"""Unit kinds are one table: a kind registered there runs with no other change."""

from __future__ import annotations

import pytest

import sim
from sim.ledger import Ledger
from sim.policing.units import KINDS, UnitKind, detectors, register

VOLUNTEER = UnitKind(
    "steward",
    "event stewards in vests: seen, and they call the police rather than arrest",
    moves="walks",
    speed="officer_walk_m_per_min",
    seen_by_offenders=True,
    deter="deter_volunteer",
    detector="steward",
    detect="detect_uniformed",
    arrests_in_act=False,
    reports_after="volunteer_call_min",
    answers="",
    staffed=False,
)
POLICY = """name = "stewards"
[[deploy]]
unit = "steward"
count = 30
officers = 2
where = "top_crowded"
movement = "static"
hours = [8.0, 22.0]
[[deploy]]
unit = "patrol_car"
count = 2
where = "cells"
movement = "circuit"
"""


@pytest.fixture
def volunteers():
    register(VOLUNTEER)
    yield VOLUNTEER
    del KINDS["steward"]
    detectors.cache_clear()


def test_a_registered_kind_is_deployed_seen_and_spots_attempts(volunteers, tmp_path):
    path = tmp_path / "stewards.toml"
    path.write_text(POLICY)
    result = sim.run("small-town", str(path), seed=3, days=1)
    stops = result.police_stops
    assert (stops["kind"] == "steward").any()
    spotted = result.incidents[result.incidents["detected_by"] == "steward"]
    assert len(spotted) > 0  # they watch their places
    assert not (spotted["cleared_by"] == "in_act").any()  # and never arrest on the spot
    without = sim.run("small-town", "none", seed=3, days=1)
    assert result.metrics["thefts_deterred"] > without.metrics["thefts_deterred"]


def test_an_unknown_kind_is_refused_naming_the_table(tmp_path):
    path = tmp_path / "stewards.toml"
    path.write_text(POLICY)
    with pytest.raises(
        sim.ConfigError, match="plainclothes, uniformed, patrol_car, volunteer, drone"
    ):
        sim.load_policy(str(path))


def test_kinds_that_spot_alike_must_share_their_chance():
    with pytest.raises(ValueError, match="detect_uniformed"):
        register(UnitKind(**{**VOLUNTEER.__dict__, "detector": "uniformed", "detect": "x"}))
    assert "steward" not in KINDS


def test_the_ledger_knows_every_detector_in_the_table(volunteers):
    assert detectors()[:4] == ("plainclothes", "uniformed", "volunteer", "steward")
    incident = sim.run("small-town", "none", seed=0, days=1)  # no police: nothing detected
    assert (incident.incidents["detected_by"] == "").all()
    with pytest.raises(ValueError, match="unknown detector"):
        Ledger.detect(object(), "nobody", 0.0)
