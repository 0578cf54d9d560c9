"""Visitors react: watchfulness from what a party experienced today, and victims who go home."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import posts_at

import sim
from sim.model import CrowdPolicingModel
from sim.policing.policy import Policy
from sim.scenario import load_scenario, with_overrides


@pytest.fixture(scope="module")
def town():
    return load_scenario("small-town")


def test_a_party_keeps_its_own_day_in_order(town):
    model = CrowdPolicingModel(town, seed=1)
    model.env.run(until=13 * 60.0)
    day = model.crowds.days[0]
    for number in range(day.first_party, day.first_party + 50):
        rows = day.of_party(number)
        assert (day.party[rows] == number).all()
        assert np.all(np.diff(day.enter[rows]) >= 0)  # in the order of its day
        assert len(rows) == int((day.party == number).sum())  # and all of it


def test_a_party_that_passed_visible_police_is_more_watchful(town):
    node = int(town.city_model().crowd_rank[0])
    calm = with_overrides(town, {"offenders.per_100k_visitors": 0.0})  # no victims, no arrests
    model = CrowdPolicingModel(calm, posts_at([node], officers=2), seed=2)
    model.env.run(until=14 * 60.0)
    day = model.crowds.days[0]
    there = set(day.party[(day.loc == node) & (day.enter < model.env.now)].tolist())
    never = set(day.party[day.enter < model.env.now].tolist()) - set(day.party[day.loc == node])
    vigilance = model.vigilance
    share = town.victims.police_seen_vigilance
    for number in list(there)[:20]:
        assert vigilance.awareness(number, 0.2) == pytest.approx(0.2 + 0.8 * share)
    for number in list(never)[:20]:
        assert vigilance.awareness(number, 0.2) == 0.2


def test_a_victim_is_watchful_after_noticing_and_a_bus_warning_lasts_the_day(town):
    model = CrowdPolicingModel(town, Policy(name="coop", transit_cooperation=True), seed=3)
    model.env.run(until=15 * 60.0)
    day = model.crowds.days[0]
    rode = day.party[(day.loc >= model.city.n_nodes) & (day.leave < model.env.now)]
    number = int(rode[0])
    p = town.victims
    assert model.vigilance.awareness(number, 0.0) == pytest.approx(p.announcement_vigilance)
    model.vigilance.theft_noticed(number)
    both = 1 - (1 - p.announcement_vigilance) * (1 - p.victim_vigilance)
    assert model.vigilance.awareness(number, 0.0) == pytest.approx(both)


def test_a_victim_who_goes_home_leaves_the_crowd(town):
    model = CrowdPolicingModel(town, seed=4)
    model.env.run(until=11 * 60.0)
    day = model.crowds.days[0]
    now = model.env.now
    later = (day.enter > now + 30) & ~(day.loc >= model.city.n_nodes)
    number = int(day.party[later][0])
    row = np.flatnonzero(later & (day.party == number))[0]
    loc, t = int(day.loc[row]), float(day.enter[row]) + 0.5
    present_before = model.visitor_flow.present_people
    model.visitor_flow.goes_home(number)
    assert model.visitor_flow.present_people == present_before - int(day.size[row])
    model.env.run(until=t)
    assert number not in model.crowds.present(loc)[0].tolist()
    assert model.crowds.people(loc) == int(
        sum(d.people(loc, t) for d in model.crowds.days)
    )  # the cut is subtracted where people are counted


def test_victims_who_go_home_cut_visitor_time_and_nothing_else_moves(town):
    stay = with_overrides(town, {"victims.victim_goes_home": 0.0})
    leave = with_overrides(town, {"victims.victim_goes_home": 1.0})
    a, b = (sim.run(s, "none", seed=5, days=2) for s in (stay, leave))
    assert a.metrics["visitors"] == b.metrics["visitors"]
    assert b.metrics["visitor_hours"] < a.metrics["visitor_hours"]
    assert b.metrics["thefts_noticed_by_victim"] > 0


def test_a_party_that_goes_home_twice_leaves_the_crowd_once(town):
    model = CrowdPolicingModel(town, seed=4)
    model.env.run(until=11 * 60.0)
    day = model.crowds.days[0]
    later = (day.enter > model.env.now + 30) & (day.loc < model.city.n_nodes)
    number = int(day.party[later][0])
    rows = day.of_party(number)
    still_to_come = int((day.leave[rows] > model.env.now).sum())
    cut_before = sum(len(spans) for spans in day.cut.values())  # other victims gone home
    flow = model.visitor_flow
    flow.goes_home(number)
    model.env.run(until=model.env.now + 1.0)
    flow.goes_home(number)  # a second theft it noticed: it is home already
    assert sum(len(spans) for spans in day.cut.values()) == cut_before + still_to_come
    row = rows[day.enter[rows] > model.env.now][0]
    model.env.run(until=float(day.enter[row]) + 0.5)
    assert model.crowds.people(int(day.loc[row])) >= 0
    assert number not in model.crowds.present(int(day.loc[row]))[0].tolist()
    assert (model.crowds.occupancy() >= 0).all()
