"""Stop-and-check at the ring-road checkpoints, and what it costs the public.

The officers of a staffed checkpoint check persons and vehicles as fast as their
throughput allows (`checks_per_officer_h`, `vehicle_checks_per_officer_h`), so a person
passing is checked with the chance (officers x throughput) / passers-by. An offender
carrying stolen goods who passes is checked with that chance, and the goods are found with
`loot_found`. Wanted persons turn up among the checks at the case's rate. Everyone checked
who is neither carrying loot nor wanted is an innocent person checked: the burden on the
public, reported beside the arrests the checks produce.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sim.model import CrowdPolicingModel


class Checkpoints:
    """The checks made at the staffed checkpoints, and the chance a passer-by is checked."""

    def __init__(self, model: CrowdPolicingModel) -> None:
        self.model = model
        self.params = p = model.scenario.police
        officers = model.policy.checkpoint_officers
        self.check_chance = min(1.0, officers * p.checks_per_officer_h / p.checkpoint_passers_per_h)

    def stops(self, carrying_loot: bool, rng) -> bool:
        """A passer-by carrying stolen goods is checked and the goods are found."""
        return carrying_loot and rng.random() < self.check_chance * self.params.loot_found

    def metrics(self, loot_arrests: int) -> dict[str, float]:
        """Persons and vehicles checked so far, wanted persons found, checks per arrest."""
        model, p = self.model, self.params
        hours = int(model.presence.checkpoint_active.sum()) * model.env.now / 60.0
        officer_hours = hours * model.policy.checkpoint_officers
        persons = officer_hours * p.checks_per_officer_h
        vehicles = officer_hours * p.vehicle_checks_per_officer_h
        wanted = (persons + vehicles) * p.wanted_per_100k_checks / 1e5
        arrests = loot_arrests + wanted
        return {
            "persons_checked": persons,
            "vehicles_checked": vehicles,
            "wanted_persons_found": wanted,
            "innocent_persons_checked": max(0.0, persons - loot_arrests - wanted),
            "checks_per_arrest": (persons + vehicles) / arrests if arrests else float("nan"),
        }
