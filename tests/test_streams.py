"""Every draw comes from the named streams: Mesa's own generators fail loudly."""

from __future__ import annotations

import numpy as np
import pytest

from sim.model import CrowdPolicingModel
from sim.scenario import load_scenario
from sim.streams import STREAM_NAMES, MesaGeneratorError, Streams, Uniforms


@pytest.fixture(scope="module")
def model():
    return CrowdPolicingModel(load_scenario("small-town", {"days": 1, "scale": 0.2}), seed=1)


@pytest.mark.parametrize(
    "idiom",
    [
        lambda m: m.random.random(),
        lambda m: m.rng.integers(10),
        lambda m: m.agents.shuffle(),
        lambda m: next(iter(m.agents_by_type.values())).shuffle(),
    ],
    ids=["random", "rng", "shuffle", "shuffle-by-type"],
)
def test_the_mesa_idiom_for_randomness_fails_loudly(model, idiom):
    with pytest.raises(MesaGeneratorError, match="named streams"):
        idiom(model)


def test_the_named_streams_are_independent_and_seeded():
    a, b = Streams.from_seed(7), Streams.from_seed(7)
    for name in STREAM_NAMES:
        assert getattr(a, name).random() == getattr(b, name).random()
    assert len({getattr(Streams.from_seed(7), n).random() for n in STREAM_NAMES}) == len(
        STREAM_NAMES
    )


def test_uniforms_drawn_in_blocks_are_the_calls_numbers_in_order():
    by_call, by_block = np.random.default_rng(8), Uniforms(np.random.default_rng(8))
    n = 2 * Uniforms.BLOCK + 3  # across two block boundaries
    assert [by_block() for _ in range(n)] == [by_call.random() for _ in range(n)]
