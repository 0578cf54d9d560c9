"""Visitor flows on the SimPy clock: profile, occupancy, departures, determinism, memory."""

from __future__ import annotations

import gc
import tracemalloc
import weakref

import mesa
import numpy as np
import pandas as pd
import pytest

import sim
from sim.model import CrowdPolicingModel
from sim.scenario import load_scenario


@pytest.fixture(scope="module")
def town():
    return load_scenario("small-town")


def test_arrivals_follow_the_hourly_profile(town):
    model = CrowdPolicingModel(
        sim.scenario.with_overrides(town, {"visitors.per_day": 20000}), seed=3
    )
    model.run()
    hourly = model.datacollector.get_model_vars_dataframe()
    arrived = np.diff(hourly["visitors_arrived"].to_numpy())  # persons per hour 0..23
    profile = np.asarray(town.visitors.arrival_profile, dtype=float)
    assert arrived[profile == 0].sum() == 0
    share = arrived / arrived.sum()
    expected = profile / profile.sum()
    assert np.abs(share - expected).max() < 0.01
    assert arrived.sum() == pytest.approx(20000, rel=0.05)
    model.release()


def test_occupancy_never_negative_and_everyone_leaves(town):
    model = CrowdPolicingModel(town, seed=5)
    present_seen = 0
    while model.running:
        model.step()
        people = model.crowds.occupancy()
        assert people.min() >= 0
        # those at places or on buses are a subset of those in town (the rest are walking)
        assert people.sum() <= model.visitor_flow.present_people
        present_seen = max(present_seen, int(people.sum()))
        # the parties in town are Mesa agents for whoever looks
        tourists = model.visitors_as_agents()
        assert sum(t.size for t in tourists) == model.visitor_flow.present_people
    assert present_seen > 0
    assert model.visitor_flow.arrived_people > 0
    assert model.visitor_flow.present_people == 0
    assert model.crowds.occupancy().sum() == 0
    assert len(model.visitors_as_agents()) == 0  # departed parties are removed
    model.release()


def test_some_parties_ride_buses():
    result_model = CrowdPolicingModel(
        load_scenario("leshan-mayday", {"scale": 0.02, "days": 1}), seed=1
    )
    result_model.run()
    n = result_model.city.n_nodes
    visits = result_model.crowds.integrals().visits
    bus_rides, place_visits = visits[n:].sum(), visits[:n].sum()
    result_model.release()
    assert 0 < bus_rides < place_visits / 2  # most legs are walked in a 4 km centre


def test_visitor_time_adds_up(town):
    result = sim.run(town, seed=2)
    at_places = result.places["person_hours"].sum()
    # time at places and on buses is part of, and most of, the time in town
    assert 0.5 * result.metrics["visitor_hours"] < at_places < result.metrics["visitor_hours"]


def test_same_seed_same_results_other_seed_differs(town):
    one, two = sim.run(town, seed=9), sim.run(town, seed=9)
    assert pd.Series(one.metrics).equals(pd.Series(two.metrics))  # NaN where both are NaN
    assert one.places.equals(two.places)
    assert one.hourly.equals(two.hourly)
    assert sim.run(town, seed=10).metrics != one.metrics


def test_scale_shrinks_visitors(town):
    full = sim.run(town, seed=4).metrics["visitors"]
    tenth = sim.run(town, seed=4, scale=0.1).metrics["visitors"]
    assert tenth == pytest.approx(full / 10, rel=0.25)


def test_top_site_draws_tens_of_thousands_at_full_scale():
    result = sim.run("leshan-mayday", seed=1, days=1, scale=0.1)
    sights = result.places[result.places["kind"].isin(["scenic", "food_street", "plaza"])]
    top = sights.sort_values("visits", ascending=False).iloc[0]
    assert top["label"] == "Leshan Giant Buddha Scenic Area"
    # case brief: ~30,000 a day on May Day 2021 (149,600 in 5 days), capacity ~45,000
    assert 20_000 <= top["visits"] * 10 <= 45_000


def test_memory_stays_flat_over_many_runs(town):
    """Mesa 3.3 keeps models alive via Agent._ids; a run must release them."""

    def one_run() -> weakref.ref:
        model = CrowdPolicingModel(town, seed=1)
        model.run()
        model.release()
        return weakref.ref(model)

    for _ in range(3):  # warm caches (city, imports)
        one_run()
    gc.collect()
    held_before = len(mesa.Agent._ids)
    tracemalloc.start()
    refs = [one_run() for _ in range(10)]
    gc.collect()
    after_10 = tracemalloc.get_traced_memory()[0]
    refs += [one_run() for _ in range(30)]
    gc.collect()
    after_40 = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert all(r() is None for r in refs), "finished models are still referenced"
    assert len(mesa.Agent._ids) == held_before
    assert after_40 - after_10 < 1_000_000, f"grew {after_40 - after_10} bytes over 30 runs"


def test_a_released_model_frees_the_visitors_plans_at_once(town):
    """The plans are most of a run's memory and sit inside the model's reference cycles:
    release() drops them without waiting for a full garbage collection, so a process running
    full-scale models back to back (a calibration) does not grow by hundreds of MB a run."""
    gc.disable()
    try:
        model = CrowdPolicingModel(town, seed=1)
        model.run()
        plans = [weakref.ref(model.crowds.days[0].enter)]
        plans += [weakref.ref(d.places) for d in model.visitor_flow.days.values()]
        model.release()
        assert all(ref() is None for ref in plans)
    finally:
        gc.enable()


def test_runs_leave_no_garbage_behind_without_explicit_collections(town):
    """A process running model after model (a sweep worker, a calibration) does not grow:
    sim.run collects the run's own reference cycles on the way out, which CPython's rare
    full collections would otherwise leave for hundreds of runs."""
    for seed in range(3):  # caches, imports
        sim.run(town, seed=seed)
    before = len(gc.get_objects())
    for seed in range(10):
        sim.run(town, seed=100 + seed)
    assert len(gc.get_objects()) - before < 500  # a run's model graph is tens of thousands


def test_following_parties_in_blocks_gives_the_stays_of_one_pass(monkeypatch):
    model = CrowdPolicingModel(load_scenario("leshan-mayday", {"scale": 0.02, "days": 1}), seed=1)
    flow = model.visitor_flow

    def day_in_blocks(parties: int) -> sim.visitors.Day:
        monkeypatch.setattr(sim.visitors, "PARTIES_PER_BLOCK", parties)
        return flow.plan(0, np.random.default_rng(5), first=100)

    whole, blocks = day_in_blocks(10**9), day_in_blocks(7)  # one block, and many
    assert len(whole.size) > 7 * 20
    for field in ("loc", "enter", "leave", "size", "party", "slots"):
        assert np.array_equal(getattr(whole.stays, field), getattr(blocks.stays, field))
    assert np.array_equal(whole.depart, blocks.depart)
    number = 100 + len(whole.size) // 2
    assert np.array_equal(whole.stays.of_party(number), blocks.stays.of_party(number))
    model.release()


def test_choices_searched_in_cell_order_fall_where_one_search_puts_them(town):
    """Parties' next sights: searched cell by cell, returned in the parties' order."""
    flow = CrowdPolicingModel(town, seed=1).visitor_flow
    rng = np.random.default_rng(4)
    cell = rng.integers(0, flow.choice_total.size, 5000)
    u = rng.random(5000)
    found = flow._search_choices(cell, u)
    assert np.array_equal(found, flow.choice_cdf.searchsorted(2.0 * cell + u, side="right"))
    assert len(np.unique(cell)) > 50  # many cells, interleaved
