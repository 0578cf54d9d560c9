"""Validation verdicts: rules set in advance, inconclusive when they cannot decide."""

from __future__ import annotations

import math

import pytest
from click.testing import CliRunner
from conftest import made_by_an_older_model

from sim.cli import main
from sim.errors import ConfigError
from sim.validation import (
    FAIL,
    INCONCLUSIVE,
    NOT_INDEPENDENT,
    PASS,
    Condition,
    Estimate,
    FactSpec,
    Measurement,
    judge,
    load_plan,
)
from sim.validation.facts import MEASURES, gini
from sim.validation.plan import DEFAULT_PLAN

NAN = math.nan


def fact(*rule: Condition, min_runs: int = 10, min_events: int = 50) -> FactSpec:
    return FactSpec(
        key="k",
        title="t",
        rule=rule,
        min_runs=min_runs,
        min_events=min_events,
        design={"policies": ["none"]},
    )


def measured(stat: Estimate | None, runs: int = 20, events: int = 500) -> Measurement:
    return Measurement({} if stat is None else {"s": stat}, runs, events)


ABOVE = Condition(statistic="s", above=0.0)


@pytest.mark.parametrize(
    ("stat", "verdict", "words"),
    [
        (Estimate(0.3, 0.1, 0.5), PASS, "as the rule requires"),
        (Estimate(-0.3, -0.5, -0.1), FAIL, "the rule requires it above 0"),
        (Estimate(0.1, -0.1, 0.3), INCONCLUSIVE, "no difference from the threshold found"),
        (Estimate(0.2, NAN, NAN), INCONCLUSIVE, "undefined"),
        (Estimate(NAN, NAN, NAN), INCONCLUSIVE, "undefined"),
        (None, INCONCLUSIVE, "not reported"),
    ],
)
def test_verdict_and_its_text_follow_the_rule(stat, verdict, words):
    result = judge(fact(ABOVE), measured(stat))
    assert result.verdict == verdict
    assert words in result.text


def test_below_rules_mirror_above_rules():
    below = Condition(statistic="s", below=0.0)
    assert judge(fact(below), measured(Estimate(-1, -2, -0.5))).verdict == PASS
    assert judge(fact(below), measured(Estimate(1, 0.5, 2))).verdict == FAIL


def test_too_small_a_sample_is_inconclusive_even_with_a_clear_interval():
    clear = Estimate(0.3, 0.2, 0.4)
    few_runs = judge(fact(ABOVE), measured(clear, runs=3))
    assert few_runs.verdict == INCONCLUSIVE
    assert "Only 3 runs" in few_runs.text
    few_thefts = judge(fact(ABOVE), measured(clear, events=12))
    assert few_thefts.verdict == INCONCLUSIVE
    assert "Only 12 thefts" in few_thefts.text


def test_an_interval_wider_than_the_rule_allows_decides_nothing():
    wide = Condition(statistic="s", above=0.0, max_width=0.1)
    assert judge(fact(wide), measured(Estimate(0.5, 0.2, 0.9))).verdict == INCONCLUSIVE


def test_one_failed_condition_fails_the_fact_and_an_open_one_leaves_it_inconclusive():
    other = Condition(statistic="t", above=0.0)
    both = fact(ABOVE, other)
    passing, failing, open_ = (Estimate(1, 0.5, 1.5), Estimate(-1, -1.5, -0.5), Estimate(0, -1, 1))
    m = Measurement({"s": passing, "t": failing}, 20, 500)
    assert judge(both, m).verdict == FAIL
    m = Measurement({"s": passing, "t": open_}, 20, 500)
    assert judge(both, m).verdict == INCONCLUSIVE
    m = Measurement({"s": passing, "t": passing}, 20, 500)
    assert judge(both, m).verdict == PASS


def test_shipped_plan_has_a_measure_and_a_rule_for_every_fact():
    plan = load_plan(DEFAULT_PLAN)
    assert len(plan.fact) >= 7
    for f in plan.fact:
        assert f.key in MEASURES
        assert f.rule
        assert f.mechanisms
        assert f.source
        assert f.min_runs >= 10  # no verdict from a handful of runs


def test_bad_plans_are_bad_input(write_toml):
    path = write_toml(
        '[[fact]]\nkey = "concentration"\ndesign = { policies = ["none"] }\n'
        'rule = [{ statistic = "x", above = 0.0, below = 1.0 }]\n',
        "plan.toml",
    )
    with pytest.raises(ConfigError) as info:
        load_plan(path)
    assert info.value.field == "fact[0].rule[0]"
    path = write_toml(
        '[[fact]]\nkey = "astrology"\ndesign = { policies = ["none"] }\n'
        'rule = [{ statistic = "x", above = 0.0 }]\n',
        "plan2.toml",
    )
    result = CliRunner().invoke(
        main, ["validate-model", "--plan", str(path), "--out", str(path.parent / "out")]
    )
    assert result.exit_code == 2
    assert "fact[0].key" in result.output
    assert not (path.parent / "out").exists()


def test_gini():
    assert gini([5, 5, 5, 5]) == pytest.approx(0.0)
    assert gini([0, 0, 0, 12]) == pytest.approx(0.75)
    assert math.isnan(gini([0, 0]))


def test_validate_model_writes_to_out_and_never_silently_to_docs(tmp_path):
    docs = DEFAULT_PLAN.parents[1] / "docs" / "validation.md"
    before = docs.read_bytes()
    out = tmp_path / "val"
    args = [
        "validate-model",
        "--only",
        "concentration",
        "--scale",
        "0.02",
        "--replications",
        "3",
        "--out",
        str(out),
    ]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "inconclusive" in result.output  # 3 runs: too few for any verdict
    report = (out / "report.md").read_text()
    assert "Only 3 runs per arm" in report
    assert (out / "verdicts.csv").exists()
    assert docs.read_bytes() == before
    refused = CliRunner().invoke(main, [*args, "--update-docs"])
    assert refused.exit_code == 2
    assert "documented settings" in refused.output
    assert docs.read_bytes() == before
    # after a model change every fact's sweep folder holds runs of the old model
    made_by_an_older_model(out / "runs" / "concentration")
    assert CliRunner().invoke(main, args).exit_code == 2  # refused without --force
    forced = CliRunner().invoke(main, [*args, "--force"])
    assert forced.exit_code == 0, forced.output


def test_a_fact_the_model_was_given_is_not_independent_and_never_passes():
    given = FactSpec(
        key="w",
        title="t",
        source="Bosina & Weidmann 2017, Transportation Research B",  # the walking speed's
        rule=(ABOVE,),
        min_runs=10,
        min_events=50,
        design={"policies": ["none"]},
    )
    result = judge(given, measured(Estimate(0.3, 0.1, 0.5)))
    assert result.verdict == NOT_INDEPENDENT
    assert "`visitors.walk_speed_m_per_min` (Bosina 2017)" in result.text
    assert "By the rule alone it would be pass" in result.text
    assert judge(fact(ABOVE), measured(Estimate(0.3, 0.1, 0.5))).verdict == PASS


def test_the_shipped_plan_marks_the_response_fact_as_not_independent():
    plan = {f.key: f for f in load_plan().fact}
    clear = measured(Estimate(0.3, 0.1, 0.5))
    assert judge(plan["response"], clear).verdict == NOT_INDEPENDENT  # Kansas City delays
    assert judge(plan["displacement"], clear).verdict != NOT_INDEPENDENT
