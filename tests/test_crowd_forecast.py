"""The common-knowledge crowd table against a brute-force count of its typical day."""

from __future__ import annotations

import numpy as np

from sim.clock import HOURS_PER_DAY
from sim.crowd_forecast import FORECAST_PARTIES, FORECAST_SEED, _typical_day
from sim.model import CrowdPolicingModel
from sim.policing.policy import load_policy
from sim.scenario import load_scenario


def test_the_typical_day_counts_each_stays_minutes_in_each_hour():
    """Every stay's minutes in every hour (dense: stays x hours), by place or bus direction."""
    model = CrowdPolicingModel(load_scenario("leshan-mayday"), load_policy("none"), seed=1)
    flow, transit = model.visitor_flow, model.transit
    forecast = _typical_day(flow, transit)
    stays = flow.plan(0, np.random.default_rng(FORECAST_SEED), FORECAST_PARTIES).stays
    n_nodes = transit.city.n_nodes
    row = stays.loc.copy()
    for i, d in enumerate(transit.directions):
        vehicles = (row >= n_nodes + d.first_vehicle) & (
            row < n_nodes + d.first_vehicle + d.n_vehicles
        )
        row[vehicles] = n_nodes + i
    start = np.arange(HOURS_PER_DAY) * 60.0
    overlap = np.clip(
        np.minimum(stays.leave[:, None], start + 60.0) - np.maximum(stays.enter[:, None], start),
        0.0,
        60.0,
    )
    expected = np.zeros((n_nodes + len(transit.directions), HOURS_PER_DAY))
    np.add.at(expected, row, overlap * (stays.size / FORECAST_PARTIES)[:, None] / 60.0)
    on_road = np.array([max(1, d.n_vehicles - 1) for d in transit.directions], dtype=float)
    assert (stays.leave > 23 * 60).any()  # stays into the last hour are counted
    assert np.array_equal(forecast.at_node, expected[:n_nodes])
    assert np.array_equal(forecast.per_vehicle, expected[n_nodes:] / on_road[:, None])
    assert forecast.per_vehicle.sum() > 0
