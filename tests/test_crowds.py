"""Stays as intervals (speed issue): the searches and integrals against brute force, parties
as Mesa agents and victims, and the same visitors under every policy."""

from __future__ import annotations

import numpy as np
import pytest
import simpy

import sim
from sim.agents.tourist import Tourist
from sim.crowds import Crowds, Stays, time_order
from sim.model import CrowdPolicingModel
from sim.results import collect
from sim.scenario import load_scenario, with_overrides

try:
    from numpy._core.multiarray import _get_madvise_hugepage, _set_madvise_hugepage
except ImportError:  # numpy before 2
    from numpy.core.multiarray import _get_madvise_hugepage, _set_madvise_hugepage


@pytest.fixture(scope="module")
def town():
    return load_scenario("small-town")


def random_stays(rng: np.random.Generator, n: int = 2000, n_locations: int = 7):
    loc = rng.integers(0, n_locations, n)
    enter = np.round(rng.uniform(0, 600, n))  # whole minutes: ties between stays too
    leave = enter + np.round(rng.exponential(40, n))
    size = rng.integers(1, 6, n)
    party = np.arange(n)
    return loc, enter, leave, size, party


def test_who_is_where_matches_a_brute_force_count():
    rng = np.random.default_rng(1)
    loc, enter, leave, size, party = random_stays(rng)
    stays = Stays(loc, enter, leave, size, party, n_locations=8)  # location 7 never used
    for t in rng.uniform(-10, 700, 200).tolist() + enter[:50].tolist() + leave[:50].tolist():
        for where in range(8):
            here = (loc == where) & (enter <= t) & (leave > t)
            assert stays.people(where, t) == size[here].sum()
            numbers, sizes, _ = stays.present(where, t)
            assert sorted(numbers.tolist()) == sorted(party[here].tolist())
            assert sizes.sum() == size[here].sum()
        assert np.array_equal(
            stays.occupancy(t, 8),
            np.bincount(loc[here := (enter <= t) & (leave > t)], size[here], minlength=8),
        )


@pytest.mark.parametrize("n", [0, 1, 2, 5000])
def test_stays_are_in_location_then_time_order_ties_as_given(n):
    """The index is one stable sort by (location, time), whatever the sorts that make it.

    Whole minutes give many ties; their order decides which party is drawn as a victim.
    """
    rng = np.random.default_rng(n)
    loc, enter, leave, size, party = random_stays(rng, n)
    enter[:2], leave[:2] = enter[:2] + 1e6, leave[:2] + 1e6  # coarse buckets of 15 min
    stays = Stays(loc, enter, leave, size, party, n_locations=8)
    order = np.lexsort((enter, loc))  # stable: ties by row
    assert np.array_equal(stays.party, party[order])
    assert np.array_equal(stays.enter, enter[order])
    assert stays.start == np.searchsorted(loc[order], np.arange(9)).tolist()
    assert np.array_equal(stays.leave_sorted, leave[np.lexsort((leave, loc))])
    assert np.array_equal(time_order(leave), np.argsort(leave, kind="stable"))


def guard(env: simpy.Environment, crowds: Crowds, events: list[tuple[float, int, int]]) -> None:
    """Visible officers come (+n) and go (-n) at locations at the given times."""

    def police():
        for at, where, change in events:
            yield env.timeout(at - env.now)
            crowds.add_guard(where, change)

    env.process(police())


def test_person_minutes_and_watched_minutes_match_brute_force():
    rng = np.random.default_rng(2)
    loc, enter, leave, size, party = random_stays(rng)
    env = simpy.Environment()
    crowds = Crowds(8, env)
    crowds.add(Stays(loc, enter, leave, size, party, n_locations=8))
    guarded = {2: (100.0, 250.0), 5: (0.0, 1000.0)}  # location: (from, to); 5 still at the end
    events = sorted([(a, w, +1) for w, (a, _) in guarded.items()] + [(250.0, 2, -1)])
    guard(env, crowds, events)
    env.run(until=500.0)
    totals = crowds.integrals()
    until = 500.0
    came = enter < until
    minutes = (np.minimum(leave, until) - enter) * size
    for where in range(8):
        mine = came & (loc == where)
        assert totals.visits[where] == size[mine].sum()
        assert totals.person_minutes[where] == pytest.approx(minutes[mine].sum())
        a, b = guarded.get(where, (0.0, 0.0))
        overlap = np.clip(np.minimum(np.minimum(leave, until), b) - np.maximum(enter, a), 0, None)
        assert totals.watched_person_minutes[where] == pytest.approx((overlap * size)[mine].sum())


