"""The bad-input corpus: every malformed input exits 2 with one line naming the source and the
field, no traceback, and nothing written.

Each case is a set of files and a command line.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner

from sim.city.io import write_geojson, write_graphml
from sim.cli import main
from sim.scenario import load_scenario

GOOD_SCENARIO = """name = "t"
days = 1
[city.generate]
seed = 1
rows = 5
cols = 5
n_cells = 2
n_patrol_points = 6
n_checkpoints = 1
n_bus_lines = 1
[city.generate.places]
scenic = 2
food_street = 1
station = 1
hotel = 1
police_station = 1
[visitors]
per_day = 500
"""
GOOD_POLICY = """name = "p"
[[deploy]]
unit = "uniformed"
count = 2
where = "top_crowded"
hours = [8.0, 20.0]
"""
GOOD_EXPERIMENT = """name = "e"
scenario = "small-town"
policies = ["fixed-posts"]
replications = 2
days = 1
scale = 0.2
"""
FILE_SCENARIO = 'name = "f"\ndays = 1\n[city]\nfile = "{city}"\n[visitors]\nper_day = 500\n'


@dataclass(frozen=True)
class Case:
    """Files to write (name -> text), the arguments, what the message must name."""

    id: str
    args: tuple[str, ...]
    names: tuple[str, ...]
    files: dict[str, str] = field(default_factory=dict)


def _file_case(good: str, name: str, args: tuple[str, ...]):
    """A maker of cases that break one line of a good file (or add one) and run `args`."""

    def make(id_: str, old: str, new: str, *named: str) -> Case:
        """`named`: the field, and any further words the message must hold."""
        text = good.replace(old, new) if old else good + new
        assert text != good, id_
        return Case(id_, args, (f"{{{name}}}", *named), {name: text})

    return make


scenario_case = _file_case(GOOD_SCENARIO, "s.toml", ("validate", "{s.toml}"))
policy_case = _file_case(
    GOOD_POLICY,
    "p.toml",
    ("run", "--scenario", "small-town", "--days", "1", "--policy", "{p.toml}"),
)
experiment_case = _file_case(GOOD_EXPERIMENT, "e.toml", ("sweep", "{e.toml}"))


def option_case(id_: str, *args: str, named: str) -> Case:
    return Case(id_, args, (named,))


SCENARIO_CASES = [
    scenario_case("toml-syntax", "days = 1", "days = = 1", "malformed TOML"),
    scenario_case("unknown-field", "", "colour = 3\n", "colour"),
    scenario_case("unknown-nested", "per_day = 500", "per_dayy = 500", "visitors.per_dayy"),
    scenario_case("wrong-type", "per_day = 500", 'per_day = "many"', "visitors.per_day"),
    scenario_case("negative", "per_day = 500", "per_day = -5", "visitors.per_day"),
    scenario_case("nan", "per_day = 500", "per_day = nan", "visitors.per_day"),
    scenario_case("inf", "", "[offenders]\nper_100k_visitors = inf\n", "per_100k_visitors"),
    scenario_case("minus-inf", "", "[police]\ncar_speed_m_per_min = -inf\n", "car_speed"),
    scenario_case("probability", "", "[victims]\nreport_probability = 1.5\n", "report_probability"),
    scenario_case("length", "", "[offenders]\nflee_m = [1.0]\n", "offenders.flee_m"),
    scenario_case("bad-key", "", "[offenders]\ngain_by_kind = { castle = 2.0 }\n", "castle"),
    scenario_case("bool-for-number", "days = 1", "days = true", "days"),
    scenario_case("zero-days", "days = 1", "days = 0", "days"),
    scenario_case("negative-scale", "days = 1", "days = 1\nscale = -1.0", "scale"),
    scenario_case("no-rows", "rows = 5", "rows = 0", "city.generate.rows"),
    scenario_case("number-for-table", "[visitors]\nper_day = 500", "visitors = 5", "visitors"),
    scenario_case("item-nan", "", "[offenders]\nwork_hours = [9.0, nan]\n", "work_hours"),
    scenario_case("sigma-high", "", "[victims]\nnotice_sigma = 9.0\n", "notice_sigma"),
    scenario_case("place-kind", "scenic = 2", "castle = 2", "castle"),
    scenario_case(
        "reversed-work-hours",
        "",
        "[offenders]\nwork_hours = [21.0, 9.0]\n",
        "work_hours",
    ),
]

POLICY_CASES = [
    policy_case("toml-syntax", 'name = "p"', 'name = "p', "malformed TOML"),
    policy_case("unknown-unit", 'unit = "uniformed"', 'unit = "horse"', "deploy[0].unit"),
    policy_case("negative-count", "count = 2", "count = -1", "deploy[0].count"),
    policy_case("nan-hours", "hours = [8.0, 20.0]", "hours = [nan, 20.0]", "deploy[0].hours"),
    policy_case("hours-past-24", "hours = [8.0, 20.0]", "hours = [8.0, 25.0]", "deploy[0].hours"),
    policy_case(
        "movement", 'where = "top_crowded"', 'where = "top_crowded"\nmovement = "fly"', "movement"
    ),
    policy_case("delay", "", "[dispatch]\ndelay_min = -1.0\n", "dispatch.delay_min"),
    policy_case("where", 'where = "top_crowded"', 'where = "everywhere"', "deploy[0].where"),
    policy_case("deploy-table", "[[deploy]]", "[deploy]", "deploy"),
    policy_case("count-float", "count = 2", "count = 2.5", "deploy[0].count"),
    policy_case("camera-level", "", '[cameras]\nmonitoring = "psychic"\n', "cameras.monitoring"),
    policy_case("unknown-field", "", "budget = 5\n", "budget"),
    policy_case("empty-shift", "hours = [8.0, 20.0]", "hours = [8.0, 8.0]", "deploy[0].hours"),
]

EXPERIMENT_CASES = [
    experiment_case("name-escapes", 'name = "e"', 'name = "../e"', "name", "plain folder name"),
    experiment_case("unknown-factor", "", '[factors]\n"policy.deploy.0.cuont" = [1, 2]\n', "cuont"),
    experiment_case(
        "factor-prefix", "", '[factors]\n"visitors.per_day" = [1, 2]\n', "visitors.per_day"
    ),
    experiment_case("bad-level", "", '[factors]\n"policy.deploy.0.count" = [-1, 2]\n', "deploy"),
    experiment_case("nan-level", "", '[factors]\n"scenario.scale" = [nan]\n', "scale"),
    experiment_case(
        "empty-factor", "", '[factors]\n"policy.deploy.0.count" = []\n', "policy.deploy.0.count"
    ),
    experiment_case("empty-policies", 'policies = ["fixed-posts"]', "policies = []", "policies"),
    experiment_case("negative-seed", "replications = 2", "replications = 2\nseed = -4", "seed"),
    experiment_case("zero-replications", "replications = 2", "replications = 0", "replications"),
    experiment_case("unknown-policy", '"fixed-posts"', '"fixed-pots"', "fixed-pots"),
    experiment_case(
        "reversed-range",
        "",
        '[space]\nsamples = 4\n[space.ranges]\n"scenario.scale" = [0.5, 0.1]\n',
        "scenario.scale",
    ),
    experiment_case(
        "space-path",
        "",
        '[space]\nsamples = 4\n[space.ranges]\n"scenario.nothing" = [0.1, 0.5]\n',
        "nothing",
    ),
    experiment_case(
        "space-samples",
        "",
        '[space]\nsamples = 0\n[space.ranges]\n"scenario.scale" = [0.1, 0.5]\n',
        "space.samples",
    ),
    experiment_case("unknown-field", "", "colour = 1\n", "colour"),
    experiment_case("days-zero", "days = 1", "days = 0", "days"),
    experiment_case("size", "replications = 2", "replications = 100000000", "replications"),
]

OPTION_CASES = [
    option_case(
        "scale-negative", "run", "--scenario", "small-town", "--scale", "-1", named="scale"
    ),
    option_case(
        "scale-nan", "run", "--scenario", "small-town", "--scale", "nan", named="--scale nan"
    ),
    option_case(
        "scale-inf", "run", "--scenario", "small-town", "--scale", "inf", named="--scale inf"
    ),
    option_case("days-zero", "run", "--scenario", "small-town", "--days", "0", named="--days 0"),
    option_case(
        "days-negative", "run", "--scenario", "small-town", "--days", "-3", named="--days -3"
    ),
    option_case("seed-negative", "run", "--scenario", "small-town", "--seed", "-1", named="--seed"),
    option_case(
        "replications-zero",
        "compare",
        "--scenario",
        "small-town",
        "--replications",
        "0",
        named="--replications",
    ),
    option_case(
        "workers-zero", "compare", "--scenario", "small-town", "--workers", "0", named="--workers"
    ),
    option_case(
        "unknown-policy", "run", "--scenario", "small-town", "--policy", "nope", named="nope"
    ),
    option_case("unknown-scenario", "run", "--scenario", "atlantis", named="atlantis"),
    option_case(
        "set-unknown",
        "run",
        "--scenario",
        "small-town",
        "--set",
        "visitors.nothing=1",
        named="visitors.nothing",
    ),
    option_case(
        "set-nan",
        "run",
        "--scenario",
        "small-town",
        "--set",
        "visitors.per_day=nan",
        named="visitors.per_day",
    ),
    option_case(
        "set-word",
        "run",
        "--scenario",
        "small-town",
        "--set",
        "visitors.per_day=lots",
        named="visitors.per_day",
    ),
    option_case(
        "set-no-equals",
        "run",
        "--scenario",
        "small-town",
        "--set",
        "visitors.per_day",
        named="visitors.per_day",
    ),
    option_case(
        "set-index",
        "run",
        "--scenario",
        "small-town",
        "--policy",
        "fixed-posts",
        "--set",
        "policy.deploy.9.count=1",
        named="deploy",
    ),
    option_case(
        "set-policy-nan",
        "run",
        "--scenario",
        "small-town",
        "--policy",
        "fixed-posts",
        "--set",
        "policy.dispatch.delay_min=inf",
        named="delay_min",
    ),
    option_case(
        "budget-negative", "compare", "--scenario", "small-town", "--budget", "-5", named="--budget"
    ),
    option_case(
        "executor", "sweep", "experiments/power.toml", "--executor", "bogus", named="--executor"
    ),
    option_case("shard", "sweep", "experiments/power.toml", "--shard", "3/2", named="shard"),
    option_case(
        "baseline", "compare", "--scenario", "small-town", "--baseline", "nobody", named="nobody"
    ),
    option_case(
        "draws",
        "compare",
        "--scenario",
        "small-town",
        "--posterior",
        "x",
        "--draws",
        "1",
        named="--draws",
    ),
    option_case(
        "posterior",
        "compare",
        "--scenario",
        "small-town",
        "--posterior",
        "no-such-folder",
        named="--posterior",
    ),
    option_case("tier", "regress", "--tier", "7", named="--tier"),
    option_case(
        "size-memory",
        "run",
        "--scenario",
        "leshan-mayday",
        "--set",
        "visitors.per_day=20000000",
        named="GB (20,000,000 visitors a day)",
    ),
    option_case(
        "size-cpu",
        "compare",
        "--scenario",
        "leshan-mayday",
        "--replications",
        "100000",
        named="CPU-days",
    ),
    option_case(
        "size-count",
        "compare",
        "--scenario",
        "small-town",
        "--replications",
        "100000000",
        named="--replications",
    ),
    option_case(
        "trials", "optimise", "experiments/optimise-leshan.toml", "--trials", "0", named="--trials"
    ),
]


def _city_files() -> dict[str, str]:
    """A valid GraphML and GeoJSON of a tiny town, as text (to be broken below)."""
    import tempfile  # noqa: PLC0415

    city = load_scenario("small-town").city_model()
    with tempfile.TemporaryDirectory() as folder:
        write_graphml(city, Path(folder) / "c.graphml")
        write_geojson(city, Path(folder) / "c.geojson")
        return {
            "graphml": (Path(folder) / "c.graphml").read_text(),
            "geojson": (Path(folder) / "c.geojson").read_text(),
        }


CITY = _city_files()


def _graphml(transform) -> str:
    return transform(CITY["graphml"])


def _geojson(transform) -> str:
    data = json.loads(CITY["geojson"])
    return json.dumps(transform(data))


def _first_point(data: dict) -> dict:
    return next(f for f in data["features"] if f["geometry"]["type"] == "Point")


def _set_point(key: str, value):
    def change(data: dict) -> dict:
        _first_point(data)["properties"][key] = value
        return data

    return change


def _drop_coordinates(data: dict) -> dict:
    point = _first_point(data)
    point["geometry"].pop("coordinates")
    point["properties"].pop("x", None)
    point["properties"].pop("y", None)
    return data


def _add_island(data: dict) -> dict:
    """A node no street reaches."""
    point = json.loads(json.dumps(_first_point(data)))
    point["properties"]["id"] = "island"
    data["features"].append(point)
    return data


def _negative_length(text: str) -> str:
    return re.sub(r'(<data key="d\d+">)([0-9.]+)(</data>\s*</edge>)', r"\1-\2\3", text, count=1)


def city_case(id_: str, suffix: str, text: str, named: str) -> Case:
    name = f"c.{suffix}"
    files = {name: text, "s.toml": FILE_SCENARIO.format(city=name)}
    return Case(id_, ("validate", "{s.toml}"), (f"{{{name}}}", named), files)


def _edge_key(text: str) -> str:
    return re.search(r'<key id="(d\d+)" for="edge" attr.name="length"', text).group(1)


CITY_CASES = [
    city_case("graphml-xml", "graphml", CITY["graphml"][:200], "GraphML"),
    city_case(
        "graphml-nan-x",
        "graphml",
        re.sub(r'(attr.name="x"[^>]*/>)', r"\1", CITY["graphml"]).replace(">0.0<", ">nan<", 1),
        "nan",
    ),
    city_case("graphml-word-x", "graphml", CITY["graphml"].replace(">0.0<", ">east<", 1), "east"),
    city_case("graphml-negative-length", "graphml", _negative_length(CITY["graphml"]), "edge"),
    city_case(
        "graphml-kind", "graphml", CITY["graphml"].replace(">street<", ">castle<", 1), "kind"
    ),
    city_case(
        "graphml-duplicate-node",
        "graphml",
        CITY["graphml"].replace('<node id="1">', '<node id="0">', 1),
        "duplicate",
    ),
    city_case("geojson-json", "geojson", "{not json", "malformed JSON"),
    city_case(
        "geojson-nan",
        "geojson",
        _geojson(_set_point("capacity", float("nan"))).replace("NaN", "NaN"),
        "capacity",
    ),
    city_case("geojson-kind", "geojson", _geojson(_set_point("kind", "castle")), "kind"),
    city_case(
        "geojson-no-id",
        "geojson",
        _geojson(lambda d: (_first_point(d)["properties"].pop("id"), d)[1]),
        "id",
    ),
    city_case(
        "geojson-top-level",
        "geojson",
        json.dumps([1, 2, 3]),
        "FeatureCollection",
    ),
    city_case(
        "geojson-point-without-coordinates",
        "geojson",
        _geojson(_drop_coordinates),
        "coordinates",
    ),
    city_case("geojson-disconnected", "geojson", _geojson(_add_island), "island"),
    city_case("city-missing", "graphml", "", "file"),
]
CITY_CASES[-1] = Case(
    "city-missing",
    ("validate", "{s.toml}"),
    ("nowhere.graphml", "file not found"),
    {"s.toml": FILE_SCENARIO.format(city="nowhere.graphml")},
)

TARGETS = """name = "t1"
scenario = "small-town"
policy = "integrated"
scale = 0.2
days = 1
[params."offenders.per_100k_visitors"]
low = 5.0
high = 40.0
[[observed]]
name = "thefts"
metric = "thefts_occurred"
value = 5
scale = 2
source = "made up"
"""
SPACE = """name = "o1"
scenario = "small-town"
policy = "integrated"
reference = "integrated"
scale = 0.2
[params]
"deploy.0.count" = { low = 0, high = 4, integer = true }
"""
targets_case = _file_case(TARGETS, "t.toml", ("calibrate", "{t.toml}"))
space_case = _file_case(SPACE, "o.toml", ("optimise", "{o.toml}"))
LATIN1 = 'name = "caf\xe9"\n'.encode("latin-1")
ZERO_DAY = "[" + ", ".join(["0.0"] * 24) + "]"

# files that are folders or not UTF-8, wherever a file is expected (#30)
FILE_KIND_CASES = [
    Case("scenario-folder", ("validate", "{s.toml}"), ("{s.toml}", "folder"), {"s.toml": None}),
    Case("scenario-latin1", ("validate", "{s.toml}"), ("{s.toml}", "UTF-8"), {"s.toml": LATIN1}),
    Case(
        "policy-latin1",
        ("run", "--scenario", "small-town", "--policy", "{p.toml}"),
        ("{p.toml}", "UTF-8"),
        {"p.toml": LATIN1},
    ),
    Case(
        "run-scenario-folder",
        ("run", "--scenario", "{s.toml}"),
        ("{s.toml}", "folder"),
        {"s.toml": None},
    ),
    Case("targets-latin1", ("calibrate", "{t.toml}"), ("{t.toml}", "UTF-8"), {"t.toml": LATIN1}),
    Case("space-latin1", ("optimise", "{o.toml}"), ("{o.toml}", "UTF-8"), {"o.toml": LATIN1}),
    Case("experiment-folder", ("sweep", "{e.toml}"), ("{e.toml}", "folder"), {"e.toml": None}),
    Case("experiment-latin1", ("sweep", "{e.toml}"), ("{e.toml}", "UTF-8"), {"e.toml": LATIN1}),
    Case(
        "targets-scenario-folder",
        ("calibrate", "{t.toml}"),
        ("{t.toml}", "scenario", "folder"),
        {"t.toml": TARGETS.replace('"small-town"', '"sc.toml"'), "sc.toml": None},
    ),
]
CALIBRATE_CASES = [
    targets_case("scale-zero", "scale = 0.2", "scale = 0.0", "scale"),
    targets_case(
        "prior-without-mass",
        "low = 5.0",
        'distribution = "normal"\nmean = 1000.0\nsd = 1.0\nlow = 5.0',
        "params.offenders.per_100k_visitors",
    ),
    targets_case(
        "response-without-cars",
        'metric = "thefts_occurred"',
        'metric = "response_time_mean_min"\nstatistic = "value"\npolicy = "none"',
        "observed[0].policy",
    ),
    targets_case("name-escapes", 'name = "t1"', 'name = "../t.toml"', "name"),
]
OPTIMISE_CASES = [
    space_case("objectives-empty", "[params]", "objectives = []\n[params]", "objectives"),
    space_case("unknown-policy", 'policy = "integrated"', 'policy = "nopolicy"', "policy"),
    space_case("unknown-reference", 'reference = "integrated"', 'reference = "noref"', "reference"),
    space_case("name-escapes", 'name = "o1"', 'name = "../../x"', "name"),
    space_case("name-absolute", 'name = "o1"', 'name = "/tmp/x"', "name"),
    space_case(
        "never-a-valid-policy",
        "[params]",
        '[params]\n"deploy.0.hours.0" = { choices = [10.0] }\n'
        '"deploy.0.hours.1" = { choices = [10.0] }',
        "params",
        "no candidate of the space is a valid policy",
    ),
]
SIZE_CASES = [
    option_case(
        "count-huge",
        "run",
        "--scenario",
        "small-town",
        "--policy",
        "fixed-posts",
        "--set",
        "policy.deploy.0.count=99999999999",
        named="deploy[0].count",
    ),
    option_case(
        "sorties-huge",
        "run",
        "--scenario",
        "small-town",
        "--policy",
        "cctv-drones",
        "--set",
        "policy.deploy.0.sorties_per_day=1000000000000",
        named="sorties_per_day",
    ),
    option_case(
        "offenders-huge",
        "run",
        "--scenario",
        "small-town",
        "--set",
        "offenders.per_100k_visitors=1e12",
        named="per_100k_visitors",
    ),
    option_case(
        "policies-empty",
        "compare",
        "--scenario",
        "small-town",
        "--policies",
        ",",
        named="--policies",
    ),
    option_case("out-empty", "run", "--scenario", "small-town", "--out", "", named="empty path"),
    scenario_case(
        "zero-hour-weights", "", f"[visitors.kind_hour_weights]\nscenic = {ZERO_DAY}\n", "scenic"
    ),
    scenario_case("cells-do-not-fit", "n_cells = 2", "n_cells = 100000", "n_cells"),
    scenario_case("places-do-not-fit", "scenic = 2", "scenic = 200", "city.generate"),
    experiment_case(
        "space-integers-typo",
        "",
        '[space]\nsamples = 4\nintegers = ["scenario.nothing"]\n'
        '[space.ranges]\n"scenario.scale" = [0.1, 0.5]\n',
        "space.integers[0]",
    ),
]


def _geojson_points(transform) -> str:
    def change(data: dict) -> dict:
        for i, point in enumerate(f for f in data["features"] if f["geometry"]["type"] == "Point"):
            transform(i, point)
            point["properties"].pop("x", None)
            point["properties"].pop("y", None)
        return data

    return _geojson(change)


def _latitude_200(data: dict) -> dict:
    data["properties"]["crs"] = "epsg:4326"
    return data


CITY_CASES += [
    city_case(
        "geojson-one-node",
        "geojson",
        _geojson(lambda d: {**d, "features": [_first_point(d)], "properties": {}}),
        "1 node",
    ),
    city_case(
        "geojson-huge-coordinates",
        "geojson",
        _geojson_points(lambda i, p: p["geometry"].update(coordinates=[1e300 + i, 1e300])),
        "out of range",
    ),
    city_case(
        "geojson-latitude-200",
        "geojson",
        json.dumps(
            _latitude_200(
                json.loads(
                    _geojson_points(
                        lambda i, p: p["geometry"].update(coordinates=[100 + i * 1e-4, 200.0])
                    )
                )
            )
        ),
        "[-90.0, 90.0]",
    ),
    city_case("geojson-cell", "geojson", _geojson(_set_point("cell", 10**12)), "cell"),
]

NOT_YET: set[str] = set()
FILE_KIND_CASES = [c for c in FILE_KIND_CASES if c.id not in NOT_YET]
CALIBRATE_CASES = [c for c in CALIBRATE_CASES if c.id not in NOT_YET]
OPTIMISE_CASES = [c for c in OPTIMISE_CASES if c.id not in NOT_YET]

CASES = (
    SCENARIO_CASES
    + POLICY_CASES
    + EXPERIMENT_CASES
    + OPTION_CASES
    + CITY_CASES
    + FILE_KIND_CASES
    + CALIBRATE_CASES
    + OPTIMISE_CASES
    + SIZE_CASES
)


def _params():
    for case in CASES:
        yield pytest.param(case, id=f"{_kind(case)}-{case.id}")


def _kind(case: Case) -> str:
    for name, group in (
        ("scenario", SCENARIO_CASES),
        ("policy", POLICY_CASES),
        ("experiment", EXPERIMENT_CASES),
        ("city", CITY_CASES),
        ("file", FILE_KIND_CASES),
        ("calibrate", CALIBRATE_CASES),
        ("optimise", OPTIMISE_CASES),
        ("size", SIZE_CASES),
    ):
        if case in group:
            return name
    return "option"


def test_the_corpus_is_large_enough():
    assert len(CASES) >= 60
    assert {_kind(c) for c in CASES} == {
        "scenario",
        "policy",
        "experiment",
        "city",
        "option",
        "file",
        "calibrate",
        "optimise",
        "size",
    }


@pytest.mark.parametrize("case", list(_params()))
def test_bad_input_exits_2_naming_source_and_field_and_writes_nothing(case, tmp_path, monkeypatch):
    monkeypatch.chdir(Path(__file__).resolve().parents[1])  # built-in experiment paths
    paths = {}
    for name, text in case.files.items():
        path = tmp_path / name
        if text is None:  # a folder where a file is expected
            path.mkdir()
        elif isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text)
        paths[name] = str(path)
    fill = {f"{{{n}}}": p for n, p in paths.items()}

    def filled(text: str) -> str:
        for key, value in fill.items():
            text = text.replace(key, value)
        return text

    out = tmp_path / "out"
    args = [filled(a) for a in case.args]
    if args[0] in ("run", "compare", "sweep", "optimise", "calibrate") and "--out" not in args:
        args += ["--out", str(out)]
    before = set(tmp_path.iterdir())
    outcome = CliRunner().invoke(main, args)
    assert outcome.exit_code == 2, f"exit {outcome.exit_code}: {outcome.output[-400:]}"
    assert "Traceback" not in outcome.output
    message = outcome.output
    for expected in case.names:
        assert filled(expected) in message, f"{filled(expected)!r} not named in {message!r}"
    assert set(tmp_path.iterdir()) == before, "a refused command wrote files"
