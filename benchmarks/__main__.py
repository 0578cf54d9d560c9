"""Measure the performance targets, print a table, write results/benchmarks.json.

Each measurement that is cheap enough is repeated and its median kept. Timed parts run in
fresh subprocesses where start-up or memory matters (full-scale run, peak RSS, demo).
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import multiprocessing
import operator
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import numpy as np

from benchmarks.cpu import burn
from sim.batch.executors import run_all
from sim.batch.runs import RunSpec
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
COMPARE = {"<=": operator.le, ">=": operator.ge}
DEMO_ARGS = [
    "compare",
    "--scenario",
    "leshan-mayday",
    "--scale",
    "1.0",
    "--days",
    "2",
    "--replications",
    "10",
    "--workers",
    "2",
]
"""The main job of `make demo` (kept in step with the Makefile)."""

FULL_SCALE = """
import json, resource, time, sim
from sim.scenario import load_scenario
from sim.policing.policy import load_policy
scenario, policy = load_scenario("leshan-mayday"), load_policy("integrated")
scenario.city_model()
if {warm}:  # build the per-process caches (paths, bus plans, crowd forecast) untimed
    sim.run(scenario, policy, seed=0, days=1, scale={scale})
t = time.perf_counter()
import sim.model  # inside the clock, as on a first `sim.run`; timed to show its share
libraries = time.perf_counter() - t
result = sim.run(scenario, policy, seed=1, days={days}, scale={scale})
wall = time.perf_counter() - t
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({{"wall_s": wall, "peak_rss_mb": rss, "visitors": result.metrics["visitors"],
                  "libraries_s": libraries}}))
"""


GOLDEN_WEEK = """
import json, resource, time, sim
import sim.model  # the libraries a run needs (mesa, scipy), imported once per process
from sim.scenario import load_scenario
from sim.policing.policy import load_policy
from sim.policing.cost import budget_overrides, officer_hours_per_day
may_day = load_scenario("leshan-mayday")
# the golden-week scenario's fields, on the May Day file (so an older revision runs it too)
scenario = load_scenario("leshan-mayday", {{"visitors.per_day": {per_day}, "days": {days}}})
checkpoints = int(scenario.city_model().checkpoint.sum())
base = load_policy("integrated")
# police in proportion: May Day's officer-hours times the visitors' ratio
budget = officer_hours_per_day(base, checkpoints) * {per_day} / may_day.visitors.per_day
policy = load_policy("integrated", budget_overrides(base, checkpoints, budget))
t = time.perf_counter()
result = sim.run(scenario, policy, seed=1)
wall = time.perf_counter() - t
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({{"wall_s": wall, "peak_rss_mb": rss, "visitors": result.metrics["visitors"],
                  "officer_hours_per_day": officer_hours_per_day(policy, checkpoints)}}))
"""
"""Golden Week scale (the built-in `golden-week` scenario's fields), `integrated` in
proportion to the visitors. The imports and the city file are outside the clock (once per
process: a cluster worker pays them once for many runs); the run's own set-up (shortest
paths, bus plans, crowd forecast, police) is inside."""


SPEED_PROBE = """
import json, time
import numpy as np
from benchmarks.cpu import burn
t = time.perf_counter()
burn(10_000_000)
python_s = time.perf_counter() - t
rng = np.random.default_rng(0)
values, index = rng.random(4_000_000), rng.permutation(4_000_000)
t = time.perf_counter()
for _ in range(3):
    values[index].sum()
    np.argsort(values, kind="stable")
