"""The model's clock: minutes since the run began, days of 24 hours, daily shifts.

The SimPy clock counts minutes from midnight of the first day. A daily shift is a (start,
end) pair of hours; one whose end is before its start runs overnight, and its hours after
midnight belong to the shift that began the evening before (on the first day, one that
began before the run). Every part of the model that needs a day's length or a shift's
minutes reads it here.
"""

from __future__ import annotations

from collections.abc import Sequence

HOURS_PER_DAY = 24
MIN_PER_HOUR = 60.0
MIN_PER_DAY = HOURS_PER_DAY * MIN_PER_HOUR


def day_and_minute(now: float) -> tuple[int, float]:
    """The day (from 0) and the minute of that day of clock time `now`."""
    day, minute = divmod(now, MIN_PER_DAY)
    return int(day), minute


def shift_hours(hours: Sequence[float]) -> float:
    """Length of a daily shift in hours; one ending before it starts runs past midnight."""
    start, end = hours[0], hours[1]
    return end - start if end >= start else end + HOURS_PER_DAY - start


def shift_on(hours: Sequence[float], day: int) -> tuple[float, float]:
    """Start and end, in clock minutes, of the shift that begins on `day`."""
    start = (day * HOURS_PER_DAY + hours[0]) * MIN_PER_HOUR
    return start, start + shift_hours(hours) * MIN_PER_HOUR


def first_shift_day(hours: Sequence[float]) -> int:
    """-1 for an overnight shift (the night that began before the run), else 0."""
    return -1 if hours[1] < hours[0] else 0


def shift_minutes(hours: Sequence[float], until: float) -> float:
    """Minutes of a daily shift that fall between clock time 0 and `until`."""
    start, end = hours[0] * MIN_PER_HOUR, hours[1] * MIN_PER_HOUR
    if end < start:
        return _window_minutes(start, MIN_PER_DAY, until) + _window_minutes(0.0, end, until)
    return _window_minutes(start, end, until)


def _window_minutes(start: float, end: float, until: float) -> float:
    """Minutes of the daily window [start, end) (minutes of the day) in [0, until]."""
    days, rest = divmod(until, MIN_PER_DAY)
    return days * (end - start) + min(max(rest - start, 0.0), end - start)
