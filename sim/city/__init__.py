"""The city: places joined by streets, bus lines, travel times. Knows nothing of agents."""

from sim.city.graph import ATTRACTION_KINDS, ENTRY_KINDS, PLACE_KINDS, BusLine, City

__all__ = ["ATTRACTION_KINDS", "ENTRY_KINDS", "PLACE_KINDS", "BusLine", "City"]
