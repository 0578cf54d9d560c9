"""The model's exponentials are accurate, and the model takes none from a CPU-dependent kernel."""

from __future__ import annotations

import ast
import math
from pathlib import Path

import numpy as np
import pytest

from sim import portable

SIM = Path(__file__).resolve().parents[1] / "sim"
MODEL_PACKAGES = ("agents", "policing", "city")
MODEL_MODULES = ("crime", "crowds", "visitors", "offenders", "model", "ledger", "metrics")
MODEL_MODULES += ("results", "streams", "behaviour", "scenario", "crowd_forecast")
# numpy ufuncs with SIMD kernels that differ between CPUs (and libm functions that the
# model takes from sim.portable instead)
VARYING = {"exp", "log", "log1p", "expm1", "power", "float_power", "pow", "hypot", "sin"}
VARYING |= {"cos", "tan", "tanh", "sinh", "cosh", "arctan2", "log2", "log10", "exp2", "cbrt"}


def model_files() -> list[Path]:
    files = [p for p in SIM.rglob("*.py") if p.relative_to(SIM).parts[0] in MODEL_PACKAGES]
    return files + [SIM / f"{m}.py" for m in MODEL_MODULES]


def cpu_dependent_calls(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
            found.append(f"{path.name}:{node.lineno} {ast.unparse(node)}")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            if isinstance(owner, ast.Name) and owner.id == "np" and node.func.attr in VARYING:
                found.append(f"{path.name}:{node.lineno} {ast.unparse(node)}")
            if node.func.attr == "argsort" and not any(
                k.arg == "kind" and getattr(k.value, "value", None) == "stable"
                for k in node.keywords
            ):  # an unstable sort orders ties by the SIMD kernel
                found.append(f"{path.name}:{node.lineno} {ast.unparse(node)}")
    return found


def test_model_code_uses_no_cpu_dependent_kernel():
    found = [hit for path in model_files() for hit in cpu_dependent_calls(path)]
    assert not found, "use sim.portable (or a stable sort):\n" + "\n".join(found)


def test_the_scan_finds_what_it_forbids(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import numpy as np\na = np.exp(x)\nb = y ** 0.5\nc = np.argsort(z)\n")
    assert len(cpu_dependent_calls(bad)) == 3


def ulps(got: np.ndarray, want: np.ndarray) -> float:
    return float(np.max(np.abs(got - want) / np.spacing(np.abs(want))))


def test_exp_is_within_one_ulp_of_the_c_library():
    rng = np.random.default_rng(5)
    x = np.concatenate([rng.uniform(-40, 40, 20000), rng.uniform(-740, 705, 5000), [0.0, -0.0]])
    want = np.array([math.exp(v) for v in x])
    assert ulps(portable.exp(x), want) <= 1.0
    # the array path gives the scalar's bits: a block within the usual range (scaled in one
    # step) and one reaching the clipping and subnormal ranges (scaled in two)
    usual, unusual = x[:500], x[20000:20500]
    assert np.abs(usual).max() < portable.USUAL
    assert unusual.min() < -portable.USUAL
    for block in (usual, unusual):
        got = portable.exp(block)
        assert all(portable.exp(float(v)) == g for v, g in zip(block, got, strict=True))


def test_exp_at_the_edges():
    assert portable.exp(-1e6) == 0.0
    assert portable.exp(np.array([1e6]))[0] == pytest.approx(math.exp(709.0))
    assert math.isnan(portable.exp(math.nan))
    assert np.isnan(portable.exp(np.array([np.nan])))[0]


def test_log_and_power_are_accurate():
    rng = np.random.default_rng(6)
    x = np.exp(rng.uniform(-600, 600, 5000))
    got = np.array([portable.log(float(v)) for v in x])
    assert ulps(got, np.array([math.log(v) for v in x])) <= 3.0
    e = rng.uniform(0, 40, 2000)
    assert np.allclose(portable.power(0.65, e), 0.65**e, rtol=1e-14, atol=0)
    with pytest.raises(ValueError, match="positive"):
        portable.log(0.0)
