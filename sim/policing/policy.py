"""A deployment policy as validated data: what resources go where, when, and how they move.

Every mechanism is a field; a new policy that combines existing mechanisms is a new TOML
file, never new code. Built-in presets live in `sim/policies/`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim import clock
from sim.config import apply_overrides, build, read_toml, resolve
from sim.errors import ConfigError
from sim.params import param
from sim.policing.units import KINDS

POLICY_DIR = Path(__file__).resolve().parents[1] / "policies"

"""Kinds of deployable unit."""

WHERE = ("top_crowded", "top_thefts", "cells", "random", "places", "bus_lines", "police_stations")
"""Placement rules: the k most crowded places (expected, from attractiveness), the places
with most thefts on record so far (re-ranked daily; crowd rank on day one), one per grid
cell, random places, named places, bus lines, or police stations (a central base)."""

MOVEMENT = ("static", "patrol_points", "circuit", "random_walk")
"""How a unit moves: stays at its post for the shift; tours all the mandatory patrol points
of its cell in a covering (nearest-neighbour) order; tours its assigned places in order and
repeats; or, after each stop, draws the next at random from the stops its placement rule
allows (its cell's points for `cells`, every visited place for `random`, its assigned
places otherwise). `dwell_min` at each stop; a tour goes on where it stopped."""

MONITORING = ("as_built", "none", "passive", "active")
"""What happens to the city's existing cameras: left as the city file says (including any
it marks as watched live), switched off, recording only, or watched live (detections
trigger dispatch). The default, `passive`, has nobody watching: a policy watches cameras
only if it says so."""

DISPATCH_RULES = ("nearest", "own_cell")
"""Which free car answers: the nearest anywhere, or one of the incident's cell (else nearest)."""


MAX_UNITS = 10_000
"""Units in one deployment group (and cameras, circuit places): more would be no police force
the tool can speak to, and each unit's events scale a run's work."""
MAX_OFFICERS_PER_UNIT = 100


@dataclass(frozen=True)
class Deployment:
    """A group of identical units deployed the same way."""

    unit: str = param("uniformed", choices=KINDS, doc="kind of unit (sim/policing/units.py)")
    count: int = param(1, low=0, high=MAX_UNITS, doc="number of units (posts, teams, cars, drones)")
    officers: int = param(
        1, low=0, high=MAX_OFFICERS_PER_UNIT, doc="officers per unit (cost; visible presence)"
    )
    where: str = param("top_crowded", choices=WHERE, doc="placement rule")
    places: tuple[str, ...] = param((), doc="labels or node ids, for where = 'places'")
    movement: str = param("static", choices=MOVEMENT, doc="how the unit moves")
    sample_of: int = param(
        0,
        unit="places",
        low=0,
        doc="with top_crowded: place the group at a random draw (once per "
        "run, police stream) from the top sample_of places instead of the "
        "top ones, as a randomised trial assigns treatment (0: the top)",
    )
    circuit_places: int = param(
        3,
        unit="places",
        low=1,
        high=MAX_UNITS,
        doc="places per unit on a circuit or random walk, for "
        "placement by rank (top_crowded, top_thefts), random "
        "circuits and shared named places",
    )
    dwell_min: float = param(
        15.0,
        unit="min",
        low=0.5,
        doc="stop length at each point or place when moving (Koper 1995 recommends 10-15 min)",
    )
    hours: tuple[float, ...] = param(
        (8.0, 22.0),
        unit="h",
        length=2,
        low=0,
        high=24,
        doc="daily shift start and end; an end before the start runs overnight",
    )
    sorties_per_day: int = param(
        4,
        low=0,
        high=int(clock.MIN_PER_DAY),
        doc="drone flights per day (drones only); their flight time must fit in a day",
    )
    flight_min: float = param(25.0, unit="min", low=1, doc="drone flight time per sortie")
    responds: bool = param(True, doc="patrol cars answer dispatches (cars only)")

    def shift_hours(self) -> float:
        """Length of the daily shift (sim/clock.py)."""
        return clock.shift_hours(self.hours)

    def shift_on(self, day: int) -> tuple[float, float]:
        """Start and end of the shift that begins on `day`, in clock minutes."""
        return clock.shift_on(self.hours, day)

    def first_shift_day(self) -> int:
        """-1 for an overnight shift (the night that began before the run), else 0."""
        return clock.first_shift_day(self.hours)


