"""The metrics of a run: one registry of names, meanings, units and how each is aggregated.

`crowdsim run --json`, the run's metrics dict, the tables and reports of compare, sweeps
and regress, and the metrics table of docs/usage.md all take their lists from here.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.ledger import CLEARANCES
from sim.policing.calls import LIVE, ROUTINE, URGENT
from sim.policing.dispatch import JOB_KINDS


@dataclass(frozen=True)
class Metric:
    """One metric of a run."""

    name: str
    meaning: str
    unit: str
    aggregation: str
    """How one run's value is made from its events (count, mean over responses, ...)."""
    title: str = ""
    """Short column title in comparison tables (empty: not in them)."""


_ARREST_MEANINGS = {
    "in_act": "arrests by an officer who saw the attempt",
    "on_dispatch": "arrests by a car sent on a live detection (a volunteer's call, camera, bus "
    "driver, drone), the offender still in sight and identified",
    "after_report": "arrests by a car sent on the victim's report, the offender still in sight "
    "and identified",
    "camera_evidence": "arrests from reviewed camera footage of a reported theft",
    "checkpoint": "arrests at a ring-road checkpoint, carrying loot",
}

METRICS: tuple[Metric, ...] = (
    Metric("visitors", "persons who arrived", "persons", "count over the run"),
    Metric("visitor_hours", "time visitors spent in town", "person-hours", "sum over visitors"),
    Metric(
        "thefts_attempted", "attempts, including those given up", "attempts", "count over the run"
    ),
    Metric(
        "thefts_deterred",
        "attempts the offender gave up for the guardians he saw",
        "attempts",
        "count over the run",
    ),
    Metric(
        "attempts_foiled_by_bystanders",
        "attempts bystanders noticed and foiled (0 unless victims.bystander_notice > 0)",
        "attempts",
        "count over the run",
    ),
    Metric(
        "thefts_occurred",
        "thefts: attempts that succeeded",
        "thefts",
        "count over the run",
        "thefts",
    ),
    Metric(
        "thefts_per_day",
        "thefts divided by the run's days",
        "thefts/day",
        "count over the run / days",
    ),
    Metric(
        "attempts_detected",
        "attempts spotted by police (plainclothes, uniformed, a live camera, a drone)",
        "attempts",
        "count over the run",
    ),
    Metric(
        "thefts_detected",
        "thefts spotted by police as they happened (a victim noticing later is not one)",
        "thefts",
        "count over the run",
    ),
    Metric("thefts_noticed_by_victim", "thefts the victim noticed", "thefts", "count over the run"),
    Metric("thefts_reported", "thefts reported to the police", "thefts", "count over the run"),
    Metric(
        "thefts_recorded",
        "thefts the police know of: reported by the victim, or the attempt spotted by police, "
        "volunteers, cameras, drivers or drones",
        "thefts",
        "count over the run",
    ),
    Metric(
        "dark_figure_share",
        "share of thefts that occurred and were never recorded (true minus recorded, over "
        "true); per place and day in the incidents table (`recorded`)",
        "share",
        "over the run",
    ),
    Metric(
        "thefts_cleared",
        "thefts whose case was cleared, by any kind of arrest or clearance",
        "thefts",
        "count over the run",
    ),
    Metric(
        "reported_thefts_cleared",
        "thefts the victim reported whose case was cleared (what a police force counts as a "
        "theft case solved: a case exists only once reported)",
        "thefts",
        "count over the run",
    ),
    *(
        Metric(f"arrests_{how}", _ARREST_MEANINGS[how], "arrests", "count over the run")
        for how in CLEARANCES
    ),
    Metric(
        "arrests_total",
        "arrests of every kind above (they are disjoint)",
        "arrests",
        "count over the run",
        "arrests",
    ),
    Metric(
        "persons_arrested_in_town",
        "distinct offenders taken into custody while at work in town (in the act, on scene, "
        "at a checkpoint, or from footage before he went home): a force's suspects arrested",
        "offenders",
        "count over the run",
    ),
    Metric(
        "theft_rate_per_1000_visitors",
        "thefts per 1,000 visitors",
        "thefts/1,000 visitors",
        "thefts / visitors x 1,000",
        "thefts/1000 visitors",
    ),
    Metric("bus_thefts", "thefts on buses", "thefts", "count over the run"),
    Metric(
        "response_time_mean_min",
        "time from a car request to arrival at the scene "
        "(dispatch delay, any wait for a free car, the drive)",
        "min",
        "mean over responses",
        "theft response (min)",
    ),
    Metric(
        "response_time_p90_min",
        "as above, 90th percentile",
        "min",
        "90th percentile over responses",
    ),
    Metric(
        "persons_checked",
        "persons checked at the staffed checkpoints (officer-hours x throughput)",
        "persons",
        "count over the run",
    ),
    Metric(
        "vehicles_checked",
        "vehicles checked at the staffed checkpoints",
        "vehicles",
        "count over the run",
    ),
    Metric(
        "wanted_persons_found",
        "wanted persons expected among the checks, at the case's rate (no agents of their own)",
        "persons",
        "expected count over the run",
    ),
    Metric(
        "innocent_persons_checked",
        "persons checked who carried no stolen goods and were not wanted: the burden on the public",
        "persons",
        "count over the run",
    ),
    Metric(
        "checks_per_arrest",
        "checks (persons and vehicles) per arrest they produced (loot found, wanted persons)",
        "checks per arrest",
        "over the run",
    ),
    Metric(
        "calls_for_service",
        "calls other than theft (help, disputes, lost persons, medical, traffic)",
        "calls",
        "count over the run",
    ),
    Metric(
        "response_all_mean_min",
        "mean time from any call (thefts and other calls) to a unit on scene",
        "min",
        "mean over jobs reached",
        "response, all calls (min)",
    ),
    *(
        Metric(
            f"response_p{p}_mean_min",
            f"mean time from a priority-{p} call to a unit on scene ({meaning})",
            "min",
            "mean over jobs reached",
        )
        for p, meaning in (
            (LIVE, "an attempt seen now, a medical emergency"),
            (URGENT, "a reported theft, a dispute, a lost person, traffic"),
            (ROUTINE, "a visitor's request for help"),
        )
    ),
    *(
        Metric(
            f"response_{kind}_mean_min",
            f"mean time from a {kind.replace('_', ' ')} call to a unit on scene",
            "min",
            "mean over jobs reached",
        )
        for kind in JOB_KINDS
    ),
    Metric(
        "queue_mean_min",
        "mean time a job waited for a free unit after the dispatch delay",
        "min",
        "mean over jobs assigned",
    ),
    Metric(
        "jobs_unanswered",
        "jobs no unit had reached when the run ended",
        "jobs",
        "count over the run",
    ),
    Metric(
        "thefts_dispatch_queued",
        "thefts whose dispatch waited because every unit that could go was busy",
        "thefts",
        "count over the run",
    ),
    Metric(
        "unit_utilisation",
        "share of on-duty time units that answer calls spent on jobs (travel and on scene)",
        "share",
        "busy over on-duty minutes",
    ),
    Metric(
        "police_visibility",
        "share of visitor time spent where visible police were",
        "share",
        "watched person-minutes / person-minutes",
        "police visibility",
    ),
    Metric(
        "top5pct_places_theft_share",
        "share of thefts at places that happened at the top 5% of places",
        "share",
        "over the run's thefts at places",
    ),
    Metric(
        "officer_hours",
        "scheduled officer-hours (units x officers x shift hours, plus staffed checkpoints)",
        "officer-hours",
        "sum over units",
        "officer-hours",
    ),
    Metric("car_hours", "scheduled patrol car hours", "car-hours", "sum over cars"),
    Metric("drone_hours", "drone flight time", "hours", "sum over sorties"),
    Metric("camera_hours", "live-monitored camera hours", "camera-hours", "sum over cameras"),
    Metric(
        "offenders_in_pool",
        "offenders who were in town at some point of the run",
        "offenders",
        "count over the run",
    ),
    Metric("offender_days", "offender-days worked", "offender-days", "sum over days"),
    Metric(
        "offender_days_lost_to_arrest",
        "offender-days the pool would have worked but the "
        "offender was in custody (incapacitation; the same draws under every policy, so "
        "comparable across policies)",
        "offender-days",
        "sum over days",
    ),
    Metric("offenders_arrested", "distinct offenders arrested", "offenders", "count over the run"),
    Metric("parties", "visiting parties who arrived", "parties", "count over the run"),
    Metric(
        "visitors_not_departed",
        "visitors still in town when the run ended",
        "persons",
        "at the end",
    ),
)
"""Every metric of a run, in the order of `crowdsim run --json`."""

NAMES: tuple[str, ...] = tuple(m.name for m in METRICS)
BY_NAME: dict[str, Metric] = {m.name: m for m in METRICS}
TITLED: dict[str, str] = {m.name: m.title for m in METRICS if m.title}
"""The metrics of comparison tables, with their column titles."""


def markdown_table() -> str:
    """The metrics table of docs/usage.md."""
    lines = ["| metric | meaning | unit | how a run's value is made |", "|---|---|---|---|"]
    lines += [f"| `{m.name}` | {m.meaning} | {m.unit} | {m.aggregation} |" for m in METRICS]
    return "\n".join(lines)
