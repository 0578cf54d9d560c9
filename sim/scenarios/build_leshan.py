"""Build the `leshan-mayday` central-city graph from the case facts.

Run `python -m sim.scenarios.build_leshan` to regenerate `leshan-mayday.graphml`. The
street layout is synthetic (seeded), but its counts follow the case brief
(`docs/case-facts.md`): 85 key places (scenic areas, food streets, commercial
plazas, the high-speed rail station and bus terminals, piers), 17 grid cells for the 17
rapid-response car teams, 342 mandatory patrol points, 14 checkpoints on the ring roads,
10 bus lines, and a patrol centre with four specialist-team bases ("1+4+N").
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sim.city.generate import GeneratedCitySpec, generate_city
from sim.city.graph import City
from sim.city.io import write_graphml

SPEC = GeneratedCitySpec(
    seed=2024,
    rows=24,
    cols=24,
    spacing_m=170.0,
    places={
        "scenic": 50,
        "food_street": 12,
        "plaza": 14,
        "station": 3,
        "bus_terminal": 3,
        "pier": 3,
        "hotel": 24,
        "police_station": 5,
    },
    attractiveness_sigma=0.9,
    n_cells=17,
    n_patrol_points=342,
    n_checkpoints=14,
    n_bus_lines=10,
    bus_headway_min=8.0,
    camera_share=0.35,
)

NAMES = {
    "scenic": [
        "Leshan Giant Buddha Scenic Area",
        "Oriental Buddha Capital",
        "Wuyou Temple",
        "Mahao Cliff Tombs",
        "Lingyun Temple",
        "Haishi Cave",
        "Jiazhou Ancient Wall",
    ],
    "food_street": [
        "Zhanggong Bridge Food Street",
        "Shangzhongshun Street",
        "Jiazhou Night Market",
    ],
    "plaza": ["Wanda Plaza", "Renmin Road Commercial Plaza", "Jiading Square"],
    "station": ["Leshan High-Speed Rail Station", "Leshan Railway Station", "Suji Station"],
    "bus_terminal": ["Leshan Central Bus Terminal", "Xiaoba Bus Terminal", "Lianhua Bus Terminal"],
    "pier": ["Giant Buddha Boat Tour Pier", "Leshan Port Pier", "Lingyun Pier"],
    "hotel": [],
    "police_station": [
        "Patrol Centre",
        "Specialist Team 1",
        "Specialist Team 2",
        "Specialist Team 3",
        "Specialist Team 4",
    ],
}

GIANT_BUDDHA_PULL = 3.0
"""The Giant Buddha's attractiveness relative to the next site: it draws tens of thousands a
day (daily capacity about 45,000, case brief), far more than any other place."""

STATION_PULL = 3.0
"""The high-speed rail station is the main entry point, a named crowd hot spot."""


def build() -> City:
    """The leshan-mayday city, named and weighted after the case."""
    city = generate_city(SPEC, name="leshan-mayday")
    for kind, names in NAMES.items():
        nodes = city.nodes_of_kind(kind)
        ranked = nodes[np.argsort(-city.attractiveness[nodes], kind="stable")]
        for i, node in enumerate(ranked):
            pretty = kind.replace("_", " ").capitalize()
            city.label[node] = names[i] if i < len(names) else f"{pretty} {i + 1}"
    top_sight = city.nodes_of_kind("scenic")[
        np.argmax(city.attractiveness[city.nodes_of_kind("scenic")])
    ]
    others = city.attractiveness[city.attractions]
    city.attractiveness[top_sight] = GIANT_BUDDHA_PULL * np.sort(others)[-2]
    city.capacity[top_sight] = 9000  # ~45,000/day at ~2 h stays over a 10 h day
    city.camera[top_sight] = "active"
    stations = city.nodes_of_kind("station")
    hsr = stations[np.argmax(city.attractiveness[stations])]
    city.attractiveness[hsr] *= STATION_PULL
    city.camera[hsr] = "active"
    return city


if __name__ == "__main__":
    out = Path(__file__).with_name("leshan-mayday.graphml")
    write_graphml(build(), out)
    print(f"wrote {out}")
