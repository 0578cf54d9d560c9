"""The open offender pool, what offenders know, arrests from positions, bystanders and the
true null (mechanisms issue)."""

from __future__ import annotations

import numpy as np
import pytest

import sim
from sim.agents.pickpocket import Memory, Pickpocket, remembered_total
from sim.city.generate import GeneratedCitySpec, generate_city
from sim.city.legs import Leg
from sim.crowds import Stays
from sim.model import CrowdPolicingModel
from sim.policing.policy import Deployment, Policy
from sim.scenario import load_scenario, with_overrides

SEEDS = range(1, 9)


@pytest.fixture(scope="module")
def town():
    return load_scenario("small-town")


def catchers(count: int = 6) -> Policy:
    """Plainclothes pairs at the busiest places all day: many arrests in the act."""
    return Policy(
        name="catchers",
        deploy=(
            Deployment(
                unit="plainclothes",
                count=count,
                officers=2,
                where="top_crowded",
                movement="static",
                hours=(0.0, 24.0),
            ),
        ),
    )


def test_each_day_draws_its_own_offenders_from_an_open_pool(town):
    five_days = with_overrides(town, {"days": 5})
    p = five_days.offenders
    active, expected = [], []
    for seed in SEEDS:
        daily = sim.run(five_days, seed=seed).daily
        assert (daily.loc[daily["day"] > 0, "newcomers"].sum()) > 0  # newcomers arrive
        assert daily["offender_days_lost_to_arrest"].sum() == 0  # nobody arrested
        active += daily["offenders_active"].tolist()
        expected += (p.per_100k_visitors * daily["visitors"] / 1e5).tolist()
    active_a = np.array(active, dtype=float)
    assert len(set(active)) > 3  # a random count, not one fixed population
    assert active_a.mean() == pytest.approx(np.mean(expected), rel=0.15)


def test_active_offenders_scale_with_the_days_visitors(town):
    def mean_active(per_100k: float) -> float:
        scenario = with_overrides(town, {"days": 3, "offenders.per_100k_visitors": per_100k})
        return np.mean([sim.run(scenario, seed=s).metrics["offender_days"] for s in SEEDS])

    assert mean_active(800.0) == pytest.approx(2 * mean_active(400.0), rel=0.2)


def test_arrested_offenders_stay_out_and_their_lost_days_are_counted(town):
    scenario = with_overrides(
        town, {"days": 4, "police.detect_plainclothes": 1.0, "police.arrest_in_act": 1.0}
    )
    lost = 0
    for seed in SEEDS:
        result = sim.run(scenario, catchers(), seed=seed)
        inc = result.incidents
        for offender, arrested_at in inc.loc[inc["arrest"], ["offender", "t_cleared"]].values:
            later = inc[(inc["offender"] == offender) & (inc["t_attempt"] > arrested_at)]
            assert later.empty  # out for the rest of the run
        base = sim.run(scenario, "none", seed=seed).metrics
        m = result.metrics
        assert m["offender_days"] + m["offender_days_lost_to_arrest"] == base["offender_days"]
        lost += m["offender_days_lost_to_arrest"]
    assert lost > 0  # incapacitation is measured, apart from deterrence


def test_offenders_prefer_sites_near_where_they_stand(town, monkeypatch):
    def mean_km(decay: float) -> float:
        km = []
        choose = Pickpocket.choose_site

        def recording(self):
            choice = choose(self)
            pool = self.model.offenders
            km.append(self.model.city.distance(self.node, int(pool.approach[choice])) / 1e3)
            return choice

        monkeypatch.setattr(Pickpocket, "choose_site", recording)
        scenario = with_overrides(town, {"offenders.distance_decay_per_km": decay})
        for seed in SEEDS:
            sim.run(scenario, seed=seed)
        return float(np.mean(km))

    assert mean_km(6.0) < 0.7 * mean_km(0.0)


def test_offenders_know_popularity_and_what_they_saw_not_live_counts(town):
    model = CrowdPolicingModel(town, seed=1)
    model.env.run(until=12 * 60.0)  # noon: crowds everywhere
    pool = model.offenders
    pool._join(1)
    offender = pool.members[-1]
    before = offender.expected_crowds().copy()
    node = int(pool.sites[0])
    now = model.env.now
    crowd = Stays(  # a crowd he has not seen: 1,000 parties of 5 stand there for an hour
        np.full(1000, node),
        np.full(1000, now - 1.0),
        np.full(1000, now + 60.0),
        np.full(1000, 5),
        np.arange(1000) + 10**6,
        n_locations=len(model.crowds),
    )
    model.crowds.add(crowd)
    assert model.crowds.people(node) >= 5000
    assert np.array_equal(offender.expected_crowds(), before)
    offender.look(0, node)  # now he sees it
    assert offender.expected_crowds()[0] == pytest.approx(model.crowds.people(node))
    assert before[1] == pytest.approx(pool.popularity[1])  # a place he has not seen
    model.release()


