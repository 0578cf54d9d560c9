"""Kinds of police unit, described once: what each is seen as, spots, does and costs.

Every other part of the model reads this table (the policy's allowed `unit` values,
which agent moves a unit and how fast, what offenders see, who spots an attempt and
whether that ends in an arrest, who answers calls, which hours a unit costs). A new kind
is one entry here (`register`), with its speed and detection chance as police parameters.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class UnitKind:
    """What a kind of unit is, as the rest of the model needs to know it."""

    name: str
    doc: str
    moves: Literal["walks", "drives", "flies"]
    """On foot or by car through the streets (a PoliceUnit), or overhead (a Drone)."""
    speed: str
    """The PoliceParams field of its speed (m/min; along the streets, or straight for drones)."""
    seen_by_offenders: bool
    """Offenders within sight of it see it (a visible guard: it deters, and they leave)."""
    deter: str
    """The PoliceParams field of the chance that an offender who sees one of its members
    within sight gives up an attempt ('' for kinds offenders do not see)."""
    detector: str
    """Its name in the ledger when it spots an attempt; kinds that spot alike share one."""
    detect: str
    """The PoliceParams field of one unit's chance to spot an attempt at its place."""
    arrests_in_act: bool
    """An attempt it spots ends in an arrest on the spot (else it calls the police)."""
    reports_after: str
    """The PoliceParams field of the minutes before its call about an attempt it spotted
    reaches the dispatcher ('' for none: it is on the police radio)."""
    answers: Literal["", "anywhere", "nearby", "help"]
    """Which calls it takes: any, anywhere (cars); any within reach of where it is, leaving
    its post (officers on foot); visitors' requests for help within reach (volunteers);
    none ('')."""
    staffed: bool
    """Its officers count in officer-hours (a drone's crew is not on the street)."""


KINDS: dict[str, UnitKind] = {}
"""Every unit kind by name, in the order the presence checks their detectors."""


def register(kind: UnitKind) -> None:
    """Add a unit kind; kinds that share a detector must share its detection chance."""
    if kind.seen_by_offenders != bool(kind.deter):
        raise ValueError(f"{kind.name}: a kind offenders see needs a deter chance, and only it")
    for other in KINDS.values():
        if other.detector == kind.detector and other.detect != kind.detect:
            raise ValueError(f"{kind.name}: detector {kind.detector!r} uses {other.detect!r}")
    KINDS[kind.name] = kind
    detectors.cache_clear()


CAMERA = "camera"
"""Cameras are part of the city, not units, but spot attempts too (and send a car)."""
BUS_DRIVER = "bus_driver"
"""Drivers briefed under police-transit cooperation spot attempts on board (and call)."""


def ground_detectors() -> tuple[str, ...]:
    """Detectors of units on the streets, in the order they are checked (first one wins)."""
    return tuple(dict.fromkeys(k.detector for k in KINDS.values() if k.moves != "flies"))


@functools.cache
def detectors() -> tuple[str, ...]:
    """Everyone who can spot an attempt, in the order the presence checks them."""
    air = dict.fromkeys(k.detector for k in KINDS.values() if k.moves == "flies")
    return (*ground_detectors(), CAMERA, BUS_DRIVER, *air)


def detection_param(detector: str) -> str:
    """The PoliceParams field of a ground detector's chance to spot an attempt."""
    return next(k.detect for k in KINDS.values() if k.detector == detector)


def arrests_in_act(detector: str) -> bool:
    """An attempt spotted by `detector` ends in an arrest on the spot."""
    return any(k.arrests_in_act for k in KINDS.values() if k.detector == detector)


def report_delay_param(detector: str) -> str:
    """The PoliceParams field of the delay before `detector`'s call reaches the dispatcher."""
    return next((k.reports_after for k in KINDS.values() if k.detector == detector), "")


for _kind in (
    UnitKind(
        "plainclothes",
        "officers nobody recognises: no deterrence, good at catching attempts in the act",
        moves="walks",
        speed="officer_walk_m_per_min",
        seen_by_offenders=False,
        deter="",
        detector="plainclothes",
        detect="detect_plainclothes",
        arrests_in_act=True,
        reports_after="",
        answers="",
        staffed=True,
    ),
    UnitKind(
        "uniformed",
        "visible officers at a post or on foot patrol: they deter and can spot attempts",
        moves="walks",
        speed="officer_walk_m_per_min",
        seen_by_offenders=True,
        deter="deter_visible",
        detector="uniformed",
        detect="detect_uniformed",
        arrests_in_act=True,
        reports_after="",
        answers="nearby",
        staffed=True,
    ),
    UnitKind(
        "patrol_car",
        "a car crew, visible at each stop, that answers dispatches",
        moves="drives",
        speed="car_speed_m_per_min",
        seen_by_offenders=True,
        deter="deter_visible",
        detector="uniformed",
        detect="detect_uniformed",
        arrests_in_act=True,
        reports_after="",
        answers="anywhere",
        staffed=True,
    ),
    UnitKind(
        "volunteer",
        "community patrol, station staff or student volunteers: seen, but not police; they "
        "watch a place, call the police about what they see and never arrest",
        moves="walks",
        speed="officer_walk_m_per_min",
        seen_by_offenders=True,
        deter="deter_volunteer",
        detector="volunteer",
        detect="detect_volunteer",
        arrests_in_act=False,
        reports_after="volunteer_call_min",
        answers="help",
        staffed=False,
    ),
    UnitKind(
        "drone",
        "flies sorties between its places: deters and spots from above, sends a car",
        moves="flies",
        speed="drone_speed_m_per_min",
        seen_by_offenders=False,
        deter="",
        detector="drone",
        detect="detect_drone",
        arrests_in_act=False,
        reports_after="",
        answers="",
        staffed=False,
    ),
):
    register(_kind)
