"""Scenarios: the city, its visitors and its offenders, as validated data.

A scenario is a TOML file (plus a city file or a generator spec). `load_scenario` accepts a
built-in name or a path; every field is described by its `param` metadata and checked by
`sim.config.build`, and unknown or out-of-range fields fail before anything runs.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from sim.city.assign import PlaceAssignment, assign_places
from sim.city.generate import GeneratedCitySpec, generate_city
from sim.city.graph import PLACE_KINDS, City
from sim.city.io import load_city
from sim.config import apply_overrides, build, read_toml
from sim.errors import ConfigError
from sim.params import param

SCENARIO_DIR = Path(__file__).parent / "scenarios"
VISITED_KINDS = tuple(k for k in PLACE_KINDS if k not in ("street", "police_station"))
HOURS = 24


def _flat(value: float) -> tuple[float, ...]:
    return (value,) * HOURS


@dataclass(frozen=True)
class CitySpec:
    """Where the city comes from: a file, or a seeded generator; optionally places by rule."""

    file: str | None = param(None, doc="GraphML or GeoJSON city file, relative to the scenario")
    generate: GeneratedCitySpec | None = param(None, doc="synthetic city generator settings")
    assign: PlaceAssignment | None = param(None, doc="assign places to a bare street network")


@dataclass(frozen=True)
class VisitorParams:
    """Who visits, when they come, where they go and how long they stay."""

    per_day: float = param(
        150_000, unit="persons/day", low=0,
        source="case brief: ~150,000 visitors a day in the central city (Leshan, May Day)",
        doc="visitors arriving per day at scale 1")
    party_size_weights: tuple[float, ...] = param(
        (0.20, 0.40, 0.20, 0.15, 0.05), length=5, low=0,
        doc="relative frequency of parties of 1..5 people (one agent per party)",
        source="assumption: holiday travel is mostly in pairs and families (mean 2.45)")
    arrival_profile: tuple[float, ...] = param(
        (0, 0, 0, 0, 0, 0, 2, 6, 12, 14, 12, 9, 7, 6, 5, 4, 3, 3, 3, 2, 1, 0, 0, 0),
        length=HOURS, low=0, doc="relative arrivals per hour of day 0..23",
        source="assumption: morning arrivals, per the case brief's daily pattern")
    stops_mean: float = param(3.0, unit="places", low=0, high=20,
                              doc="mean number of sights per party-day (1 + Poisson)",
                              source="assumption: day visitors see 2-4 sites")
    max_stops: int = param(6, unit="places", low=1, high=30, doc="cap on sights per day")
    distance_decay_per_km: float = param(
        0.6, unit="1/km", low=0,
        doc="choice weight of a sight is attractiveness x exp(-decay x street km)",
        source="assumption: exponential distance decay (McKercher & Lew 2003), rate not fitted")
    walk_speed_m_per_min: float = param(
        72.0, unit="m/min", low=1, high=200, doc="walking speed (1.2 m/s)",
        source="Bosina & Weidmann 2017: mean free walking 1.34 m/s; slowed for sightseeing")
    bus_walk_threshold_min: float = param(
        15.0, unit="min", low=0, doc="a party considers a bus when the walk is longer than this",
        source="assumption")
    bus_service_hours: tuple[float, ...] = param(
        (6.0, 23.0), unit="h", length=2, low=0, high=24, doc="first and last bus departure",
        source="assumption: typical city bus service")
    day_end_hour: float = param(22.0, unit="h", low=1, high=24,
                                doc="parties plan to finish their last sight by this hour",
                                source="assumption")
    dwell_median_min: dict[str, float] = param(
        None, unit="min", keys=VISITED_KINDS, low=0,
        doc="median dwell per place kind (log-normal)",
        source="assumption: scenic areas take hours, food streets ~1 h, stations minutes")
    dwell_sigma: float = param(0.5, low=0, high=3, doc="log-normal sigma of dwell times",
                               source="assumption")
    kind_hour_weights: dict[str, tuple[float, ...]] = param(
        None, keys=VISITED_KINDS, low=0, length=HOURS,
        doc="pull of each kind by hour of day (sights by day, food streets in the evening)",
        source="assumption, after the case brief: midday sights, evening food streets")

    def dwell_medians(self) -> dict[str, float]:
        """Median dwell by kind, defaults filled in for kinds the file leaves out."""
        defaults = {"scenic": 100.0, "food_street": 60.0, "plaza": 40.0, "pier": 45.0,
                    "station": 15.0, "bus_terminal": 10.0, "hotel": 10.0}
        return defaults | (self.dwell_median_min or {})

    def hour_weights(self) -> dict[str, tuple[float, ...]]:
        """Hourly pull by kind, defaults filled in for kinds the file leaves out."""
        day = tuple(1.0 if 8 <= h < 18 else 0.3 if 18 <= h < 20 else 0.0 for h in range(HOURS))
        evening = tuple(0.3 if 10 <= h < 16 else 1.5 if 17 <= h < 23 else 0.1 for h in range(HOURS))
        defaults = {"scenic": day, "pier": day, "food_street": evening,
                    "plaza": tuple(0.7 if 9 <= h < 23 else 0.0 for h in range(HOURS)),
                    "station": _flat(1.0), "bus_terminal": _flat(1.0), "hotel": _flat(1.0)}
        return defaults | (self.kind_hour_weights or {})


@dataclass(frozen=True)
class Scenario:
    """Everything about the world that a deployment policy does not choose."""

    name: str = param("unnamed", doc="scenario name")
    description: str = param("", doc="one-line description")
    days: int = param(1, unit="days", low=1, high=60, doc="simulated days")
    scale: float = param(1.0, low=0, high=10,
                         doc="multiplies visitor and offender numbers (0.1 = a tenth)")
    city: CitySpec = param(CitySpec(), doc="the city")
    visitors: VisitorParams = param(VisitorParams(), doc="visitors")
    source_file: str = field(default="", compare=False, metadata={"internal": True})

    def city_model(self) -> City:
        """The scenario's city, loaded or generated once per process and then shared."""
        base = Path(self.source_file).parent if self.source_file else Path.cwd()
        key = (repr(self.city), str(base))
        city = _CITY_CACHE.get(key)
        if city is None:
            city = _CITY_CACHE[key] = _build_city(self.city, base, self.source_file)
        return city


