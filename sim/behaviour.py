"""Behavioural parameters of visitors, offenders, victims and police: one source of truth.

Each field carries its unit and source (`sim.params.param`); `docs/model.md`'s parameter
table is generated from these classes. Policies choose *where and how many* police go;
these parameters say *how effective* a guardian or an offender is, the same for all.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.city.graph import PLACE_KINDS
from sim.clock import HOURS_PER_DAY
from sim.params import param

VISITED_KINDS = tuple(k for k in PLACE_KINDS if k not in ("street", "police_station"))

KANSAS_CITY = (
    "Kansas City Police Department 1977-80, Response Time Analysis: reporting delay, not "
    "travel time, decides on-scene arrests; discovered crimes rarely end in one"
)


def _flat(value: float) -> tuple[float, ...]:
    return (value,) * HOURS_PER_DAY


@dataclass(frozen=True)
class VisitorParams:
    """Who visits, when they come, where they go and how long they stay."""

    per_day: float = param(
        150_000,
        unit="persons/day",
        low=0,
        source="case brief: ~150,000 visitors a day in the central city (Leshan, May Day)",
        basis="case data",
        doc="visitors arriving per day at scale 1",
    )
    party_size_weights: tuple[float, ...] = param(
        (0.20, 0.40, 0.20, 0.15, 0.05),
        length=5,
        low=0,
        doc="relative frequency of parties of 1..5 people (one agent per party)",
        source="assumption: holiday travel is mostly in pairs and families (mean 2.45)",
    )
    arrival_profile: tuple[float, ...] = param(
        (0, 0, 0, 0, 0, 0, 2, 6, 12, 14, 12, 9, 7, 6, 5, 4, 3, 3, 3, 2, 1, 0, 0, 0),
        length=HOURS_PER_DAY,
        low=0,
        doc="relative arrivals per hour of day 0..23",
        source="assumption: morning arrivals, per the case brief's daily pattern",
    )
    stops_mean: float = param(
        3.0,
        unit="places",
        low=0,
        high=20,
        doc="mean number of sights per party-day (1 + Poisson)",
        source="assumption: day visitors see 2-4 sites",
    )
    max_stops: int = param(6, unit="places", low=1, high=30, doc="cap on sights per day")
    distance_decay_per_km: float = param(
        0.6,
        unit="1/km",
        low=0,
        doc="choice weight of a sight is attractiveness x exp(-decay x street km)",
        source="assumption: exponential distance decay (McKercher & Lew 2003), rate not fitted",
    )
    walk_speed_m_per_min: float = param(
        72.0,
        unit="m/min",
        low=1,
        high=200,
        doc="walking speed (1.2 m/s)",
        source="Bosina & Weidmann 2017: mean free walking 1.34 m/s; slowed for sightseeing",
        basis="behavioural study",
    )
    bus_walk_threshold_min: float = param(
        15.0,
        unit="min",
        low=0,
        doc="a party considers a bus when the walk is longer than this",
        source="assumption",
    )
    bus_service_hours: tuple[float, ...] = param(
        (6.0, 23.0),
        unit="h",
        length=2,
        low=0,
        high=24,
        doc="first and last bus departure",
        source="assumption: typical city bus service",
    )
    day_end_hour: float = param(
        22.0,
        unit="h",
        low=1,
        high=24,
        doc="parties plan to finish their last sight by this hour",
        source="assumption",
    )
    dwell_median_min: dict[str, float] = param(
        None,
        unit="min",
        keys=VISITED_KINDS,
        low=0,
        doc="median dwell per place kind (log-normal)",
        source="assumption: scenic areas take hours, food streets ~1 h, stations minutes",
    )
    dwell_sigma: float = param(
        0.5, low=0, high=3, doc="log-normal sigma of dwell times", source="assumption"
    )
    kind_hour_weights: dict[str, tuple[float, ...]] = param(
        None,
        keys=VISITED_KINDS,
        low=0,
        length=HOURS_PER_DAY,
        doc="pull of each kind by hour of day (sights by day, food streets in the evening)",
        source="assumption, after the case brief: midday sights, evening food streets",
    )

    def dwell_medians(self) -> dict[str, float]:
        """Median dwell by kind, defaults filled in for kinds the file leaves out."""
        defaults = {
            "scenic": 100.0,
            "food_street": 60.0,
            "plaza": 40.0,
            "pier": 45.0,
            "station": 15.0,
            "bus_terminal": 10.0,
            "hotel": 10.0,
        }
        return defaults | (self.dwell_median_min or {})

    def hour_weights(self) -> dict[str, tuple[float, ...]]:
        """Hourly pull by kind, defaults filled in for kinds the file leaves out."""
        day = tuple(
            1.0 if 8 <= h < 18 else 0.3 if 18 <= h < 20 else 0.0 for h in range(HOURS_PER_DAY)
        )
        evening = tuple(
            0.3 if 10 <= h < 16 else 1.5 if 17 <= h < 23 else 0.1 for h in range(HOURS_PER_DAY)
        )
        defaults = {
            "scenic": day,
            "pier": day,
            "food_street": evening,
            "plaza": tuple(0.7 if 9 <= h < 23 else 0.0 for h in range(HOURS_PER_DAY)),
            "station": _flat(1.0),
            "bus_terminal": _flat(1.0),
            "hotel": _flat(1.0),
        }
        return defaults | (self.kind_hour_weights or {})


@dataclass(frozen=True)
class OffenderParams:
    """Pickpockets: how many, when they work, what they know, how they attempt and flee."""

    per_100k_visitors: float = param(
        20.0,
        unit="active offenders per 100,000 visitors of the day",
        low=0,
        high=100_000,
        doc="expected pickpockets at work on a day, scaled with that day's visitors",
        source="assumption: not reported in the case; gives tens of thefts a day",
    )
    active_share: float = param(
        0.5,
        low=0.01,
        high=1,
        doc="chance an offender of the pool works on a given day; the pool holds "
        "per_100k_visitors x visitors / active_share offenders",
        source="assumption: professional pickpockets work most, not all, days of a holiday",
    )
    turnover_per_day: float = param(
        0.1,
        unit="1/day",
        low=0,
        high=1,
        doc="share of the pool that moves on each day, replaced by as many newcomers on "
        "average (arrested offenders are not replaced one for one)",
        source="assumption: travelling pickpocket groups come and go over a holiday",
    )
    home_edge_share: float = param(
        0.1,
        low=0.01,
        high=1,
        doc="offenders live among this outermost share of intersections",
        source="assumption: offenders commute into the tourist centre",
    )
    work_hours: tuple[float, ...] = param(
        (9.0, 21.0),
        unit="h",
        length=2,
        low=0,
        high=24,
        doc="hours pickpockets work (they follow the crowds)",
        source="assumption",
    )
    attempts_per_hour: float = param(
        2.0,
        unit="1/h",
        low=0,
        doc="attempt rate in a dense crowd (saturating maximum)",
        source="assumption",
    )
    crowd_half_saturation: float = param(
        200.0,
        unit="persons",
        low=1,
        doc="crowd size at which the attempt rate is half its maximum (cover and targets)",
        source="assumption",
    )
    success_probability: float = param(
        0.6,
        low=0,
        high=1,
        doc="chance an attempt on a fully unaware victim succeeds",
        source="assumption",
    )
    session_min: float = param(
        60.0,
        unit="min",
        low=1,
        doc="mean time at one site before reconsidering",
        source="assumption",
    )
    look_around_min: float = param(
        1.0,
        unit="min",
        low=0,
        doc="time spent sizing up a site that feels watched before moving on",
        source="assumption",
    )
    bus_retry_min: float = param(
        10.0,
        unit="min",
        low=0.1,
        doc="wait before choosing again when no bus runs on the chosen line",
        source="assumption",
    )
    cooldown_min: float = param(
        30.0, unit="min", low=0, doc="time lying low after a theft", source="assumption"
    )
    flee_m: tuple[float, ...] = param(
        (300.0, 1500.0),
        unit="m",
        length=2,
        low=0,
        doc="distance range an offender walks away after a theft",
        source="assumption",
    )
    distance_decay_per_km: float = param(
        0.5,
        unit="1/km",
        low=0,
        doc="site choice weight falls as exp(-decay x street km from where he is)",
        source="journey-to-crime distance decay (Rossmo 2000; Townsley & Sidebottom 2010, "
        "Criminology 48(3)): most theft trips are short; the rate itself is an assumption",
        basis="assumption",
    )
    crowd_memory_min: float = param(
        60.0,
        unit="min",
        low=0.1,
        doc="how long the crowd an offender saw at a site outweighs the expected crowd "
        "(e-folding time of his own observation)",
        source="assumption",
    )
    risk_aversion: float = param(
        1.0,
        low=0,
        doc="site choice weight is gain x exp(-risk_aversion x perceived risk)",
        source="assumption: rational-choice site selection (Cornish & Clarke 1986)",
    )
    risk_memory_h: float = param(
        24.0,
        unit="h",
        low=0.1,
        doc="half-life of an offender's memory of being deterred at a site and of arrest news",
        source="assumption",
    )
    police_memory_min: float = param(
        60.0,
        unit="min",
        low=0.1,
        doc="half-life of an offender's belief that police seen at a site are still about",
        source="assumption; the residual deterrence it gives is measured on outcomes, not imposed",
    )
    risk_seen_police: float = param(
        1.0,
        low=0,
        doc="perceived risk added each time an offender sees visible police at a "
        "site (on arrival, before an attempt, or when they arrive where he works)",
        source="assumption",
    )
    risk_deterred: float = param(
        1.0,
        low=0,
        doc="perceived risk added when an offender gives up an attempt",
        source="assumption",
    )
    risk_arrest_news: float = param(
        2.0,
        low=0,
        doc="perceived risk an offender adds to a site when he sees an arrest there or "
        "hears of one from an acquaintance",
        source="assumption",
    )
    sight_m: float = param(
        50.0,
        unit="m",
        low=0,
        doc="distance within which an offender sees uniformed police or volunteers (where "
        "he stands, and at places he walks through); a drone overhead is seen from anywhere "
        "in its place, a camera's signs at the place",
        source="assumption: uniforms are conspicuous, but crowds block the view",
    )
    acquaintances: float = param(
        2.0,
        unit="offenders",
        low=0,
        high=50,
        doc="mean number of other offenders of the pool each newcomer knows (Poisson); "
        "news of an arrest reaches only the arrested offender's acquaintances in town",
        source="co-offending networks are sparse, most offenders having one to three "
        "co-offenders (Reiss 1988, Crime and Justice 10; Sarnecki 2001)",
        basis="behavioural study",
    )
    news_delay_min: float = param(
        120.0,
        unit="min",
        low=0,
        doc="mean time (exponential) for news of an arrest to reach an acquaintance",
        source="assumption",
    )
    risk_camera_seen: float = param(
        0.3,
        low=0,
        doc="perceived risk an offender holds of a site whose cameras (or their signs) he "
        "has seen there",
        source="assumption",
    )
    leave_risk: float = param(
        1.5,
        low=0,
        doc="perceived risk at the current site above which an offender moves on (displacement)",
        source="assumption",
    )
    gain_by_kind: dict[str, float] = param(
        None,
        keys=VISITED_KINDS,
        low=0,
        doc="expected haul per victim at each kind of place, relative to 1 (e.g. travellers "
        "with luggage and phones at stations); multiplies the crowd in site choice",
        source="assumption: no data on valuables by place; neutral (all 1) by default",
    )
    bus_crowd_factor: float = param(
        10.0,
        low=0,
        doc="a passenger on a packed bus counts as this many people in a street crowd, for "
        "site choice and attempt rate (dense, jostling crowds give cover)",
        source="assumption; the case singles out pickpocketing on buses",
    )


@dataclass(frozen=True)
class VictimParams:
    """Visitors as victims: awareness, noticing and reporting."""

    awareness_beta: tuple[float, ...] = param(
        (2.0, 5.0),
        length=2,
        low=0.01,
        doc="Beta(a, b) of a party's vigilance; success chance is scaled by 1 - awareness",
        source="assumption: mean 0.29, most tourists are distracted",
    )
    notice_median_min: float = param(
        30.0,
        unit="min",
        low=0,
        doc="median delay before a victim notices a theft (log-normal)",
        source="assumption: pickpocketing is a discovered crime (" + KANSAS_CITY + ")",
    )
    notice_sigma: float = param(
        1.0, low=0, high=3, doc="log-normal sigma of noticing delay", source="assumption"
    )
    bus_notice_after_ride: float = param(
        0.9,
        low=0,
        high=1,
        doc="share of victims robbed on a bus who notice only after they get off",
        source="assumption; an account of Barcelona's buses has 9 in 10 bus victims noticing "
        "later (cited in the project's issue, not verified)",
    )
    bystander_notice: float = param(
        0.0,
        low=0,
        high=1,
        doc="chance bystanders notice an attempt and foil it in a near-empty place; it falls "
        "as exp(-crowd / capacity / bystander_cover) as the crowd gives cover",
        source="assumption, neutral (0) by default: guardianship by bystanders (Reynald "
        "2010) against cover in dense crowds; no data for pickpocketing",
    )
    bystander_cover: float = param(
        0.5,
        low=0.01,
        doc="crowd density (persons per unit of capacity) at which bystander noticing has "
        "fallen to 1/e of its near-empty value",
        source="assumption",
    )
    report_probability: float = param(
        0.4,
        low=0,
        high=1,
        doc="chance a victim reports a noticed theft to the police",
        source="assumption: theft from the person is widely under-reported",
    )
    report_median_min: float = param(
        15.0,
        unit="min",
        low=0,
        doc="median delay from noticing to calling the police",
        source="assumption; long reporting delays are typical (" + KANSAS_CITY + ")",
    )
    report_sigma: float = param(
        1.0, low=0, high=3, doc="log-normal sigma of the reporting delay", source="assumption"
    )
    announcement_vigilance: float = param(
        0.5,
        low=0,
        high=1,
        doc="share of a party's remaining unawareness removed, for the rest of its day, once "
        "it has ridden a bus under police-transit cooperation (anti-pickpocket video, "
        "driver announcements)",
        source="assumption; the case showed an anti-theft video and had drivers announce on "
        "10 lines (case brief); no measured effect on vigilance",
    )
    police_seen_vigilance: float = param(
        0.1,
        low=0,
        high=1,
        doc="share of a party's remaining unawareness removed, for the rest of its day, once "
        "it has been where visible police or volunteers were (a reminder that theft happens)",
        source="assumption",
    )
    arrest_seen_vigilance: float = param(
        0.3,
        low=0,
        high=1,
        doc="share of a party's remaining unawareness removed once it has been where a "
        "pickpocket was arrested in the act while it was there",
        source="assumption",
    )
    victim_vigilance: float = param(
        0.7,
        low=0,
        high=1,
        doc="share of a party's remaining unawareness removed once it has noticed a theft "
        "from one of its own",
        source="assumption: victims guard their belongings afterwards",
    )
    victim_goes_home: float = param(
        0.3,
        low=0,
        high=1,
        doc="chance a party ends its day when it notices a theft from one of its own (the "
        "rest of its plan is cut: crowds respond to crime)",
        source="assumption",
    )


@dataclass(frozen=True)
class PoliceParams:
    """How effective guardians are; the same under every policy."""

    deter_visible: float = param(
        0.35,
        low=0,
        high=1,
        doc="chance that an offender who sees one uniformed officer within his sight gives "
        "up the attempt he was about to make",
        source="assumption",
    )
    place_m2_per_person: float = param(
        1.0,
        unit="m2/person",
        low=0.1,
        high=100,
        doc="ground area of a place per person of its capacity: a place is a square of "
        "side sqrt(capacity x this), within which guards and attempts stand",
        source="assumption: a full place as a dense standing crowd (Fruin 1971, level of "
        "service E, 0.3-0.7 m2 per person), plus room to move",
    )
    officer_sight_m: float = param(
        20.0,
        unit="m",
        low=0,
        doc="distance within which an officer (or volunteer) can spot a pickpocket at work",
        source="assumption: a hand in a bag is seen only close by, through a crowd",
    )
    camera_view_m: float = param(
        30.0,
        unit="m",
        low=0,
        doc="distance from a place's centre within which a live camera's operator can "
        "spot an attempt",
        source="assumption",
    )
    detect_plainclothes: float = param(
        0.4,
        low=0,
        high=1,
        doc="chance one plainclothes officer spots an attempt at his place",
        source="assumption: plainclothes units watch for pickpockets specifically",
    )
    detect_uniformed: float = param(
        0.1,
        low=0,
        high=1,
        doc="chance one uniformed officer spots an attempt at his place",
        source="assumption",
    )
    detect_camera_active: float = param(
        0.1,
        low=0,
        high=1,
        doc="chance a live-monitored camera spots an attempt",
        source="assumption: operators watch many screens",
    )
    deter_volunteer: float = param(
        0.15,
        low=0,
        high=1,
        doc="chance that an offender who sees one volunteer (armband, vest) within his sight "
        "gives up the attempt; less than an officer: volunteers cannot arrest",
        source="assumption: capable guardianship without police powers (Reynald 2010)",
    )
    detect_volunteer: float = param(
        0.1,
        low=0,
        high=1,
        doc="chance one volunteer spots an attempt within his sight",
        source="assumption, as uniformed officers",
    )
    volunteer_call_min: float = param(
        3.0,
        unit="min",
        low=0,
        doc="time for a volunteer's call about an attempt he saw to reach the dispatcher",
        source="assumption: a phone call or radio relay through the community team",
    )
    detect_bus_driver: float = param(
        0.05,
        low=0,
        high=1,
        doc="under police-transit cooperation, chance the briefed driver notices an attempt "
        "on board and alerts the police",
        source="assumption; the case's drivers were briefed daily (case brief)",
    )
    detect_drone: float = param(
        0.05, low=0, high=1, doc="chance a drone overhead spots an attempt", source="assumption"
    )
    deter_drone: float = param(
        0.1,
        low=0,
        high=1,
        doc="chance a visible drone overhead deters an attempt",
        source="assumption",
    )
    arrest_in_act: float = param(
        0.9,
        low=0,
        high=1,
        doc="chance an officer who spots an attempt makes the arrest",
        source="assumption",
    )
    arrest_on_scene: float = param(
        0.8,
        low=0,
        high=1,
        doc="chance a responding crew arrests an offender still within scene_sight_m of "
        "the scene when it arrives (the victim or witnesses point him out)",
        source="assumption",
    )
    scene_sight_m: float = param(
        100.0,
        unit="m",
        low=0,
        doc="street distance from the scene within which an arriving crew can find the "
        "offender; beyond it he has got away",
        source="assumption: sight lines in a crowded street, after " + KANSAS_CITY,
    )
    cctv_clearance: float = param(
        0.25,
        low=0,
        high=1,
        doc="chance camera footage identifies the offender of a reported theft",
        source="assumption",
    )
    investigation_median_h: float = param(
        8.0,
        unit="h",
        low=0,
        doc="median time to clear a case from footage",
        source="case brief: one of two theft cases solved within 8 hours",
        basis="outcome study",
    )
    investigation_sigma: float = param(
        1.0,
        low=0,
        high=3,
        doc="log-normal sigma of the time to clear from footage",
        source="assumption",
    )
    checkpoint_passers_per_h: float = param(
        300.0,
        unit="persons/h",
        low=1,
        doc="persons passing a ring-road checkpoint in an hour (of whom the officers check "
        "as many as their throughput allows)",
        source="assumption",
    )
    checks_per_officer_h: float = param(
        4.0,
        unit="persons/h",
        low=0,
        doc="persons one officer at a checkpoint checks in an hour (identity, bags); each "
        "check takes 60 / this minutes",
        source="case brief: 14 checkpoints checked 12,400 people and 4,200 vehicles in five "
        "days; with two officers each around the clock, about 2 persons and 0.6 vehicles an "
        "officer-hour, so this allows for idle time",
        basis="case data",
    )
    vehicle_checks_per_officer_h: float = param(
        1.2,
        unit="vehicles/h",
        low=0,
        doc="vehicles one officer at a checkpoint checks in an hour",
        source="case brief, as checks_per_officer_h",
        basis="case data",
    )
    loot_found: float = param(
        0.5,
        low=0,
        high=1,
        doc="chance a check finds the stolen goods on an offender carrying them",
        source="assumption: a wallet or phone is easily hidden or dumped",
    )
    wanted_per_100k_checks: float = param(
        72.0,
        unit="per 100,000 checks",
        low=0,
        high=100_000,
        doc="wanted persons found among the persons and vehicles checked",
        source="case brief: 12 wanted persons among 16,600 checks (persons and vehicles)",
        basis="case data",
    )
    car_speed_m_per_min: float = param(
        400.0,
        unit="m/min",
        low=1,
        doc="patrol car speed on city streets (24 km/h)",
        source="assumption: congested holiday traffic",
    )
    officer_walk_m_per_min: float = param(
        70.0, unit="m/min", low=1, doc="foot patrol walking speed", source="assumption, as visitors"
    )
    drone_speed_m_per_min: float = param(
        600.0,
        unit="m/min",
        low=1,
        doc="a drone's cruising speed between the places of its route (straight line); the "
        "flight between them uses its battery (`flight_min` per sortie)",
        source="assumption: small quadcopters cruise at 10-15 m/s",
    )


CASE_SERVICES = (
    "case brief: the service posts helped visitors 210 times, settled 50 disputes and found 12 "
    "lost tourists in five days (about 4.35 million visitor-hours in the leshan-mayday "
    "scenario); a floor, since only what the posts handled was counted"
)


@dataclass(frozen=True)
class CallParams:
    """Calls for service other than theft: how often, and how long each takes on scene.

    Rates are per 100,000 visitor-hours, so calls come where and when the crowd is.
    """

    help_per_100k_h: float = param(
        4.8,
        unit="calls per 100,000 visitor-hours",
        low=0,
        high=10_000,
        doc="visitors asking the police for help (directions, a lost phone, a photo)",
        source=CASE_SERVICES,
        basis="case data",
    )
    dispute_per_100k_h: float = param(
        1.15,
        unit="calls per 100,000 visitor-hours",
        low=0,
        high=10_000,
        doc="disputes between visitors or with vendors",
        source=CASE_SERVICES,
        basis="case data",
    )
    lost_person_per_100k_h: float = param(
        0.28,
        unit="calls per 100,000 visitor-hours",
        low=0,
        high=10_000,
        doc="lost persons (children, elderly visitors) reported to the police",
        source=CASE_SERVICES,
        basis="case data",
    )
    medical_per_100k_h: float = param(
        0.5,
        unit="calls per 100,000 visitor-hours",
        low=0,
        high=10_000,
        doc="medical emergencies in the crowd the police attend (priority 1)",
        source="assumption: not reported in the case",
    )
    traffic_per_100k_h: float = param(
        1.0,
        unit="calls per 100,000 visitor-hours",
        low=0,
        high=10_000,
        doc="traffic incidents and congestion calls",
        source="assumption: not reported in the case",
    )
    help_min: float = param(
        10.0, unit="min", low=0, doc="mean time on scene helping a visitor", source="assumption"
    )
    dispute_min: float = param(
        30.0, unit="min", low=0, doc="mean time on scene settling a dispute", source="assumption"
    )
    lost_person_min: float = param(
        45.0,
        unit="min",
        low=0,
        doc="mean time to find and reunite a lost person",
        source="assumption",
    )
    medical_min: float = param(
        20.0,
        unit="min",
        low=0,
        doc="mean time on scene until medical help takes over",
        source="assumption",
    )
    traffic_min: float = param(
        30.0,
        unit="min",
        low=0,
        doc="mean time on scene at a traffic incident",
        source="assumption",
    )
    theft_report_min: float = param(
        20.0,
        unit="min",
        low=0,
        doc="time on scene taking a victim's report of a theft (a live detection is a search only)",
        source="assumption",
    )
    foot_reach_m: float = param(
        300.0,
        unit="m",
        low=0,
        doc="street distance within which an officer or volunteer on foot leaves his post or "
        "round to answer a call; farther calls go to cars",
        source="assumption: a few minutes' walk",
    )
