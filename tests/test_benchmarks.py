"""The bench's comparison with an earlier revision: runs alternate, the ratio is paired."""

from __future__ import annotations

from pathlib import Path

import pytest

import benchmarks.__main__ as bench


def test_the_earlier_revision_alternates_with_this_one_and_its_ratio_is_paired(monkeypatch):
    """The ratio is the median of the pairs' ratios (2, 1.1, 3), not that of the medians."""
    order = []
    this_run = iter([1.0, 3.0, 2.0])  # this revision's walls, pair by pair
    earlier = iter([2.0, 3.3, 6.0])  # the earlier revision's

    def run_python(code: str, tree: Path = bench.ROOT) -> dict:
        order.append("here" if tree == bench.ROOT else "there")
        wall = next(this_run) if tree == bench.ROOT else next(earlier)
        return {"wall_s": wall, "libraries_s": wall / 10, "peak_rss_mb": 10 * wall, "visitors": 7}

    monkeypatch.setattr(bench, "run_python", run_python)
    here, there = bench.against_previous("code", 3, Path("/elsewhere"))
    assert order == ["here", "there"] * 3
    # every time is a median, the peak memory the largest
    assert here == {
        "wall_s": 2.0,
        "libraries_s": 0.2,
        "peak_rss_mb": 30.0,
        "visitors": 7,
        "repeats": 3,
    }
    assert there["wall_s"] == 3.3  # 3.3 / 2.0 would be the ratio of the medians
    assert there["ratio"] == 2.0


def test_the_sizes_of_the_linear_cost_check_take_turns(monkeypatch):
    """Each repetition runs every size once, so a drift in the machine's speed is shared."""
    order = []

    def run_python(code: str, tree: Path = bench.ROOT) -> dict:
        scale = float(code.split("scale=")[1].split(")", maxsplit=1)[0])
        order.append(scale)
        visitors = scale * 1e6
        return {"wall_s": 1.0 + visitors / 1e6, "peak_rss_mb": 1.0, "visitors": visitors}

    monkeypatch.setattr(bench, "run_python", run_python)
    result = bench.linear_cost(2)
    sizes = len(bench.LINEAR_VISITOR_DAYS)
    assert order[:sizes] == order[sizes:]  # the same turn of sizes twice
    assert len(set(order[:sizes])) == sizes
    assert result["max_relative_spread"] == pytest.approx(0.0)  # a fixed part and a linear one


def test_the_record_names_the_cpu_from_the_kernels_report(monkeypatch, tmp_path):
    """The model name from /proc/cpuinfo when there is one, else what `platform` says."""
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: Some CPU @ 2.0GHz\nflags\t: sse\n")
    real_path = bench.Path
    monkeypatch.setattr(bench, "Path", lambda p: cpuinfo if p == "/proc/cpuinfo" else real_path(p))
    assert bench.machine()["cpu"] == "Some CPU @ 2.0GHz"
    monkeypatch.setattr(bench, "Path", lambda p: tmp_path / "absent")
    monkeypatch.setattr(bench.platform, "processor", lambda: "")
    assert bench.cpu_model() == bench.platform.machine()
