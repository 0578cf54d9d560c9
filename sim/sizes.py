"""Work too big to finish is refused up front, with its estimated size.

A run's cost grows with its visitor-days (visitors a day x scale x days); its memory with
the visitors of a day (the plans of days that are over are dropped). The rates below are
`make bench`'s runs, rounded up: the full-scale holiday (150,000 visitors a day, 297-301 MB
at peak) and Golden Week (1,000,000 a day for 7 days, police in proportion: 2.1-3.1 s per
million visitor-days of one core, 1,166-1,265 MB at peak); the limits keep one run within the
machine's memory and one command (or one shard of a sweep) within a month of CPU.
"""

from __future__ import annotations

import os
from typing import Any

from sim.errors import ConfigError
from sim.scenario import Scenario

CPU_S_PER_VISITOR_DAY = 5e-6
CPU_S_PER_RUN = 0.05  # building the model, police and offenders, whatever the visitors
MB_PER_DAILY_VISITOR = 1.5e-3
BASE_MB = 250.0
MAX_CPU_DAYS = 30.0
MAX_RUNS = 10_000_000
"""More runs than this in one command: the design alone would not fit in memory."""


def size_overrides(days: int | None, scale: float | None) -> dict[str, Any]:
    """The scenario overrides a command's days and scale make (those that are set)."""
    return {k: v for k, v in (("days", days), ("scale", scale)) if v is not None}


def visitor_days(scenario: Scenario) -> float:
    """Visitor-days of one run of a loaded scenario (its scale and days applied)."""
    return scenario.visitors.per_day * scenario.scale * scenario.days


def _memory_mb() -> float:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**20
    except (ValueError, OSError, AttributeError):  # not every platform reports it
        return 16 * 1024.0


def check_run(scenario: Scenario, source: str, field: str) -> None:
    """One run must fit in three quarters of this machine's memory."""
    daily = scenario.visitors.per_day * scenario.scale
    need = BASE_MB + MB_PER_DAILY_VISITOR * daily
    have = _memory_mb()
    if need > 0.75 * have:
        raise ConfigError(
            source,
            field,
            f"one run would need about {need / 1024:.1f} GB ({daily:,.0f} visitors a day) "
            f"on a machine with {have / 1024:.1f} GB: fewer visitors a day or a lower scale",
        )


def check_total(runs: int, per_run_visitor_days: float, source: str, field: str) -> None:
    """A command's runs must be countable and finish within MAX_CPU_DAYS of CPU."""
    if runs > MAX_RUNS:
        raise ConfigError(
            source, field, f"{runs:,} runs is more than one command can hold ({MAX_RUNS:,})"
        )
    cpu_days = runs * (CPU_S_PER_RUN + per_run_visitor_days * CPU_S_PER_VISITOR_DAY) / 86_400
    if cpu_days > MAX_CPU_DAYS:
        raise ConfigError(
            source,
            field,
            f"{runs:,} runs of {per_run_visitor_days:,.0f} visitor-days would take about "
            f"{cpu_days:,.0f} CPU-days (limit {MAX_CPU_DAYS:g}): fewer runs, a lower scale, "
            "or split a sweep into shards (--shard i/N; each shard is checked alone)",
        )