def test_a_car_catches_only_an_offender_still_in_sight(town):
    sight = town.police.scene_sight_m
    scenario = with_overrides(town, {"police.arrest_on_scene": 1.0})

    def caught(metres_away: float) -> bool:
        model = CrowdPolicingModel(scenario, seed=1)
        pool = model.offenders
        pool._join(1)
        offender = pool.members[-1]
        city = model.city
        scene = int(city.visited[0])
        far = city.distances_from(scene)
        target = int(np.argmin(np.abs(far - metres_away)))
        offender.leg = Leg.still(target, 0.0)
        incident = model.crime.ledger.attempt(0.0, scene, scene, False, offender.unique_id)
        incident.occurred = True
        model.dispatcher.request(incident, scene, live=False)
        model.crime.on_scene(incident)
        arrested = incident.arrest
        model.release()
        return arrested

    assert caught(0.0)
    assert not caught(3 * sight)


def test_bystanders_foil_attempts_where_few_people_are_about(town):
    alert = with_overrides(town, {"victims.bystander_notice": 1.0})
    foiled = thefts_alert = thefts_default = 0
    for seed in SEEDS:
        m = sim.run(alert, seed=seed).metrics
        foiled += m["attempts_foiled_by_bystanders"]
        thefts_alert += m["thefts_occurred"]
        d = sim.run(town, seed=seed).metrics
        assert d["attempts_foiled_by_bystanders"] == 0  # neutral by default
        thefts_default += d["thefts_occurred"]
    assert foiled > 0
    assert thefts_alert < thefts_default


def test_none_is_a_true_null(town):
    """No police activity at all: nobody watches cameras, reviews footage or drives out."""
    eager = with_overrides(town, {"police.cctv_clearance": 1.0, "victims.report_probability": 1.0})
    for seed in SEEDS:
        for policy in ("none", None):
            result = sim.run(eager, policy, seed=seed)
            m = result.metrics
            assert m["arrests_total"] == 0
            assert m["officer_hours"] == m["camera_hours"] == 0
            assert m["attempts_detected"] == 0
            assert result.incidents["t_responded"].isna().all()
            assert result.police_stops.empty
            assert m["thefts_reported"] > 0  # victims still call: nobody comes


# footage is investigated only after a report of a theft a camera saw: make both certain,
# so that the investigation time is drawn in every seed (else a seed with no such theft,
# which numpy's kernels made more or less likely, leaves the parameter unread)
FOOTAGE = {"police.cctv_clearance": 1.0, "victims.report_probability": 1.0}


@pytest.mark.parametrize(
    ("path", "value", "context"),
    [
        ("offenders.look_around_min", 45.0, {}),
        ("offenders.risk_deterred", 0.0, {}),
        ("offenders.bus_retry_min", 120.0, {}),  # buses stop at noon below: offenders wait
        ("offenders.home_edge_share", 1.0, {}),
        ("victims.report_sigma", 0.0, {}),
        ("police.investigation_sigma", 0.0, FOOTAGE),
    ],
)
def test_former_literals_are_parameters_that_behaviour_reads(town, path, value, context):
    """Numbers once written into behaviour code are now documented parameters, and used."""
    busy = with_overrides(
        town,
        {
            "days": 2,
            "offenders.bus_crowd_factor": 50.0,
            "visitors.bus_walk_threshold_min": 2.0,
            "visitors.bus_service_hours": [6.0, 12.0],
            **context,
        },
    )
    changed = with_overrides(busy, {path: value})
    frames = [
        (
            sim.run(busy, "integrated", seed=s).incidents,
            sim.run(changed, "integrated", seed=s).incidents,
        )
        for s in range(1, 7)
    ]
    assert any(not a.equals(b) for a, b in frames), f"{path} changed nothing"


def test_city_capacity_and_bus_stops_are_parameters():
    base = generate_city(GeneratedCitySpec(seed=3))
    roomy = generate_city(GeneratedCitySpec(seed=3, capacity_per_attractiveness=4000.0))
    assert np.allclose(roomy.capacity, 2 * base.capacity, atol=1)
    every = generate_city(GeneratedCitySpec(seed=3, bus_stop_every=1))
    assert sum(len(b.stops) for b in every.bus_lines) > sum(len(b.stops) for b in base.bus_lines)


def test_a_fading_memory_halves_every_half_life_and_never_overflows():
    """Exact fading from one exponential per look, in runs of any length."""
    memory = Memory(3, half_life_min=1.0)
    memory.add(1, 8.0, now=0.0)
    assert memory.get(1, 3.0) == pytest.approx(1.0)
    memory.add(2, 1.0, now=20_000.0)  # fading of 13,863 since the start: the scale moves on
    assert np.isfinite(memory.scaled).all()
    assert memory.get(2, 20_001.0) == pytest.approx(0.5)
    assert memory.get(1, 20_001.0) < 1e-300
    other = Memory(3, half_life_min=60.0)
    other.add(2, 2.0, now=19_940.0)
    total = remembered_total((memory, other), 20_001.0)
    assert total[2] == pytest.approx(0.5 + 2.0 * 0.5 ** (61 / 60))
    assert total[0] == 0.0
