"""Scenarios: the city, its visitors and its offenders, as validated data.

A scenario is a TOML file (plus a city file or a generator spec). `load_scenario` accepts a
built-in name or a path; every field is described by its `param` metadata and checked by
`sim.config.build`, and unknown or out-of-range fields fail before anything runs.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sim.behaviour import CallParams, OffenderParams, PoliceParams, VictimParams, VisitorParams
from sim.city.assign import PlaceAssignment, assign_places
from sim.city.generate import GeneratedCitySpec, generate_city
from sim.city.graph import City
from sim.city.io import load_city
from sim.config import apply_overrides, build, read_toml, resolve, to_raw
from sim.errors import ConfigError
from sim.params import param
from sim.scenarios import SCENARIO_DIR


@dataclass(frozen=True)
class CitySpec:
    """Where the city comes from: a file, or a seeded generator; optionally places by rule."""

    file: str | None = param(None, doc="GraphML or GeoJSON city file, relative to the scenario")
    generate: GeneratedCitySpec | None = param(None, doc="synthetic city generator settings")
    assign: PlaceAssignment | None = param(None, doc="assign places to a bare street network")


@dataclass(frozen=True)
class Scenario:
    """Everything about the world that a deployment policy does not choose."""

    name: str = param("unnamed", doc="scenario name")
    description: str = param("", doc="one-line description")
    days: int = param(1, unit="days", low=1, high=60, doc="simulated days")
    scale: float = param(
        1.0, low=0, high=10, doc="multiplies visitor and offender numbers (0.1 = a tenth)"
    )
    city: CitySpec = param(CitySpec(), doc="the city")
    visitors: VisitorParams = param(VisitorParams(), doc="visitors")
    offenders: OffenderParams = param(OffenderParams(), doc="pickpockets")
    victims: VictimParams = param(VictimParams(), doc="visitors as victims")
    police: PoliceParams = param(PoliceParams(), doc="effectiveness of guardians")
    calls: CallParams = param(CallParams(), doc="calls for service other than theft")
    source_file: str = field(default="", compare=False, metadata={"internal": True})

    def city_model(self) -> City:
        """The scenario's city, loaded or generated once per process and then shared."""
        base = Path(self.source_file).parent if self.source_file else Path.cwd()
        key = (repr(self.city), str(base))
        city = _CITY_CACHE.pop(key, None)
        if city is None:
            city = _build_city(self.city, base, self.source_file)
        _CITY_CACHE[key] = city  # the most recently used last
        while len(_CITY_CACHE) > CITY_CACHE_SIZE:
            _CITY_CACHE.popitem(last=False)
        return city


CITY_CACHE_SIZE = 8
"""Cities kept per process: a sweep over a city field makes a new city at every point."""
_CITY_CACHE: OrderedDict[tuple[str, str], City] = OrderedDict()
"""Cities by (spec, base folder), least recently used first: each is built once per process
while it is in use, and the memory of many is bounded."""


def _build_city(spec: CitySpec, base: Path, source: str) -> City:
    if (spec.file is None) == (spec.generate is None):
        raise ConfigError(source, "city", "give exactly one of city.file or city.generate")
    if spec.file is not None:
        path = Path(spec.file)
        city = load_city(path if path.is_absolute() else Path(base) / path)
    else:
        g = spec.generate
        g.check_fits(g.rows * g.cols, sum(g.place_counts().values()), source, "city.generate")
        city = generate_city(g, name=Path(source).stem or "synthetic")
    if spec.assign is not None:
        a = spec.assign
        a.check_fits(city.n_nodes, a.attractions + a.entries, source, "city.assign")
        city = assign_places(city, a)
    if len(city.entries) == 0 or len(city.attractions) == 0:
        raise ConfigError(
            source,
            "city",
            "the city needs at least one entry place (station, "
            "bus_terminal, pier, hotel) and one attraction with attractiveness > 0; "
            "a bare street network needs [city.assign]",
        )
    city.freeze()  # shared by every run in the process: nobody may change it
    return city


def scenario_names() -> list[str]:
    """Names of the built-in scenarios."""
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.toml"))


def with_overrides(scenario: Scenario, overrides: dict[str, Any]) -> Scenario:
    """A validated copy of `scenario` with dotted-path overrides (as `--set` gives them)."""
    if not overrides:
        return scenario
    raw = apply_overrides(Scenario, to_raw(scenario), overrides)
    label = scenario.source_file or "scenario"
    updated = replace(build(Scenario, raw, file=label), source_file=scenario.source_file)
    check_consistency(updated, label)
    updated.city_model()
    return updated


def check_consistency(scenario: Scenario, file: str) -> None:
    """Constraints between fields that the per-field bounds cannot express."""
    v, o = scenario.visitors, scenario.offenders
    for field_name, weights in (
        ("visitors.party_size_weights", v.party_size_weights),
        ("visitors.arrival_profile", v.arrival_profile),
        *((f"visitors.kind_hour_weights.{k}", w) for k, w in (v.kind_hour_weights or {}).items()),
    ):
        if sum(weights) <= 0:
            raise ConfigError(file, field_name, "needs at least one weight above 0")
    for field_name, (low, high) in (
        ("visitors.bus_service_hours", v.bus_service_hours),
        ("offenders.work_hours", o.work_hours),
        ("offenders.flee_m", o.flee_m),
    ):
        if low > high:
            raise ConfigError(
                file, field_name, f"[{low:g}, {high:g}]: the first value must not exceed the second"
            )


def load_scenario(name_or_path: str, overrides: dict[str, Any] | None = None) -> Scenario:
    """Load and validate a scenario; `overrides` maps dotted field paths to new values."""
    path = resolve(name_or_path, SCENARIO_DIR, "scenario")
    raw = apply_overrides(Scenario, read_toml(path), overrides or {})
    scenario = build(Scenario, raw, file=str(path))
    scenario = replace(scenario, source_file=str(path))
    check_consistency(scenario, str(path))
    scenario.city_model()  # a broken city file fails now, before any run starts
    return scenario
