"""Ledger invariants: stages are nested, nothing is cleared twice, arrests tie to incidents."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sim
from sim.ledger import Incident, Ledger
from sim.scenario import load_scenario, with_overrides

TOWN = load_scenario("small-town")
probability = st.floats(min_value=0.0, max_value=1.0)


def check_invariants(result) -> None:
    """What the agents must get right; rules the ledger itself enforces are tested there
    (test_transitions_are_guarded), not restated here."""
    inc = result.incidents
    m = result.metrics
    assert not (inc["deterred"] & inc["occurred"]).any()  # a given-up attempt steals nothing
    assert not (inc["foiled_by_bystanders"] & inc["occurred"]).any()
    cleared = inc[inc["cleared_by"] != ""]
    # cleared <= detected or reported (someone knew of it), or stopped with the loot
    known = (cleared["detected_by"] != "") | cleared["reported"]
    assert (known | (cleared["cleared_by"] == "checkpoint")).all()
    # time runs forwards through every case
    assert (cleared["t_cleared"] >= cleared["t_attempt"]).all()
    responded = inc[inc["t_responded"].notna()]
    assert (responded["t_responded"] >= responded["t_requested"]).all()
    reported = inc[inc["reported"]]
    assert (reported["t_reported"] >= reported["t_noticed"]).all()
    assert (inc.loc[inc["noticed"], "t_noticed"] >= inc.loc[inc["noticed"], "t_attempt"]).all()
    # an arrested offender is out: arrested at most once, and no attempt after his arrest
    arrests = inc[inc["arrest"]]
    assert arrests["offender"].is_unique
    for offender, t in arrests[["offender", "t_cleared"]].itertuples(index=False):
        assert not ((inc["offender"] == offender) & (inc["t_attempt"] > t)).any()
    # the ledger's arrests and the offender pool's custody agree
    assert m["arrests_total"] == m["offenders_arrested"] <= m["offenders_in_pool"]
    assert m["offender_days_lost_to_arrest"] == 0 or m["offenders_arrested"] > 0


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    success=probability,
    detect_pc=probability,
    deter=probability,
    report=probability,
    cctv=probability,
    delay=st.floats(min_value=0.0, max_value=120.0),
    policy=st.sampled_from(["integrated", "fixed-posts", "plainclothes", "cctv-drones", "grid"]),
    seed=st.integers(min_value=0, max_value=2**31),
)
def test_invariants_hold_for_any_parameters(
    success, detect_pc, deter, report, cctv, delay, policy, seed
):
    scenario = with_overrides(
        TOWN,
        {
            "offenders.success_probability": success,
            "police.detect_plainclothes": detect_pc,
            "police.deter_visible": deter,
            "victims.report_probability": report,
            "police.cctv_clearance": cctv,
            "victims.report_median_min": delay,
        },
    )
    check_invariants(sim.run(scenario, policy, seed=seed))


def test_transitions_are_guarded():
    ledger = Ledger()
    incident = ledger.attempt(1.0, 3, 3, False, offender=7)
    with pytest.raises(ValueError, match="cannot be reported"):
        Ledger.report(incident, 2.0)  # nothing was stolen
    with pytest.raises(ValueError, match="cannot be noticed"):
        Ledger.notice(incident, 2.0)
    incident.occurred = True
    with pytest.raises(ValueError, match="cannot be reported"):
        Ledger.report(incident, 2.0)  # the victim has not noticed yet
    Ledger.notice(incident, 1.5)
    Ledger.report(incident, 2.0)
    with pytest.raises(ValueError, match="cannot be reported"):
        Ledger.report(incident, 3.0)
    with pytest.raises(ValueError, match="without a request"):
        Ledger.respond(incident, 3.0)
    Ledger.clear(incident, "after_report", 4.0, arrest=True, in_town=True)
    with pytest.raises(ValueError, match="already cleared"):
        Ledger.clear(incident, "camera_evidence", 5.0, arrest=False, in_town=False)
    deterred = ledger.attempt(1.0, 3, 3, False, offender=8)
    deterred.deterred = True
    assert not Ledger.detect(deterred, "uniformed", 1.0)
    with pytest.raises(ValueError, match="deterred"):
        Ledger.clear(deterred, "in_act", 1.0, arrest=True, in_town=True)


def test_first_detector_is_kept():
    incident = Incident(0, 0.0, 1, 1, False, 1)
    assert Ledger.detect(incident, "plainclothes", 1.0)
    assert not Ledger.detect(incident, "camera", 5.0)
    assert incident.detected_by == "plainclothes"
    assert incident.t_detected == 1.0


def test_a_victim_noticing_is_not_police_detection():
    incident = Incident(0, 0.0, 1, 1, False, 1)
    with pytest.raises(ValueError, match="unknown detector"):
        Ledger.detect(incident, "victim", 5.0)
    incident.occurred = True
    Ledger.notice(incident, 5.0)
    assert incident.detected_by == ""
    ledger = Ledger()
    ledger.incidents.append(incident)
    m = ledger.metrics(1000, 1, [1])
    assert (m["thefts_detected"], m["thefts_noticed_by_victim"]) == (0, 1)


def test_detected_and_cleared_count_only_thefts_and_arrests_are_disjoint():
    ledger = Ledger()
    failed = ledger.attempt(0.0, 1, 1, False, offender=1)  # spotted, caught, nothing stolen
    Ledger.detect(failed, "plainclothes", 0.0)
    Ledger.clear(failed, "in_act", 0.0, arrest=True, in_town=True)
    theft = ledger.attempt(1.0, 1, 1, False, offender=2)
    theft.occurred = True
    Ledger.detect(theft, "camera", 1.0)
    Ledger.clear(theft, "checkpoint", 9.0, arrest=True, in_town=True)
    m = ledger.metrics(1000, 1, [1])
    assert (m["attempts_detected"], m["thefts_detected"]) == (2, 1)
    assert m["thefts_cleared"] == 1
    assert (m["arrests_in_act"], m["arrests_checkpoint"], m["arrests_total"]) == (1, 1, 2)
    assert m["arrests_on_dispatch"] == m["arrests_after_report"] == 0


def test_cases_solved_are_reported_thefts_and_suspects_are_persons_taken_in_town():
    """The case's counts: a case exists once reported; a suspect is a person taken in town."""
    ledger = Ledger()
    unreported = ledger.attempt(0.0, 1, 1, False, offender=1)  # caught in the act, no report
    unreported.occurred = True
    Ledger.detect(unreported, "plainclothes", 0.0)
    Ledger.clear(unreported, "in_act", 0.0, arrest=True, in_town=True)
    for offender, in_town in ((1, True), (2, False), (3, True)):
        theft = ledger.attempt(1.0, 1, 1, False, offender=offender)
        theft.occurred = True
        Ledger.notice(theft, 2.0)
        Ledger.report(theft, 3.0)
        Ledger.clear(theft, "camera_evidence", 600.0, arrest=offender != 1, in_town=in_town)
    m = ledger.metrics(1000, 1, [1])
    assert m["thefts_cleared"] == 4
    assert m["reported_thefts_cleared"] == 3
    assert m["persons_arrested_in_town"] == 2  # offender 1 (once), offender 3; 2 was at home


def test_concentration_metric():
    ledger = Ledger()
    for node in [5] * 8 + [6, 7]:
        ledger.attempt(0.0, node, node, False, 1).occurred = True
    places = list(range(40))  # top 5% of 40 places = 2 places
    share = ledger.metrics(1000, 1, places)["top5pct_places_theft_share"]
    assert share == pytest.approx(0.9)
    assert math.isnan(Ledger().metrics(1000, 1, places)["top5pct_places_theft_share"])
