"""The same seed gives the same metrics whatever SIMD kernels numpy dispatches on this CPU.

Seeded runs are made in subprocesses under numpy's default dispatch and with each SIMD level
this CPU has above numpy's baseline disabled (`NPY_DISABLE_CPU_FEATURES`), and every metric
must be identical, digit for digit. On a CPU with AVX-512 this covers the X86_V4 kernels too
(numpy's float64 exp and log of their own); here it covers whatever the machine has.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys

import pytest

from sim.batch.runs import model_files
from sim.machine import fingerprint

RUNS = """
import json, sys, sim
out = {}
cases = [
    ("small-town", p, {}) for p in
    ("none", "fixed-posts", "plainclothes", "grid", "hotspot-koper", "cctv-drones",
     "transit-cooperation", "centralised-response", "integrated")
] + [("leshan-mayday", "integrated", {"scale": 0.1, "days": 2}),
     ("milan-duomo", "integrated", {"scale": 0.2, "days": 1})]
for scenario, policy, size in cases:
    for seed in (306432584, 7):
        metrics = sim.run(scenario, policy, seed=seed, **size).metrics
        out[f"{scenario}/{policy}/{seed}"] = {k: repr(v) for k, v in metrics.items()}
json.dump(out, sys.stdout, sort_keys=True)
"""


def simd_levels() -> list[str]:
    """numpy's dispatch targets this CPU supports, lowest first."""
    return fingerprint()["simd_dispatched"]


def metrics_under(disabled: list[str]) -> dict[str, dict[str, str]]:
    env = {k: v for k, v in os.environ.items() if k != "NPY_DISABLE_CPU_FEATURES"}
    if disabled:
        env["NPY_DISABLE_CPU_FEATURES"] = " ".join(disabled)
    done = subprocess.run(
        [sys.executable, "-c", RUNS], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def test_metrics_are_identical_under_every_simd_level():
    levels = simd_levels()
    if not levels:
        pytest.skip("numpy dispatches nothing above its baseline on this CPU: one code path")
    reference = metrics_under([])
    for i, level in enumerate(levels):
        other = metrics_under(levels[i:])
        differ = {
            run: {m: (v, other[run][m]) for m, v in metrics.items() if other[run][m] != v}
            for run, metrics in reference.items()
        }
        differ = {run: d for run, d in differ.items() if d}
        assert not differ, f"with {level} and above disabled: {differ}"


BLAS_CALLS = {"dot", "vdot", "inner", "matmul", "tensordot", "einsum"}
"""numpy functions that may hand the sum to BLAS, whose order of additions depends on the
CPU's kernel (OpenBLAS picks one per CPU, beyond numpy's own dispatch)."""


def test_no_model_file_sums_through_blas():
    """A run's sums stay in numpy's fixed order: no `@` and no dot products in the model."""
    found = []
    for path in [p for p in model_files() if p.suffix == ".py"]:
        for node in ast.walk(ast.parse(path.read_text())):
            matmul = isinstance(node, (ast.BinOp, ast.AugAssign)) and isinstance(
                node.op, ast.MatMult
            )
            call = isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            if matmul or (call and node.func.attr in BLAS_CALLS):
                found.append(f"{path.name}:{node.lineno}")
    assert not found, found