print(json.dumps({"python_s": python_s, "numpy_s": time.perf_counter() - t}))
"""


def machine_speed() -> dict:
    """Fixed work on the timed core: the VM's speed of the moment, of Python and of memory.

    This VM's speed drifts by a third within an hour, and not always alike for Python
    loops and for numpy's memory-bound work (gathers, sorts); a slower probe beside a
    slower run says the machine, not the code, was slow.
    """
    return run_python(SPEED_PROBE)


def run_python(code: str, tree: Path = ROOT) -> dict:
    """Run code in a fresh interpreter pinned to one core; return its JSON line.

    `tree` is the source tree whose `sim` package it imports (another revision's, to
    compare designs on the same machine).
    """
    cmd = [sys.executable, "-c", code]
    if Path("/usr/bin/taskset").exists():
        cmd = ["taskset", "-c", "0", *cmd]
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=tree, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def full_scale_code() -> str:
    """Full-scale leshan-mayday, 5 days, integrated: wall time and peak memory."""
    return FULL_SCALE.format(days=5, scale=1.0, warm=False)


def repeated(code: str, repeats: int, tree: Path = ROOT) -> dict:
    """`code` run `repeats` times in fresh processes (see `summary`)."""
    return summary([run_python(code, tree) for _ in range(repeats)])


def summary(runs: list[dict]) -> dict:
    """The median times, the largest peak memory, and the first run's other fields
    (visitors, officer-hours) of repeated runs."""
    return {
        **runs[0],
        **{k: statistics.median(r[k] for r in runs) for k in runs[0] if k.endswith("_s")},
        "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
        "repeats": len(runs),
    }


def against_previous(code: str, repeats: int, tree: Path) -> tuple[dict, dict]:
    """`code` here and in the earlier revision's `tree`, alternately, `repeats` times each.

    Returns both summaries, the earlier one with `ratio`: the median over the pairs of its
    time over this revision's. A pair runs back to back, so the VM's speed, which drifts by
    a third within an hour, is about the same for both of its runs.
    """
    here, there = [], []
    for _ in range(repeats):
        here.append(run_python(code))
        there.append(run_python(code, tree))
    ratio = statistics.median(t["wall_s"] / h["wall_s"] for h, t in zip(here, there, strict=True))
    return summary(here), {**summary(there), "ratio": ratio}


START_UP = {
    "import_sim_s": [sys.executable, "-c", "import sim"],
    "help_s": [str(Path(sys.executable).with_name("crowdsim")), "--help"],
    "list_s": [str(Path(sys.executable).with_name("crowdsim")), "list"],
}
"""What a user, a worker process and a CLI test pay before any work: fresh processes."""


def golden_week_code() -> str:
    """A million visitors a day for 7 days, police in proportion: wall time and peak memory."""
    golden = load_scenario("golden-week")
    return GOLDEN_WEEK.format(per_day=golden.visitors.per_day, days=golden.days)


@contextlib.contextmanager
def revision_tree(revision: str) -> Iterator[Path]:
    """A git worktree of another revision, to time its code on the same machine."""
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "previous"
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(tree), revision],
            check=True,
            capture_output=True,
            cwd=ROOT,
        )
        try:
            yield tree
        finally:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(tree)], check=True, cwd=ROOT
            )


def start_up(repeats: int) -> dict:
    """Median wall time of each start-up command, from process start to exit."""
    timed = {}
    for name, cmd in START_UP.items():
        walls = []
        for _ in range(repeats):
            t = time.perf_counter()
            subprocess.run(cmd, capture_output=True, check=True, cwd=ROOT)
            walls.append(time.perf_counter() - t)
        timed[name] = statistics.median(walls)
    return {**timed, "repeats": repeats}


def small_day(runs: int) -> dict:
    """One day at scale 0.1 (the unit of most sweeps), after a first run in the process."""
    return run_python(SMALL_DAY.format(runs=runs))


SMALL_DAY = """
import json, statistics, time, sim
sim.run("leshan-mayday", "integrated", seed=0, days=1, scale=0.1)
walls = []
for seed in range(1, {runs} + 1):
    t = time.perf_counter()
    sim.run("leshan-mayday", "integrated", seed=seed, days=1, scale=0.1)
    walls.append(time.perf_counter() - t)