_CITY_CACHE: dict[tuple[str, str], City] = {}
"""Cities by (spec, base folder): a sweep loads or generates each city once per process."""


def _build_city(spec: CitySpec, base: Path, source: str) -> City:
    if (spec.file is None) == (spec.generate is None):
        raise ConfigError(source, "city", "give exactly one of city.file or city.generate")
    if spec.file is not None:
        path = Path(spec.file)
        city = load_city(path if path.is_absolute() else Path(base) / path)
    else:
        city = generate_city(spec.generate, name=Path(source).stem or "synthetic")
    if spec.assign is not None:
        city = assign_places(city, spec.assign)
    if len(city.entries) == 0 or len(city.attractions) == 0:
        raise ConfigError(source, "city", "the city needs at least one entry place (station, "
                          "bus_terminal, pier, hotel) and one attraction with attractiveness > 0; "
                          "a bare street network needs [city.assign]")
    return city


def scenario_names() -> list[str]:
    """Names of the built-in scenarios."""
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.toml"))


def resolve(name_or_path: str, directory: Path, kind: str) -> Path:
    """A built-in name (file stem in `directory`) or a path to a TOML file."""
    path = Path(name_or_path)
    if path.suffix == ".toml" or path.exists():
        return path
    builtin = directory / f"{name_or_path}.toml"
    if builtin.exists():
        return builtin
    known = ", ".join(sorted(p.stem for p in directory.glob("*.toml")))
    raise ConfigError(name_or_path, "", f"unknown {kind}; built-in: {known}, or a path to a "
                      ".toml file")


def with_overrides(scenario: Scenario, overrides: dict[str, Any]) -> Scenario:
    """A validated copy of `scenario` with dotted-path overrides (as `--set` gives them)."""
    if not overrides:
        return scenario
    raw = apply_overrides(Scenario, _without_none(asdict(scenario)), overrides)
    label = scenario.source_file or "scenario"
    updated = replace(build(Scenario, raw, file=label), source_file=scenario.source_file)
    updated.city_model()
    return updated


def _without_none(data: Any) -> Any:
    """Drop unset optional fields, which TOML cannot express, from a dataclass dump."""
    if isinstance(data, dict):
        return {k: _without_none(v) for k, v in data.items()
                if v is not None and k != "source_file"}
    return data


def load_scenario(name_or_path: str, overrides: dict[str, Any] | None = None) -> Scenario:
    """Load and validate a scenario; `overrides` maps dotted field paths to new values."""
    path = resolve(name_or_path, SCENARIO_DIR, "scenario")
    raw = apply_overrides(Scenario, read_toml(path), overrides or {})
    scenario = build(Scenario, raw, file=str(path))
    scenario = replace(scenario, source_file=str(path))
    scenario.city_model()  # a broken city file fails now, before any run starts
    return scenario

