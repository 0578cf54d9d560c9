"""What happens when a pickpocket strikes, from the attempt to the closed case.

One place holds the event logic, so offenders, officers, cameras and victims all meet in
the ledger the same way: deterrence, bystanders, victim choice, success, detection and
arrest in the act; then, for a theft, the victim noticing and reporting, the dispatched
car (which catches the offender only if he is still in sight of the scene), and a later
clearance from camera footage if the police investigate it.
"""

from __future__ import annotations

from collections.abc import Generator
from enum import Enum
from typing import TYPE_CHECKING

import numpy as np

from sim import portable
from sim.ledger import Incident, Ledger
from sim.policing.units import arrests_in_act

if TYPE_CHECKING:
    from sim.agents.pickpocket import Pickpocket
    from sim.model import CrowdPolicingModel

VICTIM_TRIES = 4  # size-weighted victim draw by thinning; the last draw is kept


class Outcome(Enum):
    """How an attempt ended, from the offender's side."""

    NO_TARGET = "no_target"
    DETERRED = "deterred"
    FAILED = "failed"
    THEFT = "theft"
    ARRESTED = "arrested"


class CrimeEvents:
    """Resolves attempts and runs the follow-up of each theft."""

    def __init__(self, model: CrowdPolicingModel) -> None:
        self.model = model
        self.ledger = Ledger()
        self.rng = model.streams.incidents
        self.victims = model.scenario.victims
        self.police = model.scenario.police
        self.investigates_footage = model.policy.footage_investigation
        self.largest_party = float(len(model.scenario.visitors.party_size_weights))
        self.thefts_at_node = np.zeros(model.city.n_nodes, dtype=np.int64)

    def attempt(self, offender: Pickpocket, loc: int) -> Outcome:
        """An offender at location `loc` tries to pick a pocket now."""
        model = self.model
        if not model.crowds.people(loc):
            return Outcome.NO_TARGET
        now = model.env.now
        on_bus = model.transit.is_vehicle(loc)
        node = offender.node_now() if on_bus else loc
        incident = self.ledger.attempt(now, loc, node, on_bus, offender.unique_id)
        rng = self.rng
        if rng.random() < model.presence.deterrence(loc):
            incident.deterred = True
            return Outcome.DETERRED
        if rng.random() < model.presence.bystanders_notice(loc):
            incident.foiled_by_bystanders = True
            return Outcome.FAILED
        victim = model.visitor_flow.party(self._victim(loc))
        incident.victim = victim.number
        awareness = victim.awareness
        if model.presence.cooperating_bus(loc):
            awareness += (1.0 - awareness) * self.police.transit_awareness_boost
        incident.occurred = rng.random() < model.scenario.offenders.success_probability * (
            1.0 - awareness
        )
        who = model.presence.detector(loc, rng)
        if who:
            Ledger.detect(incident, who, now)
            if arrests_in_act(who):
                if rng.random() < self.police.arrest_in_act:
                    self._arrest(incident, offender, "in_act")
                    self._count(incident)
                    return Outcome.ARRESTED
            else:
                model.dispatcher.request(incident, node)
        if not incident.occurred:
            return Outcome.FAILED
        self._count(incident)
        offender.loot = incident
        model.env.process(self._aftermath(incident, offender))
        return Outcome.THEFT

    def _count(self, incident: Incident) -> None:
        if incident.occurred and not incident.on_bus:
            self.thefts_at_node[incident.node] += 1

    def _victim(self, loc: int) -> int:
        """A party at `loc` drawn with probability proportional to its size (by thinning)."""
        rng = self.rng
        numbers, sizes = self.model.crowds.present(loc)
        for _ in range(VICTIM_TRIES):
            i = int(rng.random() * len(numbers))
            if rng.random() * self.largest_party < sizes[i]:
                break
        return int(numbers[i])

    def _aftermath(self, incident: Incident, offender: Pickpocket) -> Generator:
        """The victim notices, may report; a report brings a car and maybe the footage."""
        v, police, rng, env = self.victims, self.police, self.rng, self.model.env
        notice = v.notice_median_min * portable.exp(v.notice_sigma * rng.standard_normal())
        reports = rng.random() < v.report_probability
        call_delay = v.report_median_min * portable.exp(v.report_sigma * rng.standard_normal())
        footage = self.model.presence.has_camera(incident.location) and (
            rng.random() < police.cctv_clearance
        )
        investigation = (
            60.0
            * police.investigation_median_h
            * portable.exp(police.investigation_sigma * rng.standard_normal())
        )
        yield env.timeout(notice)
        Ledger.notice(incident, env.now)
        if not reports:
            return
        yield env.timeout(call_delay)
        Ledger.report(incident, env.now)
        self.model.dispatcher.request(incident, incident.node)
        if footage and self.investigates_footage:
            yield env.timeout(investigation)
            if not incident.cleared_by:
                self._arrest(incident, offender, "camera_evidence")

    def on_scene(self, incident: Incident) -> None:
        """A dispatched car arrives: the offender is caught only if still in sight."""
        now = self.model.env.now
        Ledger.respond(incident, now)
        offender = self.model.offenders.by_id.get(incident.offender)
        if incident.cleared_by or offender is None or not offender.free:
            return
        from_scene = self.model.city.distances_from(incident.node)
        if offender.leg.metres_to(now, from_scene) > self.police.scene_sight_m:
            return
        if self.rng.random() < self.police.arrest_on_scene:
            how = "after_report" if incident.reported else "on_dispatch"
            self._arrest(incident, offender, how)

    def checkpoint_stop(self, offender: Pickpocket) -> bool:
        """An offender carrying stolen goods passes a staffed checkpoint: stopped?"""
        loot = offender.loot
        if loot is None or loot.cleared_by or self.rng.random() >= self.police.checkpoint_intercept:
            return False
        self._arrest(loot, offender, "checkpoint")
        return True

    def _arrest(self, incident: Incident, offender: Pickpocket, how: str) -> None:
        """Clear the case; take the offender into custody if still free."""
        arrest = offender.free
        Ledger.clear(incident, how, self.model.env.now, arrest)
        if arrest:
            offender.taken_into_custody()
            if not incident.on_bus:
                self.model.offender_network.arrest_at(incident.node)
