"""How watchful a party is when a pickpocket picks it: its own vigilance and its day so far.

A party arrives with a vigilance of its own (`awareness_beta`). What it has experienced
today makes it more watchful for the rest of the day: being where visible police or
volunteers were, riding a bus under police-transit cooperation (the anti-pickpocket
announcements), being where a pickpocket was arrested in the act, and noticing a theft from
one of its own. Each removes a share of the remaining unawareness. Worked out when an
attempt picks the party, from its own stays (`sim.crowds`), so parties that nobody targets
cost nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sim.model import CrowdPolicingModel


class Vigilance:
    """What each party has seen today, and the awareness it has from it."""

    def __init__(self, model: CrowdPolicingModel) -> None:
        self.model = model
        self.params = model.scenario.victims
        self.arrests_at: dict[int, list[float]] = {}
        """Times of arrests in the act at each location (seen by those there)."""
        self.noticed: dict[int, float] = {}
        """When each party noticed a theft from one of its own."""

    def arrest_seen(self, loc: int) -> None:
        """A pickpocket is arrested in the act at `loc` now, in view of those there."""
        self.arrests_at.setdefault(loc, []).append(self.model.env.now)

    def theft_noticed(self, party: int) -> None:
        """Party `party` notices a theft from one of its own now."""
        self.noticed.setdefault(party, self.model.env.now)

    def awareness(self, party: int, own: float) -> float:
        """The party's awareness now: its own, raised by what it has experienced today."""
        model, p = self.model, self.params
        now = model.env.now
        crowds, transit = model.crowds, model.transit
        cooperation = model.policy.transit_cooperation
        locs, enters, leaves = crowds.stays_of(party)
        police = rode = arrest = False
        for loc, enter, leave in zip(locs.tolist(), enters.tolist(), leaves.tolist(), strict=True):
            if enter > now:
                break
            until = min(leave, now)
            police = police or crowds.guarded_during(loc, enter, until)
            rode = rode or (cooperation and transit.is_vehicle(loc))
            arrest = arrest or any(enter <= t <= until for t in self.arrests_at.get(loc, ()))
        keep = 1.0  # of the remaining unawareness
        for happened, share in (
            (police, p.police_seen_vigilance),
            (rode, p.announcement_vigilance),
            (arrest, p.arrest_seen_vigilance),
            (party in self.noticed, p.victim_vigilance),
        ):
            if happened:
                keep *= 1.0 - share
        return own + (1.0 - own) * (1.0 - keep)
