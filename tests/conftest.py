"""Shared fixtures: paths to the shared real street network and a tiny scenario writer."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
MILAN = REPO.parent / "shared" / "cities" / "milan-duomo.graphml"


@pytest.fixture
def milan_graphml() -> Path:
    """The real OpenStreetMap network around Milan Cathedral (shared/, beside the checkout)."""
    if not MILAN.exists():
        pytest.skip(f"shared street network not found at {MILAN}")
    return MILAN


@pytest.fixture
def write_toml(tmp_path: Path):
    """Write a TOML text to a file in tmp_path and return its path."""

    def write(text: str, name: str = "scenario.toml") -> Path:
        path = tmp_path / name
        path.write_text(text)
        return path

    return write
