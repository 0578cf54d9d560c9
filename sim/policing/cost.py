"""What a deployment costs, and scaling a policy to a budget of officer-hours.

Officer- and car-hours come from the schedule, drone-hours from flight time, camera-hours
from the cameras watched live.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from sim.clock import HOURS_PER_DAY, MIN_PER_DAY, shift_minutes
from sim.policing.policy import Policy
from sim.policing.units import KINDS

if TYPE_CHECKING:
    from sim.model import CrowdPolicingModel


def resources_used(model: CrowdPolicingModel) -> dict[str, float]:
    """Resources used up to now: officer-, car-, drone- and monitored camera-hours.

    Units work whole scheduled shifts (responding to calls included), so their hours come
    from the schedule; drones count actual flight time.
    """
    policy = model.policy
    now = model.env.now
    officer_h = car_h = 0.0
    for dep in policy.deploy:
        kind = KINDS[dep.unit]
        if not kind.staffed:
            continue
        hours = dep.count * shift_minutes(dep.hours, now) / 60.0
        officer_h += hours * dep.officers
        car_h += hours if kind.moves == "drives" else 0.0
    checkpoints = int(model.presence.checkpoint_active.sum())
    officer_h += checkpoints * policy.checkpoint_officers * now / 60.0
    monitored = sum(1 for camera in model.deployer.cameras if camera.monitored)
    return {
        "officer_hours": officer_h,
        "car_hours": car_h,
        "drone_hours": sum(d.flight_minutes for d in model.deployer.drones) / 60.0,
        "camera_hours": monitored * now / 60.0,
    }


def car_hours_per_day(policy: Policy) -> float:
    """Scheduled patrol-car hours in one full day."""
    return sum(
        d.count * shift_minutes(d.hours, MIN_PER_DAY) / 60.0
        for d in policy.deploy
        if KINDS[d.unit].moves == "drives"
    )


def officer_hours_per_day(policy: Policy, checkpoints: int) -> float:
    """Scheduled officer-hours a policy uses in one full day."""
    units = sum(
        d.count * d.officers * shift_minutes(d.hours, MIN_PER_DAY) / 60.0
        for d in policy.deploy
        if KINDS[d.unit].staffed
    )
    staffed = (
        checkpoints * policy.checkpoint_officers * HOURS_PER_DAY if policy.checkpoints else 0.0
    )
    return units + staffed


def budget_overrides(policy: Policy, checkpoints: int, hours_per_day: float) -> dict[str, int]:
    """Unit counts (`deploy.i.count`) that bring a policy to `hours_per_day` officer-hours.

    Staffed checkpoints are a fixed cost; every staffed unit group is scaled by the same
    factor to fill the rest, rounded down (at least one unit a group), and then the groups
    with the largest remainders get one unit more while that brings the total closer: the
    result is within one unit-shift of the budget where the fixed cost allows it. A policy
    with no officers (cameras, drones only) cannot be scaled and is returned unchanged.
    """
    groups = [
        (i, d, d.officers * shift_minutes(d.hours, MIN_PER_DAY) / 60.0)
        for i, d in enumerate(policy.deploy)
        if KINDS[d.unit].staffed and d.officers > 0 and d.count > 0
    ]
    units = sum(d.count * per_unit for _, d, per_unit in groups)
    if units == 0:
        return {}
    fixed = officer_hours_per_day(policy, checkpoints) - units
    factor = max(hours_per_day - fixed, 0.0) / units
    ideal = {i: d.count * factor for i, d, _ in groups}
    counts = {i: max(1, math.floor(ideal[i])) for i in ideal}
    total = fixed + sum(counts[i] * per_unit for i, _, per_unit in groups)
    for i, _, per_unit in sorted(groups, key=lambda g: counts[g[0]] - ideal[g[0]]):
        if abs(total + per_unit - hours_per_day) < abs(total - hours_per_day):
            counts[i] += 1
            total += per_unit
    return {f"deploy.{i}.count": n for i, n in counts.items()}
