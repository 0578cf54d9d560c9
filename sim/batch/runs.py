"""The unit of work: one seeded run of a scenario under a policy, with overrides.

A `RunSpec` is small, picklable and hashable; its content key covers every input and the
model version, so results from different code or data are never mixed in one store.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import json
import math
from dataclasses import asdict, dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np

import sim
from sim.api import run
from sim.policing.policy import Policy, load_policy
from sim.scenario import Scenario, load_scenario

PACKAGE_DIR = Path(sim.__file__).parent
RUN_MODULE = Path(__file__).resolve()
"""A run is this module's `execute`: the code it imports is the code that decides a run."""
DATA_SUFFIXES = (".toml", ".graphml", ".geojson")


@dataclass(frozen=True)
class RunSpec:
    """Everything that decides one run's outcome."""

    scenario: str
    policy: str
    seed: int
    replication: int = 0
    point: int = 0
    days: int | None = None
    scale: float | None = None
    scenario_set: tuple[tuple[str, Any], ...] = ()
    policy_set: tuple[tuple[str, Any], ...] = ()
    label: str = ""
    factors: tuple[tuple[str, Any], ...] = ()
    # looked up at call time: model_version is defined below (and patched in tests)
    version: str = field(default_factory=lambda: model_version())  # noqa: PLW0108

    def key(self) -> str:
        """Content key: a hash of every input, the model version included."""
        text = json.dumps(asdict(self), sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:20]


def _module_file(name: str) -> Path | None:
    """The source file of a module of the package (`sim.a.b`), if there is one."""
    if name != "sim" and not name.startswith("sim."):
        return None
    base = PACKAGE_DIR.joinpath(*name.split(".")[1:])
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imported(path: Path) -> set[str]:
    """Package modules a source file imports (`from sim.a import b` may name a module b)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    parents = {".".join(n.split(".")[:i]) for n in names for i in range(1, n.count(".") + 1)}
    return names | parents


def model_files() -> list[Path]:
    """The package's source files a run imports, directly or not, and its built-in data.

    Derived from the imports of this module, so a new model file is covered as soon as the
    model uses it, and figures, the CLI or the analysis never are. The package's own
    `__init__.py` is left out: it only re-exports the public API, including the layers
    (sweeps, validation, optimisation) that sit on top of a run.
    """
    facade = PACKAGE_DIR / "__init__.py"
    seen: set[Path] = {facade}
    todo = [RUN_MODULE, RUN_MODULE.parent / "__init__.py"]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        todo += [f for name in _imported(path) if (f := _module_file(name)) is not None]
    seen.discard(facade)
    data = [p for p in PACKAGE_DIR.rglob("*") if p.suffix in DATA_SUFFIXES]
    return sorted(seen) + sorted(data)


def _without_docstrings(tree: ast.Module) -> ast.Module:
    """The tree with every bare string statement removed.

    Module, class and function docstrings and the attribute docstrings under assignments
    change no behaviour.
    """
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.AST):
            kept = [s for s in body if not _is_bare_string(s)]
            node.body = kept or [ast.Pass()]
    return tree


def _is_bare_string(statement: ast.AST) -> bool:
    return isinstance(statement, ast.Expr) and isinstance(
        getattr(statement.value, "value", None), str
    )


@functools.cache
def model_version() -> str:
    """Package version plus a digest of the code and built-in data that decide a run.

    Code counts by its syntax tree without docstrings, so reformatting, comments and
    docstrings do not change the version: only what changes behaviour does.
    """
    digest = hashlib.sha256()
    for path in model_files():
        digest.update(path.relative_to(PACKAGE_DIR).as_posix().encode())
        if path.suffix == ".py":
            digest.update(ast.dump(_without_docstrings(ast.parse(path.read_text()))).encode())
        else:
            digest.update(path.read_bytes())
    return f"{version('crowdsim')}+{digest.hexdigest()[:12]}"


def replication_seeds(base_seed: int, replications: int) -> list[int]:
    """Seeds for replications 0..R-1, spawned from SeedSequence(base_seed).

    Replication r gets the same seed at every design point (common random numbers).
    """
    children = np.random.SeedSequence(base_seed).spawn(replications)
    return [int(c.generate_state(1, dtype=np.uint32)[0]) for c in children]


@functools.lru_cache(maxsize=64)
def _scenario(source: str, overrides: tuple[tuple[str, Any], ...]) -> Scenario:
    return load_scenario(source, dict(overrides))


@functools.lru_cache(maxsize=64)
def _policy(source: str, overrides: tuple[tuple[str, Any], ...]) -> Policy:
    return load_policy(source, dict(overrides))


def validate(spec: RunSpec) -> None:
    """Load the spec's scenario and policy (raises ConfigError on bad input)."""
    _scenario(spec.scenario, spec.scenario_set)
    _policy(spec.policy, spec.policy_set)


def execute(spec: RunSpec) -> dict[str, Any]:
    """Run one spec and return a flat row: the spec's fields, then the run's metrics.

    A spec made by another version of the model (code or built-in data changed since the
    sweep was designed) is refused, so one store never mixes versions.
    """
    if spec.version != model_version():
        raise RuntimeError(
            f"run {spec.key()} was designed for model {spec.version} but this "
            f"worker runs {model_version()}; restart the sweep"
        )
    scenario = _scenario(spec.scenario, spec.scenario_set)
    result = run(
        scenario,
        _policy(spec.policy, spec.policy_set),
        seed=spec.seed,
        days=spec.days,
        scale=spec.scale,
        policy_source=spec.policy,
    )
    row: dict[str, Any] = {
        "key": spec.key(),
        "label": spec.label or spec.policy,
        "scenario": spec.scenario,
        "policy": spec.policy,
        "point": spec.point,
        "replication": spec.replication,
        "seed": spec.seed,
        "scale": scenario.scale if spec.scale is None else spec.scale,
        "days": scenario.days if spec.days is None else spec.days,
        "model_version": spec.version,
    }
    for name, value in spec.factors:
        row[f"f:{name}"] = value
    row.update({k: (math.nan if v is None else v) for k, v in result.metrics.items()})
    # per place, in the city's node order of non-street nodes (for maps and displacement)
    row["place_thefts"] = result.places["thefts"].to_list()
    row["place_visits"] = result.places["visits"].to_list()
    row["place_person_hours"] = result.places["person_hours"].to_list()
    row["place_police_minutes"] = result.places["police_minutes"].to_list()
    row["police_layout"] = json.dumps(result.layout)  # where this run placed its units
    # per hour since the start (for time-series figures)
    for column in ("visitors_present", "thefts", "arrests"):
        row[f"hourly_{column}"] = result.hourly[column].to_list()
    return row


def execute_batch(specs: list[RunSpec]) -> list[dict[str, Any]]:
    """Several runs in one task (keeps per-task overhead small on distributed executors)."""
    return [execute(s) for s in specs]
