"""Agents act only on what they could perceive or were told (issue: what each agent may know)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest
from conftest import posts_at

import sim
from sim.behaviour import OffenderParams, PoliceParams, VictimParams, VisitorParams
from sim.ledger import Incident
from sim.model import CrowdPolicingModel
from sim.params import BASES, iter_params
from sim.policing.calls import CALL_TYPES
from sim.policing.policy import Deployment, Policy
from sim.scenario import load_scenario, with_overrides


@pytest.fixture(scope="module")
def town():
    return load_scenario("small-town")


def largest_place(scenario) -> int:
    city = scenario.city_model()
    return int(city.visited[np.argmax(city.capacity[city.visited])])


def started(scenario, policy, seed=1, until=600.0) -> CrowdPolicingModel:
    model = CrowdPolicingModel(scenario, policy, seed=seed)
    model.env.run(until=until)
    return model


@pytest.fixture(scope="module")
def roomy(town):
    """The town with places four times as large: its largest square is about 190 m across."""
    return with_overrides(town, {"police.place_m2_per_person": 4.0})


def test_an_offender_is_deterred_only_by_police_within_his_sight(roomy):
    town = roomy
    place = largest_place(town)
    model = started(town, posts_at([place]))
    presence = model.presence
    (post,) = presence.posts[place]
    side = presence.side[place]
    assert side > 3 * town.offenders.sight_m  # a place larger than one offender's view
    beside = presence.deterrence(place, post.x, post.y)
    assert beside == pytest.approx(town.police.deter_visible)
    far = (0.0 if post.x > side / 2 else side, 0.0 if post.y > side / 2 else side)
    assert math.dist(far, (post.x, post.y)) > town.offenders.sight_m
    assert presence.deterrence(place, *far) == 0.0
    other = next(int(n) for n in model.city.visited if int(n) != place)
    assert presence.deterrence(other, 0.0, 0.0) == 0.0  # nothing from a post elsewhere


def test_a_post_deters_no_attempt_at_other_places(town):
    place = largest_place(town)
    runs = [sim.run(town, posts_at([place], officers=3), seed=s, days=2) for s in range(1, 7)]
    incidents = pd.concat([r.incidents for r in runs])
    assert incidents.loc[incidents["node"] == place, "deterred"].any()
    assert not incidents.loc[incidents["node"] != place, "deterred"].any()


def test_extra_officers_add_less_where_their_sight_overlaps(roomy):
    """Watched share of a large place: one officer covers a part; more add less and less."""
    town = roomy
    place = largest_place(town)
    rng = np.random.default_rng(0)
    counts = (1, 2, 4, 8)
    shares = []
    for officers in counts:
        watched = []
        for seed in range(8):  # officers' spots differ from run to run
            model = CrowdPolicingModel(town, posts_at([place] * officers), seed=seed)
            model.env.run(until=1.0)
            spots = [model.presence.spot(place, rng.random) for _ in range(1000)]
            watched += [model.presence.deterrence(place, x, y) > 0 for x, y in spots]
        shares.append(float(np.mean(watched)))
    assert 0.0 < shares[0] < 0.5  # one officer at a spot of a large square: partly watched
    per_officer = [share / n for share, n in zip(shares, counts, strict=True)]
    assert per_officer == sorted(per_officer, reverse=True)  # overlapping sight
    assert shares[-1] < 0.8 * 8 * shares[0]


def test_arrest_news_reaches_only_acquaintances_in_town_after_the_delay(town):
    model = started(town, Policy(name="none"), until=9 * 60.0 + 1)
    pool = model.offenders
    arrested = next(o for o in pool.members if len(o.acquaintances) >= 1)
    friends = set(arrested.acquaintances)
    away = next(iter(friends))
    pool.in_town[away.index] = False  # moved on: he hears nothing
    site = int(pool.sites[0])
    choice = pool.site_index[site]
    arrested.free = False
    pool.arrest_made(arrested, -1, site)
    now = model.env.now
    assert all(o.arrests_known.get(choice, now) == 0.0 for o in pool.members)  # not yet
    model.env.run(until=now + 60.0 * 24)
    heard = {o for o in pool.members if o.arrests_known.get(choice, model.env.now) > 0}
    assert heard <= friends - {away}
    assert heard  # the acquaintances in town did hear (not at once: nobody knew at `now`)


def test_offenders_know_popularity_not_the_hourly_forecast(town):
    model = started(town, Policy(name="none"))
    offender = model.offenders.members[0]
    offender.seen_at[:] = -np.inf  # nothing seen himself
    morning = offender.expected_crowds()
    model.env.run(until=model.env.now + 6 * 60.0)
    offender.seen_at[:] = -np.inf  # nothing seen himself
    assert np.array_equal(offender.expected_crowds(), morning)


def test_placement_by_thefts_reads_only_what_the_police_recorded(town):
    model = CrowdPolicingModel(town, Policy(name="none"), seed=1)
    ranked = [int(n) for n in model.deployer.crowd_rank]
    unreported, reported = ranked[-1], ranked[-2]
    crime = model.crime
    for node, recorded in ((unreported, False), (reported, True)):
        incident = Incident(0, 0.0, node, node, False, 0, occurred=True)
        crime._count(incident)
        if recorded:
            crime._record(incident)
    rank = model.deployer._theft_rank()
    assert rank[0] == reported
    assert rank.index(unreported) > rank.index(ranked[0])  # as if the theft never happened


def test_a_victim_next_to_a_visible_officer_reports_at_once(town):
    place = largest_place(town)
    quiet = {f"calls.{kind}_per_100k_h": 0.0 for kind in CALL_TYPES}  # posts stay put
    scenario = with_overrides(
        town, {"victims.report_probability": 1.0, "victims.notice_median_min": 1.0, **quiet}
    )
    runs = [sim.run(scenario, posts_at([place], officers=4), seed=s, days=2) for s in (1, 2, 3)]
    thefts = pd.concat([r.incidents for r in runs])
    reported = thefts[thefts["reported"]]
    delay = reported["t_reported"] - reported["t_noticed"]
    at_post = delay[reported["node"] == place]
    assert (at_post == 0.0).any()  # told the officer standing there
    assert (delay[reported["node"] != place] > 0.0).all()  # elsewhere: a phone call, later


def test_police_record_reports_and_detections_and_the_rest_is_dark(town):
    result = sim.run(town, "integrated", seed=4, days=2)
    thefts = result.incidents[result.incidents["occurred"]]
    known = thefts["reported"] | (thefts["detected_by"] != "")
    assert (thefts["recorded"] == known).all()
    m = result.metrics
    assert m["thefts_recorded"] == int(known.sum()) < m["thefts_occurred"]
    assert m["dark_figure_share"] == pytest.approx(1 - known.mean())


def test_a_drone_takes_time_to_fly_between_its_places(town):
    city = town.city_model()
    a, b = (int(n) for n in city.visited[:2])
    drone = Policy(
        name="drone",
        deploy=(
            Deployment(
                unit="drone",
                count=1,
                where="places",
                places=(str(a), str(b)),
                movement="circuit",
                circuit_places=2,
                sorties_per_day=1,
                flight_min=25.0,
                hours=(10.0, 12.0),
            ),
        ),
    )
    stops = sim.run(town, drone, seed=1, days=1).police_stops.sort_values("arrive")
    first, second = stops.iloc[0], stops.iloc[1]
    metres = math.dist((city.x[a], city.y[a]), (city.x[b], city.y[b]))
    flight = metres / town.police.drone_speed_m_per_min
    assert second["arrive"] - first["leave"] == pytest.approx(flight)
    hovering = (stops["leave"] - stops["arrive"]).sum()
    assert hovering == pytest.approx(25.0 - 2 * flight)  # the battery pays for the flying


def test_volunteers_call_the_police_about_what_they_see_and_never_arrest(town):
    place = largest_place(town)
    watchful = with_overrides(town, {"police.detect_volunteer": 0.9})
    volunteers = posts_at([place] * 6, unit="volunteer", officers=2)
    runs = [sim.run(watchful, volunteers, seed=s, days=3) for s in (5, 6, 7, 8)]
    incidents = pd.concat([r.incidents for r in runs])
    seen = incidents[incidents["detected_by"] == "volunteer"]
    assert len(seen) > 0
    assert not seen["arrest"].any()  # no car in this policy, no arrest
    delay = seen["t_requested"] - seen["t_detected"]
    assert np.allclose(delay, town.police.volunteer_call_min)
    assert all(r.metrics["officer_hours"] == 0.0 for r in runs)  # not police hours


def test_every_behavioural_parameter_says_where_its_value_comes_from():
    for cls in (VisitorParams, OffenderParams, VictimParams, PoliceParams):
        for name, field, _ in iter_params(cls):
            assert field.metadata["basis"] in BASES, f"{cls.__name__}.{name}"
            assert field.metadata["source"], f"{cls.__name__}.{name}"


def test_no_parameter_writes_in_a_published_effect():
    police = {f.name for f in dataclasses.fields(PoliceParams)}
    written_in = {"deter_nearby_factor", "nearby_m", "guardian_reach_persons", "deter_camera"}
    assert not police & (written_in | {"transit_deterrence"})


def test_most_bus_victims_notice_only_once_off_the_bus(town):
    busy = {"offenders.bus_crowd_factor": 50.0, "visitors.bus_walk_threshold_min": 2.0}
    busy["victims.notice_median_min"] = 0.5

    def notice_delays(share: float) -> pd.Series:
        scenario = with_overrides(town, {**busy, "victims.bus_notice_after_ride": share})
        runs = [sim.run(scenario, "none", seed=s, days=2).incidents for s in range(1, 7)]
        thefts = pd.concat(runs)
        on_bus = thefts[thefts["occurred"] & thefts["on_bus"]]
        return on_bus["t_noticed"] - on_bus["t_attempt"]

    at_once, later = notice_delays(0.0), notice_delays(1.0)
    assert len(at_once) >= 10
    assert later.median() > 3 * at_once.median()