print(json.dumps({{"median_s": statistics.median(walls), "max_s": max(walls), "runs": {runs}}}))
"""


LINEAR_VISITOR_DAYS = (100_000, 1_000_000, 7_000_000)
"""Run sizes of the linear-cost check: a tenth of a million visitor-days to Golden Week."""


def linear_cost(repeats: int) -> dict:
    """Cost per 1,000 visitor-days from 0.1 to 7 million visitor-days: whole and marginal.

    Seven-day runs of leshan-mayday under `integrated` (its May Day police, whatever the
    visitors) at the scales that give each size. The per-process set-up (shortest paths, bus
    plans, the crowd forecast), paid once per worker, is built before timing. A run's cost
    is a part that grows with the visitors and a part that does not (police, building the
    model); the marginal cost, the slope between neighbouring sizes, is the part that
    grows, and linear cost means it stays the same from the smallest size to the largest.

    The sizes take turns (each repetition runs every size once), so that the VM's drift in
    speed, a third within an hour, falls on all sizes alike rather than on one.
    """
    days = 7
    per_day = load_scenario("leshan-mayday").visitors.per_day
    code = {
        size: FULL_SCALE.format(days=days, scale=size / (per_day * days), warm=True)
        for size in LINEAR_VISITOR_DAYS
    }
    runs: dict[int, list[dict]] = {size: [] for size in LINEAR_VISITOR_DAYS}
    for _ in range(repeats):
        for size in LINEAR_VISITOR_DAYS:
            runs[size].append(run_python(code[size]))
    wall, visitors, memory = {}, {}, {}
    for size in LINEAR_VISITOR_DAYS:
        timed = summary(runs[size])
        wall[size], visitors[size] = timed["wall_s"], timed["visitors"]
        memory[size] = timed["peak_rss_mb"]
    whole = {str(s): 1000 * wall[s] / visitors[s] for s in LINEAR_VISITOR_DAYS}
    marginal = {
        f"{a}-{b}": 1000 * (wall[b] - wall[a]) / (visitors[b] - visitors[a])
        for a, b in itertools.pairwise(LINEAR_VISITOR_DAYS)
    }
    values = list(marginal.values())
    return {
        "wall_s": {str(s): w for s, w in wall.items()},
        "peak_rss_mb": {str(s): m for s, m in memory.items()},
        "s_per_1000_visitor_days": whole,
        "marginal_s_per_1000_visitor_days": marginal,
        "max_relative_spread": max(values) / min(values) - 1,
    }


def sweep_speedup(runs: int) -> dict:
    """Runs per second with 2 worker processes against 1.

    One-day runs at scale 0.1 (under 0.1 s each) on fresh pools: enough of them that the
    workers' start-up (imports, the city's caches, about 2 s) is a small part of either side,
    as in a real sweep.
    """
    specs = [RunSpec("leshan-mayday", "integrated", seed=s, days=1, scale=0.1) for s in range(runs)]
    rates = {}
    for workers in (1, 2):
        t = time.perf_counter()
        list(run_all(specs, executor="process", workers=workers))  # fresh workers both times
        rates[workers] = runs / (time.perf_counter() - t)
    return {
        "runs": runs,
        "runs_per_s_1_worker": rates[1],
        "runs_per_s_2_workers": rates[2],
        "speedup": rates[2] / rates[1],
    }


def machine_parallel_ceiling() -> float:
    """Speed-up of pure CPU work on 2 processes over 1: what this machine allows at best."""
    n = 20_000_000
    t = time.perf_counter()
    burn(n)
    burn(n)
    serial = time.perf_counter() - t
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        pool.map(burn, [10, 10])
        t = time.perf_counter()
        pool.map(burn, [n, n], chunksize=1)
        parallel = time.perf_counter() - t
    return serial / parallel


def demo_time(out: Path) -> dict:
    """Wall time of the demo's main job (install excluded)."""
    t = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "sim.cli", *DEMO_ARGS, "--out", str(out)],
        check=True,
        capture_output=True,
        cwd=ROOT,
    )
    return {"wall_s": time.perf_counter() - t, "args": " ".join(DEMO_ARGS)}


def optimise_rate(trials: int) -> dict:
    """Trials per hour at the shipped study's settings on 2 workers, and its projected time.

    A few trials of experiments/optimise-leshan.toml are timed; the projection adds the
    fresh-seed re-evaluation at the same cost per run.
    """
    from sim.optimiser import load_space  # noqa: PLC0415 - optional [optimise] extra
    from sim.optimiser.study import search  # noqa: PLC0415

    space = load_space(ROOT / "experiments" / "optimise-leshan.toml")
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        search(space, Path(tmp), trials=trials, workers=2, progress=False)
        wall = time.perf_counter() - t
    per_trial = wall / trials
    reevaluation_runs = (space.reevaluate.top + 1) * space.reevaluate.replications
    projected = per_trial * (space.trials + reevaluation_runs / space.search_replications)
    return {
        "trials_timed": trials,
        "trials_per_hour": 3600.0 / per_trial,
        "projected_study_s": projected,
    }


