"""Every code block in README.md and docs/ runs and does what its text says.

Commands and Python blocks are executed as written, made smaller where the size is only a
matter of time: a scale of 0.02, one day, two replications and draws, one worker (see
`shrink`). Outputs go to a temporary folder, never into the shipped results/. The few
examples too large for the suite are named in `NOT_RUN_HERE` with where they do run;
an example in neither list fails the test, so a new one cannot go untested.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from sim.cli import main

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

# size options set on every command that takes them (a doc's own value is replaced)
SMALL = {"--scale": "0.02", "--days": "1", "--replications": "2", "--draws": "2"}
SMALL |= {"--workers": "1", "--trials": "2"}
TAKES = {
    "run": ("--scale", "--days"),
    "compare": ("--scale", "--days", "--replications", "--draws", "--workers"),
    "sweep": ("--scale", "--workers"),
    "regress": ("--replications", "--workers"),
    "validate-model": ("--scale", "--days", "--replications", "--workers"),
}
# sweeps whose size is in their design (scale as a factor, five-day runs): a shard of them
SWEEP_SHARD = {"calibration-scale": "1/12", "koper-dwell": "1/3"}
NOT_RUN_HERE = {
    "make demo": "the main job; timed by make bench, its output shipped in results/leshan-compare",
    "make test": "this suite",
    "crowdsim calibrate experiments/calibrate-leshan.toml": "make results (10 min on 2 cores)",
    "crowdsim optimise experiments/optimise-leshan.toml": "make results; tests/test_optimise.py",
    "crowdsim viz": "a server; tests/test_viz.py serves it and loads the page",
    "python experiments/calibration_scale_table.py": "make results (writes into results/)",
    "python experiments/cluster/slurm_sweep.py": "a SLURM cluster; tests/test_cluster.py runs "
    "it on a local dask cluster",
    "crowdsim sweep experiments/sensitivity-leshan.toml": "make results (2,560 runs, 12 min on "
    "2 cores); tests/test_sensitivity.py runs the same on a small design",
}


def blocks(lang: str) -> list[tuple[str, str]]:
    """(file, text) of every fenced block of `lang` in README.md and docs/*.md."""
    found = []
    for path in DOCS:
        for kind, body in re.findall(r"```(\w*)\n(.*?)```", path.read_text(), re.S):
            if kind == lang:
                found.append((path.name, body))
    return found


def commands() -> list[tuple[str, str]]:
    """(file, command line) of every shell command, continuation lines joined."""
    found = []
    for name, body in blocks("bash"):
        for written in body.replace("\\\n", " ").splitlines():
            line = written.split("  #")[0].strip()
            if line and not line.startswith("#"):
                found.append((name, " ".join(line.split())))
    return found


def shrink(words: list[str], out: Path) -> list[str]:
    """The command with the size options set small and every --out inside `out`."""
    words = list(words)
    for i, word in enumerate(words):
        if word == "--out":
            words[i + 1] = str(out / Path(words[i + 1]).name)
    for option in TAKES.get(words[0], ()):
        if option in words:
            words[words.index(option) + 1] = SMALL[option]
        elif option != "--draws" or "--posterior" in words:
            words += [option, SMALL[option]]
    if words[0] == "sweep":
        name = Path(words[1]).stem
        words += [] if "--out" in words else ["--out", str(out / name)]
        words += ["--shard", SWEEP_SHARD[name]] if name in SWEEP_SHARD else []
    if words[0] == "validate-model":
        words += ["--out", str(out / "validation"), "--only", "concentration"]
    return words


def swept(words: list[str], where: Path) -> Path:
    """The folder of a documented sweep, made small once for every test that reads it."""
    folder = where / "swept" / Path(words[1]).stem
    if not (folder / "manifest.json").exists():
        result = CliRunner().invoke(main, shrink(words, folder.parent))
        assert result.exit_code == 0, result.output
    return folder


def not_run_reason(command: str) -> str | None:
    return next((why for start, why in NOT_RUN_HERE.items() if command.startswith(start)), None)


def test_every_example_is_run_or_said_where_it_runs():
    assert commands(), "no commands found: the block parser is broken"
    for _, command in commands():
        first = command.split()[0]
        assert first == "crowdsim" or not_run_reason(command), f"unknown kind: {command}"


@pytest.mark.parametrize(
    ("doc", "command"), [c for c in commands() if not not_run_reason(c[1])], ids=str
)
def test_a_documented_command_runs(doc, command, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    words = shlex.split(command)[1:]
    if words[0] == "validate" and not Path(words[1]).exists():  # a placeholder for yours
        (tmp_path / words[1]).write_text((ROOT / "sim/policies/fixed-posts.toml").read_text())
        words[1] = str(tmp_path / words[1])
    if words[0] == "analyze" and words[1].startswith("out/"):  # the sweep just above it
        sweep = next(c for _, c in commands() if f"sweep experiments/{Path(words[1]).name}" in c)
        words[1] = str(swept(shlex.split(sweep)[1:], tmp_path.parent))
    before = set((ROOT / "out").glob("*"))
    if words[0] == "sweep" and "--out" not in words:
        swept(words, tmp_path.parent)  # the same folder the analyze example reads
        return
    result = CliRunner().invoke(main, shrink(words, tmp_path))
    assert result.exit_code == 0, f"{doc}: {command}\n{result.output}"
    assert "Traceback" not in result.output
    assert set((ROOT / "out").glob("*")) == before, "the test wrote into the checkout's out/"


def python_source(body: str, tmp: Path) -> str:
    """A Python block made small, reading shipped files by absolute path, writing to tmp."""
    small = re.sub(r"scale=[0-9.]+", "scale=0.02", body)
    small = re.sub(r"workers=\d+", "workers=1", small)
    small = re.sub(r"draws=\d+", "draws=2", small)
    # a posterior comparison runs at the calibration's own size unless told otherwise
    small = small.replace("posterior=", "scale=0.02, days=1, posterior=")
    small = re.sub(r'out="([^"]+)"', lambda m: f'out="{tmp / m.group(1)}"', small)
    for folder in ("experiments/", "results/"):
        small = small.replace(f'"{folder}', f'"{ROOT}/{folder}')
    small_files = {
        "experiments/calibrate-leshan.toml": {
            "population": "3",
            "generations": "1",
            "check_draws": "2",
            "days": "1",
            "scale": "0.05",
        },
        "experiments/optimise-leshan.toml": {
            "trials": "2",
            "search_replications": "1",
            "top": "1",
            "scale": "0.02",
            "draws": "1",
            "days": "1",
        },
    }
    for name, values in small_files.items():
        text = (ROOT / name).read_text()
        for key, value in values.items():  # the first line that sets each key
            text = re.sub(rf"(?m)^{key} = [0-9.]+", f"{key} = {value}", text, count=1)
        # a folder named beside the file (the posterior) is named from the checkout
        text = text.replace('"../results/', f'"{ROOT}/results/')
        text = text.replace('"calibration/', f'"{ROOT}/experiments/calibration/')
        small_file = tmp / Path(name).name
        small_file.write_text(text)
        small = small.replace(f'"{ROOT / name}"', f'"{small_file}"')
    return small


PYTHON_DOCS = sorted({doc for doc, _ in blocks("python")})


@pytest.mark.parametrize("doc", PYTHON_DOCS)
def test_a_documented_python_block_runs(doc, tmp_path, monkeypatch):
    """A doc's Python blocks in order, in one namespace (later blocks use earlier names)."""
    monkeypatch.chdir(tmp_path)
    body = "\n".join(b for d, b in blocks("python") if d == doc)
    exec(compile(python_source(body, tmp_path), doc, "exec"), {"__name__": "docs"})


@pytest.mark.parametrize(("doc", "body"), blocks("toml"), ids=lambda v: str(v)[:30])
def test_a_documented_file_is_valid(doc, body, tmp_path, monkeypatch):
    """Every example file in the docs passes `crowdsim validate` as written."""
    monkeypatch.chdir(tmp_path)
    name = re.search(r'(?m)^name = "([^"]+)"', body).group(1)
    if "my-city.graphml" in body:  # the user's street network: a real one stands in
        streets = ROOT / "sim/scenarios/milan-duomo-streets.graphml"
        (tmp_path / "my-city.graphml").write_text(streets.read_text())
    path = tmp_path / f"{name}.toml"
    path.write_text(body)
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 0, f"{doc}: {name}\n{result.output}"
