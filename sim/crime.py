"""What happens when a pickpocket strikes, from the attempt to the closed case.

One place holds the event logic, so offenders, officers, cameras and victims all meet in
the ledger the same way: deterrence (by what the offender sees from where he stands),
bystanders, victim choice, success, detection (by whoever has the spot within sight) and
arrest in the act or a call to the police; then, for a theft, the victim noticing and
reporting (at once to a visible officer where the victim still is, else by phone after a
delay), the dispatched car (which catches the offender only if he is still in sight of
the scene and is identified), and a later clearance from camera footage if the police
investigate it. The police know only what is recorded (`recorded_at_node`): reports and
their own, volunteers' and cameras' detections; what nobody recorded is the dark figure.
"""

from __future__ import annotations

from collections.abc import Generator
from enum import Enum
from typing import TYPE_CHECKING

import numpy as np

from sim import portable
from sim.ledger import Incident, Ledger
from sim.policing.units import arrests_in_act, report_delay_param

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
        """Thefts that occurred at each node (the truth, for displays; police never read it)."""
        self.recorded_at_node = np.zeros(model.city.n_nodes, dtype=np.int64)
        """Thefts and attempts the police have on record at each node, as they learn of them."""

    def attempt(self, offender: Pickpocket, loc: int) -> Outcome:
        """An offender at location `loc` tries to pick a pocket now."""
        model = self.model
        if not model.crowds.people(loc):
            return Outcome.NO_TARGET
        now = model.env.now
        on_bus = model.transit.is_vehicle(loc)
        node = offender.node_now() if on_bus else loc
        incident = self.ledger.attempt(now, loc, node, on_bus, offender.unique_id)
        rng, presence, x, y = self.rng, model.presence, offender.x, offender.y
        if rng.random() < presence.deterrence(loc, x, y):
            incident.deterred = True
            return Outcome.DETERRED
        if rng.random() < presence.bystanders_notice(loc):
            incident.foiled_by_bystanders = True
            return Outcome.FAILED
        number, stays_until = self._victim(loc)
        victim = model.visitor_flow.party(number)
        incident.victim = victim.number
        awareness = model.vigilance.awareness(number, victim.awareness)
        incident.occurred = rng.random() < model.scenario.offenders.success_probability * (
            1.0 - awareness
        )
        who = presence.detector(loc, x, y, rng)
        if who:
            Ledger.detect(incident, who, now)
            self._record(incident)
            if arrests_in_act(who):
                if rng.random() < self.police.arrest_in_act:
                    self._arrest(incident, offender, "in_act")
                    model.vigilance.arrest_seen(loc)
                    self._count(incident)
                    return Outcome.ARRESTED
            else:
                model.env.process(self._call(incident, node, report_delay_param(who)))
        if not incident.occurred:
            return Outcome.FAILED
        self._count(incident)
        offender.loot = incident
        model.env.process(self._aftermath(incident, offender, stays_until, victim.leaves_at))
        return Outcome.THEFT

    def _count(self, incident: Incident) -> None:
        if incident.occurred and not incident.on_bus:
            self.thefts_at_node[incident.node] += 1

    def _record(self, incident: Incident) -> None:
        """The police learn of an incident (a report or a detection): once per incident."""
        if not incident.on_bus and not incident.recorded:
            self.recorded_at_node[incident.node] += 1
        incident.recorded = True

    def _call(self, incident: Incident, node: int, delay_param: str) -> Generator:
        """Whoever spotted the attempt calls the police; the call takes its kind's delay."""
        if delay_param:
            yield self.model.env.timeout(getattr(self.police, delay_param))
        self.model.dispatcher.request(incident, node, live=True)

    def _victim(self, loc: int) -> tuple[int, float]:
        """A party at `loc` drawn by size (by thinning), and when it leaves `loc`."""
        rng = self.rng
        numbers, sizes, leaves = self.model.crowds.present(loc)
        for _ in range(VICTIM_TRIES):
            i = int(rng.random() * len(numbers))
            if rng.random() * self.largest_party < sizes[i]:
                break
        return int(numbers[i]), float(leaves[i])

    def _aftermath(
        self, incident: Incident, offender: Pickpocket, stays_until: float, in_town_until: float
    ) -> Generator:
        """The victim notices, may report; a report brings a car and maybe the footage.

        On noticing, the party is watchful for the rest of its day and may end it now. A
        victim who notices while still where it happened, with a visible officer there,
        reports to him at once; otherwise by phone after the reporting delay.
        """
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
        goes_home = rng.random() < v.victim_goes_home
        if incident.on_bus and rng.random() < v.bus_notice_after_ride:
            notice = max(notice, stays_until - env.now)  # only once off the bus
        yield env.timeout(notice)
        Ledger.notice(incident, env.now)
        self.model.vigilance.theft_noticed(incident.victim)
        if goes_home and env.now < in_town_until:
            self.model.visitor_flow.goes_home(incident.victim)
        if not reports:
            return
        still_there = env.now < stays_until
        if not (still_there and self.model.presence.visible_officers(incident.location)):
            yield env.timeout(call_delay)
        Ledger.report(incident, env.now)
        self._record(incident)
        self.model.dispatcher.request(incident, incident.node, live=False)
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
        carrying = loot is not None and not loot.cleared_by
        if not self.model.checkpoints.stops(carrying, self.rng):
            return False
        self._arrest(loot, offender, "checkpoint")
        return True

    def _arrest(self, incident: Incident, offender: Pickpocket, how: str) -> None:
        """Clear the case; take the offender into custody if still free."""
        arrest = offender.free
        Ledger.clear(incident, how, self.model.env.now, arrest, offender.in_town)
        if arrest:
            where = offender.working_loc if offender.working >= 0 else -1
            offender.taken_into_custody()
            if not incident.on_bus:
                self.model.offenders.arrest_made(offender, where, incident.node)