def test_watched_minutes_leave_out_the_cut_rest_of_parties_gone_home():
    rng = np.random.default_rng(4)
    loc, enter, leave, size, party = random_stays(rng)
    env = simpy.Environment()
    crowds = Crowds(8, env)
    one_stay_each = np.arange(len(loc), dtype=np.int32)[None, :]  # stays x parties
    crowds.add(Stays(loc, enter, leave, size, party, n_locations=8, slots=one_stay_each))
    # location 2: guarded 100-250, then from 280 on (open at the end); 5: all along
    spans = {2: [(100.0, 250.0), (280.0, np.inf)], 5: [(0.0, np.inf)]}
    events = [(0.0, 5, +1), (100.0, 2, +1), (250.0, 2, -1), (280.0, 2, +1)]
    guard(env, crowds, events)
    env.run(until=300.0)
    gone = np.flatnonzero((enter < 300.0) & (leave > 300.0) & np.isin(loc, [2, 5]))[:60]
    for number in gone.tolist():
        crowds.go_home(number)
    env.run(until=500.0)
    totals = crowds.integrals()
    stayed_until = np.minimum(leave, 500.0)
    stayed_until[gone] = 300.0
    came = enter < 500.0
    assert len(gone) >= 20
    for where, guarded in spans.items():
        overlap = sum(
            np.clip(np.minimum(stayed_until, b) - np.maximum(enter, a), 0, None) for a, b in guarded
        )
        mine = came & (loc == where)
        assert totals.watched_person_minutes[where] == pytest.approx((overlap * size)[mine].sum())
        minutes = ((stayed_until - enter) * size)[mine].sum()
        assert totals.person_minutes[where] == pytest.approx(minutes)


def test_parties_in_town_are_mesa_agents_and_victims_are_parties_that_were_there(town):
    town = with_overrides(town, {"days": 3})
    model = CrowdPolicingModel(town, sim.policing.policy.load_policy("none"), seed=3)
    model.run(until=13 * 60.0)
    assert Tourist not in model.agents_by_type  # looking does not make agents
    tourists = model.visitors_as_agents()
    assert set(model.agents_by_type[Tourist]) == set(tourists)
    assert len(tourists) > 100
    assert sum(t.size for t in tourists) == model.visitor_flow.present_people
    a_party = next(iter(tourists))
    assert a_party.itinerary[0] == a_party.itinerary[-1]  # home from where they came
    model.run()
    frame = model.crime.ledger.frame()
    thefts = frame[frame["occurred"] & ~frame["on_bus"]]
    assert len(thefts) >= 5
    model.release()
    model = CrowdPolicingModel(town, sim.policing.policy.load_policy("none"), seed=3)
    for _, theft in thefts.iterrows():
        model.env.run(until=theft["t_attempt"])
        victim = model.visitor_flow.party(int(theft["victim"]))
        assert theft["node"] in victim.itinerary
        assert victim.arrived_at <= theft["t_attempt"] < victim.leaves_at
        numbers, _, _ = model.crowds.present(int(theft["node"]))
        assert victim.number in numbers.tolist()
    model.release()


def test_the_same_seed_plans_the_same_visitors_under_every_policy(town):
    def plans(policy: str) -> list[np.ndarray]:
        model = CrowdPolicingModel(town, sim.policing.policy.load_policy(policy), seed=11)
        model.run()
        day = model.visitor_flow.day(0) if 0 in model.visitor_flow.days else None
        model.release()
        return day

    none, integrated = plans("none"), plans("integrated")
    for field in ("arrive", "size", "awareness", "places", "dwell", "planned_depart"):
        assert np.array_equal(getattr(none, field), getattr(integrated, field))
    assert np.array_equal(none.stays.enter, integrated.stays.enter)


def test_a_run_in_pieces_gives_the_same_results_as_one_run(town):
    whole = sim.run(town, "integrated", seed=4)
    model = CrowdPolicingModel(town, sim.policing.policy.load_policy("integrated"), seed=4)
    for until in (90.0, 300.0, 610.5, 1000.0):
        model.run(until=until)
        assert model.now == until  # `until` is honoured exactly, not rounded to a step
        model.visitors_as_agents()  # making the visitors agents changes nothing
    model.run()
    pieces = collect(model)
    model.release()
    assert pieces.metrics == whole.metrics
    assert pieces.places.equals(whole.places)


@pytest.mark.parametrize(("env", "advice"), [(None, False), ("1", True)])
def test_a_run_turns_off_numpys_huge_page_advice_unless_the_user_chose(
    town, monkeypatch, env, advice
):
    """Large arrays without huge-page advice (faster here); NUMPY_MADVISE_HUGEPAGE decides."""
    if env is None:
        monkeypatch.delenv("NUMPY_MADVISE_HUGEPAGE", raising=False)
    else:
        monkeypatch.setenv("NUMPY_MADVISE_HUGEPAGE", env)
    before = _set_madvise_hugepage(True)  # numpy's default where the kernel has the advice
    try:
        CrowdPolicingModel(town, seed=1)
        assert _get_madvise_hugepage() is advice
    finally:
        _set_madvise_hugepage(before)
