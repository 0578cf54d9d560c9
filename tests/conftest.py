"""Shared fixtures: the real street network shipped with the package and a tiny scenario writer."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from sim.policing.policy import Deployment, DispatchSpec, Policy

REPO = Path(__file__).resolve().parents[1]
MILAN = REPO / "sim" / "scenarios" / "milan-duomo-streets.graphml"


@pytest.fixture
def milan_graphml() -> Path:
    """The bare OpenStreetMap network around Milan Cathedral (ODbL; sim/scenarios/README.md)."""
    return MILAN


@pytest.fixture
def write_toml(tmp_path: Path):
    """Write a TOML text to a file in tmp_path and return its path."""

    def write(text: str, name: str = "scenario.toml") -> Path:
        path = tmp_path / name
        path.write_text(text)
        return path

    return write


def eventually(condition: Callable[[], bool], seconds: float = 60.0, poll: float = 0.1) -> bool:
    """Whether `condition` holds within `seconds`, checked every `poll` seconds (for work
    done in a thread or another process)."""
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(poll)
    return condition()


def posts_at(
    nodes: list[int], unit: str = "uniformed", officers: int = 1, dispatch_delay_min: float = 5.0
) -> Policy:
    """One unit of `officers` standing all day at each of `nodes` (a node may repeat)."""
    return Policy(
        name=f"{unit}-posts",
        dispatch=DispatchSpec(delay_min=dispatch_delay_min),
        deploy=tuple(
            Deployment(
                unit=unit,
                count=1,
                officers=officers,
                where="places",
                places=(str(node),),
                movement="static",
                hours=(0.0, 24.0),
            )
            for node in nodes
        ),
    )


def made_by_an_older_model(folder: Path) -> None:
    """Make an output folder's manifest say another model version wrote it."""
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["model_version"], manifest["fingerprint"] = "0.0.1+old", "0123456789abcdef"
    path.write_text(json.dumps(manifest))
