"""Built-in scenarios (TOML) and the builder of the leshan-mayday city."""

from pathlib import Path

SCENARIO_DIR = Path(__file__).parent
"""Where the built-in scenario files live (light to import: `crowdsim list` reads it)."""
