"""Police work besides pickpockets: calls for service, one queue, busy units."""

from __future__ import annotations

import math

import pytest
from conftest import posts_at

import sim
from sim.model import CrowdPolicingModel
from sim.policing.calls import CALL_TYPES, HELP
from sim.policing.dispatch import Job
from sim.scenario import load_scenario, with_overrides

QUIET = {f"calls.{kind}_per_100k_h": 0.0 for kind in CALL_TYPES}
QUIET["offenders.per_100k_visitors"] = 0.0  # no thefts either


@pytest.fixture(scope="module")
def town():
    return with_overrides(load_scenario("small-town"), QUIET)  # only the jobs a test makes


def place(scenario, rank: int = 0) -> int:
    return int(scenario.city_model().crowd_rank[rank])


def started(scenario, policy) -> CrowdPolicingModel:
    model = CrowdPolicingModel(scenario, policy, seed=1)
    model.env.run(until=600.0)
    return model


def test_a_busy_car_is_not_sent_and_a_waiting_call_is_served_when_it_frees(town):
    model = started(town, posts_at([place(town)], "patrol_car", officers=2, dispatch_delay_min=1.0))
    dispatcher = model.dispatcher
    far = place(town, 5)
    dispatcher.call("dispute", 2, far, 30.0)
    dispatcher.call("traffic", 2, far, 10.0)
    model.env.run(until=model.env.now + 180.0)
    first, second = dispatcher.jobs
    assert not first.queued
    assert second.queued
    assert second.t_assigned == pytest.approx(first.t_cleared)  # taken as soon as it freed
    assert second.t_arrived >= first.t_cleared
    metrics = dispatcher.metrics()
    assert metrics["queue_mean_min"] > 0
    assert metrics["calls_for_service"] == 2
    assert 0 < metrics["unit_utilisation"] < 1


def test_the_most_urgent_waiting_job_goes_first(town):
    model = started(town, posts_at([place(town)], "patrol_car", officers=2, dispatch_delay_min=1.0))
    dispatcher = model.dispatcher
    node = place(town, 3)
    dispatcher.call("dispute", 2, node, 60.0)  # keeps the car busy
    model.env.run(until=model.env.now + 2.0)
    dispatcher.call(HELP, 3, node, 5.0)
    dispatcher.call("medical", 1, node, 5.0)
    model.env.run(until=model.env.now + 300.0)
    _, help_call, medical = dispatcher.jobs
    assert medical.t_assigned < help_call.t_assigned  # called later, served first


def test_a_post_leaves_its_post_for_a_call_and_is_not_seen_there_meanwhile(town):
    node = place(town)
    model = started(town, posts_at([node], "uniformed", officers=2, dispatch_delay_min=1.0))
    presence = model.presence
    assert presence.visible_officers(node) == 2
    assert len(presence.posts[node]) == 1
    model.dispatcher.call("lost_person", 2, node, 45.0)
    model.env.run(until=model.env.now + 10.0)
    (job,) = model.dispatcher.jobs
    assert job.unit == "uniformed"
    assert not math.isnan(job.t_arrived)
    assert presence.visible_officers(node) == 0
    assert presence.posts[node] == []
    model.env.run(until=job.t_cleared + 5.0)
    assert presence.visible_officers(node) == 2  # back at the post


def test_officers_on_foot_answer_only_within_reach_and_volunteers_only_help(town):
    node = place(town)
    city = town.city_model()
    far = int(max(city.visited, key=lambda n: city.distances_from(node)[n]))
    assert city.distances_from(node)[far] > town.calls.foot_reach_m
    post = started(town, posts_at([node], "uniformed", officers=2, dispatch_delay_min=1.0))
    post.dispatcher.call("dispute", 2, far, 10.0)
    post.env.run(until=post.env.now + 60.0)
    assert math.isnan(post.dispatcher.jobs[0].t_assigned)  # no car, and too far to walk
    volunteers = started(town, posts_at([node], "volunteer", officers=2, dispatch_delay_min=1.0))
    volunteers.dispatcher.call("dispute", 2, node, 10.0)
    volunteers.dispatcher.call(HELP, 3, node, 10.0)
    volunteers.env.run(until=volunteers.env.now + 60.0)
    dispute, help_call = volunteers.dispatcher.jobs
    assert math.isnan(dispute.t_assigned)
    assert help_call.unit == "volunteer"


def test_calls_come_with_the_crowd_and_are_the_same_under_every_policy():
    leshan = load_scenario("leshan-mayday")
    scenario = with_overrides(leshan, {"scale": 0.2, "days": 1})
    a = CrowdPolicingModel(scenario, sim.load_policy("none"), seed=3)
    b = CrowdPolicingModel(scenario, sim.load_policy("grid"), seed=3)
    for model in (a, b):
        model.run()
    calls = [
        [(j.kind, j.node, round(j.t_call, 9)) for j in m.dispatcher.jobs if j.kind != "theft"]
        for m in (a, b)
    ]
    assert calls[0] == calls[1]
    assert len(calls[0]) > 5
    hours = [t // 60 for _, _, t in calls[0]]
    assert min(hours) >= 6
    assert max(hours) <= 23


def test_job_rows_have_every_field():
    frame = CrowdPolicingModel(load_scenario("small-town"), seed=1).dispatcher.frame()
    assert list(frame.columns) == [f for f in Job.__slots__ if f != "incident"]


def test_the_equal_budget_option_gives_every_policy_the_same_officer_hours():
    budget = 1200.0  # officer-hours a day
    staffed = ["fixed-posts", "grid", "plainclothes", "integrated", "officer-mix"]
    result = sim.compare(
        "small-town", staffed, baseline="none", days=1, replications=1, budget=budget
    )
    hours = result.rows.set_index("label")["officer_hours"]
    for name in staffed:
        policy = sim.load_policy(name)
        unit_shift = max(d.officers * d.shift_hours() for d in policy.deploy)
        assert abs(hours[name] - budget) <= unit_shift, name
