"""The model's clock: shift arithmetic against counting minutes one by one."""

from __future__ import annotations

import pytest

from sim import clock


def _on_duty_by_counting(hours: tuple[float, float], until: int) -> int:
    """Minutes in [0, until) inside some shift, found minute by minute."""
    count = 0
    for minute in range(until):
        day = minute // 1440
        for d in (day - 1, day):
            start, end = clock.shift_on(hours, d)
            if start <= minute < end:
                count += 1
                break
    return count


@pytest.mark.parametrize("hours", [(8.0, 22.0), (22.0, 6.0), (0.0, 24.0), (18.5, 2.25)])
@pytest.mark.parametrize("until", [0, 300, 1440, 1440 * 2 + 700, 1440 * 3])
def test_shift_minutes_count_the_minutes_on_duty(hours, until):
    if clock.first_shift_day(hours) == 0:  # a day shift never starts the day before
        assert hours[1] >= hours[0]
    assert clock.shift_minutes(hours, until) == pytest.approx(_on_duty_by_counting(hours, until))


def test_an_overnight_shift_runs_past_midnight():
    assert clock.shift_hours((22.0, 6.0)) == 8.0
    assert clock.shift_on((22.0, 6.0), 0) == (22 * 60.0, 30 * 60.0)
    assert clock.first_shift_day((22.0, 6.0)) == -1
    assert clock.day_and_minute(1440 * 2 + 61.5) == (2, 61.5)