MEMORY = """
import json, sim

def rss_mb():
    with open("/proc/self/status") as fh:
        return next(int(l.split()[1]) / 1024 for l in fh if l.startswith("VmRSS"))

for seed in range({warmup}):  # allocator arenas and caches fill up first
    sim.run("small-town", "integrated", seed=seed)
samples = []
for i in range({runs}):  # no explicit collections: what a user's process does
    sim.run("small-town", "integrated", seed=10_000 + i)
    if i % 50 == 49:
        samples.append((i + 1, rss_mb()))
print(json.dumps(samples))
"""


def memory_per_run(runs: int, warmup: int = 100) -> dict:
    """Resident memory growth per `sim.run` in one process, after a warm-up.

    The slope of a least-squares line through RSS every 50 runs: a leak grows it run after
    run, while caches and the allocator's arenas settle during the warm-up.
    """
    text = subprocess.run(
        [sys.executable, "-c", MEMORY.format(runs=runs, warmup=warmup)],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    ).stdout
    samples = np.array(json.loads(text.strip().splitlines()[-1]))
    slope = float(np.polyfit(samples[:, 0], samples[:, 1], 1)[0])
    return {"runs": runs, "warmup_runs": warmup, "mb_per_run": slope, "rss_mb": samples.tolist()}


def calibrate_rate(particles: int) -> dict:
    """Particles per second at the shipped calibration's settings on 2 workers, and its
    projected wall time; plus what the shipped calibration recorded when it ran.

    `particles` prior draws of experiments/calibrate-leshan.toml are simulated in two
    processes, as pyabc's multicore sampler does; the projection is the file's simulation
    budget plus the predictive check at that rate.
    """
    from sim.batch.executors import mapper  # noqa: PLC0415
    from sim.calibration import load_targets  # noqa: PLC0415 - optional [calibrate] extra
    from sim.calibration.fit import prior_distribution, simulate_job  # noqa: PLC0415

    targets = load_targets(ROOT / "experiments" / "calibrate-leshan.toml")
    prior = prior_distribution(targets)
    rng = np.random.default_rng(0)
    jobs = [
        (targets, {k: float(v) for k, v in prior.rvs(random_state=rng).items()}, i)
        for i in range(particles)
    ]
    with mapper("process", 2) as map_:
        map_(simulate_job, jobs[:2])  # start the workers before the clock
        t = time.perf_counter()
        map_(simulate_job, jobs)
        wall = time.perf_counter() - t
    rate = particles / wall
    shipped = ROOT / "results" / "calibration-leshan" / "manifest.json"
    recorded = json.loads(shipped.read_text()) if shipped.exists() else {}
    return {
        "particles_timed": particles,
        "simulations_per_s": rate,
        "projected_calibration_s": (targets.abc.max_simulations + targets.check_draws) / rate,
        "shipped_fit_wall_s": recorded.get("fit_wall_s"),
        "shipped_simulations_per_s": recorded.get("simulations_per_s"),
    }


def cpu_model() -> str:
    """The CPU's model name (Linux reports it; elsewhere, what `platform` knows).

    VMs of one name can run on different hosts from one day to the next; the memory-bound
    measures (Golden Week, the linear cost) move with the host's caches.
    """
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def machine() -> dict:
    """Where the numbers come from."""
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "versions": {p: version(p) for p in ("crowdsim", "mesa", "simpy", "numpy")},
    }