@dataclass(frozen=True)
class DispatchSpec:
    """How reported and live-detected incidents reach a car."""

    delay_min: float = param(
        5.0,
        unit="min",
        low=0,
        doc="call-taking and dispatch delay before a car moves",
        source="assumption; the case credits integrated command with ~1/3 faster response",
    )
    rule: str = param("nearest", choices=DISPATCH_RULES, doc="which free car answers")


@dataclass(frozen=True)
class CameraSpec:
    """Fixed cameras: the city's own and extra ones a policy installs."""

    monitoring: str = param(
        "passive", choices=MONITORING, doc="what becomes of the city's existing cameras"
    )
    extra_top_crowded: int = param(
        0, low=0, high=MAX_UNITS, doc="extra cameras at the k most crowded places"
    )
    extra_monitoring: str = param(
        "active", choices=("passive", "active"), doc="monitoring of the extra cameras"
    )


@dataclass(frozen=True)
class Policy:
    """A complete deployment: units, dispatch, cameras, checkpoints, transit cooperation."""

    name: str = param("unnamed", doc="policy name")
    description: str = param("", doc="one-line description")
    deploy: tuple[Deployment, ...] = param((), doc="unit groups ([[deploy]] tables)")
    dispatch: DispatchSpec = param(DispatchSpec(), doc="dispatch")
    cameras: CameraSpec = param(CameraSpec(), doc="cameras")
    checkpoints: bool = param(False, doc="staff the city's ring-road checkpoints")
    checkpoint_officers: int = param(
        2,
        low=0,
        high=MAX_OFFICERS_PER_UNIT,
        doc="officers at each staffed checkpoint, around the clock (cost)",
    )
    transit_cooperation: bool = param(
        False, doc="police-transit cooperation: briefings, anti-pickpocket video on buses"
    )
    footage_investigation: bool = param(
        False, doc="police review recorded camera footage of reported thefts (cctv_clearance)"
    )


DEFAULT_COMPARISON = (
    "none",
    "random-patrol",
    "fixed-posts",
    "grid",
    "hotspot-koper",
    "plainclothes",
    "cctv-drones",
    "transit-cooperation",
    "integrated",
)
"""The presets `crowdsim compare` runs by default: one per mechanism mix
(centralised-response and officer-mix are variants for the case study and experiments)."""


def policy_names() -> list[str]:
    """Names of the built-in policies."""
    return sorted(p.stem for p in POLICY_DIR.glob("*.toml"))


def load_policy(name_or_path: str, overrides: dict[str, Any] | None = None) -> Policy:
    """Load and validate a policy (built-in name or path); overrides as dotted paths."""
    path = resolve(name_or_path, POLICY_DIR, "policy")
    raw = apply_overrides(Policy, read_toml(path), overrides or {}, label="--set policy.")
    policy = build(Policy, raw, file=str(path))
    check_policy(policy, str(path))
    return policy


def check_policy(policy: Policy, source: str) -> None:
    """Constraints between a deployment's fields that per-field bounds cannot express."""
    for i, dep in enumerate(policy.deploy):
        if dep.shift_hours() == 0.0:
            raise ConfigError(
                source,
                f"deploy[{i}].hours",
                f"a shift from {dep.hours[0]:g} h to {dep.hours[1]:g} h never works "
                "(give [0, 24] for round the clock)",
            )
        if dep.movement == "patrol_points" and dep.where != "cells":
            raise ConfigError(
                source,
                f"deploy[{i}].movement",
                "'patrol_points' tours a cell's mandatory points: it needs where = 'cells'",
            )
        flies = KINDS[dep.unit].moves == "flies"
        if flies and dep.sorties_per_day * dep.flight_min > clock.MIN_PER_DAY:
            raise ConfigError(
                source,
                f"deploy[{i}].sorties_per_day",
                f"{dep.sorties_per_day} sorties of {dep.flight_min:g} min do not fit in a day "
                f"({int(clock.MIN_PER_DAY)} min)",
            )
        if dep.sample_of and dep.where != "top_crowded":
            raise ConfigError(
                source,
                f"deploy[{i}].sample_of",
                "a random draw from the top places needs where = 'top_crowded'",
            )
