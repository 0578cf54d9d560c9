"""The platform a result was made on, and whether another platform must reproduce it exactly.

The model's outcomes do not depend on the CPU's SIMD level (numpy's dispatch): sorts are
stable and every exponential, logarithm and power in the model comes from `sim.portable`;
`tests/test_cross_cpu.py` runs seeded runs under each SIMD level this CPU has and requires
identical metrics. What can still change the same seed's results:
- numpy's random generators (NumPy does not promise the same stream across versions) and
  scipy, mesa and simpy versions;
- the C library: numpy's random distributions (normal, exponential, Poisson, lognormal) call
  its `exp` and `log` inside their C code, which this project cannot route elsewhere, and a
  different libc (or libc version) may round a rare value differently.
So exact comparisons (`crowdsim regress` tier 1) are made only between results whose
`exact_key` matches; statistical comparisons always are.
"""

from __future__ import annotations

import os
import platform
from functools import cache
from importlib.metadata import version
from typing import Any

EXACT_PACKAGES = ("numpy", "scipy", "mesa", "simpy")


@cache
def fingerprint() -> dict[str, Any]:
    """What this process runs on: CPU, SIMD level numpy dispatches, libc, library versions."""
    try:  # numpy's own record of what it dispatches (numpy.core before numpy 2)
        from numpy._core import _multiarray_umath as umath  # noqa: PLC0415
    except ImportError:
        from numpy.core import _multiarray_umath as umath  # noqa: PLC0415

    has = umath.__cpu_features__
    libc, libc_version = platform.libc_ver()
    return {
        "machine": platform.machine(),
        "simd_baseline": list(umath.__cpu_baseline__),
        "simd_dispatched": [t for t in umath.__cpu_dispatch__ if has.get(t)],
        "libc": f"{libc} {libc_version}".strip(),
        "python": platform.python_version(),
        **{name: version(name) for name in EXACT_PACKAGES},
    }


def exact_key(platform_record: dict[str, Any]) -> dict[str, Any]:
    """The parts of a fingerprint that two platforms must share to give identical results."""
    return {k: platform_record.get(k) for k in ("machine", "libc", *EXACT_PACKAGES)}


def exact_differences(reference: dict[str, Any] | None) -> list[str]:
    """Why results made on `reference` may differ in their digits here ([] if they may not)."""
    if not reference:
        return ["the reference does not record its platform"]
    here = exact_key(fingerprint())
    there = exact_key(reference)
    return [f"{k} {there[k]} there, {here[k]} here" for k in here if here[k] != there[k]]


def small_pages_for_large_arrays() -> None:
    """Stop numpy asking the kernel for huge pages for large arrays, unless the user chose.

    A run allocates many fresh arrays of tens of MB (a day's stays, plans and their sorted
    copies). Where the kernel's transparent huge pages are on request (`madvise`, the
    common default), numpy asks for them and the first touch of such an array can wait for
    the kernel to compact memory: at Golden Week scale a run was 6-10% slower with the
    advice than without (docs/performance.md). The setting is numpy's, for the whole
    process, and stays after the run; NUMPY_MADVISE_HUGEPAGE, if set, decides instead.
    """
    if "NUMPY_MADVISE_HUGEPAGE" in os.environ:
        return
    try:
        from numpy._core.multiarray import _set_madvise_hugepage  # noqa: PLC0415
    except ImportError:  # numpy before 2
        from numpy.core.multiarray import _set_madvise_hugepage  # noqa: PLC0415
    _set_madvise_hugepage(False)