def main() -> None:
    """Run every benchmark, print the table, write the JSON record."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="one repetition each, no demo")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "benchmarks.json")
    parser.add_argument(
        "--previous",
        metavar="REVISION",
        help="also time the full-scale and Golden Week runs of this git revision (ratios)",
    )
    args = parser.parse_args()
    reps = 1 if args.quick else 3
    results = {"machine": machine()}
    results["start_up"] = start_up(5)
    speed_before = machine_speed()
    if args.previous:
        with revision_tree(args.previous) as tree:
            results["full_scale"], full_before = against_previous(full_scale_code(), reps, tree)
            results["golden_week"], golden_before = against_previous(golden_week_code(), reps, tree)
        results["previous_design"] = {
            "revision": args.previous,
            **full_before,
            "golden_week": golden_before,
        }
    else:
        results["full_scale"] = repeated(full_scale_code(), reps)
        results["golden_week"] = repeated(golden_week_code(), reps)
    results["machine"]["speed_probe_s"] = {"before": speed_before, "after": machine_speed()}
    results["small_day"] = small_day(10)
    results["linear"] = linear_cost(reps)
    results["sweep"] = sweep_speedup(48 if args.quick else 240)
    results["sweep"]["machine_ceiling"] = machine_parallel_ceiling()
    results["sweep"]["efficiency_vs_ceiling"] = (
        results["sweep"]["speedup"] / results["sweep"]["machine_ceiling"]
    )
    results["optimise"] = optimise_rate(2 if args.quick else 4)
    results["calibrate"] = calibrate_rate(4 if args.quick else 12)
    results["memory"] = memory_per_run(100 if args.quick else 500)
    if not args.quick:
        with tempfile.TemporaryDirectory() as tmp:
            results["demo"] = demo_time(Path(tmp) / "demo")
    targets = [
        ("import sim (s)", results["start_up"]["import_sim_s"], "<=", 1.5),
        ("crowdsim --help (s)", results["start_up"]["help_s"], "<=", 1.0),
        ("crowdsim list (s)", results["start_up"]["list_s"], "<=", 1.0),
        ("full-scale holiday wall time (s)", results["full_scale"]["wall_s"], "<=", 2.5),
        ("full-scale peak RSS (MB)", results["full_scale"]["peak_rss_mb"], "<=", 1024),
        ("Golden Week, 7M visitor-days (s)", results["golden_week"]["wall_s"], "<=", 20),
        ("Golden Week peak RSS (MB)", results["golden_week"]["peak_rss_mb"], "<=", 2048),
        ("one day at scale 0.1, warm (s)", results["small_day"]["median_s"], "<=", 0.3),
        (
            "marginal cost per visitor-day spread",
            results["linear"]["max_relative_spread"],
            "<=",
            0.25,
        ),
        ("sweep speed-up, 2 workers", results["sweep"]["speedup"], ">=", 1.8),
        ("memory growth per run (MB)", results["memory"]["mb_per_run"], "<=", 0.05),
        (
            "shipped optimise study, projected (s)",
            results["optimise"]["projected_study_s"],
            "<=",
            2700,
        ),
        (
            "shipped calibration, projected (s)",
            results["calibrate"]["projected_calibration_s"],
            "<=",
            1800,
        ),
    ]
    if results["calibrate"]["shipped_fit_wall_s"] is not None:
        targets.append(
            (
                "shipped calibration, recorded fit (s)",
                results["calibrate"]["shipped_fit_wall_s"],
                "<=",
                1800,
            )
        )
    if "demo" in results:
        targets.append(("make demo main job (s)", results["demo"]["wall_s"], "<=", 180))
    results["targets"] = [
        {"measure": m, "value": v, "target": f"{op} {bound}", "met": COMPARE[op](v, bound)}
        for m, v, op, bound in targets
    ]
    width = max(len(t[0]) for t in targets)
    for row in results["targets"]:
        mark = "met" if row["met"] else "NOT met"
        print(f"{row['measure']:<{width}}  {row['value']:>10.3f}  {row['target']:>8}  {mark}")
    libraries = results["full_scale"]["libraries_s"]
    print(f"full scale: {libraries:.2f} s of its wall time imports the libraries (mesa, pandas)")
    for when, probe in results["machine"]["speed_probe_s"].items():
        python_s, numpy_s = probe["python_s"], probe["numpy_s"]
        print(f"speed probe {when}: Python {python_s:.2f} s, numpy {numpy_s:.2f} s")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
