"""Config validation: every bad input names the file, the field and what is allowed."""

from __future__ import annotations

import subprocess
import sys

import pytest

from sim.config import parse_assignment
from sim.errors import ConfigError
from sim.scenario import load_scenario

TOWN = """
name = "t"
[city.generate]
seed = 1
rows = 4
cols = 4
[visitors]
per_day = 100
"""


def test_valid_file_loads(write_toml):
    scenario = load_scenario(str(write_toml(TOWN)))
    assert scenario.visitors.per_day == 100
    assert scenario.city.generate.rows == 4


@pytest.mark.parametrize(
    ("text", "field", "hint"),
    [
        ("colour = 1\n" + TOWN, "colour", "allowed: calls, city, days"),
        (TOWN.replace("per_day = 100", "per_day = 'many'"), "visitors.per_day", "a number"),
        (TOWN.replace("per_day = 100", "per_day = -1"), "visitors.per_day", "[0, inf]"),
        ("days = 2.5\n" + TOWN, "days", "an integer"),
        (TOWN.replace("rows = 4", "rows = 1"), "city.generate.rows", "[2, 200]"),
        (
            TOWN + "[visitors.dwell_median_min]\nmoon = 3\n",
            "visitors.dwell_median_min.moon",
            "allowed: scenic",
        ),
        (
            TOWN.replace("per_day = 100", "arrival_profile = [1, 2]"),
            "visitors.arrival_profile",
            "expected 24 items",
        ),
        (
            TOWN + "[city.assign]\nattraction_kinds = ['zoo']\n",
            "city.assign.attraction_kinds[0]",
            "allowed: scenic",
        ),
        (
            TOWN.replace("per_day = 100", "party_size_weights = [0, 0, 0, 0, 0]"),
            "visitors.party_size_weights",
            "at least one weight above 0",
        ),
        (
            TOWN.replace("per_day = 100", "arrival_profile = " + str([0] * 24)),
            "visitors.arrival_profile",
            "at least one weight above 0",
        ),
        (
            TOWN + "[offenders]\nwork_hours = [21.0, 9.0]\n",
            "offenders.work_hours",
            "must not exceed",
        ),
    ],
)
def test_bad_field_is_named(write_toml, text, field, hint):
    path = write_toml(text)
    with pytest.raises(ConfigError) as info:
        load_scenario(str(path))
    assert info.value.field == field
    assert info.value.file == str(path)
    assert hint in str(info.value)


def test_malformed_toml_names_file(write_toml):
    path = write_toml("name = [unclosed\n")
    with pytest.raises(ConfigError, match="malformed TOML") as info:
        load_scenario(str(path))
    assert info.value.file == str(path)


def test_city_needs_exactly_one_source(write_toml):
    with pytest.raises(ConfigError, match=r"exactly one of city.file or city.generate"):
        load_scenario(str(write_toml('name = "t"\n')))


def test_unknown_scenario_lists_builtins():
    with pytest.raises(ConfigError, match="built-in: .*small-town"):
        load_scenario("no-such-place")


def test_override_applies_and_is_validated(write_toml):
    path = str(write_toml(TOWN))
    assert load_scenario(path, {"visitors.per_day": 7}).visitors.per_day == 7
    with pytest.raises(ConfigError, match="unknown field 'per_dy'") as info:
        load_scenario(path, {"visitors.per_dy": 7})
    assert info.value.file == "--set"
    with pytest.raises(ConfigError, match="out of range"):
        load_scenario(path, {"visitors.dwell_sigma": 99})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a.b=3", ("a.b", 3)),
        ("a=2.5", ("a", 2.5)),
        ("m=active", ("m", "active")),
        ("l=[1, 2]", ("l", [1, 2])),
        ("f=true", ("f", True)),
    ],
)
def test_parse_assignment(text, expected):
    assert parse_assignment(text) == expected


def test_parse_assignment_needs_equals():
    with pytest.raises(ConfigError, match="key.path=value"):
        parse_assignment("visitors.per_day")


@pytest.mark.parametrize("literal", ["nan", "inf", "-inf"])
def test_non_finite_numbers_are_bad_input(literal):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sim.cli",
            "run",
            "--scenario",
            "small-town",
            "--set",
            f"visitors.per_day={literal}",
            "--json",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "visitors.per_day" in result.stderr
    assert "not a finite number" in result.stderr
    assert "Traceback" not in result.stderr
